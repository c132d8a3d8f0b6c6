#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/handlers/handlers.hpp"
#include "http/json_mappers.hpp"
#include "http/query.hpp"
#include "ports/qr_encoder.hpp"

// /v1/urls/{code}/qr: the link's short_url as a QR code, SVG or PNG.

namespace kurz::http::handlers {

namespace {

using ports::QrEcc;
using ports::QrFormat;

// The image depends only on the short URL and the query, and a code never points elsewhere
// while it exists, so the caller's browser may keep it an hour (a QR code embedded in a page is
// fetched again on every view otherwise). private: the answer is for the authenticated caller
// alone (another user gets 404), so no shared cache may keep it.
constexpr std::string_view kCacheControl = "private, max-age=3600";

// Exactly six hex digits, either case: 0xRRGGBB.
std::optional<std::uint32_t> ParseColour(std::string_view text) {
  if (text.size() != 6) return std::nullopt;
  std::uint32_t rgb = 0;
  for (char c : text) {
    int digit = 0;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return std::nullopt;
    }
    rgb = (rgb << 4) | static_cast<std::uint32_t>(digit);
  }
  return rgb;
}

}  // namespace

// Unknown query parameters are ignored, as on every other kurz endpoint.
Response LinkQr(ApiContext& ctx, const Call& call) {
  Reply& reply = call.reply;
  const std::string_view query = call.request.query;
  auto link = ctx.deps.links.Get(*call.who, call.params[0]);
  if (!link) return reply.Error(FromError(link.error()));
  if (ctx.deps.qr == nullptr) {
    return reply.Error(404, "not_found", "this server does not draw QR codes");
  }
  ports::QrOptions options;
  if (auto raw = QueryParam(query, "format")) {
    if (*raw == "svg") {
      options.format = QrFormat::kSvg;
    } else if (*raw == "png") {
      options.format = QrFormat::kPng;
    } else {
      return reply.Error(400, "invalid_argument", "format must be svg or png");
    }
  }
  if (auto raw = QueryParam(query, "size")) {
    auto size = ParseIntIn(*raw, ports::kQrMinSize, ports::kQrMaxSize);
    if (!size) {
      return reply.Error(400, "invalid_argument",
                         "size must be a whole number of pixels from " +
                             std::to_string(ports::kQrMinSize) + " to " +
                             std::to_string(ports::kQrMaxSize));
    }
    options.size = *size;
  }
  if (auto raw = QueryParam(query, "margin")) {
    auto margin = ParseIntIn(*raw, 0, ports::kQrMaxMargin);
    if (!margin) {
      return reply.Error(400, "invalid_argument",
                         "margin must be a whole number of modules from 0 to " +
                             std::to_string(ports::kQrMaxMargin));
    }
    options.margin = *margin;
  }
  if (auto raw = QueryParam(query, "ecc")) {
    const std::string& ecc = *raw;
    if (ecc == "L") {
      options.ecc = QrEcc::kLow;
    } else if (ecc == "M") {
      options.ecc = QrEcc::kMedium;
    } else if (ecc == "Q") {
      options.ecc = QrEcc::kQuartile;
    } else if (ecc == "H") {
      options.ecc = QrEcc::kHigh;
    } else {
      return reply.Error(400, "invalid_argument", "ecc must be L, M, Q or H (upper case)");
    }
  }
  for (auto [name, colour] : {std::pair{"fg", &options.fg}, std::pair{"bg", &options.bg}}) {
    if (auto raw = QueryParam(query, name)) {
      auto rgb = ParseColour(*raw);
      if (!rgb) {
        return reply.Error(400, "invalid_argument",
                           std::string(name) + " must be 6 hex digits RRGGBB, such as " +
                               (colour == &options.fg ? "000000" : "ffffff"));
      }
      *colour = *rgb;
    }
  }
  if (options.fg == options.bg) {
    return reply.Error(400, "invalid_argument", "fg and bg must differ (nothing could read it)");
  }
  bool download = false;
  if (auto raw = QueryParam(query, "download")) {
    if (*raw != "0" && *raw != "1") {
      return reply.Error(400, "invalid_argument", "download must be 0 or 1");
    }
    download = *raw == "1";
  }
  const std::string short_url = ctx.options.base_url + "/" + link->code;
  auto image = ctx.deps.qr->Encode(short_url, options);
  if (!image) return reply.Error(FromError(image.error()));
  Response out = reply.Text(200, image->content_type, std::move(image->bytes));
  for (auto& [name, value] : out.headers) {
    if (name == "Cache-Control") value = kCacheControl;
  }
  if (download) {
    // Codes are letters, digits, '-' and '_': nothing to escape in the quoted name.
    out.headers.emplace_back("Content-Disposition",
                             "attachment; filename=\"" + link->code +
                                 (options.format == QrFormat::kPng ? ".png\"" : ".svg\""));
  }
  return out;
}

}  // namespace kurz::http::handlers
