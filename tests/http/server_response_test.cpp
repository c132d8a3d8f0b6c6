#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "http/server_internal.hpp"

namespace {

namespace d = kurz::http::detail;

TEST(ServerResponse, WritesTheStatusLine) {
  std::string out;
  d::AppendStatusLine(out, 301);
  EXPECT_EQ(out, "HTTP/1.1 301 Moved Permanently\r\n");
  out.clear();
  d::AppendStatusLine(out, 431);
  EXPECT_EQ(out, "HTTP/1.1 431 Request Header Fields Too Large\r\n");
  out.clear();
  d::AppendStatusLine(out, 299);
  EXPECT_EQ(out, "HTTP/1.1 299 Unknown\r\n");
  out.clear();
  d::AppendStatusLine(out, 42);
  EXPECT_EQ(out, "HTTP/1.1 500 Internal Server Error\r\n");
}

TEST(ServerResponse, HeaderValuesCannotSplitTheResponse) {
  std::string out;
  d::AppendHeader(out, "Location", "https://a.example/\r\nSet-Cookie: x=1");
  EXPECT_EQ(out, "Location: https://a.example/  Set-Cookie: x=1\r\n");
}

TEST(ServerResponse, FramesTheBody) {
  std::string out;
  d::AppendFraming(out, 200, 1234, /*close=*/false, /*keep_alive_header=*/false);
  EXPECT_EQ(out, "Content-Length: 1234\r\n\r\n");
  out.clear();
  d::AppendFraming(out, 200, 0, /*close=*/true, /*keep_alive_header=*/false);
  EXPECT_EQ(out, "Content-Length: 0\r\nConnection: close\r\n\r\n");
  out.clear();
  d::AppendFraming(out, 200, 5, /*close=*/false, /*keep_alive_header=*/true);
  EXPECT_EQ(out, "Content-Length: 5\r\nConnection: keep-alive\r\n\r\n");
  out.clear();
  d::AppendFraming(out, 204, 5, /*close=*/false, /*keep_alive_header=*/false);
  EXPECT_EQ(out, "\r\n");
  EXPECT_FALSE(d::StatusAllowsBody(304));
  EXPECT_FALSE(d::StatusAllowsBody(100));
  EXPECT_TRUE(d::StatusAllowsBody(404));
}

TEST(ServerResponse, KeepsFramingHeadersToItself) {
  using K = d::HeaderKind;
  EXPECT_EQ(d::ClassifyResponseHeader("Location", "x"), K::kPlain);
  EXPECT_EQ(d::ClassifyResponseHeader("content-length", "3"), K::kServerOwned);
  EXPECT_EQ(d::ClassifyResponseHeader("Transfer-Encoding", "chunked"), K::kServerOwned);
  EXPECT_EQ(d::ClassifyResponseHeader("Date", "x"), K::kServerOwned);
  EXPECT_EQ(d::ClassifyResponseHeader("Connection", "keep-alive"), K::kServerOwned);
  EXPECT_EQ(d::ClassifyResponseHeader("CONNECTION", " Close "), K::kConnectionClose);
  EXPECT_EQ(d::ClassifyResponseHeader("X-Connection", "close"), K::kPlain);
}

TEST(ServerResponse, FormatsTheDateOncePerSecond) {
  d::HttpDate date;
  // 1994-11-06T08:49:37Z, the example of RFC 9110.
  const std::chrono::system_clock::time_point t{std::chrono::seconds(784111777)};
  EXPECT_EQ(date.Line(t), "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n");
  EXPECT_EQ(date.Line(t + std::chrono::milliseconds(999)),
            "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n");
  EXPECT_EQ(date.Line(t + std::chrono::hours(24 * 60) + std::chrono::seconds(23)),
            "Date: Thu, 05 Jan 1995 08:50:00 GMT\r\n");
}

}  // namespace
