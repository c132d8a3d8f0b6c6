#include "support/qr_reader.hpp"

#include <png.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <system_error>

namespace kurz::testing {

std::vector<std::string> ZbarRead(std::string_view image, std::string_view extension) {
  std::string path = (std::filesystem::temp_directory_path() / "kurz-qr-XXXXXX.").string();
  path += extension;
  const int fd = mkstemps(path.data(), static_cast<int>(extension.size()) + 1);
  if (fd < 0) throw std::runtime_error("mkstemps failed");
  close(fd);
  {
    std::ofstream out(path, std::ios::binary);
    out.write(image.data(), static_cast<std::streamsize>(image.size()));
  }
  // The path is ours (letters, digits, '/', '-', '.'), so it needs no quoting beyond '…'.
  const std::string errors = path + ".err";
  const std::string command = "zbarimg --quiet --raw --nodbus -- '" + path + "' 2>'" + errors + "'";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed");
  std::string output;
  std::array<char, 4096> chunk{};
  std::size_t n = 0;
  while ((n = fread(chunk.data(), 1, chunk.size(), pipe)) > 0) output.append(chunk.data(), n);
  const int status = pclose(pipe);
  std::string stderr_text;
  {
    std::ifstream in(errors);
    stderr_text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::error_code ignored;
  std::filesystem::remove(path, ignored);
  std::filesystem::remove(errors, ignored);
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  // zbarimg: 0 symbols found, 4 none found; anything else (127: not installed) is an error.
  if (code == 4) return {};
  if (code != 0) {
    throw std::runtime_error("zbarimg failed (exit " + std::to_string(code) +
                             "; is zbar-tools installed?): " + stderr_text);
  }
  std::vector<std::string> found;
  std::size_t start = 0;
  while (start < output.size()) {
    std::size_t end = output.find('\n', start);
    if (end == std::string::npos) end = output.size();
    if (end > start) found.push_back(output.substr(start, end - start));
    start = end + 1;
  }
  return found;
}

Pixels DecodePng(std::string_view png) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (png_image_begin_read_from_memory(&image, png.data(), png.size()) == 0) {
    throw std::runtime_error(std::string("not a PNG: ") + image.message);
  }
  image.format = PNG_FORMAT_RGB;
  Pixels out;
  out.width = static_cast<int>(image.width);
  out.height = static_cast<int>(image.height);
  std::vector<std::uint8_t> bytes(PNG_IMAGE_SIZE(image));
  if (png_image_finish_read(&image, nullptr, bytes.data(), 0, nullptr) == 0) {
    throw std::runtime_error(std::string("unreadable PNG: ") + image.message);
  }
  out.rgb.resize(bytes.size() / 3);
  for (std::size_t i = 0; i < out.rgb.size(); ++i) {
    out.rgb[i] = (std::uint32_t{bytes[3 * i]} << 16) | (std::uint32_t{bytes[3 * i + 1]} << 8) |
                 bytes[3 * i + 2];
  }
  return out;
}

namespace {

// The value of `name="…"` in the first element named `element`; throws when either is absent.
std::string Attribute(std::string_view svg, std::string_view element, std::string_view name) {
  const std::size_t start = svg.find("<" + std::string(element) + " ");
  if (start == std::string_view::npos) throw std::runtime_error("no <" + std::string(element));
  const std::size_t end = svg.find('>', start);
  const std::string_view tag = svg.substr(start, end - start);
  const std::string key = " " + std::string(name) + "=\"";
  const std::size_t at = tag.find(key);
  if (at == std::string_view::npos) {
    throw std::runtime_error("<" + std::string(element) + "> has no " + std::string(name));
  }
  const std::size_t value = at + key.size();
  return std::string(tag.substr(value, tag.find('"', value) - value));
}

std::uint32_t Colour(const std::string& hex) {
  if (hex.size() != 7 || hex[0] != '#') throw std::runtime_error("colour " + hex);
  return static_cast<std::uint32_t>(std::stoul(hex.substr(1), nullptr, 16));
}

}  // namespace

std::string RasteriseSvg(std::string_view svg, int scale) {
  const std::string view_box = Attribute(svg, "svg", "viewBox");
  int min_x = -1;
  int min_y = -1;
  int units = 0;
  int units_y = 0;
  if (std::sscanf(view_box.c_str(), "%d %d %d %d", &min_x, &min_y, &units, &units_y) != 4 ||
      min_x != 0 || min_y != 0 || units != units_y || units <= 0) {
    throw std::runtime_error("viewBox " + view_box);
  }
  if (Attribute(svg, "rect", "width") != std::to_string(units) ||
      Attribute(svg, "rect", "height") != std::to_string(units)) {
    throw std::runtime_error("the background <rect> does not cover the viewBox");
  }
  const std::uint32_t bg = Colour(Attribute(svg, "rect", "fill"));
  const std::uint32_t fg = Colour(Attribute(svg, "path", "fill"));
  std::vector<bool> dark(static_cast<std::size_t>(units) * static_cast<std::size_t>(units));
  const std::string d = Attribute(svg, "path", "d");
  std::size_t pos = 0;
  const auto number = [&]() {
    std::size_t used = 0;
    const int n = std::stoi(d.substr(pos), &used);
    pos += used;
    return n;
  };
  while (pos < d.size()) {
    if (d[pos] != 'M') throw std::runtime_error("path: expected M at " + std::to_string(pos));
    ++pos;
    const int x = number();
    if (d[pos++] != ',') throw std::runtime_error("path: expected ,");
    const int y = number();
    if (d[pos++] != 'h') throw std::runtime_error("path: expected h");
    const int run = number();
    if (d.compare(pos, 2, "v1") != 0) throw std::runtime_error("path: expected v1");
    pos += 2;
    const auto expect = [&](char c) {
      if (d[pos] != c) throw std::runtime_error(std::string("path: expected ") + c);
      ++pos;
    };
    expect('h');
    if (number() != -run) throw std::runtime_error("path: expected h-<run>");
    expect('z');
    if (x < 0 || y < 0 || run <= 0 || x + run > units || y >= units) {
      throw std::runtime_error("path: a run outside the viewBox");
    }
    for (int i = 0; i < run; ++i) {
      dark[static_cast<std::size_t>(y) * static_cast<std::size_t>(units) +
           static_cast<std::size_t>(x + i)] = true;
    }
  }
  const int side = units * scale;
  std::string ppm = "P6\n" + std::to_string(side) + " " + std::to_string(side) + "\n255\n";
  ppm.reserve(ppm.size() + static_cast<std::size_t>(side) * static_cast<std::size_t>(side) * 3);
  for (int py = 0; py < side; ++py) {
    for (int px = 0; px < side; ++px) {
      const std::uint32_t c =
          dark[static_cast<std::size_t>(py / scale) * static_cast<std::size_t>(units) +
               static_cast<std::size_t>(px / scale)]
              ? fg
              : bg;
      ppm += static_cast<char>(c >> 16);
      ppm += static_cast<char>((c >> 8) & 0xffU);
      ppm += static_cast<char>(c & 0xffU);
    }
  }
  return ppm;
}

}  // namespace kurz::testing
