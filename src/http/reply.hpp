#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>

#include "core/error.hpp"
#include "core/redirect.hpp"
#include "http/server.hpp"

namespace kurz::http {

// An error answer: status, machine code and message of the JSON error body (http::ErrorBody).
struct ApiError {
  int status;
  std::string_view code;
  std::string message;
};

// The one mapping of core error codes to HTTP statuses and error codes.
ApiError FromError(const core::Error& e);

// Builds owned responses (for answers produced off the loop, and the API's answers on it): each
// carries the request's id and, but for redirects, Cache-Control: no-store.
class Reply {
 public:
  explicit Reply(std::string request_id) : request_id_(std::move(request_id)) {}

  Response Json(int status, const nlohmann::ordered_json& body);
  // The error body; 401 adds WWW-Authenticate, 503 Retry-After.
  Response Error(const ApiError& e);
  Response Error(int status, std::string_view code, std::string message) {
    return Error(ApiError{status, code, std::move(message)});
  }
  Response Empty(int status) { return Base(status); }
  // A body of the given type.
  Response Text(int status, std::string_view content_type, std::string body);
  // What the redirect decision answered (a redirect, or a 404/410 page), with its
  // Cache-Control.
  Response Redirect(const core::RedirectAnswer& answer);

 private:
  Response Base(int status);
  std::string request_id_;
};

}  // namespace kurz::http
