#pragma once

// POST /{code}: the password form of a protected link sent back (API.md "Link options beyond the
// seed", Password).

#include <cstddef>
#include <string_view>

#include "http/handlers/context.hpp"

namespace kurz::http {

// The largest form body read: a password is at most 128 characters (at most 1,536 bytes
// percent-encoded), the rest is room for fields a browser or a password manager adds.
inline constexpr std::size_t kMaxPasswordFormBytes = 4096;

// Answers the form (after Redirect checked the code's shape and the per-IP redirect limit):
// 415 unless it is application/x-www-form-urlencoded, 413 beyond
// kMaxPasswordFormBytes, 400 without a readable `password` field (all on the loop); then, on a
// worker: 404/410 (or the expired_url redirect) as GET answers, 405 for a link without a password
// (POST is only the password form's), 429 with Retry-After after more than 5 wrong tries per
// client IP and link in a minute (service::PasswordGuard, checked before verifying), the form
// again with 401 for a wrong password (a JSON 401 password_required for Accept:
// application/json), and for the right one the link's own answer (its redirect, one click,
// Cache-Control: no-store).
void PasswordPost(ApiContext& ctx, const Request& req, Responder& res, std::string_view request_id);

// The password form page with its headers (no-store, a Content-Security-Policy that lets it load
// nothing): 200 on GET, 401 after a wrong try. query: the request's, kept in the form's action.
Response PasswordFormResponse(Reply& reply, int status, std::string_view code,
                              std::string_view query, bool wrong_try);

}  // namespace kurz::http
