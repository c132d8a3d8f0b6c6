#include "http/openapi.hpp"

namespace kurz::http {

// The OpenAPI 3.0.3 description of API.md, served at GET /v1/openapi.json.
// Keep it in step with API.md: where the two disagree, fix one of them in the same change.
std::string_view OpenApiJson() {
  static constexpr std::string_view kDocument = R"json({
 "openapi": "3.0.3",
 "info": {
  "title": "kurz",
  "version": "0.1.0",
  "description": "URL shortener API. Errors are {\"error\":{\"code\",\"message\"}}; times are RFC 3339 UTC; every response carries X-Request-Id."
 },
 "servers": [{"url": "/"}],
 "tags": [
  {"name": "links"},
  {"name": "analytics"},
  {"name": "keys"},
  {"name": "users"},
  {"name": "redirect"},
  {"name": "operations"}
 ],
 "security": [{"bearerAuth": []}, {"apiKeyHeader": []}],
 "paths": {
  "/v1/urls": {
   "post": {
    "tags": ["links"],
    "operationId": "createLink",
    "summary": "Create a short link (permission create).",
    "requestBody": {
     "required": true,
     "content": {"application/json": {"schema": {"$ref": "#/components/schemas/LinkCreate"}}}
    },
    "responses": {
     "200": {
      "description": "Deduplicated: the caller's existing identical link.",
      "headers": {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}},
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Link"}}}
     },
     "201": {
      "description": "Created and durable.",
      "headers": {
       "X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"},
       "Location": {"description": "/v1/urls/{code}", "schema": {"type": "string"}}
      },
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Link"}}}
     },
     "400": {"$ref": "#/components/responses/BadRequest"},
     "401": {"$ref": "#/components/responses/Unauthorized"},
     "403": {"$ref": "#/components/responses/Forbidden"},
     "409": {"$ref": "#/components/responses/Conflict"},
     "413": {"$ref": "#/components/responses/PayloadTooLarge"},
     "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
     "429": {"$ref": "#/components/responses/RateLimited"},
     "500": {"$ref": "#/components/responses/Internal"},
     "503": {"$ref": "#/components/responses/Unavailable"}
    }
   },
   "get": {
    "tags": ["links"],
    "operationId": "listLinks",
    "summary": "List own links, newest first (permission read).",
    "parameters": [
     {"$ref": "#/components/parameters/Limit"},
     {"$ref": "#/components/parameters/Cursor"}
    ],
    "responses": {
     "200": {
      "description": "A page of links.",
      "headers": {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}},
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/LinkList"}}}
     },
     "400": {"$ref": "#/components/responses/BadRequest"},
     "401": {"$ref": "#/components/responses/Unauthorized"},
     "403": {"$ref": "#/components/responses/Forbidden"},
     "429": {"$ref": "#/components/responses/RateLimited"},
     "500": {"$ref": "#/components/responses/Internal"},
     "503": {"$ref": "#/components/responses/Unavailable"}
    }
   }
  },
  "/v1/urls/{code}": {
   "parameters": [{"$ref": "#/components/parameters/Code"}],
   "get": {
    "tags": ["links"],
    "operationId": "getLink",
    "summary": "One own link (permission read).",
    "responses": {
     "200": {
      "description": "The link.",
      "headers": {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}},
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Link"}}}
     },
     "400": {"$ref": "#/components/responses/BadRequest"},
     "401": {"$ref": "#/components/responses/Unauthorized"},
     "403": {"$ref": "#/components/responses/Forbidden"},
     "404": {"$ref": "#/components/responses/NotFound"},
     "429": {"$ref": "#/components/responses/RateLimited"},
     "500": {"$ref": "#/components/responses/Internal"},
     "503": {"$ref": "#/components/responses/Unavailable"}
    }
   },
   "delete": {
    "tags": ["links"],
    "operationId": "deleteLink",
    "summary": "Soft-delete an own link (permission delete).",
    "responses": {
     "204": {
      "description": "Deleted; no instance redirects it any more.",
      "headers": {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}}
     },
     "400": {"$ref": "#/components/responses/BadRequest"},
     "401": {"$ref": "#/components/responses/Unauthorized"},
     "403": {"$ref": "#/components/responses/Forbidden"},
     "404": {"$ref": "#/components/responses/NotFound"},
     "429": {"$ref": "#/components/responses/RateLimited"},
     "500": {"$ref": "#/components/responses/Internal"},
     "503": {"$ref": "#/components/responses/Unavailable"}
    }
   }
  },
  "/v1/urls/{code}/stats": {
   "parameters": [{"$ref": "#/components/parameters/Code"}],
   "get": {
    "tags": ["analytics"],
    "operationId": "getLinkStats",
    "summary": "Click statistics of an own link (permission read).",
    "parameters": [
     {
      "name": "from",
      "in": "query",
      "description": "First day (UTC), inclusive; default 29 days before `to`.",
      "schema": {"type": "string", "format": "date"}
     },
     {
      "name": "to",
      "in": "query",
      "description": "Last day (UTC), inclusive; default today. from <= to, range at most 366 days, else invalid_argument.",
      "schema": {"type": "string", "format": "date"}
     },
     {
      "name": "top",
      "in": "query",
      "description": "Values per breakdown (most clicks first); a whole number from 1 to 1000, else invalid_argument.",
      "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10}
     }
    ],
    "responses": {
     "200": {
      "description": "Statistics (eventually consistent).",
      "headers": {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}},
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Stats"}}}
     },
     "400": {"$ref": "#/components/responses/BadRequest"},
     "401": {"$ref": "#/components/responses/Unauthorized"},
     "403": {"$ref": "#/components/responses/Forbidden"},
     "404": {"$ref": "#/components/responses/NotFound"},
     "429": {"$ref": "#/components/responses/RateLimited"},
     "500": {"$ref": "#/components/responses/Internal"},
     "503": {"$ref": "#/components/responses/Unavailable"}
    }
   }
  },
  "/v1/urls/{code}/stats/timeseries": {
   "parameters": [{"$ref": "#/components/parameters/Code"}],
   "get": {
    "tags": ["analytics"],
    "operationId": "getLinkTimeseries",
    "summary": "Clicks of an own link per minute, hour or day (permission read).",
    "description": "Every bucket that overlaps [from, to) is returned, zero-filled, oldest first: from is rounded down and to up to the granularity. Minutes are kept 48 hours and hours 366 days; older buckets read as 0.",
    "parameters": [
     {
      "name": "granularity",
      "in": "query",
      "description": "Bucket length; anything else is invalid_argument.",
      "schema": {"type": "string", "enum": ["minute", "hour", "day"], "default": "hour"}
     },
     {
      "name": "from",
      "in": "query",
      "description": "Start, inclusive: an RFC 3339 date-time, or a date (its midnight UTC). Default: `to` less 60 minutes, 48 hours or 30 days by granularity.",
      "schema": {"type": "string", "example": "2026-11-28T04:00:00Z"}
     },
     {
      "name": "to",
      "in": "query",
      "description": "End, exclusive: an RFC 3339 date-time, or a date (its midnight UTC). Default: the end of the current bucket. from < to; at most 48 hours of minutes, 31 days of hours or 366 days, else invalid_argument.",
      "schema": {"type": "string", "example": "2026-11-29"}
     }
    ],
    "responses": {
     "200": {
      "description": "The series (eventually consistent).",
      "headers": {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}},
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Timeseries"}}}
     },
     "400": {"$ref": "#/components/responses/BadRequest"},
     "401": {"$ref": "#/components/responses/Unauthorized"},
     "403": {"$ref": "#/components/responses/Forbidden"},
     "404": {"$ref": "#/components/responses/NotFound"},
     "429": {"$ref": "#/components/responses/RateLimited"},
     "500": {"$ref": "#/components/responses/Internal"},
     "503": {"$ref": "#/components/responses/Unavailable"}
    }
   }
  },
  "/v1/api-keys": {
   "post": {
    "tags": ["keys"],
    "operationId": "createApiKey",
    "summary": "Create a key with at most the caller's permissions.",
    "requestBody": {
     "required": true,
     "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiKeyCreate"}}}
    },
    "responses": {
     "201": {
      "description": "Created; `key` is shown only here.",
      "headers": {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}},
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiKeyCreated"}}}
     },
     "400": {"$ref": "#/components/responses/BadRequest"},
     "401": {"$ref": "#/components/responses/Unauthorized"},
     "403": {"$ref": "#/components/responses/Forbidden"},
     "413": {"$ref": "#/components/responses/PayloadTooLarge"},
     "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
     "429": {"$ref": "#/components/responses/RateLimited"},
     "500": {"$ref": "#/components/responses/Internal"},
     "503": {"$ref": "#/components/responses/Unavailable"}
    }
   },
   "get": {
    "tags": ["keys"],
    "operationId": "listApiKeys",
    "summary": "List own keys (never the secret).",
    "responses": {
     "200": {
      "description": "Own keys.",
      "headers": {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}},
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiKeyList"}}}
     },
     "400": {"$ref": "#/components/responses/BadRequest"},
     "401": {"$ref": "#/components/responses/Unauthorized"},
     "403": {"$ref": "#/components/responses/Forbidden"},
     "429": {"$ref": "#/components/responses/RateLimited"},
     "500": {"$ref": "#/components/responses/Internal"},
     "503": {"$ref": "#/components/responses/Unavailable"}
    }
   }
  },
  "/v1/api-keys/{id}": {
   "parameters": [{"$ref": "#/components/parameters/KeyId"}],
   "delete": {
    "tags": ["keys"],
    "operationId": "revokeApiKey",
    "summary": "Revoke an own key; it stops working at once.",
    "responses": {
     "204": {
      "description": "Revoked.",
      "headers": {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}}
     },
     "400": {"$ref": "#/components/responses/BadRequest"},
     "401": {"$ref": "#/components/responses/Unauthorized"},
     "403": {"$ref": "#/components/responses/Forbidden"},
     "404": {"$ref": "#/components/responses/NotFound"},
     "429": {"$ref": "#/components/responses/RateLimited"},
     "500": {"$ref": "#/components/responses/Internal"},
     "503": {"$ref": "#/components/responses/Unavailable"}
    }
   }
  },
  "/v1/users": {
   "post": {
    "tags": ["users"],
    "operationId": "createUser",
    "summary": "Create a user and its first key (permission admin).",
    "requestBody": {
     "required": true,
     "content": {"application/json": {"schema": {"$ref": "#/components/schemas/UserCreate"}}}
    },
    "responses": {
     "201": {
      "description": "Created; `api_key` is shown only here.",
      "headers": {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}},
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/UserCreated"}}}
     },
     "400": {"$ref": "#/components/responses/BadRequest"},
     "401": {"$ref": "#/components/responses/Unauthorized"},
     "403": {"$ref": "#/components/responses/Forbidden"},
     "409": {"$ref": "#/components/responses/Conflict"},
     "413": {"$ref": "#/components/responses/PayloadTooLarge"},
     "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
     "429": {"$ref": "#/components/responses/RateLimited"},
     "500": {"$ref": "#/components/responses/Internal"},
     "503": {"$ref": "#/components/responses/Unavailable"}
    }
   },
   "get": {
    "tags": ["users"],
    "operationId": "listUsers",
    "summary": "List users (permission admin).",
    "responses": {
     "200": {
      "description": "All users.",
      "headers": {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}},
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/UserList"}}}
     },
     "400": {"$ref": "#/components/responses/BadRequest"},
     "401": {"$ref": "#/components/responses/Unauthorized"},
     "403": {"$ref": "#/components/responses/Forbidden"},
     "429": {"$ref": "#/components/responses/RateLimited"},
     "500": {"$ref": "#/components/responses/Internal"},
     "503": {"$ref": "#/components/responses/Unavailable"}
    }
   }
  },
  "/v1/users/{id}": {
   "parameters": [{"$ref": "#/components/parameters/UserId"}],
   "get": {
    "tags": ["users"],
    "operationId": "getUser",
    "summary": "One user (permission admin).",
    "responses": {
     "200": {
      "description": "The user.",
      "headers": {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}},
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}}
     },
     "400": {"$ref": "#/components/responses/BadRequest"},
     "401": {"$ref": "#/components/responses/Unauthorized"},
     "403": {"$ref": "#/components/responses/Forbidden"},
     "404": {"$ref": "#/components/responses/NotFound"},
     "429": {"$ref": "#/components/responses/RateLimited"},
     "500": {"$ref": "#/components/responses/Internal"},
     "503": {"$ref": "#/components/responses/Unavailable"}
    }
   },
   "patch": {
    "tags": ["users"],
    "operationId": "updateUser",
    "summary": "Suspend or reactivate a user (permission admin). A suspended user's keys answer 401 and links 410.",
    "requestBody": {
     "required": true,
     "content": {"application/json": {"schema": {"$ref": "#/components/schemas/UserPatch"}}}
    },
    "responses": {
     "200": {
      "description": "The updated user.",
      "headers": {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}},
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}}
     },
     "400": {"$ref": "#/components/responses/BadRequest"},
     "401": {"$ref": "#/components/responses/Unauthorized"},
     "403": {"$ref": "#/components/responses/Forbidden"},
     "404": {"$ref": "#/components/responses/NotFound"},
     "413": {"$ref": "#/components/responses/PayloadTooLarge"},
     "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
     "429": {"$ref": "#/components/responses/RateLimited"},
     "500": {"$ref": "#/components/responses/Internal"},
     "503": {"$ref": "#/components/responses/Unavailable"}
    }
   }
  },
  "/{code}": {
   "parameters": [{"$ref": "#/components/parameters/Code"}],
   "get": {
    "tags": ["redirect"],
    "operationId": "redirect",
    "summary": "Follow a short link (query string ignored).",
    "responses": {
     "301": {
      "description": "Permanent redirect (default redirect_type); empty body.",
      "headers": {
       "X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"},
       "Location": {
        "description": "Target URL in ASCII form (IDNA host, percent-encoded path and query).",
        "schema": {"type": "string"}
       },
       "Cache-Control": {"description": "public, max-age=3600", "schema": {"type": "string"}}
      }
     },
     "302": {
      "description": "Temporary redirect; empty body.",
      "headers": {
       "X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"},
       "Location": {"description": "Target URL in ASCII form.", "schema": {"type": "string"}},
       "Cache-Control": {"description": "private, max-age=0", "schema": {"type": "string"}}
      }
     },
     "307": {
      "description": "Temporary redirect keeping the method; empty body.",
      "headers": {
       "X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"},
       "Location": {"description": "Target URL in ASCII form.", "schema": {"type": "string"}},
       "Cache-Control": {"description": "private, max-age=0", "schema": {"type": "string"}}
      }
     },
     "404": {"$ref": "#/components/responses/RedirectNotFound"},
     "410": {"$ref": "#/components/responses/RedirectGone"},
     "429": {"$ref": "#/components/responses/RateLimited"},
     "503": {"$ref": "#/components/responses/Unavailable"}
    },
    "security": []
   },
   "head": {
    "tags": ["redirect"],
    "operationId": "redirectHead",
    "summary": "As GET, without a body.",
    "responses": {
     "301": {
      "description": "Permanent redirect (default redirect_type); empty body.",
      "headers": {
       "X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"},
       "Location": {
        "description": "Target URL in ASCII form (IDNA host, percent-encoded path and query).",
        "schema": {"type": "string"}
       },
       "Cache-Control": {"description": "public, max-age=3600", "schema": {"type": "string"}}
      }
     },
     "302": {
      "description": "Temporary redirect; empty body.",
      "headers": {
       "X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"},
       "Location": {"description": "Target URL in ASCII form.", "schema": {"type": "string"}},
       "Cache-Control": {"description": "private, max-age=0", "schema": {"type": "string"}}
      }
     },
     "307": {
      "description": "Temporary redirect keeping the method; empty body.",
      "headers": {
       "X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"},
       "Location": {"description": "Target URL in ASCII form.", "schema": {"type": "string"}},
       "Cache-Control": {"description": "private, max-age=0", "schema": {"type": "string"}}
      }
     },
     "404": {"$ref": "#/components/responses/RedirectNotFound"},
     "410": {"$ref": "#/components/responses/RedirectGone"},
     "429": {"$ref": "#/components/responses/RateLimited"},
     "503": {"$ref": "#/components/responses/Unavailable"}
    },
    "security": []
   }
  },
  "/healthz": {
   "get": {
    "tags": ["operations"],
    "operationId": "healthz",
    "summary": "Liveness.",
    "responses": {
     "200": {
      "description": "The process serves.",
      "headers": {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}},
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}
     }
    },
    "security": []
   }
  },
  "/readyz": {
   "get": {
    "tags": ["operations"],
    "operationId": "readyz",
    "summary": "Readiness of every configured backend.",
    "responses": {
     "200": {
      "description": "Every backend answers.",
      "headers": {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}},
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Readiness"}}}
     },
     "503": {
      "description": "A backend is down.",
      "headers": {
       "X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"},
       "Retry-After": {"$ref": "#/components/headers/Retry-After"}
      },
      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Readiness"}}}
     }
    },
    "security": []
   }
  },
  "/metrics": {
   "get": {
    "tags": ["operations"],
    "operationId": "metrics",
    "summary": "Prometheus metrics.",
    "responses": {
     "200": {
      "description": "Prometheus text exposition format.",
      "headers": {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}},
      "content": {"text/plain": {"schema": {"type": "string"}}}
     }
    },
    "security": []
   }
  },
  "/v1/openapi.json": {
   "get": {
    "tags": ["operations"],
    "operationId": "openapi",
    "summary": "This document.",
    "responses": {
     "200": {
      "description": "OpenAPI 3.0.3 document.",
      "headers": {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}},
      "content": {"application/json": {"schema": {"type": "object"}}}
     }
    },
    "security": []
   }
  }
 },
 "components": {
  "securitySchemes": {
   "bearerAuth": {
    "type": "http",
    "scheme": "bearer",
    "description": "Authorization: Bearer <api_key>"
   },
   "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"}
  },
  "headers": {
   "X-Request-Id": {
    "description": "Echoed from the request, else generated.",
    "schema": {"type": "string"}
   },
   "RateLimit-Limit": {
    "description": "Requests allowed per window.",
    "schema": {"type": "integer", "minimum": 0}
   },
   "RateLimit-Remaining": {
    "description": "Requests left in the window.",
    "schema": {"type": "integer", "minimum": 0}
   },
   "RateLimit-Reset": {
    "description": "Seconds until the quota resets.",
    "schema": {"type": "integer", "minimum": 0}
   },
   "Retry-After": {
    "description": "Seconds to wait before retrying.",
    "schema": {"type": "integer", "minimum": 0}
   }
  },
  "parameters": {
   "Code": {
    "name": "code",
    "in": "path",
    "required": true,
    "description": "Short code.",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]+$", "maxLength": 32},
    "example": "aZ3kP9q"
   },
   "KeyId": {
    "name": "id",
    "in": "path",
    "required": true,
    "schema": {"type": "integer", "format": "int64", "minimum": 1}
   },
   "UserId": {
    "name": "id",
    "in": "path",
    "required": true,
    "schema": {"type": "integer", "format": "int64", "minimum": 1}
   },
   "Limit": {
    "name": "limit",
    "in": "query",
    "description": "Page size.",
    "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50}
   },
   "Cursor": {
    "name": "cursor",
    "in": "query",
    "description": "Opaque next_cursor of the previous page.",
    "schema": {"type": "string"}
   }
  },
  "responses": {
   "BadRequest": {
    "description": "Malformed request: invalid_json, invalid_url, invalid_code or invalid_argument.",
    "headers": {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}},
    "content": {
     "application/json": {
      "schema": {"$ref": "#/components/schemas/Error"},
      "example": {
       "error": {
        "code": "invalid_argument",
        "message": "Malformed request: invalid_json, invalid_url, invalid_code or invalid_argument."
       }
      }
     }
    }
   },
   "Unauthorized": {
    "description": "Missing, unknown, revoked or expired key, or suspended user.",
    "headers": {
     "X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"},
     "WWW-Authenticate": {"schema": {"type": "string"}}
    },
    "content": {
     "application/json": {
      "schema": {"$ref": "#/components/schemas/Error"},
      "example": {
       "error": {
        "code": "unauthorized",
        "message": "Missing, unknown, revoked or expired key, or suspended user."
       }
      }
     }
    }
   },
   "Forbidden": {
    "description": "The key lacks the permission.",
    "headers": {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}},
    "content": {
     "application/json": {
      "schema": {"$ref": "#/components/schemas/Error"},
      "example": {"error": {"code": "forbidden", "message": "The key lacks the permission."}}
     }
    }
   },
   "NotFound": {
    "description": "No such resource visible to the caller.",
    "headers": {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}},
    "content": {
     "application/json": {
      "schema": {"$ref": "#/components/schemas/Error"},
      "example": {
       "error": {"code": "not_found", "message": "No such resource visible to the caller."}
      }
     }
    }
   },
   "Conflict": {
    "description": "Unique value taken: code_taken or email_taken.",
    "headers": {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}},
    "content": {
     "application/json": {
      "schema": {"$ref": "#/components/schemas/Error"},
      "example": {
       "error": {
        "code": "code_taken",
        "message": "Unique value taken: code_taken or email_taken."
       }
      }
     }
    }
   },
   "PayloadTooLarge": {
    "description": "Request body too large.",
    "headers": {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}},
    "content": {
     "application/json": {
      "schema": {"$ref": "#/components/schemas/Error"},
      "example": {"error": {"code": "payload_too_large", "message": "Request body too large."}}
     }
    }
   },
   "UnsupportedMediaType": {
    "description": "Content-Type is not application/json.",
    "headers": {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}},
    "content": {
     "application/json": {
      "schema": {"$ref": "#/components/schemas/Error"},
      "example": {
       "error": {
        "code": "unsupported_media_type",
        "message": "Content-Type is not application/json."
       }
      }
     }
    }
   },
   "MethodNotAllowed": {
    "description": "Method not allowed on this path.",
    "headers": {
     "X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"},
     "Allow": {"schema": {"type": "string"}}
    },
    "content": {
     "application/json": {
      "schema": {"$ref": "#/components/schemas/Error"},
      "example": {
       "error": {"code": "method_not_allowed", "message": "Method not allowed on this path."}
      }
     }
    }
   },
   "RateLimited": {
    "description": "Rate limit exceeded.",
    "headers": {
     "X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"},
     "RateLimit-Limit": {"$ref": "#/components/headers/RateLimit-Limit"},
     "RateLimit-Remaining": {"$ref": "#/components/headers/RateLimit-Remaining"},
     "RateLimit-Reset": {"$ref": "#/components/headers/RateLimit-Reset"},
     "Retry-After": {"$ref": "#/components/headers/Retry-After"}
    },
    "content": {
     "application/json": {
      "schema": {"$ref": "#/components/schemas/Error"},
      "example": {"error": {"code": "rate_limited", "message": "Rate limit exceeded."}}
     }
    }
   },
   "Unavailable": {
    "description": "Overloaded or a required backend is down.",
    "headers": {
     "X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"},
     "Retry-After": {"$ref": "#/components/headers/Retry-After"}
    },
    "content": {
     "application/json": {
      "schema": {"$ref": "#/components/schemas/Error"},
      "example": {
       "error": {"code": "unavailable", "message": "Overloaded or a required backend is down."}
      }
     }
    }
   },
   "Internal": {
    "description": "Unexpected server error.",
    "headers": {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}},
    "content": {
     "application/json": {
      "schema": {"$ref": "#/components/schemas/Error"},
      "example": {"error": {"code": "internal", "message": "Unexpected server error."}}
     }
    }
   },
   "RedirectNotFound": {
    "description": "Unknown code (HTML page, or JSON not_found when Accept: application/json).",
    "headers": {
     "X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"},
     "Cache-Control": {"description": "no-store", "schema": {"type": "string"}}
    },
    "content": {
     "text/html": {"schema": {"type": "string"}},
     "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
    }
   },
   "RedirectGone": {
    "description": "Deleted or expired link, or suspended owner (HTML page, or JSON gone when Accept: application/json).",
    "headers": {
     "X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"},
     "Cache-Control": {"description": "no-store", "schema": {"type": "string"}}
    },
    "content": {
     "text/html": {"schema": {"type": "string"}},
     "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
    }
   }
  },
  "schemas": {
   "Error": {
    "type": "object",
    "required": ["error"],
    "properties": {
     "error": {
      "type": "object",
      "required": ["code", "message"],
      "properties": {
       "code": {
        "type": "string",
        "enum": [
         "invalid_json",
         "invalid_url",
         "invalid_code",
         "invalid_argument",
         "code_taken",
         "email_taken",
         "unauthorized",
         "forbidden",
         "not_found",
         "gone",
         "payload_too_large",
         "unsupported_media_type",
         "method_not_allowed",
         "rate_limited",
         "unavailable",
         "internal"
        ]
       },
       "message": {"type": "string"}
      }
     }
    }
   },
   "RedirectType": {"type": "integer", "enum": [301, 302, 307], "default": 301},
   "Metadata": {
    "type": "object",
    "additionalProperties": true,
    "description": "Free-form JSON object, at most 4096 bytes serialized.",
    "example": {"campaign": "spring"}
   },
   "LinkCreate": {
    "type": "object",
    "required": ["url"],
    "additionalProperties": false,
    "not": {"required": ["expires_at", "expires_in"]},
    "description": "At most one of expires_at and expires_in.",
    "properties": {
     "url": {
      "type": "string",
      "format": "uri",
      "maxLength": 2048,
      "description": "Absolute http(s) URL with a host, at most 2048 bytes; no user-info, spaces or control characters; not a link of this service. Non-ASCII (IDN host, Unicode path) accepted and stored as given.",
      "example": "https://example.com/some/long/path?q=1"
     },
     "custom_code": {
      "type": "string",
      "minLength": 3,
      "maxLength": 32,
      "pattern": "^[A-Za-z0-9_-]{3,32}$",
      "not": {
       "enum": [
        "v1",
        "api",
        "healthz",
        "readyz",
        "metrics",
        "ui",
        "static",
        "admin",
        "favicon.ico",
        "robots.txt"
       ]
      },
      "description": "Reserved words are refused (invalid_code); taken: 409 code_taken.",
      "example": "launch-2026"
     },
     "expires_at": {
      "type": "string",
      "format": "date-time",
      "example": "2026-11-27T23:54:27Z",
      "description": "In the future."
     },
     "expires_in": {
      "type": "integer",
      "format": "int64",
      "minimum": 1,
      "description": "Seconds from now."
     },
     "redirect_type": {"$ref": "#/components/schemas/RedirectType"},
     "metadata": {"$ref": "#/components/schemas/Metadata"}
    }
   },
   "Link": {
    "type": "object",
    "required": [
     "code",
     "short_url",
     "url",
     "created_at",
     "expires_at",
     "redirect_type",
     "is_custom",
     "metadata",
     "click_count"
    ],
    "properties": {
     "code": {"type": "string", "example": "aZ3kP9q"},
     "short_url": {"type": "string", "format": "uri", "example": "https://sho.rt/aZ3kP9q"},
     "url": {"type": "string", "format": "uri"},
     "created_at": {"type": "string", "format": "date-time", "example": "2026-11-27T23:54:27Z"},
     "expires_at": {
      "type": "string",
      "format": "date-time",
      "example": "2026-11-27T23:54:27Z",
      "nullable": true
     },
     "redirect_type": {"$ref": "#/components/schemas/RedirectType"},
     "is_custom": {"type": "boolean"},
     "metadata": {"$ref": "#/components/schemas/Metadata"},
     "click_count": {"type": "integer", "format": "int64", "minimum": 0}
    }
   },
   "LinkList": {
    "type": "object",
    "required": ["items", "next_cursor"],
    "properties": {
     "items": {"type": "array", "items": {"$ref": "#/components/schemas/Link"}},
     "next_cursor": {"type": "string", "nullable": true, "description": "null on the last page."}
    }
   },
   "DailyCount": {
    "type": "object",
    "required": ["date", "clicks", "unique_visitors", "bot_clicks"],
    "properties": {
     "date": {"type": "string", "format": "date"},
     "clicks": {"type": "integer", "format": "int64", "minimum": 0, "description": "Human clicks."},
     "unique_visitors": {"type": "integer", "format": "int64", "minimum": 0},
     "bot_clicks": {"type": "integer", "format": "int64", "minimum": 0}
    }
   },
   "TimeseriesPoint": {
    "type": "object",
    "required": ["start", "clicks", "bot_clicks"],
    "properties": {
     "start": {"type": "string", "format": "date-time", "example": "2026-11-28T04:00:00Z"},
     "clicks": {"type": "integer", "format": "int64", "minimum": 0, "description": "Human clicks."},
     "bot_clicks": {"type": "integer", "format": "int64", "minimum": 0}
    }
   },
   "Timeseries": {
    "type": "object",
    "required": ["code", "granularity", "from", "to", "points"],
    "properties": {
     "code": {"type": "string"},
     "granularity": {"type": "string", "enum": ["minute", "hour", "day"]},
     "from": {"type": "string", "format": "date-time", "description": "Start of the first bucket."},
     "to": {"type": "string", "format": "date-time", "description": "End of the last bucket (exclusive)."},
     "points": {
      "type": "array",
      "description": "One per bucket in [from, to), oldest first, zero-filled.",
      "items": {"$ref": "#/components/schemas/TimeseriesPoint"}
     }
    }
   },
   "ValueCount": {
    "type": "object",
    "required": ["value", "clicks"],
    "properties": {
     "value": {"type": "string"},
     "clicks": {"type": "integer", "format": "int64", "minimum": 0}
    }
   },
   "Stats": {
    "type": "object",
    "required": [
     "code",
     "total_clicks",
     "bot_clicks",
     "unique_visitors",
     "from",
     "to",
     "daily",
     "referrers",
     "countries",
     "devices",
     "browsers",
     "os",
     "cities"
    ],
    "properties": {
     "code": {"type": "string"},
     "total_clicks": {
      "type": "integer",
      "format": "int64",
      "minimum": 0,
      "description": "Human clicks."
     },
     "bot_clicks": {"type": "integer", "format": "int64", "minimum": 0},
     "unique_visitors": {"type": "integer", "format": "int64", "minimum": 0},
     "from": {"type": "string", "format": "date"},
     "to": {"type": "string", "format": "date"},
     "daily": {"type": "array", "items": {"$ref": "#/components/schemas/DailyCount"}},
     "referrers": {
      "type": "array",
      "items": {"$ref": "#/components/schemas/ValueCount"},
      "description": "Direct visits: (direct)."
     },
     "countries": {
      "type": "array",
      "items": {"$ref": "#/components/schemas/ValueCount"},
      "description": "ISO 3166-1 alpha-2; unknown: ZZ."
     },
     "devices": {"type": "array", "items": {"$ref": "#/components/schemas/ValueCount"}},
     "browsers": {"type": "array", "items": {"$ref": "#/components/schemas/ValueCount"}},
     "os": {"type": "array", "items": {"$ref": "#/components/schemas/ValueCount"}},
     "cities": {
      "type": "array",
      "items": {"$ref": "#/components/schemas/ValueCount"},
      "description": "City (English name) and country as the GeoIP database gives them, e.g. Berlin, DE; (unknown) when it has none."
     },
     "realtime": {
      "type": "object",
      "required": ["clicks", "clicks_last_hour", "visitors_today"],
      "properties": {
       "clicks": {"type": "integer", "format": "int64", "minimum": 0},
       "clicks_last_hour": {"type": "integer", "format": "int64", "minimum": 0},
       "visitors_today": {"type": "integer", "format": "int64", "minimum": 0}
      },
      "description": "Real-time counters kept in Redis by kurz worker (cluster mode with Kafka only; left out otherwise or when Redis cannot answer): human clicks so far, in the last 60 minutes, and today's distinct visitors (HyperLogLog estimate). Approximate; the other fields are exact."
     }
    },
    "description": "Each breakdown lists at most `top` values, most clicks first (equal counts by value). Values beyond the 100 most frequent of a day are counted as (other)."
   },
   "Permission": {"type": "string", "enum": ["create", "read", "delete", "admin"]},
   "ApiKeyCreate": {
    "type": "object",
    "additionalProperties": false,
    "properties": {
     "name": {"type": "string", "maxLength": 100, "default": ""},
     "permissions": {
      "type": "array",
      "description": "Defaults to create, read and delete (those the caller holds). A key can grant only permissions its creator holds (403 otherwise).",
      "items": {"$ref": "#/components/schemas/Permission"},
      "uniqueItems": true,
      "example": ["create", "read", "delete"]
     }
    }
   },
   "ApiKey": {
    "type": "object",
    "required": [
     "id",
     "name",
     "prefix",
     "permissions",
     "created_at",
     "expires_at",
     "revoked_at",
     "last_used_at"
    ],
    "properties": {
     "id": {"type": "integer", "format": "int64", "minimum": 1},
     "name": {"type": "string"},
     "prefix": {
      "type": "string",
      "description": "First 8 characters of the key.",
      "example": "kz_aB3dE"
     },
     "permissions": {"type": "array", "items": {"$ref": "#/components/schemas/Permission"}},
     "created_at": {"type": "string", "format": "date-time", "example": "2026-11-27T23:54:27Z"},
     "expires_at": {
      "type": "string",
      "format": "date-time",
      "example": "2026-11-27T23:54:27Z",
      "nullable": true
     },
     "revoked_at": {
      "type": "string",
      "format": "date-time",
      "example": "2026-11-27T23:54:27Z",
      "nullable": true
     },
     "last_used_at": {
      "type": "string",
      "format": "date-time",
      "example": "2026-11-27T23:54:27Z",
      "nullable": true
     }
    }
   },
   "ApiKeyCreated": {
    "allOf": [
     {"$ref": "#/components/schemas/ApiKey"},
     {
      "type": "object",
      "required": ["key"],
      "properties": {
       "key": {
        "type": "string",
        "pattern": "^kz_[A-Za-z0-9]{40}$",
        "description": "The whole key, shown once."
       }
      }
     }
    ]
   },
   "ApiKeyList": {
    "type": "object",
    "required": ["items"],
    "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/ApiKey"}}}
   },
   "User": {
    "type": "object",
    "required": ["id", "email", "tier", "status", "created_at"],
    "properties": {
     "id": {"type": "integer", "format": "int64", "minimum": 1},
     "email": {"type": "string", "format": "email"},
     "tier": {"type": "string", "enum": ["free", "pro", "enterprise"]},
     "status": {"type": "string", "enum": ["active", "suspended"]},
     "created_at": {"type": "string", "format": "date-time", "example": "2026-11-27T23:54:27Z"}
    }
   },
   "UserCreate": {
    "type": "object",
    "required": ["email"],
    "properties": {
     "email": {"type": "string", "format": "email"},
     "tier": {"type": "string", "enum": ["free", "pro", "enterprise"], "default": "free"}
    }
   },
   "UserCreated": {
    "allOf": [
     {"$ref": "#/components/schemas/User"},
     {
      "type": "object",
      "required": ["api_key"],
      "properties": {
       "api_key": {
        "type": "string",
        "pattern": "^kz_[A-Za-z0-9]{40}$",
        "description": "The user's first key (create, read, delete), shown once."
       }
      }
     }
    ]
   },
   "UserPatch": {
    "type": "object",
    "required": ["status"],
    "properties": {"status": {"type": "string", "enum": ["active", "suspended"]}}
   },
   "UserList": {
    "type": "object",
    "required": ["items"],
    "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/User"}}}
   },
   "Health": {
    "type": "object",
    "required": ["status"],
    "properties": {"status": {"type": "string", "example": "ok"}}
   },
   "Readiness": {
    "type": "object",
    "required": ["status", "checks"],
    "properties": {
     "status": {"type": "string", "description": "ok when every check is ok.", "example": "ok"},
     "checks": {
      "type": "object",
      "required": ["database"],
      "description": "One entry per configured backend: ok or down: <why>.",
      "properties": {"database": {"type": "string", "example": "ok"}},
      "additionalProperties": {"type": "string"},
      "example": {"database": "ok", "cache": "down: connection refused"}
     }
    }
   }
  }
 }
})json";
  return kDocument;
}

}  // namespace kurz::http
