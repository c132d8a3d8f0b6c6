#pragma once

#include <string_view>

#include "http/handlers/context.hpp"

namespace kurz::http {

// The path the redirect answers (GET and HEAD; other methods 405): every path the route table
// does not match, outside /v1.
inline constexpr std::string_view kRedirectPattern = "/{code}";

// GET /{code}: the hot path (docs/architecture.md "The redirect path"). A cache hit is answered
// on the loop thread without allocating; a miss is read on the lookup threads.
void Redirect(ApiContext& ctx, const Request& req, Responder& res);

// The answer of an active link with options (value.options set), on a worker: the password form,
// a preview page, the click budget (used up here; unavailable when the store cannot tell), the
// forwarded query. password_verified: POST /{code} checked the password.
Response AnswerLinkWithOptions(ApiContext& ctx, const Request& r, Reply& reply,
                               std::string_view code, const core::ResolvedLink& value,
                               core::Micros now, bool password_verified);

}  // namespace kurz::http
