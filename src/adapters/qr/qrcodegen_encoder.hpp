#pragma once

#include "ports/qr_encoder.hpp"

namespace kurz::adapters::qr {

// ports::QrEncoder on Nayuki's QR Code generator (qrcodegen) and libpng. Stateless.
class QrcodegenEncoder final : public ports::QrEncoder {
 public:
  ports::Result<ports::QrImage> Encode(std::string_view text,
                                       const ports::QrOptions& options) const override;
};

}  // namespace kurz::adapters::qr
