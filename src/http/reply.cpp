#include "http/reply.hpp"

#include "http/error_body.hpp"

namespace kurz::http {

ApiError FromError(const core::Error& e) {
  using core::ErrorCode;
  switch (e.code) {
    case ErrorCode::kInvalidArgument:
      return {400, "invalid_argument", e.detail};
    case ErrorCode::kInvalidUrl:
      return {400, "invalid_url", e.detail};
    case ErrorCode::kInvalidCode:
      return {400, "invalid_code", e.detail};
    case ErrorCode::kNotFound:
      return {404, "not_found", e.detail};
    case ErrorCode::kGone:
      return {410, "gone", e.detail};
    case ErrorCode::kConflict:
      return {409, "code_taken", e.detail};
    case ErrorCode::kUnauthorized:
      return {401, "unauthorized", e.detail};
    case ErrorCode::kForbidden:
      return {403, "forbidden", e.detail};
    case ErrorCode::kUnavailable:
    case ErrorCode::kTimeout:
      return {503, "unavailable", "a backend is unavailable: " + e.detail};
    case ErrorCode::kInternal:
      break;
  }
  return {500, "internal", "internal error"};
}

Response Reply::Json(int status, const nlohmann::ordered_json& body) {
  Response r = Base(status);
  r.headers.emplace_back("Content-Type", "application/json");
  r.body = body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  return r;
}

Response Reply::Error(const ApiError& e) {
  Response r = Base(e.status);
  r.headers.emplace_back("Content-Type", "application/json");
  r.body = ErrorBody(e.code, e.message);
  if (e.status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
  if (e.status == 503) r.headers.emplace_back("Retry-After", "1");
  return r;
}

Response Reply::Text(int status, std::string_view content_type, std::string body) {
  Response r = Base(status);
  r.headers.emplace_back("Content-Type", std::string(content_type));
  r.body = std::move(body);
  return r;
}

Response Reply::Redirect(const core::RedirectAnswer& answer) {
  Response r;
  r.status = answer.status;
  r.headers.emplace_back("X-Request-Id", request_id_);
  if (!answer.location.empty()) r.headers.emplace_back("Location", answer.location);
  r.headers.emplace_back("Cache-Control", answer.CacheControl());
  if (!answer.content_type.empty()) r.headers.emplace_back("Content-Type", answer.content_type);
  r.body = answer.body;
  return r;
}

Response Reply::Base(int status) {
  Response r;
  r.status = status;
  r.headers.emplace_back("X-Request-Id", request_id_);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace kurz::http
