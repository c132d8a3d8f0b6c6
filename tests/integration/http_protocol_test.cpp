// HTTP/1.1 framing through raw sockets: malformed requests get a JSON 4xx and the server keeps
// serving everyone else.

#include <string>

#include "integration/kurz_test.hpp"
#include "support/http_client.hpp"

namespace kurz::testing {
namespace {

using nlohmann::json;

class HttpProtocolTest : public KurzTest {
 protected:
  // The server still answers a well-formed request on a new connection.
  void ExpectStillServing() {
    Reply reply = Visit("/healthz");
    EXPECT_EQ(reply.status, 200) << "server stopped serving: " << reply.Describe();
  }

  // A malformed request: `status` with a JSON error body, and the server goes on.
  void ExpectRejected(std::string_view bytes, int status, std::string_view what) {
    Reply reply = CallRaw(port(), bytes);
    EXPECT_EQ(reply.status, status) << what << ": " << reply.Describe();
    EXPECT_TRUE(reply.Header("content-type").starts_with("application/json"))
        << what << ": " << reply.Describe();
    EXPECT_FALSE(reply.ErrorCode().empty()) << what << ": " << reply.Describe();
    ExpectStillServing();
  }

  std::string AuthHeader() const { return "Authorization: Bearer " + std::string(kBootstrapKey); }
};

TEST_F(HttpProtocolTest, GarbageRequestLineIs400) {
  ExpectRejected("HELLO\r\n\r\n", 400, "one word");
  ExpectRejected("GET\r\n\r\n", 400, "method only");
  ExpectRejected("GET /healthz HTTP/1.1 extra\r\nHost: x\r\n\r\n", 400, "four words");
  ExpectRejected("GET /healthz FTP/1.1\r\nHost: x\r\n\r\n", 400, "bad protocol");
  static constexpr char kTlsHello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n";
  ExpectRejected(std::string(kTlsHello, sizeof(kTlsHello) - 1), 400, "TLS client hello");
}

TEST_F(HttpProtocolTest, MalformedHeaderLineIs400) {
  ExpectRejected("GET /healthz HTTP/1.1\r\nHost x\r\n\r\n", 400, "header without colon");
  ExpectRejected("GET /healthz HTTP/1.1\r\nHo st: x\r\n\r\n", 400, "space in header name");
}

TEST_F(HttpProtocolTest, HeadOver16KiBIs431) {
  std::string request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ";
  request += std::string(std::size_t{17} * 1024, 'p');
  request += "\r\n\r\n";
  ExpectRejected(request, 431, "17 KiB header");

  std::string many = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (int i = 0; i < 400; ++i)
    many += "X-H" + std::to_string(i) + ": " + std::string(40, 'v') + "\r\n";
  many += "\r\n";
  ExpectRejected(many, 431, "many headers adding up to more than 16 KiB");
}

TEST_F(HttpProtocolTest, BodyOver64KiBIs413) {
  const std::string body = R"({"url":"https://example.com/","metadata":{"k":")" +
                           std::string(std::size_t{65} * 1024, 'b') + "\"}}";
  std::string request =
      "POST /v1/urls HTTP/1.1\r\nHost: 127.0.0.1\r\n" + AuthHeader() +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n\r\n" + body;
  Reply reply = CallRaw(port(), request);
  EXPECT_EQ(reply.status, 413) << reply.Describe();
  EXPECT_EQ(reply.ErrorCode(), "payload_too_large") << reply.Describe();
  ExpectStillServing();
}

TEST_F(HttpProtocolTest, ChunkedBodyOver64KiBIs413) {
  std::string request = "POST /v1/urls HTTP/1.1\r\nHost: 127.0.0.1\r\n" + AuthHeader() +
                        "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string chunk(std::size_t{16} * 1024, 'c');
  for (int i = 0; i < 5; ++i) request += "4000\r\n" + chunk + "\r\n";
  request += "0\r\n\r\n";
  Reply reply = CallRaw(port(), request);
  EXPECT_EQ(reply.status, 413) << reply.Describe();
  EXPECT_EQ(reply.ErrorCode(), "payload_too_large") << reply.Describe();
  ExpectStillServing();
}

TEST_F(HttpProtocolTest, ContentLengthWithTransferEncodingIs400) {
  const std::string body = R"({"url":"https://example.com/smuggle"})";
  ExpectRejected("POST /v1/urls HTTP/1.1\r\nHost: 127.0.0.1\r\n" + AuthHeader() +
                     "\r\nContent-Type: application/json\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\nTransfer-Encoding: chunked\r\n\r\n" + body,
                 400, "Content-Length and Transfer-Encoding");
}

TEST_F(HttpProtocolTest, ConflictingContentLengthsAre400) {
  const std::string body = R"({"url":"https://example.com/smuggle"})";
  ExpectRejected("POST /v1/urls HTTP/1.1\r\nHost: 127.0.0.1\r\n" + AuthHeader() +
                     "\r\nContent-Type: application/json\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\nContent-Length: 5\r\n\r\n" + body,
                 400, "two Content-Lengths");
  ExpectRejected("POST /v1/urls HTTP/1.1\r\nHost: 127.0.0.1\r\n" + AuthHeader() +
                     "\r\nContent-Type: application/json\r\nContent-Length: -5\r\n\r\n",
                 400, "negative Content-Length");
  ExpectRejected("POST /v1/urls HTTP/1.1\r\nHost: 127.0.0.1\r\n" + AuthHeader() +
                     "\r\nContent-Type: application/json\r\nContent-Length: 1x\r\n\r\nx",
                 400, "non-numeric Content-Length");
}

TEST_F(HttpProtocolTest, ChunkedBodyIsAccepted) {
  const std::string body = R"({"url":"https://example.com/chunked"})";
  const std::string first = body.substr(0, 10);
  const std::string rest = body.substr(10);
  auto hex = [](std::size_t n) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "%zx", n);
    return std::string(buf);
  };
  Reply reply = CallRaw(port(), "POST /v1/urls HTTP/1.1\r\nHost: 127.0.0.1\r\n" + AuthHeader() +
                                    "\r\nContent-Type: application/json\r\n"
                                    "Transfer-Encoding: chunked\r\n\r\n" +
                                    hex(first.size()) + "\r\n" + first + "\r\n" + hex(rest.size()) +
                                    "\r\n" + rest + "\r\n0\r\n\r\n");
  EXPECT_EQ(reply.status, 201) << reply.Describe();
  EXPECT_EQ(reply.Json()["url"], "https://example.com/chunked");
}

TEST_F(HttpProtocolTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  const std::string url = UniqueUrl();
  const std::string code = CreateLink({{"url", url}})["code"];
  const Fd fd = Connect(static_cast<std::uint16_t>(port()));
  ASSERT_TRUE(fd);
  for (const std::string& path :
       {std::string("/healthz"), "/" + code, std::string("/NoSuch55"), std::string("/healthz")}) {
    ASSERT_TRUE(SendRaw(fd.get(), "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    const auto response = ReadResponse(fd.get());
    ASSERT_TRUE(response.has_value()) << "no answer to " << path << " on a kept-alive connection";
    EXPECT_EQ(response->status, path == "/healthz" ? 200 : path == "/NoSuch55" ? 404 : 301) << path;
  }
}

TEST_F(HttpProtocolTest, PipelinedRequestsAreAnsweredInOrder) {
  const std::string url = UniqueUrl();
  const std::string code = CreateLink({{"url", url}, {"redirect_type", 307}})["code"];
  const Fd fd = Connect(static_cast<std::uint16_t>(port()));
  ASSERT_TRUE(fd);
  std::string burst;
  for (const char* path : {"/healthz", "/NoSuch55", "/healthz"}) {
    burst += std::string("GET ") + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  }
  burst += "GET /" + code + " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: last\r\n\r\n";
  ASSERT_TRUE(SendRaw(fd.get(), burst));
  for (int expected : {200, 404, 200, 307}) {
    const auto response = ReadResponse(fd.get());
    ASSERT_TRUE(response.has_value()) << "missing pipelined answer " << expected;
    EXPECT_EQ(response->status, expected);
    if (expected == 307) {
      EXPECT_EQ(response->Header("location"), url);
      EXPECT_EQ(response->Header("x-request-id"), "last");
    }
  }
}

TEST_F(HttpProtocolTest, Http10RequestIsAnswered) {
  Reply reply = CallRaw(port(), "GET /healthz HTTP/1.0\r\n\r\n");
  EXPECT_EQ(reply.status, 200) << reply.Describe();
}

TEST_F(HttpProtocolTest, AbandonedConnectionsDoNotHurt) {
  for (const char* partial : {"GET /heal", "POST /v1/urls HTTP/1.1\r\nContent-Length: 100\r\n\r\n{",
                              "GET /healthz HTTP/1.1\r\nHost: x\r\n"}) {
    const Fd fd = Connect(static_cast<std::uint16_t>(port()));
    ASSERT_TRUE(fd);
    SendRaw(fd.get(), partial);
  }
  // And one that stays open, idle, while others are served.
  const Fd idle = Connect(static_cast<std::uint16_t>(port()));
  ASSERT_TRUE(idle);
  SendRaw(idle.get(), "GET /healthz HTTP/1.1\r\n");
  for (int i = 0; i < 3; ++i) ExpectStillServing();
}

TEST_F(HttpProtocolTest, BodyOnAGetIsIgnoredOrRejectedCleanly) {
  Reply reply =
      CallRaw(port(), "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd");
  EXPECT_TRUE(reply.status == 200 || reply.status == 400) << reply.Describe();
  ExpectStillServing();
}

}  // namespace
}  // namespace kurz::testing
