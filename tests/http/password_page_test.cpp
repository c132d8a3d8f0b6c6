// The password form page (what a visitor of a password link sees) and the reader of the body its
// form posts back.
#include "http/password_page.hpp"

#include "http/link_pages.hpp"

#include <string>

#include <gtest/gtest.h>

namespace kurz::http {
namespace {

bool Has(std::string_view page, std::string_view part) {
  return page.find(part) != std::string_view::npos;
}

// The value of the first attribute `name="..."` in page (up to the next quote).
std::string Attribute(const std::string& page, std::string_view name) {
  const std::string start = std::string(name) + "=\"";
  const std::size_t at = page.find(start);
  if (at == std::string::npos) return "<absent>";
  const std::size_t from = at + start.size();
  return page.substr(from, page.find('"', from) - from);
}

TEST(PasswordPage, IsAnHtml5PageWithALabelledPasswordFormPostingToTheCode) {
  const std::string page = PasswordPage("abc123", false);
  EXPECT_TRUE(page.starts_with("<!doctype html>")) << page;
  EXPECT_TRUE(Has(page, "<html lang=\"en\">"));
  EXPECT_TRUE(Has(page, "<meta charset=\"utf-8\">"));
  EXPECT_TRUE(Has(page, "<title>Password required</title>"));
  EXPECT_EQ(Attribute(page, "method"), "post");
  EXPECT_EQ(Attribute(page, "action"), "/abc123");
  EXPECT_EQ(Attribute(page, "enctype"), "application/x-www-form-urlencoded");
  EXPECT_EQ(Attribute(page, "name"), "viewport");  // the first name= is the meta tag's
  EXPECT_TRUE(Has(page, "<label for=\"password\">Password</label>"));
  EXPECT_TRUE(Has(page, "<input type=\"password\" id=\"password\" name=\"password\""));
  EXPECT_TRUE(Has(page, " autofocus"));
  EXPECT_TRUE(Has(page, "autocomplete=\"current-password\""));
  EXPECT_TRUE(Has(page, "<button type=\"submit\">"));
  EXPECT_TRUE(Has(page, "<code>/abc123</code>"));
  EXPECT_TRUE(page.ends_with("</html>\n"));
}

TEST(PasswordPage, AFirstVisitShowsNoError) {
  const std::string page = PasswordPage("abc123", false);
  EXPECT_FALSE(Has(page, "role=\"alert\""));
  EXPECT_FALSE(Has(page, "Wrong password"));
  EXPECT_FALSE(Has(page, "aria-invalid"));
}

TEST(PasswordPage, AWrongTryShowsAVisibleAlertTiedToTheField) {
  const std::string page = PasswordPage("abc123", true);
  EXPECT_TRUE(Has(page, "<p class=\"error\" id=\"password-error\" role=\"alert\">Wrong password."))
      << page;
  EXPECT_TRUE(Has(page, "aria-invalid=\"true\" aria-describedby=\"password-error\""));
  // The alert comes before the form, where it is seen first, and the field keeps its focus.
  EXPECT_LT(page.find("role=\"alert\""), page.find("<form"));
  EXPECT_TRUE(Has(page, " autofocus"));
}

TEST(PasswordPage, LoadsNothingFromAnywhere) {
  for (const bool wrong : {false, true}) {
    const std::string page = PasswordPage("abc123", wrong);
    for (const std::string_view part :
         {"<script", "<link", "<img", "<iframe", "src=", "href=", "@import", "url(", "@font-face",
          "http://", "https://", "//"}) {
      EXPECT_FALSE(Has(page, part)) << part;
    }
  }
  EXPECT_TRUE(Has(kPasswordPageCsp, "default-src 'none'"));
  EXPECT_TRUE(Has(kPasswordPageCsp, "form-action 'self'"));
  EXPECT_TRUE(Has(kPasswordPageCsp, "frame-ancestors 'none'"));
}

TEST(PasswordPage, AHostileCodeIsEscapedEverywhere) {
  const std::string hostile = "x\"><script>alert('1')</script>&amp;/../?#";
  const std::string page = PasswordPage(hostile, true);
  EXPECT_FALSE(Has(page, "<script")) << page;
  EXPECT_FALSE(Has(page, "alert('1')"));
  // Shown as text, every special character a reference:
  EXPECT_TRUE(Has(page,
                  "<code>/x&quot;&gt;&lt;script&gt;alert(&#39;1&#39;)&lt;/script&gt;&amp;amp;/"
                  "../?#</code>"))
      << page;
  // In the action, one path segment: the quote cannot end the attribute, and '/', '?' and '#'
  // cannot make it another path, a query or a fragment.
  EXPECT_EQ(Attribute(page, "action"),
            "/x%22%3E%3Cscript%3Ealert%28%271%27%29%3C%2Fscript%3E%26amp%3B%2F..%2F%3F%23");
  EXPECT_TRUE(Has(page, "\" enctype=\"application/x-www-form-urlencoded\">"));
}

TEST(PasswordPage, NonAsciiCodesArePercentEncodedInTheActionAndKeptAsTextElsewhere) {
  const std::string page = PasswordPage("k\xC3\xA4se", false);
  EXPECT_EQ(Attribute(page, "action"), "/k%C3%A4se");
  EXPECT_TRUE(Has(page, "<code>/k\xC3\xA4se</code>"));
}

TEST(EscapeHtml, ReplacesTheFiveSpecialCharactersOnly) {
  EXPECT_EQ(EscapeHtml(""), "");
  EXPECT_EQ(EscapeHtml("plain text 123"), "plain text 123");
  EXPECT_EQ(EscapeHtml("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(EscapeHtml("&amp;"), "&amp;amp;");  // escaped again, not taken as already escaped
  EXPECT_EQ(EscapeHtml("\xC3\xA4 \xF0\x9F\x94\x92"), "\xC3\xA4 \xF0\x9F\x94\x92");
}

TEST(FormField, DecodesPlusAndPercentEscapes) {
  EXPECT_EQ(FormField("password=correct+horse", "password"), "correct horse");
  EXPECT_EQ(FormField("password=correct%20horse", "password"), "correct horse");
  EXPECT_EQ(FormField("password=a%2Bb%26c%3Dd%25", "password"), "a+b&c=d%");
  EXPECT_EQ(FormField("password=%c3%a4%C3%A4", "password"), "\xC3\xA4\xC3\xA4");
  EXPECT_EQ(FormField("password=%00x", "password"), std::string("\0x", 2));
  EXPECT_EQ(FormField("password=a=b", "password"), "a=b");
}

TEST(FormField, FindsTheFieldAmongOthersAndTheFirstWins) {
  EXPECT_EQ(FormField("a=1&password=x&b=2", "password"), "x");
  EXPECT_EQ(FormField("password=first&password=second", "password"), "first");
  EXPECT_EQ(FormField("&&password=x&", "password"), "x");
  EXPECT_EQ(FormField("pass%77ord=x", "password"), "x");  // names are decoded too
  EXPECT_EQ(FormField("passwordx=1&xpassword=2&Password=3", "password"), std::nullopt);
}

TEST(FormField, EmptyAndAbsent) {
  EXPECT_EQ(FormField("password=", "password"), "");
  EXPECT_EQ(FormField("password", "password"), "");
  EXPECT_EQ(FormField("", "password"), std::nullopt);
  EXPECT_EQ(FormField("other=1", "password"), std::nullopt);
}

TEST(FormField, MalformedEscapesAreRefused) {
  for (const std::string_view body :
       {"password=%", "password=%2", "password=abc%", "password=%zz", "password=%g0",
        "password=%0g", "password=%%41", "password=100%", "pass%7word=x", "%=1&password=x"}) {
    EXPECT_EQ(FormField(body, "password"), std::nullopt) << body;
  }
  // A malformed field after the one asked for is not read.
  EXPECT_EQ(FormField("password=x&other=%zz", "password"), "x");
}

}  // namespace
}  // namespace kurz::http

namespace kurz::http {
namespace {

TEST(PasswordPage, TheActionKeepsTheRequestsQueryEscaped) {
  const std::string page = PasswordPage("abc", false, "utm_source=x&b=\"><i>");
  const std::size_t at = page.find("action=\"");
  ASSERT_NE(at, std::string::npos);
  EXPECT_EQ(page.substr(at, page.find('"', at + 8) - at + 1),
            "action=\"/abc?utm_source=x&amp;b=&quot;&gt;&lt;i&gt;\"");
  EXPECT_FALSE(page.find("<i>") != std::string::npos);
}

}  // namespace
}  // namespace kurz::http
