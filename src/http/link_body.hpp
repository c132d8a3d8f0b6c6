#pragma once

#include <expected>

#include "core/time.hpp"
#include "http/json_mappers.hpp"
#include "http/reply.hpp"
#include "service/link_service.hpp"

// The link bodies of POST /v1/urls (and each item of /v1/urls/bulk) and PATCH /v1/urls/{code}:
// JSON types and shapes checked here, with 400s naming the field; the rules on values (lengths,
// URLs, counts) are LinkService's.

namespace kurz::http {

// A create body; now turns expires_in into expires_at.
std::expected<service::CreateLinkInput, ApiError> ParseCreateBody(const Json& body,
                                                                  core::Micros now);

// A PATCH body: at least one field; custom_code, code and the read-only fields are refused.
std::expected<service::LinkPatch, ApiError> ParsePatchBody(const Json& body);

}  // namespace kurz::http
