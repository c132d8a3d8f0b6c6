#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace kurz::ports {

using core::Result;

enum class QrFormat { kSvg, kPng };
// The four error correction levels of ISO/IEC 18004: about 7, 15, 25 and 30 % of the symbol may
// be damaged and still read.
enum class QrEcc { kLow, kMedium, kQuartile, kHigh };

// The bounds of QrOptions (API.md: GET /v1/urls/{code}/qr), shared by the handler's messages and
// the adapter's checks.
inline constexpr int kQrMinSize = 64;
inline constexpr int kQrMaxSize = 2048;
inline constexpr int kQrMaxMargin = 16;

struct QrOptions {
  QrFormat format = QrFormat::kSvg;
  int size = 512;  // kQrMinSize..kQrMaxSize: the image is size × size pixels
  int margin = 4;  // 0..kQrMaxMargin: the quiet zone around the symbol, in modules
  QrEcc ecc = QrEcc::kMedium;
  std::uint32_t fg = 0x000000;  // 0xRRGGBB of the dark modules
  std::uint32_t bg = 0xffffff;  // 0xRRGGBB of the light modules and the quiet zone
};

struct QrImage {
  std::string bytes;
  std::string_view content_type;  // "image/svg+xml" or "image/png" (static storage)
};

// Draws text as a QR code. Thread-safe and pure: the same text and options give the same bytes.
// CPU-bound (up to a few milliseconds for a 2048 px PNG): call it off the event loops.
class QrEncoder {
 public:
  virtual ~QrEncoder() = default;

  // The QR code of `text` (its UTF-8 bytes) at exactly `options.ecc` (never raised) and the
  // smallest version that holds it, with `options.margin` modules of quiet zone. PNG: exactly
  // size × size pixels, every module the same whole number of pixels, the symbol centred (the
  // pixels left over widen the quiet zone). SVG: width and height `size`, a viewBox in modules
  // (symbol plus margins). invalid_argument, with a message that says what to change, when an
  // option is out of its bounds, when the text does not fit in a QR code (version 40) at that
  // level, or when size is smaller than the modules plus twice the margin (a module would be
  // under one pixel); internal when the image cannot be written.
  virtual Result<QrImage> Encode(std::string_view text, const QrOptions& options) const = 0;
};

}  // namespace kurz::ports
