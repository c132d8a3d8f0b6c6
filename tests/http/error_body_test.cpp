#include "http/error_body.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace kurz::http {
namespace {

TEST(ErrorBodyTest, IsTheDocumentedShape) {
  EXPECT_EQ(ErrorBody("not_found", "no such API endpoint"),
            R"({"error":{"code":"not_found","message":"no such API endpoint"}})");
}

TEST(ErrorBodyTest, EscapesWhatWouldBreakTheJson) {
  const std::string message = "say \"hi\"\\ \n\r\t\x01\x7f end";
  const auto parsed = nlohmann::json::parse(ErrorBody("bad", message));
  EXPECT_EQ(parsed["error"]["message"], message);
  EXPECT_EQ(parsed["error"]["code"], "bad");
}

TEST(ErrorBodyTest, KeepsUtf8AndReplacesBytesThatAreNot) {
  const auto ok = nlohmann::json::parse(ErrorBody("x",
                                                  "Stra\xC3\x9F"
                                                  "e \xF0\x9F\x98\x80"));
  EXPECT_EQ(ok["error"]["message"],
            "Stra\xC3\x9F"
            "e \xF0\x9F\x98\x80");
  // A lone continuation byte, a truncated sequence, an overlong '/', a surrogate.
  for (const std::string bad : {"a\x80z", "a\xE2\x82", "a\xC0\xAFz", "a\xED\xA0\x80z"}) {
    const std::string body = ErrorBody("x", bad);
    const auto parsed = nlohmann::json::parse(body);  // throws if not valid UTF-8 JSON
    const std::string message = parsed["error"]["message"];
    EXPECT_NE(message.find("\xEF\xBF\xBD"), std::string::npos) << body;
    EXPECT_EQ(message.front(), 'a') << body;
  }
}

}  // namespace
}  // namespace kurz::http
