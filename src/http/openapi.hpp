#pragma once

#include <string_view>

namespace kurz::http {

// The OpenAPI 3.0.3 document of the HTTP API (JSON), served at GET /v1/openapi.json.
std::string_view OpenApiJson();

}  // namespace kurz::http
