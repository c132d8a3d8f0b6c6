#include "http/link_pages.hpp"

namespace kurz::http {

std::string EscapeHtml(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string PreviewPage(const core::OpenGraph& og, std::string_view url) {
  const std::string title = EscapeHtml(og.title);
  const std::string description = EscapeHtml(og.description);
  const std::string image = EscapeHtml(og.image);
  std::string page =
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta property=\"og:type\" content=\"website\">\n"
      "<meta property=\"og:url\" content=\"" +
      EscapeHtml(url) + "\">\n";
  const auto tag = [&page](std::string_view attr, std::string_view name, const std::string& v) {
    if (v.empty()) return;
    page += "<meta ";
    page += attr;
    page += "=\"";
    page += name;
    page += "\" content=\"";
    page += v;
    page += "\">\n";
  };
  tag("property", "og:title", title);
  tag("property", "og:description", description);
  tag("property", "og:image", image);
  tag("name", "twitter:card", std::string(og.image.empty() ? "summary" : "summary_large_image"));
  tag("name", "twitter:title", title);
  tag("name", "twitter:description", description);
  tag("name", "twitter:image", image);
  if (!description.empty()) tag("name", "description", description);
  page += "<title>" + (title.empty() ? EscapeHtml(url) : title) + "</title>\n</head>\n<body><h1>" +
          (title.empty() ? EscapeHtml(url) : title) + "</h1>";
  if (!description.empty()) page += "<p>" + description + "</p>";
  page += "</body></html>\n";
  return page;
}

std::string PasswordPage(std::string_view code, bool wrong_try) {
  const std::string action = "/" + EscapeHtml(code);
  std::string page =
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<meta name=\"robots\" content=\"noindex\">\n"
      "<title>Password required</title>\n"
      "<style>body{font-family:system-ui,sans-serif;max-width:26rem;margin:4rem auto;"
      "padding:0 1rem;line-height:1.5}label,input,button{display:block;width:100%;"
      "box-sizing:border-box;font-size:1rem}input{padding:.5rem;margin:.25rem 0 1rem}"
      "button{padding:.6rem}.error{color:#a00000;font-weight:600}</style>\n"
      "</head>\n<body><main>\n<h1>This link is protected</h1>\n";
  if (wrong_try) {
    page +=
        "<p class=\"error\" role=\"alert\" id=\"error\">That password is not right. Try "
        "again.</p>\n";
  } else {
    page += "<p>Enter the password to continue.</p>\n";
  }
  page += "<form method=\"post\" action=\"" + action +
          "\" enctype=\"application/x-www-form-urlencoded\">\n"
          "<label for=\"password\">Password</label>\n"
          "<input id=\"password\" name=\"password\" type=\"password\" required "
          "autocomplete=\"current-password\" autofocus";
  if (wrong_try) page += " aria-describedby=\"error\" aria-invalid=\"true\"";
  page += ">\n<button type=\"submit\">Continue</button>\n</form>\n</main></body></html>\n";
  return page;
}

}  // namespace kurz::http
