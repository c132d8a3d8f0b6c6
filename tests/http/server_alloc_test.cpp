// Proves the hot path allocation-free: global operator new is replaced in this binary and counts
// the calls made on the server's loop thread while it serves keep-alive requests.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <thread>

#include "http/server.hpp"
#include "support/http_client.hpp"

namespace {

std::atomic<std::uint64_t> g_counted_allocations{0};
thread_local bool t_count_allocations = false;

void* Allocate(std::size_t size) {
  if (t_count_allocations) g_counted_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}

void* AllocateAligned(std::size_t size, std::align_val_t align) {
  if (t_count_allocations) g_counted_allocations.fetch_add(1, std::memory_order_relaxed);
  const auto alignment = static_cast<std::size_t>(align);
  return std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
}

}  // namespace

void* operator new(std::size_t size) {
  if (void* p = Allocate(size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  if (void* p = Allocate(size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return Allocate(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return Allocate(size); }
void* operator new(std::size_t size, std::align_val_t align) {
  if (void* p = AllocateAligned(size, align)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t align) {
  if (void* p = AllocateAligned(size, align)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace {

namespace kh = kurz::http;
namespace kt = kurz::testing;

// Answers like the redirect hot path: a 301 with a Location, synchronously, from fixed data.
class RedirectHandler : public kh::Handler {
 public:
  void Handle(const kh::Request& request, kh::Responder& responder) override {
    const kh::Header headers[] = {{"Location", "https://example.com/some/long/target?x=1"},
                                  {"Cache-Control", "private, max-age=90"},
                                  {"X-Request-Id", request.request_id}};
    responder.Send(301, headers, request.body);
  }
  void HandleProtocolError(int status, std::string_view, std::string_view,
                           kh::Responder& responder) override {
    responder.Send(status, {}, "");
  }
};

class ServerAllocationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kh::ServerOptions options;
    options.port = 0;
    server_ = std::make_unique<kh::Server>(options, handler_);
    const auto port = server_->Listen();
    ASSERT_TRUE(port.has_value());
    port_ = *port;
    thread_ = std::thread([this] {
      t_count_allocations = true;  // count only what the loop thread allocates
      server_->Run();
    });
    fd_ = kt::Connect(port_);
    ASSERT_TRUE(fd_);
  }

  void TearDown() override {
    fd_.Reset();
    server_->Stop();
    thread_.join();
  }

  // Sends `batch` requests in one write and reads the answers. The client thread's own
  // allocations are not counted.
  void Serve(const std::string& request, int batch) {
    std::string bytes;
    for (int i = 0; i < batch; ++i) bytes += request;
    ASSERT_TRUE(kt::SendRaw(fd_.get(), bytes));
    for (int i = 0; i < batch; ++i) {
      const auto response = kt::ReadResponse(fd_.get());
      ASSERT_TRUE(response);
      ASSERT_EQ(response->status, 301);
    }
  }

  // Allocations on the loop thread per 1,000 requests, after a warm-up.
  std::uint64_t AllocationsFor(const std::string& request, int batch) {
    for (int i = 0; i < 200 / batch; ++i) Serve(request, batch);
    const std::uint64_t before = g_counted_allocations.load();
    for (int i = 0; i < 1000 / batch; ++i) Serve(request, batch);
    return g_counted_allocations.load() - before;
  }

  RedirectHandler handler_;
  std::unique_ptr<kh::Server> server_;
  std::thread thread_;
  std::uint16_t port_ = 0;
  kt::Fd fd_;
};

TEST_F(ServerAllocationTest, KeepAliveRequestsAllocateNothing) {
  const std::string request =
      "GET /abc1234 HTTP/1.1\r\nHost: kurz.example\r\nUser-Agent: bench/1.0\r\n"
      "Accept: */*\r\nX-Request-Id: r-1\r\n\r\n";
  EXPECT_EQ(AllocationsFor(request, 1), 0u);
}

TEST_F(ServerAllocationTest, PipelinedRequestsAllocateNothing) {
  const std::string request = "GET /abc1234 HTTP/1.1\r\nHost: kurz.example\r\n\r\n";
  EXPECT_EQ(AllocationsFor(request, 10), 0u);
}

TEST_F(ServerAllocationTest, SmallBodiesAllocateNothing) {
  const std::string with_length =
      "POST /abc HTTP/1.1\r\nHost: kurz.example\r\nContent-Length: 11\r\n\r\nhello world";
  EXPECT_EQ(AllocationsFor(with_length, 1), 0u);
  const std::string chunked =
      "POST /abc HTTP/1.1\r\nHost: kurz.example\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  EXPECT_EQ(AllocationsFor(chunked, 1), 0u);
}

TEST_F(ServerAllocationTest, CounterSeesLoopThreadAllocations) {
  // Guards the test itself: a new connection does allocate (its shared state), so a zero above
  // is not an artefact of counting nothing.
  const std::uint64_t before = g_counted_allocations.load();
  kt::Fd other = kt::Connect(port_);
  ASSERT_TRUE(kt::SendRaw(other.get(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(kt::ReadResponse(other.get()));
  EXPECT_GT(g_counted_allocations.load() - before, 0u);
}

}  // namespace
