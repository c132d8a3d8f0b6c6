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

}  // namespace kurz::http
