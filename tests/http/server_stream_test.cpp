// Streamed responses (Response::stream) through the engine over raw sockets: chunked framing,
// backpressure against a slow reader, a client that leaves, a producer that fails, HEAD and
// HTTP/1.0.

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/server.hpp"
#include "support/http_client.hpp"

namespace {

namespace kh = kurz::http;
namespace kt = kurz::testing;
using namespace std::chrono_literals;

int QueryInt(std::string_view query, std::string_view key, int fallback) {
  const std::string needle = std::string(key) + "=";
  const auto at = query.find(needle);
  if (at == std::string_view::npos) return fallback;
  int value = fallback;
  const std::string_view digits = query.substr(at + needle.size());
  std::from_chars(digits.data(), digits.data() + digits.size(), value);
  return value;
}

// One worker thread, standing in for the application's worker pool.
class Runner {
 public:
  Runner() : thread_([this] { Loop(); }) {}
  ~Runner() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  bool Submit(std::function<void()> task) {
    {
      std::lock_guard lock(mutex_);
      if (stop_) return false;
      tasks_.push_back(std::move(task));
    }
    wake_.notify_one();
    return true;
  }

 private:
  void Loop() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stop_ || !tasks_.empty(); });
        if (tasks_.empty()) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  bool stop_ = false;
  std::thread thread_;
};

// Piece i of a stream: `size` bytes, starting with its number.
std::string Piece(int i, int size) {
  std::string out = std::to_string(i) + ":";
  out.resize(static_cast<std::size_t>(size), static_cast<char>('a' + i % 26));
  return out;
}

std::string Expected(int n, int size) {
  std::string out;
  for (int i = 0; i < n; ++i) out += Piece(i, size);
  return out;
}

// /stream?n=N&size=S streams N pieces of S bytes (n=0: without end); &fail=K fails at piece K;
// /refuse streams with a runner that takes no task; /fixed answers "fixed" at once.
class StreamHandler : public kh::Handler {
 public:
  void Handle(const kh::Request& r, kh::Responder& responder) override {
    if (r.path == "/fixed") {
      return responder.Send(200, {}, "fixed");
    }
    const int n = QueryInt(r.query, "n", 10);
    const int size = QueryInt(r.query, "size", 100);
    const int fail = QueryInt(r.query, "fail", -1);
    const bool refuse = r.path == "/refuse";
    auto deferred = responder.Defer();
    kh::Response response;
    response.headers.emplace_back("Content-Type", "text/plain");
    response.stream = std::make_shared<kh::BodyStream>();
    // The sentinel lives as long as the producer: `live` tells whether the server let it go.
    auto sentinel = std::shared_ptr<void>(nullptr, [this](void*) { live_.fetch_sub(1); });
    live_.fetch_add(1);
    response.stream->produce = [this, n, size, fail, next = 0,
                                sentinel](std::string& chunk) mutable -> kurz::core::Result<bool> {
      if (next == fail) return kurz::core::Fail(kurz::core::ErrorCode::kUnavailable, "db gone");
      chunk += Piece(next, size);
      ++next;
      produced_.fetch_add(1);
      return n == 0 || next < n;
    };
    if (refuse) {
      response.stream->run = [](const std::function<void()>&) { return false; };
    } else {
      response.stream->run = [this](std::function<void()> task) {
        return runner_.Submit(std::move(task));
      };
    }
    deferred.Send(std::move(response));
  }

  void HandleProtocolError(int status, std::string_view, std::string_view,
                           kh::Responder& responder) override {
    responder.Send(status, {}, "");
  }

  int produced() const { return produced_.load(); }
  int live() const { return live_.load(); }

 private:
  std::atomic<int> produced_{0};
  std::atomic<int> live_{0};
  Runner runner_;  // declared last: joined before the counters go
};

class ServerStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kh::ServerOptions options;
    options.port = 0;
    options.idle_timeout = 5s;
    server_ = std::make_unique<kh::Server>(options, handler_);
    const auto port = server_->Listen();
    ASSERT_TRUE(port.has_value()) << port.error().detail;
    port_ = *port;
    thread_ = std::thread([this] { server_->Run(); });
  }
  void TearDown() override {
    server_->Stop(1s);
    thread_.join();
  }

  // Reads until the peer closes (or `timeout`); everything received.
  static std::string ReadToClose(int fd) {
    std::string out;
    char buf[65536];
    for (;;) {
      const auto got = ::recv(fd, buf, sizeof buf, 0);
      if (got <= 0) return out;
      out.append(buf, static_cast<std::size_t>(got));
    }
  }

  template <class Pred>
  static bool WaitFor(Pred pred, std::chrono::milliseconds timeout = 5s) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (pred()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return pred();
  }

  StreamHandler handler_;
  std::unique_ptr<kh::Server> server_;
  std::thread thread_;
  std::uint16_t port_ = 0;
};

TEST_F(ServerStreamTest, SendsManyPiecesChunkedAndKeepsTheConnection) {
  kt::Fd fd = kt::Connect(port_);
  ASSERT_TRUE(fd);
  ASSERT_TRUE(kt::SendRaw(fd.get(), kt::FormatRequest("GET", "/stream?n=300&size=1000")));
  const auto response = kt::ReadResponse(fd.get());
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("transfer-encoding"), "chunked");
  EXPECT_FALSE(response->Has("content-length"));
  EXPECT_EQ(response->Header("content-type"), "text/plain");
  EXPECT_EQ(response->body, Expected(300, 1000));
  // The connection goes on with the next request.
  ASSERT_TRUE(kt::SendRaw(fd.get(), kt::FormatRequest("GET", "/fixed")));
  const auto next = kt::ReadResponse(fd.get());
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "fixed");
  EXPECT_EQ(handler_.produced(), 300);
  EXPECT_TRUE(WaitFor([&] { return handler_.live() == 0; }));
  EXPECT_EQ(server_->Stats().streams_total, 1u);
  EXPECT_EQ(server_->Stats().streams_abandoned, 0u);
}

TEST_F(ServerStreamTest, AnswersAPipelinedRequestAfterTheStreamInOrder) {
  kt::Fd fd = kt::Connect(port_);
  ASSERT_TRUE(kt::SendRaw(fd.get(), kt::FormatRequest("GET", "/stream?n=50&size=3000") +
                                        kt::FormatRequest("GET", "/fixed") +
                                        kt::FormatRequest("GET", "/stream?n=3&size=10")));
  const auto first = kt::ReadResponse(fd.get());
  const auto second = kt::ReadResponse(fd.get());
  const auto third = kt::ReadResponse(fd.get());
  ASSERT_TRUE(first && second && third);
  EXPECT_EQ(first->body, Expected(50, 3000));
  EXPECT_EQ(second->body, "fixed");
  EXPECT_EQ(third->body, Expected(3, 10));
}

TEST_F(ServerStreamTest, ASlowReaderHoldsTheProducerBack) {
  kt::Fd fd = kt::Connect(port_);
  const int small = 16 * 1024;
  ASSERT_EQ(::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
  // Without end, 64 KiB a piece: without backpressure this would fill memory.
  ASSERT_TRUE(kt::SendRaw(fd.get(), kt::FormatRequest("GET", "/stream?n=0&size=65536")));
  std::this_thread::sleep_for(500ms);
  const int after_wait = handler_.produced();
  std::this_thread::sleep_for(500ms);
  const int later = handler_.produced();
  // The socket buffers take a few pieces; then the producer waits for the reader.
  EXPECT_GT(after_wait, 0);
  EXPECT_LE(later, 64) << "pieces produced for a reader that reads nothing";
  EXPECT_EQ(later, after_wait) << "the producer ran on while nothing was read";
  // Reading lets it go on.
  std::string got;
  char buf[65536];
  while (got.size() < std::size_t{4} << 20) {
    const auto n = ::recv(fd.get(), buf, sizeof buf, 0);
    ASSERT_GT(n, 0);
    got.append(buf, static_cast<std::size_t>(n));
  }
  EXPECT_GT(handler_.produced(), later);
}

TEST_F(ServerStreamTest, AClientThatLeavesStopsTheProducer) {
  {
    kt::Fd fd = kt::Connect(port_);
    ASSERT_TRUE(kt::SendRaw(fd.get(), kt::FormatRequest("GET", "/stream?n=0&size=65536")));
    char buf[65536];
    std::size_t got = 0;
    while (got < std::size_t{300} * 1024) {
      const auto n = ::recv(fd.get(), buf, sizeof buf, 0);
      ASSERT_GT(n, 0);
      got += static_cast<std::size_t>(n);
    }
  }  // closed with unread data: the next writes fail
  EXPECT_TRUE(WaitFor([&] { return handler_.live() == 0; })) << "the producer was not released";
  const int stopped_at = handler_.produced();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(handler_.produced(), stopped_at);
  EXPECT_EQ(server_->Stats().streams_abandoned, 1u);
  EXPECT_EQ(server_->Stats().stream_errors, 0u);
}

TEST_F(ServerStreamTest, AProducerErrorClosesWithoutTheLastChunk) {
  kt::Fd fd = kt::Connect(port_);
  ASSERT_TRUE(kt::SendRaw(fd.get(), kt::FormatRequest("GET", "/stream?n=10&size=100&fail=3")));
  const std::string raw = ReadToClose(fd.get());
  EXPECT_TRUE(raw.starts_with("HTTP/1.1 200 OK\r\n")) << raw;
  EXPECT_NE(raw.find(Piece(2, 100)), std::string::npos);  // what was produced arrived
  EXPECT_FALSE(raw.ends_with("0\r\n\r\n")) << "an incomplete body must not look complete";
  EXPECT_EQ(server_->Stats().stream_errors, 1u);
  EXPECT_TRUE(WaitFor([&] { return handler_.live() == 0; }));
}

TEST_F(ServerStreamTest, ARefusedTaskClosesTheConnection) {
  kt::Fd fd = kt::Connect(port_);
  ASSERT_TRUE(kt::SendRaw(fd.get(), kt::FormatRequest("GET", "/refuse")));
  const std::string raw = ReadToClose(fd.get());
  EXPECT_TRUE(raw.starts_with("HTTP/1.1 200 OK\r\n"));
  EXPECT_FALSE(raw.ends_with("0\r\n\r\n"));
  EXPECT_EQ(server_->Stats().stream_errors, 1u);
  EXPECT_EQ(handler_.produced(), 0);
}

TEST_F(ServerStreamTest, HeadSendsTheHeadOnlyAndNeverProduces) {
  kt::Fd fd = kt::Connect(port_);
  ASSERT_TRUE(kt::SendRaw(fd.get(), kt::FormatRequest("HEAD", "/stream?n=5")));
  const auto response = kt::ReadResponse(fd.get(), /*head_request=*/true);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("transfer-encoding"), "chunked");
  EXPECT_EQ(response->body, "");
  ASSERT_TRUE(kt::SendRaw(fd.get(), kt::FormatRequest("GET", "/fixed")));
  const auto next = kt::ReadResponse(fd.get());
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "fixed");  // nothing stray came between
  EXPECT_EQ(handler_.produced(), 0);
  EXPECT_TRUE(WaitFor([&] { return handler_.live() == 0; }));
}

TEST_F(ServerStreamTest, Http10GetsTheBodyUntilTheConnectionCloses) {
  kt::Fd fd = kt::Connect(port_);
  ASSERT_TRUE(kt::SendRaw(fd.get(),
                          "GET /stream?n=40&size=2000 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  const std::string raw = ReadToClose(fd.get());
  const auto head_end = raw.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  const std::string head = raw.substr(0, head_end);
  EXPECT_EQ(head.find("Transfer-Encoding"), std::string::npos) << head;
  EXPECT_EQ(head.find("Content-Length"), std::string::npos) << head;
  EXPECT_NE(head.find("Connection: close"), std::string::npos) << head;
  EXPECT_EQ(raw.substr(head_end + 4), Expected(40, 2000));
}

}  // namespace
