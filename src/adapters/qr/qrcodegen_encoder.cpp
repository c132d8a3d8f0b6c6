#include "adapters/qr/qrcodegen_encoder.hpp"

#include <png.h>
#include <qrcodegen.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kurz::adapters::qr {

namespace {

using core::ErrorCode;
using core::Fail;
using ports::QrEcc;
using ports::QrFormat;
using ports::QrImage;
using ports::QrOptions;
using qrcodegen::QrCode;

QrCode::Ecc ToQrcodegen(QrEcc ecc) {
  switch (ecc) {
    case QrEcc::kLow:
      return QrCode::Ecc::LOW;
    case QrEcc::kMedium:
      return QrCode::Ecc::MEDIUM;
    case QrEcc::kQuartile:
      return QrCode::Ecc::QUARTILE;
    case QrEcc::kHigh:
      break;
  }
  return QrCode::Ecc::HIGH;
}

char EccLetter(QrEcc ecc) {
  switch (ecc) {
    case QrEcc::kLow:
      return 'L';
    case QrEcc::kMedium:
      return 'M';
    case QrEcc::kQuartile:
      return 'Q';
    case QrEcc::kHigh:
      break;
  }
  return 'H';
}

// The symbol at exactly the asked level: qrcodegen's default raises the level when the text
// fits anyway, which would make ecc=L and ecc=H look alike to a caller who asked for L.
ports::Result<QrCode> EncodeSymbol(std::string_view text, QrEcc ecc) {
  try {
    const std::string owned(text);
    return QrCode::encodeSegments(qrcodegen::QrSegment::makeSegments(owned.c_str()),
                                  ToQrcodegen(ecc), QrCode::MIN_VERSION, QrCode::MAX_VERSION,
                                  /*mask=*/-1, /*boostEcl=*/false);
  } catch (const qrcodegen::data_too_long&) {
    return Fail(ErrorCode::kInvalidArgument, "the text (" + std::to_string(text.size()) +
                                                 " bytes) does not fit in a QR code at ecc " +
                                                 EccLetter(ecc) + "; a lower ecc holds more");
  } catch (const std::exception& e) {
    return Fail(ErrorCode::kInternal, std::string("qrcodegen: ") + e.what());
  }
}

std::string HexColour(std::uint32_t rgb) {
  constexpr std::string_view kDigits = "0123456789abcdef";
  std::string out = "#";
  for (int shift = 20; shift >= 0; shift -= 4) out += kDigits[(rgb >> shift) & 0xfU];
  return out;
}

// One <path> of the dark modules, a horizontal run per subpath, in module units: the viewBox
// is the symbol plus its margins, and width/height scale it to `size`.
std::string Svg(const QrCode& symbol, const QrOptions& options) {
  const int modules = symbol.getSize();
  const int extent = modules + 2 * options.margin;
  std::string path;
  path.reserve(static_cast<std::size_t>(modules) * static_cast<std::size_t>(modules) * 4);
  for (int y = 0; y < modules; ++y) {
    for (int x = 0; x < modules;) {
      if (!symbol.getModule(x, y)) {
        ++x;
        continue;
      }
      int run = 1;
      while (x + run < modules && symbol.getModule(x + run, y)) ++run;
      const std::string length = std::to_string(run);
      path += 'M';
      path += std::to_string(x + options.margin);
      path += ',';
      path += std::to_string(y + options.margin);
      path += 'h';
      path += length;
      path += "v1h-";
      path += length;
      path += 'z';
      x += run;
    }
  }
  const std::string size = std::to_string(options.size);
  const std::string view = std::to_string(extent);
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" +
         size + "\" height=\"" + size + "\" viewBox=\"0 0 " + view + ' ' + view +
         "\" shape-rendering=\"crispEdges\">\n<rect width=\"" + view + "\" height=\"" + view +
         "\" fill=\"" + HexColour(options.bg) + "\"/>\n<path fill=\"" + HexColour(options.fg) +
         "\" d=\"" + path + "\"/>\n</svg>\n";
}

// A two-colour palette PNG (1 bit per pixel once libpng packs it): index 0 light, 1 dark.
ports::Result<std::string> Png(const QrCode& symbol, const QrOptions& options) {
  const int modules = symbol.getSize();
  const int extent = modules + 2 * options.margin;
  const int scale = options.size / extent;
  const int origin = (options.size - modules * scale) / 2;  // the quiet zone takes what is left
  const auto side = static_cast<std::size_t>(options.size);
  std::vector<std::uint8_t> pixels(side * side, 0);
  for (int y = 0; y < modules; ++y) {
    std::uint8_t* first_row = &pixels[static_cast<std::size_t>(origin + y * scale) * side];
    for (int x = 0; x < modules; ++x) {
      if (!symbol.getModule(x, y)) continue;
      std::uint8_t* cell = first_row + static_cast<std::ptrdiff_t>(origin + x * scale);
      for (int i = 0; i < scale; ++i) cell[i] = 1;
    }
    for (int r = 1; r < scale; ++r) {  // the module's other pixel rows repeat its first
      std::copy_n(first_row, side, first_row + static_cast<std::size_t>(r) * side);
    }
  }
  const std::array<std::uint8_t, 6> palette = {
      static_cast<std::uint8_t>(options.bg >> 16), static_cast<std::uint8_t>(options.bg >> 8),
      static_cast<std::uint8_t>(options.bg),       static_cast<std::uint8_t>(options.fg >> 16),
      static_cast<std::uint8_t>(options.fg >> 8),  static_cast<std::uint8_t>(options.fg),
  };
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(options.size);
  image.height = static_cast<png_uint_32>(options.size);
  image.format = PNG_FORMAT_RGB_COLORMAP;
  image.colormap_entries = 2;
  // A QR image compresses to a few percent of its packed bits (rows repeat, runs are long), so
  // one pass into a buffer of the packed size nearly always fits; libpng says when it did not.
  std::string out(side * (side / 8 + 2) + 1024, '\0');
  for (int attempt = 0; attempt < 2; ++attempt) {
    png_alloc_size_t bytes = out.size();
    const int ok = png_image_write_to_memory(&image, out.data(), &bytes, /*convert_to_8_bit=*/0,
                                             pixels.data(), /*row_stride=*/0, palette.data());
    if (ok != 0) {
      out.resize(bytes);
      return out;
    }
    if (bytes <= out.size()) break;  // a failure other than the buffer's size
    out.assign(bytes, '\0');
    image.warning_or_error = 0;
  }
  const std::string why = image.message;
  png_image_free(&image);
  return Fail(ErrorCode::kInternal, "libpng: " + why);
}

}  // namespace

ports::Result<QrImage> QrcodegenEncoder::Encode(std::string_view text,
                                                const QrOptions& options) const {
  if (options.size < ports::kQrMinSize || options.size > ports::kQrMaxSize) {
    return Fail(ErrorCode::kInvalidArgument, "size must be from " +
                                                 std::to_string(ports::kQrMinSize) + " to " +
                                                 std::to_string(ports::kQrMaxSize) + " pixels");
  }
  if (options.margin < 0 || options.margin > ports::kQrMaxMargin) {
    return Fail(ErrorCode::kInvalidArgument,
                "margin must be from 0 to " + std::to_string(ports::kQrMaxMargin) + " modules");
  }
  if (options.fg > 0xffffffU || options.bg > 0xffffffU) {
    return Fail(ErrorCode::kInvalidArgument, "fg and bg must be colours 0xRRGGBB");
  }
  auto symbol = EncodeSymbol(text, options.ecc);
  if (!symbol) return std::unexpected(symbol.error());
  const int modules = symbol->getSize();
  const int extent = modules + 2 * options.margin;
  if (options.size < extent) {
    return Fail(ErrorCode::kInvalidArgument,
                "size " + std::to_string(options.size) + " is too small for this QR code: " +
                    std::to_string(modules) + " modules plus a margin of " +
                    std::to_string(options.margin) + " on each side need at least " +
                    std::to_string(extent) + " pixels (one per module); ask for size " +
                    std::to_string(extent) + " or more, a smaller margin or a lower ecc");
  }
  if (options.format == QrFormat::kSvg) return QrImage{Svg(*symbol, options), "image/svg+xml"};
  auto png = Png(*symbol, options);
  if (!png) return std::unexpected(png.error());
  return QrImage{std::move(*png), "image/png"};
}

}  // namespace kurz::adapters::qr
