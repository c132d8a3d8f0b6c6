#include "http/server_parser.hpp"

#include <boost/beast/http/error.hpp>

namespace kurz::http::detail {

namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

std::string_view ToStd(beast::string_view s) { return {s.data(), s.size()}; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IEquals(std::string_view a, std::string_view b) {
  return beast::iequals(beast::string_view(a.data(), a.size()),
                        beast::string_view(b.data(), b.size()));
}

Method ToMethod(bhttp::verb verb) {
  switch (verb) {
    case bhttp::verb::get:
      return Method::kGet;
    case bhttp::verb::head:
      return Method::kHead;
    case bhttp::verb::post:
      return Method::kPost;
    case bhttp::verb::put:
      return Method::kPut;
    case bhttp::verb::patch:
      return Method::kPatch;
    case bhttp::verb::delete_:
      return Method::kDelete;
    case bhttp::verb::options:
      return Method::kOptions;
    default:
      return Method::kOther;
  }
}

}  // namespace

void RequestParser::Fail(beast::error_code& ec, int status, std::string_view code,
                         std::string_view message) {
  store_.error = {status, code, message};
  ec = bhttp::error::bad_value;
}

void RequestParser::on_request_impl(bhttp::verb verb, beast::string_view method,
                                    beast::string_view target, int version, beast::error_code&) {
  store_.method = ToMethod(verb);
  store_.method_text = store_.Append(ToStd(method));
  store_.target = store_.Append(ToStd(target));
  store_.version = version;
}

void RequestParser::on_response_impl(int, beast::string_view, int, beast::error_code& ec) {
  ec = bhttp::error::bad_version;  // never called for a request parser
}

void RequestParser::on_field_impl(bhttp::field field, beast::string_view name_string,
                                  beast::string_view raw, beast::error_code& ec) {
  if (is_header_done()) return;  // trailer fields of a chunked body are not headers
  const std::string_view value = Trim(ToStd(raw));
  switch (field) {
    case bhttp::field::host:
      if (store_.seen & (1u << RequestStore::kHost)) {
        return Fail(ec, 400, "invalid_argument", "more than one Host header");
      }
      return Keep(RequestStore::kHost, value);
    case bhttp::field::content_type:
      return Keep(RequestStore::kContentType, value);
    case bhttp::field::authorization:
      return Keep(RequestStore::kAuthorization, value);
    case bhttp::field::accept:
      return Keep(RequestStore::kAccept, value);
    case bhttp::field::user_agent:
      return Keep(RequestStore::kUserAgent, value);
    case bhttp::field::referer:
      return Keep(RequestStore::kReferer, value);
    case bhttp::field::accept_language:
      return Keep(RequestStore::kAcceptLanguage, value);
    case bhttp::field::expect:
      if (IEquals(value, "100-continue")) store_.expect_continue = true;
      return;
    case bhttp::field::transfer_encoding:
      return CheckTransferEncoding(value, ec);
    case bhttp::field::unknown:
      break;
    default:
      return;
  }
  const std::string_view name = ToStd(name_string);
  if (name.size() == 9 && IEquals(name, "x-api-key")) return Keep(RequestStore::kApiKey, value);
  if (name.size() == 12 && IEquals(name, "x-request-id")) {
    return Keep(RequestStore::kRequestId, value);
  }
  if (name.size() == 15 && IEquals(name, "x-forwarded-for") && !value.empty()) {
    if (!store_.forwarded_for.empty()) store_.forwarded_for.append(", ");
    store_.forwarded_for.append(value);
  }
}

void RequestParser::Keep(RequestStore::FieldIndex index, std::string_view value) {
  const std::uint32_t bit = 1u << index;
  if (store_.seen & bit) return;
  store_.seen |= bit;
  store_.fields[index] = store_.Append(value);
}

// Beast frames the body by "chunked" only when it is the last coding, and otherwise reads no
// body at all, which would turn the body into a smuggled request. Only plain "chunked" passes.
void RequestParser::CheckTransferEncoding(std::string_view value, beast::error_code& ec) {
  if (IEquals(value, "chunked")) return;
  const auto comma = value.rfind(',');
  const std::string_view last =
      Trim(comma == std::string_view::npos ? value : value.substr(comma + 1));
  if (IEquals(last, "chunked")) {
    return Fail(ec, 501, "not_implemented", "only the chunked transfer coding is supported");
  }
  Fail(ec, 400, "invalid_argument", "Transfer-Encoding must end with chunked");
}

void RequestParser::on_header_impl(beast::error_code& ec) {
  if (store_.version >= 11 && !(store_.seen & (1u << RequestStore::kHost))) {
    return Fail(ec, 400, "invalid_argument", "missing Host header");
  }
  store_.keep_alive = keep_alive();
}

void RequestParser::on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                                      beast::error_code&) {
  // Beast has checked the length against body_limit already.
  if (content_length && *content_length > store_.body.capacity()) {
    store_.body.reserve(static_cast<std::size_t>(*content_length));
  }
}

std::size_t RequestParser::on_body_impl(beast::string_view body, beast::error_code&) {
  store_.body.append(body.data(), body.size());
  return body.size();
}

void RequestParser::on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) {}

std::size_t RequestParser::on_chunk_body_impl(std::uint64_t, beast::string_view body,
                                              beast::error_code&) {
  store_.body.append(body.data(), body.size());
  return body.size();
}

void RequestParser::on_finish_impl(beast::error_code&) {}

// Splits an origin-form or absolute-form target into path and query.
void SplitTarget(std::string_view target, std::string_view& path, std::string_view& query) {
  std::string_view rest = target;
  if (!rest.empty() && rest.front() != '/' && rest != "*") {
    // absolute-form (RFC 9112 §3.2.2): drop "scheme://authority"
    if (const auto scheme_end = rest.find("://"); scheme_end != std::string_view::npos) {
      rest.remove_prefix(scheme_end + 3);
      const auto path_start = rest.find_first_of("/?");
      rest = path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
    }
  }
  const auto mark = rest.find('?');
  path = rest.substr(0, mark);
  query = mark == std::string_view::npos ? std::string_view() : rest.substr(mark + 1);
  if (path.empty()) path = "/";
}

// A start line whose version is well formed but not 1.0 or 1.1 ("HTTP/2.0", "HTTP/1.2").
bool HasUnsupportedVersion(std::string_view input) {
  const auto eol = input.find("\r\n");
  if (eol == std::string_view::npos) return false;
  const std::string_view line = input.substr(0, eol);
  const auto space = line.rfind(' ');
  if (space == std::string_view::npos) return false;
  const std::string_view version = line.substr(space + 1);
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (!version.starts_with("HTTP/") || version.size() < 6 || !digit(version[5])) return false;
  if (version.size() == 6) return true;
  return version.size() == 8 && version[6] == '.' && digit(version[7]);
}

}  // namespace kurz::http::detail
