#include "analytics/visitor.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace kurz::analytics {
namespace {
constexpr std::size_t kMemoLimit = 1 << 16;
}  // namespace

std::size_t VisitorHasher::KeyHash::operator()(const Key& k) const noexcept {
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  std::memcpy(&a, k.ip.data(), 8);
  std::memcpy(&b, k.ip.data() + 8, 8);
  return static_cast<std::size_t>((a * 0x9E3779B97F4A7C15ULL) ^ (b * 0xC2B2AE3D27D4EB4FULL) ^
                                  (static_cast<std::uint64_t>(k.day) << 40));
}

VisitorHasher::VisitorHasher(std::string secret) : secret_(std::move(secret)) {}

VisitorId VisitorHasher::Id(const IpBytes& ip, core::Date day) {
  const Key key{ip, day.days};
  if (auto it = memo_.find(key); it != memo_.end()) return it->second;

  // Message: the day as "YYYY-MM-DD", '|', the 16 address bytes.
  const std::string date = core::FormatDate(day);
  unsigned char message[32] = {};
  std::copy_n(date.begin(), std::min<std::size_t>(date.size(), 10), message);
  message[10] = '|';
  std::memcpy(message + 11, ip.data(), ip.size());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()), message, 11 + ip.size(),
           digest, &length) == nullptr ||
      length < 16) {
    throw std::runtime_error("HMAC-SHA256 failed");  // OpenSSL out of memory: nothing to count
  }
  VisitorId id{};
  std::memcpy(id.data(), digest, id.size());
  if (memo_.size() >= kMemoLimit) memo_.clear();
  memo_.emplace(key, id);
  return id;
}

std::string VisitorHasher::Hex(const VisitorId& id) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(id.size() * 2, '0');
  for (std::size_t i = 0; i < id.size(); ++i) {
    out[2 * i] = kDigits[id[i] >> 4];
    out[2 * i + 1] = kDigits[id[i] & 15];
  }
  return out;
}

}  // namespace kurz::analytics
