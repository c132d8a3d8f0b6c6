#pragma once

// The request parser of the HTTP/1.1 engine: Beast's parser callbacks filling a RequestStore, and
// the checks on a request's target and version. Internal to kurz_http_server: only server.cpp
// includes it; the connection state machine there drives the parser and builds Request from it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/beast/core/error.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/optional/optional.hpp>

#include "http/server.hpp"

namespace kurz::http::detail {

// A protocol error found inside a parser callback; the callback then fails the parse.
struct ParseError {
  int status = 0;
  std::string_view code;
  std::string_view message;
};

// The parsed parts of the current request, in buffers reused from request to request. Views are
// built only once the request is complete, so the buffers may grow while it is parsed.
struct RequestStore {
  enum FieldIndex : std::uint8_t {
    kHost,
    kContentType,
    kAuthorization,
    kApiKey,
    kRequestId,
    kAccept,
    kUserAgent,
    kReferer,
    kAcceptLanguage,
    kFieldCount,
  };
  struct Span {
    std::size_t offset = 0;
    std::size_t size = 0;
  };

  void Clear() {
    text.clear();
    forwarded_for.clear();
    body.clear();
    fields = {};
    seen = 0;
    method = Method::kOther;
    version = 11;
    keep_alive = true;
    expect_continue = false;
    error = {};
  }
  Span Append(std::string_view s) {
    Span span{text.size(), s.size()};
    text.append(s);
    return span;
  }
  std::string_view View(Span span) const { return {text.data() + span.offset, span.size}; }

  std::string text;  // method, target and the kept header values, back to back
  std::string forwarded_for;
  std::string body;
  Span method_text;
  Span target;
  std::array<Span, kFieldCount> fields{};
  std::uint32_t seen = 0;  // bit per FieldIndex: first value wins
  Method method = Method::kOther;
  int version = 11;
  bool keep_alive = true;
  bool expect_continue = false;
  ParseError error;
};

// Beast's allocation-free parser, keeping only what Request exposes. Beast cannot restart a
// parser, so the connection constructs a fresh one (in place) for every request.
class RequestParser final : public boost::beast::http::basic_parser<true> {
 public:
  explicit RequestParser(RequestStore& store) : store_(store) {}

 private:
  void Fail(boost::beast::error_code& ec, int status, std::string_view code,
            std::string_view message);
  void on_request_impl(boost::beast::http::verb verb, boost::beast::string_view method,
                       boost::beast::string_view target, int version,
                       boost::beast::error_code&) override;
  void on_response_impl(int, boost::beast::string_view, int, boost::beast::error_code& ec) override;
  void on_field_impl(boost::beast::http::field field, boost::beast::string_view name_string,
                     boost::beast::string_view raw, boost::beast::error_code& ec) override;
  void Keep(RequestStore::FieldIndex index, std::string_view value);
  void CheckTransferEncoding(std::string_view value, boost::beast::error_code& ec);
  void on_header_impl(boost::beast::error_code& ec) override;
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         boost::beast::error_code&) override;
  std::size_t on_body_impl(boost::beast::string_view body, boost::beast::error_code&) override;
  void on_chunk_header_impl(std::uint64_t, boost::beast::string_view,
                            boost::beast::error_code&) override;
  std::size_t on_chunk_body_impl(std::uint64_t, boost::beast::string_view body,
                                 boost::beast::error_code&) override;
  void on_finish_impl(boost::beast::error_code&) override;

  RequestStore& store_;
};

// Splits an origin-form or absolute-form target into path and query.
void SplitTarget(std::string_view target, std::string_view& path, std::string_view& query);

// A start line whose version is well formed but not 1.0 or 1.1 ("HTTP/2.0", "HTTP/1.2").
bool HasUnsupportedVersion(std::string_view input);

}  // namespace kurz::http::detail
