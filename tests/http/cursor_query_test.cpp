// The list cursor codec and query-string parsing of the API (http/cursor.hpp, http/query.hpp).

#include <gtest/gtest.h>

#include <string>

#include "http/cursor.hpp"
#include "http/query.hpp"

namespace kurz::http {
namespace {

TEST(HttpCursorTest, RoundTrips) {
  for (const core::ListCursor& c :
       {core::ListCursor{0, "a"}, core::ListCursor{1'795'000'000'123'456, "Ab3_x-Z"},
        core::ListCursor{42, std::string(32, 'z')}}) {
    const std::string text = EncodeCursor(c);
    EXPECT_EQ(
        text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos)
        << "URL-safe without padding: " << text;
    auto back = DecodeCursor(text);
    ASSERT_TRUE(back) << text;
    EXPECT_EQ(back->created_at, c.created_at);
    EXPECT_EQ(back->code, c.code);
  }
}

TEST(HttpCursorTest, RefusesWhatItDidNotWrite) {
  EXPECT_FALSE(DecodeCursor(""));
  EXPECT_FALSE(DecodeCursor("not a cursor!"));                // outside the alphabet
  EXPECT_FALSE(DecodeCursor(std::string(129, 'A')));          // too long
  EXPECT_FALSE(DecodeCursor(EncodeCursor({5, "bad code"})));  // not a code
  EXPECT_FALSE(DecodeCursor(EncodeCursor({-1, "abc"})));      // negative time
  EXPECT_FALSE(DecodeCursor("MTIzNDU"));                      // "12345": no '.'
  EXPECT_FALSE(DecodeCursor("LmFiYw"));                       // ".abc": no time
  EXPECT_FALSE(DecodeCursor("eDEuYWJj"));                     // "x1.abc": time not a number
}

TEST(HttpQueryTest, FindsAndDecodesAParameter) {
  EXPECT_EQ(QueryParam("limit=10&cursor=abc", "cursor"), "abc");
  EXPECT_EQ(QueryParam("limit=10&cursor=abc", "limit"), "10");
  EXPECT_EQ(QueryParam("a=1&a=2", "a"), "1") << "the first wins";
  EXPECT_EQ(QueryParam("from=2026-11-28T04%3A00%3A00Z", "from"), "2026-11-28T04:00:00Z");
  EXPECT_EQ(QueryParam("q=a+b%2Bc", "q"), "a b+c");
  EXPECT_EQ(QueryParam("flag&x=1", "flag"), "");
  EXPECT_EQ(QueryParam("x=", "x"), "");
  EXPECT_EQ(QueryParam("x=%4", "x"), "%4") << "an incomplete escape stays as it is";
  EXPECT_EQ(QueryParam("x=%zz", "x"), "%zz");
  EXPECT_EQ(QueryParam("x=%41", "x"), "A");
  EXPECT_FALSE(QueryParam("", "x"));
  EXPECT_FALSE(QueryParam("xx=1&y=2", "x"));
  EXPECT_FALSE(QueryParam("limit=1", "LIMIT")) << "names are case-sensitive";
}

TEST(HttpQueryTest, WholeNumbersInARange) {
  EXPECT_EQ(ParseIntIn("1", 1, 1000), 1);
  EXPECT_EQ(ParseIntIn("1000", 1, 1000), 1000);
  for (std::string_view bad :
       {"0", "1001", "", "1e3", "+5", " 5", "5 ", "-1", "abc", "99999999999999999999"}) {
    EXPECT_FALSE(ParseIntIn(bad, 1, 1000)) << bad;
  }
  EXPECT_EQ(ParsePositiveId("42"), 42);
  for (std::string_view bad : {"0", "-3", "", "4x", "x"}) EXPECT_FALSE(ParsePositiveId(bad)) << bad;
}

}  // namespace
}  // namespace kurz::http
