#include "service/crypto.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>

namespace kurz::service {

std::string ToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr);
  return ToHex(std::string_view(reinterpret_cast<const char*>(digest.data()), length));
}

bool RandomBytes(std::span<std::byte> out) {
  return RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size())) ==
         1;
}

std::string RandomBase62(std::size_t length) {
  static constexpr char kAlphabet[] =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string out;
  out.reserve(length);
  std::array<std::byte, 64> pool{};
  while (out.size() < length) {
    if (!RandomBytes(pool)) throw std::runtime_error("the random generator failed");
    for (std::byte b : pool) {
      const auto v = static_cast<unsigned>(b);
      if (v >= 248) continue;  // 248 = 4 * 62: keeps the choice uniform
      out.push_back(kAlphabet[v % 62]);
      if (out.size() == length) break;
    }
  }
  return out;
}

}  // namespace kurz::service
