#include "http/password_page.hpp"

#include "http/link_pages.hpp"

namespace kurz::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes one form-urlencoded name or value; nullopt on a malformed escape.
std::optional<std::string> FormDecode(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= raw.size()) return std::nullopt;  // needs two more bytes
      const int hi = HexValue(raw[i + 1]);
      const int lo = HexValue(raw[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// A path segment: bytes outside RFC 3986's unreserved set percent-encoded.
std::string PathSegment(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    const bool unreserved = (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') ||
                            (u >= '0' && u <= '9') || u == '-' || u == '.' || u == '_' || u == '~';
    if (unreserved) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

constexpr std::string_view kHead =
    "<!doctype html>\n"
    "<html lang=\"en\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<meta name=\"robots\" content=\"noindex\">\n"
    "<title>Password required</title>\n"
    "<style>\n"
    "body{font-family:system-ui,sans-serif;line-height:1.5;max-width:28rem;margin:3rem auto;"
    "padding:0 1rem;color:#111;background:#fff}\n"
    "label{display:block;font-weight:600}\n"
    "input{font:inherit;width:100%;box-sizing:border-box;padding:.5rem;margin:.25rem 0 1rem;"
    "border:1px solid #555;border-radius:4px}\n"
    "input:focus,button:focus{outline:3px solid #1a5fb4;outline-offset:2px}\n"
    "button{font:inherit;padding:.5rem 1.25rem;border:0;border-radius:4px;background:#1a5fb4;"
    "color:#fff;cursor:pointer}\n"
    ".error{color:#a51d2d;border-left:4px solid #a51d2d;padding-left:.75rem;font-weight:600}\n"
    "code{word-break:break-all}\n"
    "</style>\n"
    "</head>\n"
    "<body>\n"
    "<main>\n"
    "<h1>This link is protected by a password</h1>\n";

}  // namespace

std::string PasswordPage(std::string_view code, bool wrong_try, std::string_view query) {
  std::string page(kHead);
  page += "<p>Enter the password of <code>/";
  page += EscapeHtml(code);
  page += "</code> to continue.</p>\n";
  if (wrong_try) {
    page +=
        "<p class=\"error\" id=\"password-error\" role=\"alert\">Wrong password. Please try "
        "again.</p>\n";
  }
  page += R"(<form method="post" action="/)";
  page += EscapeHtml(PathSegment(code));
  if (!query.empty()) {
    page += '?';
    page += EscapeHtml(query);
  }
  page +=
      "\" enctype=\"application/x-www-form-urlencoded\">\n"
      "<label for=\"password\">Password</label>\n"
      "<input type=\"password\" id=\"password\" name=\"password\" required autofocus "
      "autocomplete=\"current-password\"";
  if (wrong_try) page += R"( aria-invalid="true" aria-describedby="password-error")";
  page +=
      ">\n"
      "<button type=\"submit\">Continue</button>\n"
      "</form>\n"
      "</main>\n"
      "</body>\n"
      "</html>\n";
  return page;
}

std::optional<std::string> FormField(std::string_view body, std::string_view name) {
  while (!body.empty()) {
    const std::size_t amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (pair.empty()) continue;  // "a=1&&b=2"
    const std::size_t eq = pair.find('=');
    const std::optional<std::string> field = FormDecode(pair.substr(0, eq));
    if (!field) return std::nullopt;
    if (*field != name) continue;
    if (eq == std::string_view::npos) return std::string();
    return FormDecode(pair.substr(eq + 1));
  }
  return std::nullopt;
}

}  // namespace kurz::http
