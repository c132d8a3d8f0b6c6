// The HTTP engine against raw sockets: keep-alive, pipelining, chunked bodies, limits, timeouts
// and shutdown. The handler here is a stand-in for the application's router.

#include "http/server.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <charconv>
#include <cstdio>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.hpp"

namespace {

namespace kh = kurz::http;
namespace kt = kurz::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

int QueryInt(std::string_view query, std::string_view key, int fallback) {
  const auto at = query.find(key);
  if (at == std::string_view::npos || query.substr(at + key.size(), 1) != "=") return fallback;
  int value = fallback;
  const std::string_view digits = query.substr(at + key.size() + 1);
  std::from_chars(digits.data(), digits.data() + digits.size(), value);
  return value;
}

std::string PeerText(const std::array<std::uint8_t, 16>& ip) {
  std::string text;
  for (std::size_t i = 0; i < ip.size(); i += 2) {
    char part[8];
    std::snprintf(part, sizeof part, "%s%02x%02x", i == 0 ? "" : ":", ip[i], ip[i + 1]);
    text += part;
  }
  return text;
}

// Answers like a tiny application: /echo (default) reflects the request, /fixed a constant body,
// /redirect a 301, /defer?ms=N from a worker thread after N ms, /defer-drop drops its deferred
// responder, /throw throws, /none answers nothing, /close asks for "Connection: close",
// /big?kb=N a body of N KiB.
class TestHandler : public kh::Handler {
 public:
  ~TestHandler() override { JoinWorkers(); }

  void Handle(const kh::Request& r, kh::Responder& responder) override {
    handled_.fetch_add(1);
    const std::string_view path = r.path;
    if (path == "/fixed") {
      static constexpr kh::Header kText[] = {{"Content-Type", "text/plain"}};
      return responder.Send(200, kText, "0123456789");
    }
    if (path == "/redirect") {
      const kh::Header headers[] = {{"Location", "https://example.com/target"}};
      return responder.Send(301, headers, "");
    }
    if (path == "/defer" || path == "/defer-drop") {
      const int ms = QueryInt(r.query, "ms", 50);
      const bool drop = path == "/defer-drop";
      std::string text = "deferred " + std::string(r.query);
      Spawn([ms, drop, text = std::move(text), responder = responder.Defer()]() mutable {
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        if (drop) return;  // the responder's destructor answers 500
        kh::Response response;
        response.headers.emplace_back("Content-Type", "text/plain");
        response.body = std::move(text);
        responder.Send(std::move(response));
      });
      return;
    }
    if (path == "/throw") throw std::runtime_error("handler failure");
    if (path == "/none") return;
    if (path == "/close") {
      static constexpr kh::Header kClose[] = {{"Connection", "close"}};
      return responder.Send(200, kClose, "bye");
    }
    if (path == "/big") {
      const std::string body(static_cast<std::size_t>(QueryInt(r.query, "kb", 1)) * 1024, 'x');
      return responder.Send(200, {}, body);
    }
    const std::string loop = std::to_string(r.loop_index);
    const std::string peer = PeerText(r.peer_ip);
    const kh::Header headers[] = {
        {"X-Host", r.host},
        {"X-Content-Type", r.content_type},
        {"X-Authorization", r.authorization},
        {"X-Api-Key-Seen", r.api_key},
        {"X-Request-Id", r.request_id},
        {"X-Accept", r.accept},
        {"X-User-Agent", r.user_agent},
        {"X-Referer", r.referer},
        {"X-Accept-Language", r.accept_language},
        {"X-Forwarded-For-Seen", r.forwarded_for},
        {"X-Keep-Alive", r.keep_alive ? "1" : "0"},
        {"X-Loop", loop},
        {"X-Peer", peer},
        {"X-Target", r.target},
        {"X-Query", r.query},
    };
    std::string body;
    body.append(r.method_text).append(" ").append(r.path).append("\n").append(r.body);
    responder.Send(200, headers, body);
  }

  void HandleProtocolError(int status, std::string_view code, std::string_view message,
                           kh::Responder& responder) override {
    static constexpr kh::Header kJson[] = {{"Content-Type", "application/json"}};
    std::string body = R"({"error":{"code":")";
    body.append(code).append(R"(","message":")").append(message).append(R"("}})");
    responder.Send(status, kJson, body);
  }

  int handled() const { return handled_.load(); }

  void JoinWorkers() {
    std::vector<std::thread> workers;
    {
      std::lock_guard lock(mutex_);
      workers.swap(workers_);
    }
    for (auto& worker : workers) worker.join();
  }

 private:
  template <class F>
  void Spawn(F&& work) {
    std::lock_guard lock(mutex_);
    workers_.emplace_back(std::forward<F>(work));
  }

  std::atomic<int> handled_{0};
  std::mutex mutex_;
  std::vector<std::thread> workers_;
};

class ServerTest : public ::testing::Test {
 protected:
  static kh::ServerOptions Options() {
    kh::ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.header_timeout = 2s;
    options.body_timeout = 2s;
    options.idle_timeout = 5s;
    return options;
  }

  void Start(kh::ServerOptions options = Options()) {
    server_ = std::make_unique<kh::Server>(options, handler_);
    const auto port = server_->Listen();
    ASSERT_TRUE(port.has_value()) << port.error().detail;
    port_ = *port;
    run_returned_ = false;
    thread_ = std::thread([this] {
      server_->Run();
      run_returned_ = true;
    });
  }

  void StopServer(std::chrono::milliseconds grace = 1s) {
    if (!server_) return;
    server_->Stop(grace);
    thread_.join();
    handler_.JoinWorkers();
    server_.reset();
  }

  void TearDown() override { StopServer(); }

  kt::Fd Connect() {
    kt::Fd fd = kt::Connect(port_);
    EXPECT_TRUE(fd) << "connect failed";
    return fd;
  }

  // Sends `request` on a new connection and returns the answer.
  std::optional<kt::HttpResponse> Exchange(std::string_view request, kt::Fd* keep = nullptr) {
    kt::Fd fd = Connect();
    if (!kt::SendRaw(fd.get(), request)) return std::nullopt;
    auto response = kt::ReadResponse(fd.get());
    if (keep != nullptr) *keep = std::move(fd);
    return response;
  }

  static std::string ErrorCode(const kt::HttpResponse& response) {
    const auto start = response.body.find(R"("code":")");
    if (start == std::string::npos) return {};
    const auto end = response.body.find('"', start + 8);
    return response.body.substr(start + 8, end - start - 8);
  }

  TestHandler handler_;
  std::unique_ptr<kh::Server> server_;
  std::thread thread_;
  std::atomic<bool> run_returned_{false};
  std::uint16_t port_ = 0;
};

TEST_F(ServerTest, ServesManyRequestsOnOneKeepAliveConnection) {
  Start();
  kt::Fd fd = Connect();
  for (int i = 0; i < 200; ++i) {
    const std::string target = "/echo/" + std::to_string(i) + "?n=" + std::to_string(i);
    ASSERT_TRUE(kt::SendRaw(fd.get(), kt::FormatRequest("GET", target)));
    const auto response = kt::ReadResponse(fd.get());
    ASSERT_TRUE(response) << "request " << i;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "GET /echo/" + std::to_string(i) + "\n");
    EXPECT_EQ(response->Header("x-query"), "n=" + std::to_string(i));
    EXPECT_EQ(response->Header("x-keep-alive"), "1");
    EXPECT_FALSE(response->Has("connection"));
    EXPECT_TRUE(response->Has("date"));
  }
  const auto stats = server_->Stats();
  EXPECT_EQ(stats.connections_total, 1u);
  EXPECT_EQ(stats.connections_open, 1u);
}

TEST_F(ServerTest, AnswersPipelinedRequestsInOrderAroundADeferredOne) {
  Start();
  kt::Fd fd = Connect();
  ASSERT_TRUE(kt::SendRaw(fd.get(), kt::FormatRequest("GET", "/echo/1") +
                                        kt::FormatRequest("GET", "/defer?ms=100") +
                                        kt::FormatRequest("POST", "/echo/3", {}, "three")));
  const auto first = kt::ReadResponse(fd.get());
  const auto second = kt::ReadResponse(fd.get());
  const auto third = kt::ReadResponse(fd.get());
  ASSERT_TRUE(first && second && third);
  EXPECT_EQ(first->body, "GET /echo/1\n");
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(second->body, "deferred ms=100");
  EXPECT_EQ(third->body, "POST /echo/3\nthree");
  // The connection is still usable afterwards.
  ASSERT_TRUE(kt::SendRaw(fd.get(), kt::FormatRequest("GET", "/fixed")));
  const auto fourth = kt::ReadResponse(fd.get());
  ASSERT_TRUE(fourth);
  EXPECT_EQ(fourth->body, "0123456789");
}

TEST_F(ServerTest, AnswersManyPipelinedRequestsBeyondOneOutputBatch) {
  Start();
  kt::Fd fd = Connect();
  std::string batch;
  for (int i = 0; i < 100; ++i) batch += kt::FormatRequest("GET", "/big?kb=2");
  batch += kt::FormatRequest("GET", "/fixed");
  ASSERT_TRUE(kt::SendRaw(fd.get(), batch));
  for (int i = 0; i < 100; ++i) {
    const auto response = kt::ReadResponse(fd.get());
    ASSERT_TRUE(response) << i;
    EXPECT_EQ(response->body.size(), 2048u);
  }
  const auto last = kt::ReadResponse(fd.get());
  ASSERT_TRUE(last);
  EXPECT_EQ(last->body, "0123456789");
}

TEST_F(ServerTest, ReassemblesAChunkedBody) {
  Start();
  const auto response = Exchange(
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "POST /echo\nhello world");
}

TEST_F(ServerTest, ReadsABodyThatArrivesInPieces) {
  Start();
  kt::Fd fd = Connect();
  const std::string request = kt::FormatRequest("PUT", "/echo", {}, std::string(3000, 'b'));
  for (std::size_t at = 0; at < request.size(); at += 700) {
    ASSERT_TRUE(kt::SendRaw(fd.get(), std::string_view(request).substr(at, 700)));
    std::this_thread::sleep_for(5ms);
  }
  const auto response = kt::ReadResponse(fd.get());
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "PUT /echo\n" + std::string(3000, 'b'));
}

TEST_F(ServerTest, AnswersExpectContinueBeforeTheBody) {
  Start();
  kt::Fd fd = Connect();
  ASSERT_TRUE(kt::SendRaw(fd.get(),
                          "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                          "Content-Length: 5\r\n\r\n"));
  char interim[64] = {};
  const std::string_view expected = "HTTP/1.1 100 Continue\r\n\r\n";
  ASSERT_EQ(::recv(fd.get(), interim, expected.size(), MSG_WAITALL),
            static_cast<ssize_t>(expected.size()));
  EXPECT_EQ(std::string_view(interim, expected.size()), expected);
  ASSERT_TRUE(kt::SendRaw(fd.get(), "hello"));
  const auto response = kt::ReadResponse(fd.get());
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "POST /echo\nhello");
}

TEST_F(ServerTest, HeadGetsTheLengthButNoBody) {
  Start();
  kt::Fd fd = Connect();
  ASSERT_TRUE(kt::SendRaw(
      fd.get(), kt::FormatRequest("HEAD", "/fixed") + kt::FormatRequest("GET", "/fixed")));
  const auto head = kt::ReadResponse(fd.get(), /*head_request=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Header("content-length"), "10");
  EXPECT_EQ(head->body, "");
  const auto get = kt::ReadResponse(fd.get());  // would be garbled if HEAD had sent a body
  ASSERT_TRUE(get);
  EXPECT_EQ(get->body, "0123456789");
}

TEST_F(ServerTest, PassesTheRequestFieldsItKeeps) {
  Start();
  const auto response = Exchange(
      "GET /echo/x?a=1&b=2 HTTP/1.1\r\n"
      "Host: kurz.example\r\n"
      "Content-Type: text/plain\r\n"
      "Content-Type: application/json\r\n"
      "Authorization: Bearer t0k3n\r\n"
      "x-api-key:   key-1  \r\n"
      "X-Request-Id: req-9\r\n"
      "Accept: */*\r\n"
      "User-Agent: test-agent/1.0\r\n"
      "Referer: https://ref.example/\r\n"
      "Accept-Language: de-CH\r\n"
      "X-Forwarded-For: 203.0.113.7\r\n"
      "X-Unrelated: 1\r\n"
      "x-forwarded-for: 10.0.0.1, 10.0.0.2\r\n"
      "\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "GET /echo/x\n");
  EXPECT_EQ(response->Header("x-target"), "/echo/x?a=1&b=2");
  EXPECT_EQ(response->Header("x-query"), "a=1&b=2");
  EXPECT_EQ(response->Header("x-host"), "kurz.example");
  EXPECT_EQ(response->Header("x-content-type"), "text/plain");  // the first one wins
  EXPECT_EQ(response->Header("x-authorization"), "Bearer t0k3n");
  EXPECT_EQ(response->Header("x-api-key-seen"), "key-1");
  EXPECT_EQ(response->Header("x-request-id"), "req-9");
  EXPECT_EQ(response->Header("x-accept"), "*/*");
  EXPECT_EQ(response->Header("x-user-agent"), "test-agent/1.0");
  EXPECT_EQ(response->Header("x-referer"), "https://ref.example/");
  EXPECT_EQ(response->Header("x-accept-language"), "de-CH");
  EXPECT_EQ(response->Header("x-forwarded-for-seen"), "203.0.113.7, 10.0.0.1, 10.0.0.2");
  EXPECT_EQ(response->Header("x-loop"), "0");
  EXPECT_EQ(response->Header("x-peer"), "0000:0000:0000:0000:0000:ffff:7f00:0001");
}

TEST_F(ServerTest, SplitsAbsoluteFormTargets) {
  Start();
  const auto response = Exchange("GET http://kurz.example/abc?x=1 HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "GET /abc\n");
  EXPECT_EQ(response->Header("x-query"), "x=1");
}

TEST_F(ServerTest, RedirectsCarryLocationAndEmptyBody) {
  Start();
  const auto response = kt::Request(port_, "GET", "/redirect");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 301);
  EXPECT_EQ(response->reason, "Moved Permanently");
  EXPECT_EQ(response->Header("location"), "https://example.com/target");
  EXPECT_EQ(response->Header("content-length"), "0");
}

TEST_F(ServerTest, AnswersGarbageWith400AndCloses) {
  Start();
  static constexpr char kTlsHello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n";
  for (const std::string_view garbage :
       {std::string_view("HELLO\r\n\r\n"), std::string_view("GET\r\n\r\n"),
        std::string_view(kTlsHello, sizeof kTlsHello - 1),
        std::string_view("GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")}) {
    kt::Fd fd;
    const auto response = Exchange(garbage, &fd);
    ASSERT_TRUE(response) << garbage;
    EXPECT_EQ(response->status, 400) << garbage;
    EXPECT_EQ(ErrorCode(*response), "invalid_argument");
    EXPECT_EQ(response->Header("connection"), "close");
    EXPECT_TRUE(kt::WaitForClose(fd.get(), 2s));
  }
  EXPECT_GE(server_->Stats().protocol_errors, 4u);
}

TEST_F(ServerTest, RejectsAHeadOverTheLimitWith431) {
  Start();
  kt::Fd fd;
  const auto response =
      Exchange(kt::FormatRequest("GET", "/echo", {{"X-Big", std::string(17 * 1024, 'a')}}), &fd);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
  EXPECT_EQ(ErrorCode(*response), "invalid_argument");
  EXPECT_NE(response->body.find("request head larger than 16384 bytes"), std::string::npos);
  EXPECT_TRUE(kt::WaitForClose(fd.get(), 2s));
}

TEST_F(ServerTest, RejectsAHeadOverTheLimitSentInSmallPieces) {
  Start();
  kt::Fd fd = Connect();
  ASSERT_TRUE(kt::SendRaw(fd.get(), "GET /echo HTTP/1.1\r\nHost: x\r\n"));
  std::optional<kt::HttpResponse> response;
  for (int i = 0; i < 400 && kt::SendRaw(fd.get(), "X-Field-" + std::to_string(i) + ": " +
                                                       std::string(80, 'v') + "\r\n");
       ++i) {
  }
  response = kt::ReadResponse(fd.get());
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
}

TEST_F(ServerTest, AcceptsAHeadOfExactlyTheLimit) {
  Start();
  std::string request = kt::FormatRequest("GET", "/fixed", {{"X-Pad", ""}});
  const std::size_t pad = 16 * 1024 - request.size();
  request = kt::FormatRequest("GET", "/fixed", {{"X-Pad", std::string(pad, 'p')}});
  ASSERT_EQ(request.size(), 16u * 1024u);
  const auto response = Exchange(request);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  // One byte more is too much.
  request = kt::FormatRequest("GET", "/fixed", {{"X-Pad", std::string(pad + 1, 'p')}});
  const auto over = Exchange(request);
  ASSERT_TRUE(over);
  EXPECT_EQ(over->status, 431);
}

TEST_F(ServerTest, RejectsABodyOverTheLimitWith413) {
  Start();
  {
    kt::Fd fd;
    const auto response = Exchange(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\n\r\n" + std::string(1000, 'x'),
        &fd);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 413);
    EXPECT_EQ(ErrorCode(*response), "payload_too_large");
    EXPECT_TRUE(kt::WaitForClose(fd.get(), 2s));
  }
  {
    std::string chunked = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 9; ++i) chunked += "2000\r\n" + std::string(0x2000, 'c') + "\r\n";
    chunked += "0\r\n\r\n";
    kt::Fd fd;
    const auto response = Exchange(chunked, &fd);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 413);
    EXPECT_EQ(ErrorCode(*response), "payload_too_large");
  }
  {  // exactly at the limit is fine
    const auto response =
        Exchange(kt::FormatRequest("POST", "/fixed", {}, std::string(64 * 1024, 'x')));
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
  }
}

TEST_F(ServerTest, RejectsContentLengthWithTransferEncoding) {
  Start();
  for (const char* request :
       {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
        "0\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
        "0\r\n\r\n"}) {
    const auto response = Exchange(request);
    ASSERT_TRUE(response) << request;
    EXPECT_EQ(response->status, 400) << request;
    EXPECT_EQ(response->Header("connection"), "close");
  }
}

TEST_F(ServerTest, RejectsConflictingContentLengths) {
  Start();
  const auto conflicting = Exchange(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!");
  ASSERT_TRUE(conflicting);
  EXPECT_EQ(conflicting->status, 400);
  const auto listed =
      Exchange("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhello!");
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->status, 400);
  const auto repeated_equal = Exchange(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello");
  ASSERT_TRUE(repeated_equal);
  EXPECT_EQ(repeated_equal->status, 200);
}

TEST_F(ServerTest, RejectsTransferCodingsOtherThanChunked) {
  Start();
  const auto gzip_only =
      Exchange("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nhello");
  ASSERT_TRUE(gzip_only);
  EXPECT_EQ(gzip_only->status, 400);
  const auto gzip_chunked = Exchange(
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
  ASSERT_TRUE(gzip_chunked);
  EXPECT_EQ(gzip_chunked->status, 501);
}

TEST_F(ServerTest, RequiresExactlyOneHostInHttp11) {
  Start();
  const auto missing = Exchange("GET /echo HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 400);
  const auto twice = Exchange("GET /echo HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
  ASSERT_TRUE(twice);
  EXPECT_EQ(twice->status, 400);
  const auto http10 = Exchange("GET /echo HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(http10);
  EXPECT_EQ(http10->status, 200);
}

TEST_F(ServerTest, AnswersUnsupportedVersionsWith505) {
  Start();
  for (const char* request : {"GET / HTTP/2.0\r\nHost: x\r\n\r\n", "GET / HTTP/1.2\r\n\r\n",
                              "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"}) {
    const auto response = Exchange(request);
    ASSERT_TRUE(response) << request;
    EXPECT_EQ(response->status, 505) << request;
  }
}

TEST_F(ServerTest, Http10ClosesUnlessKeepAliveWasAsked) {
  Start();
  {
    kt::Fd fd;
    const auto response = Exchange("GET /fixed HTTP/1.0\r\n\r\n", &fd);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->version, "HTTP/1.1");
    EXPECT_EQ(response->body, "0123456789");
    EXPECT_EQ(response->Header("connection"), "close");
    EXPECT_TRUE(kt::WaitForClose(fd.get(), 2s));
  }
  {
    kt::Fd fd;
    const auto response = Exchange("GET /fixed HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &fd);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->Header("connection"), "keep-alive");
    ASSERT_TRUE(kt::SendRaw(fd.get(), "GET /fixed HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    const auto second = kt::ReadResponse(fd.get());
    ASSERT_TRUE(second);
    EXPECT_EQ(second->body, "0123456789");
  }
}

TEST_F(ServerTest, HonoursConnectionClose) {
  Start();
  {
    kt::Fd fd;
    const auto response = Exchange(kt::FormatRequest("GET", "/echo", {{"Connection", "close"}}) +
                                       kt::FormatRequest("GET", "/never-answered"),
                                   &fd);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->Header("connection"), "close");
    EXPECT_EQ(response->Header("x-keep-alive"), "0");
    EXPECT_TRUE(kt::WaitForClose(fd.get(), 2s));
  }
  {  // and a handler may ask for it
    kt::Fd fd;
    const auto response = Exchange(kt::FormatRequest("GET", "/close"), &fd);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->body, "bye");
    EXPECT_EQ(response->Header("connection"), "close");
    EXPECT_TRUE(kt::WaitForClose(fd.get(), 2s));
  }
}

TEST_F(ServerTest, AnswersWhenTheHandlerFailsToAnswer) {
  Start();
  kt::Fd fd = Connect();
  for (const char* path : {"/throw", "/none", "/defer-drop?ms=10"}) {
    ASSERT_TRUE(kt::SendRaw(fd.get(), kt::FormatRequest("GET", path)));
    const auto response = kt::ReadResponse(fd.get());
    ASSERT_TRUE(response) << path;
    EXPECT_EQ(response->status, 500) << path;
    EXPECT_EQ(response->body, R"({"error":{"code":"internal","message":"no response"}})");
  }
}

TEST_F(ServerTest, TimesOutASlowHeadWith408) {
  auto options = Options();
  options.header_timeout = 300ms;
  Start(options);
  {  // half a head, then nothing
    kt::Fd fd = Connect();
    const auto start = Clock::now();
    ASSERT_TRUE(kt::SendRaw(fd.get(), "GET /echo HTTP/1.1\r\nHost: x\r\n"));
    const auto response = kt::ReadResponse(fd.get());
    const auto elapsed = Clock::now() - start;
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 408);
    EXPECT_EQ(ErrorCode(*response), "timeout");
    EXPECT_GE(elapsed, 250ms);
    EXPECT_LT(elapsed, 1000ms);
    EXPECT_TRUE(kt::WaitForClose(fd.get(), 2s));
  }
  {  // trickling one byte at a time does not extend the deadline
    kt::Fd fd = Connect();
    const auto start = Clock::now();
    const std::string head = "GET /echo HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(200, 's');
    for (char c : head) {
      if (!kt::SendRaw(fd.get(), std::string_view(&c, 1))) break;
      pollfd p{fd.get(), POLLIN, 0};
      if (::poll(&p, 1, 20) > 0) break;  // the answer is there
    }
    const auto response = kt::ReadResponse(fd.get());
    const auto elapsed = Clock::now() - start;
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 408);
    EXPECT_LT(elapsed, 1000ms);
  }
}

TEST_F(ServerTest, TimesOutASlowBodyWith408) {
  auto options = Options();
  options.body_timeout = 300ms;
  Start(options);
  kt::Fd fd = Connect();
  const auto start = Clock::now();
  ASSERT_TRUE(
      kt::SendRaw(fd.get(), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"));
  const auto response = kt::ReadResponse(fd.get());
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 408);
  EXPECT_NE(response->body.find("body"), std::string::npos);
  EXPECT_LT(Clock::now() - start, 1000ms);
}

TEST_F(ServerTest, ClosesASilentNewConnectionWithoutAnswer) {
  auto options = Options();
  options.header_timeout = 300ms;
  Start(options);
  kt::Fd fd = Connect();
  const auto start = Clock::now();
  char byte;
  EXPECT_EQ(::recv(fd.get(), &byte, 1, 0), 0);  // EOF, no 408
  EXPECT_LT(Clock::now() - start, 1000ms);
}

TEST_F(ServerTest, ClosesIdleKeepAliveConnections) {
  auto options = Options();
  options.idle_timeout = 300ms;
  options.header_timeout = 300ms;
  Start(options);
  kt::Fd fd;
  ASSERT_TRUE(Exchange(kt::FormatRequest("GET", "/fixed"), &fd));
  const auto start = Clock::now();
  char byte;
  EXPECT_EQ(::recv(fd.get(), &byte, 1, 0), 0);  // closed silently
  const auto elapsed = Clock::now() - start;
  EXPECT_GE(elapsed, 250ms);
  EXPECT_LT(elapsed, 1000ms);
  // Activity keeps a connection open past one idle period.
  kt::Fd busy = Connect();
  for (int i = 0; i < 5; ++i) {
    std::this_thread::sleep_for(150ms);
    ASSERT_TRUE(kt::SendRaw(busy.get(), kt::FormatRequest("GET", "/fixed")));
    ASSERT_TRUE(kt::ReadResponse(busy.get())) << i;
  }
}

TEST_F(ServerTest, RejectsConnectionsBeyondTheMaximum) {
  auto options = Options();
  options.max_connections = 2;
  Start(options);
  kt::Fd first;
  kt::Fd second;
  ASSERT_TRUE(Exchange(kt::FormatRequest("GET", "/fixed"), &first));
  ASSERT_TRUE(Exchange(kt::FormatRequest("GET", "/fixed"), &second));
  kt::Fd third = Connect();
  EXPECT_TRUE(kt::WaitForClose(third.get(), 2s));
  EXPECT_EQ(server_->Stats().connections_rejected, 1u);
  EXPECT_EQ(server_->Stats().connections_open, 2u);
  // A slot frees up when a connection goes.
  first.Reset();
  for (int i = 0; i < 100 && server_->Stats().connections_open != 1; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  const auto response = Exchange(kt::FormatRequest("GET", "/fixed"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
}

TEST_F(ServerTest, StopDeliversADeferredAnswerAndClosesIdleConnections) {
  Start();
  kt::Fd idle;
  ASSERT_TRUE(Exchange(kt::FormatRequest("GET", "/fixed"), &idle));
  kt::Fd busy = Connect();
  ASSERT_TRUE(kt::SendRaw(busy.get(), kt::FormatRequest("GET", "/defer?ms=300")));
  for (int i = 0; i < 200 && handler_.handled() < 2; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(handler_.handled(), 2);

  server_->Stop(3s);
  EXPECT_TRUE(kt::WaitForClose(idle.get(), 1s));
  const auto response = kt::ReadResponse(busy.get());
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "deferred ms=300");
  EXPECT_EQ(response->Header("connection"), "close");
  EXPECT_TRUE(kt::WaitForClose(busy.get(), 1s));
  for (int i = 0; i < 200 && !run_returned_; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_TRUE(run_returned_);
  // New connections are refused once stopped.
  EXPECT_FALSE(kt::Request(port_, "GET", "/fixed"));
}

TEST_F(ServerTest, StopGivesUpAfterTheGracePeriod) {
  Start();
  kt::Fd busy = Connect();
  ASSERT_TRUE(kt::SendRaw(busy.get(), kt::FormatRequest("GET", "/defer?ms=800")));
  for (int i = 0; i < 200 && handler_.handled() < 1; ++i) std::this_thread::sleep_for(5ms);
  const auto start = Clock::now();
  server_->Stop(200ms);
  for (int i = 0; i < 400 && !run_returned_; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_TRUE(run_returned_);
  EXPECT_LT(Clock::now() - start, 1000ms);
  EXPECT_TRUE(kt::WaitForClose(busy.get(), 1s));
  // The worker still answers later, into a stopped loop: dropped without harm (TearDown joins).
}

TEST_F(ServerTest, StopBeforeRunReturnsAtOnce) {
  kh::ServerOptions options = Options();
  server_ = std::make_unique<kh::Server>(options, handler_);
  ASSERT_TRUE(server_->Listen());
  server_->Stop();
  const auto start = Clock::now();
  server_->Run();
  EXPECT_LT(Clock::now() - start, 500ms);
  server_.reset();
}

TEST_F(ServerTest, SpreadsConnectionsOverSeveralLoops) {
  auto options = Options();
  options.threads = 2;
  Start(options);
  std::set<std::string> loops;
  for (int c = 0; c < 24; ++c) {
    kt::Fd fd = Connect();
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(kt::SendRaw(fd.get(), kt::FormatRequest("GET", "/echo")));
      const auto response = kt::ReadResponse(fd.get());
      ASSERT_TRUE(response);
      EXPECT_EQ(response->status, 200);
      loops.insert(response->Header("x-loop"));
    }
  }
  EXPECT_EQ(loops, (std::set<std::string>{"0", "1"}));
  EXPECT_EQ(server_->Stats().connections_total, 24u);
}

TEST_F(ServerTest, ListenFailsOnAPortInUse) {
  auto first = Options();
  first.threads = 2;  // SO_REUSEPORT must not let a second server in
  Start(first);
  TestHandler other_handler;
  kh::ServerOptions options = Options();
  options.port = port_;
  options.threads = 2;
  kh::Server other(options, other_handler);
  const auto result = other.Listen();
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, kurz::core::ErrorCode::kUnavailable);
}

TEST_F(ServerTest, ListensOnIpv6) {
  auto options = Options();
  options.host = "::1";
  server_ = std::make_unique<kh::Server>(options, handler_);
  const auto port = server_->Listen();
  if (!port) GTEST_SKIP() << "no IPv6 loopback: " << port.error().detail;
  port_ = *port;
  thread_ = std::thread([this] { server_->Run(); });
  const auto response = kt::Request(port_, "GET", "/echo", {}, {}, "::1");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->Header("x-peer"), "0000:0000:0000:0000:0000:0000:0000:0001");
}

}  // namespace
