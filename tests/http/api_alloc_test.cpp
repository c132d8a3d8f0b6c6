// Proves that a redirect answered from the cache performs no heap allocation: this binary
// replaces the global operator new/delete with counting versions (counting only on the thread
// that asks for it, so background threads do not disturb the count).

#include <execinfo.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/memory/account_store.hpp"
#include "adapters/memory/click_store.hpp"
#include "adapters/memory/link_store.hpp"
#include "core/ip.hpp"
#include "http/api.hpp"
#include "http/server.hpp"
#include "http/worker_pool.hpp"
#include "ports/clock.hpp"
#include "service/account_service.hpp"
#include "service/click_queue.hpp"
#include "service/code_allocator.hpp"
#include "service/link_service.hpp"
#include "service/redirect_cache.hpp"

// ---- counting allocator -------------------------------------------------------------------

namespace {

thread_local bool t_counting = false;
thread_local bool t_in_hook = false;
std::atomic<std::uint64_t> g_counted{0};
std::atomic<int> g_traces_left{0};

// Prints where an allocation came from (backtrace_symbols_fd does not allocate).
void TraceAllocation(std::size_t size) {
  if (g_traces_left.fetch_sub(1, std::memory_order_relaxed) <= 0) return;
  char line[64];
  const int n = std::snprintf(line, sizeof line, "--- allocation of %zu bytes at:\n", size);
  if (n <= 0 || write(STDERR_FILENO, line, static_cast<std::size_t>(n)) < 0) return;
  void* frames[32];
  const int depth = backtrace(frames, 32);
  backtrace_symbols_fd(frames, depth, STDERR_FILENO);
}

void* CountedAlloc(std::size_t size, std::size_t align) {
  if (t_counting && !t_in_hook) {
    t_in_hook = true;
    g_counted.fetch_add(1, std::memory_order_relaxed);
    TraceAllocation(size);
    t_in_hook = false;
  }
  if (size == 0) size = 1;
  void* p = align <= alignof(std::max_align_t)
                ? std::malloc(size)
                : std::aligned_alloc(align, (size + align - 1) / align * align);
  return p;
}

// Counts allocations made by this thread while alive.
class CountAllocations {
 public:
  CountAllocations() {
    start_ = g_counted.load();
    t_counting = true;
  }
  ~CountAllocations() { t_counting = false; }
  std::uint64_t count() const { return g_counted.load() - start_; }

 private:
  std::uint64_t start_ = 0;
};

}  // namespace

void* operator new(std::size_t size) {
  if (void* p = CountedAlloc(size, 0)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  if (void* p = CountedAlloc(size, 0)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return CountedAlloc(size, 0);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return CountedAlloc(size, 0);
}
void* operator new(std::size_t size, std::align_val_t align) {
  if (void* p = CountedAlloc(size, static_cast<std::size_t>(align))) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t align) {
  if (void* p = CountedAlloc(size, static_cast<std::size_t>(align))) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return CountedAlloc(size, static_cast<std::size_t>(align));
}
void* operator new[](std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return CountedAlloc(size, static_cast<std::size_t>(align));
}
// GCC 12 flags free() in a replaced operator delete once it inlines it next to a new-expression;
// here new is malloc-based too, so the pairing is right.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

// ---- the test -----------------------------------------------------------------------------

namespace kurz::http {
namespace {

constexpr core::Micros kT0 = 1'795'000'000LL * core::kMicrosPerSecond;
constexpr std::string_view kTarget = "https://example.com/landing/page?utm_source=kurz";
constexpr std::string_view kUserAgent = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Firefox/133.0";
constexpr std::string_view kReferer = "https://news.example/item?id=42";
constexpr std::uint64_t kClickPrefix = 0x1122334455667788ULL;

class FixedClock final : public ports::Clock {
 public:
  core::Micros Now() const override { return now_.load(std::memory_order_relaxed); }
  std::atomic<core::Micros> now_{kT0};
};

// Keeps what Send was given in preallocated storage, so that recording allocates nothing.
class RecordingResponder final : public Responder {
 public:
  void Send(int status, std::span<const Header> headers, std::string_view body) override {
    ++sends_;
    status_ = status;
    used_ = 0;
    header_count_ = 0;
    for (const Header& h : headers) {
      if (header_count_ == headers_.size()) break;
      headers_[header_count_++] = {Copy(h.name), Copy(h.value)};
    }
    body_ = Copy(body);
  }
  DeferredResponder Defer() override {
    ++defers_;
    return target_ ? DeferredResponder(target_) : DeferredResponder();
  }

  std::optional<std::string_view> HeaderValue(std::string_view name) const {
    for (std::size_t i = 0; i < header_count_; ++i) {
      if (headers_[i].first == name) return headers_[i].second;
    }
    return std::nullopt;
  }
  void Reset() {
    sends_ = defers_ = 0;
    status_ = 0;
    header_count_ = 0;
    used_ = 0;
  }

  int status_ = 0;
  int sends_ = 0;
  int defers_ = 0;
  std::string_view body_;
  std::shared_ptr<detail::DeferredTarget> target_;  // for misses; null on the hit path

 private:
  std::string_view Copy(std::string_view s) {
    const std::size_t n = std::min(s.size(), buffer_.size() - used_);
    if (n > 0) std::memcpy(buffer_.data() + used_, s.data(), n);
    const std::string_view out(buffer_.data() + used_, n);
    used_ += n;
    return out;
  }
  std::array<char, 8192> buffer_{};
  std::size_t used_ = 0;
  std::array<std::pair<std::string_view, std::string_view>, 16> headers_{};
  std::size_t header_count_ = 0;
};

// Receives the answer of a deferred (cache miss) request from the worker thread.
class CapturedResponse final : public detail::DeferredTarget {
 public:
  void Complete(Response&& response) override {
    std::lock_guard lock(mu_);
    response_ = std::move(response);
    done_.notify_all();
  }
  std::optional<Response> Wait() {
    std::unique_lock lock(mu_);
    done_.wait_for(lock, std::chrono::seconds(10), [&] { return response_.has_value(); });
    return response_;
  }

 private:
  std::mutex mu_;
  std::condition_variable done_;
  std::optional<Response> response_;
};

std::optional<std::string> FindHeader(const Response& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return std::nullopt;
}

class ApiAllocationTest : public ::testing::Test {
 protected:
  ApiAllocationTest() {
    auto created = accounts_store_.CreateUser(MakeUser(), MakeKey());
    EXPECT_TRUE(created);
    who_ = service::Principal{created->first.id, created->second.id, core::kDefaultUserPermissions};
  }

  static core::User MakeUser() {
    core::User u;
    u.email = "alice@example.com";
    u.created_at = kT0;
    return u;
  }
  static core::ApiKey MakeKey() {
    core::ApiKey k;
    k.name = "default";
    k.key_hash = std::string(64, 'a');
    k.prefix = "aaaaaaaa";
    k.created_at = kT0;
    return k;
  }

  std::unique_ptr<Api> MakeApi(std::int64_t rate_limit_redirect = 0,
                               std::vector<core::Cidr> trusted_proxies = {}) {
    ApiDeps deps{links_, accounts_, clicks_store_, cache_, clicks_, clock_, workers_, {}, nullptr};
    ApiOptions options;
    options.base_url = "https://sho.rt";
    options.rate_limit_api = 100;
    options.rate_limit_redirect = rate_limit_redirect;
    options.click_id_prefix = kClickPrefix;
    options.trusted_proxies = std::move(trusted_proxies);
    return std::make_unique<Api>(std::move(deps), options, 1);
  }

  std::string CreateLink(core::RedirectType type = core::RedirectType::k301) {
    service::CreateLinkInput input;
    input.url = std::string(kTarget);
    input.redirect_type = type;
    auto created = links_.Create(who_, std::move(input));
    EXPECT_TRUE(created);
    return created ? created->link.code : std::string();
  }

  Request Get(std::string_view path) {
    Request req;
    req.method = Method::kGet;
    req.method_text = "GET";
    req.target = path;
    req.path = path;
    req.host = "sho.rt";
    req.user_agent = kUserAgent;
    req.referer = kReferer;
    req.accept = "text/html,application/xhtml+xml";
    req.accept_language = "de-DE,de;q=0.9";
    req.peer_ip = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 203, 0, 113, 7};
    req.loop_index = 0;
    return req;
  }

  FixedClock clock_;
  adapters::memory::MemoryAccountStore accounts_store_;
  adapters::memory::MemoryLinkStore links_store_{accounts_store_};
  adapters::memory::MemoryClickStore clicks_store_{links_store_};
  service::RedirectCache cache_{10'000, 2 * core::kMicrosPerSecond};
  service::CodeAllocator codes_{links_store_, core::CodeScrambler({11, 22, 33, 44}), 100};
  service::AccountService accounts_{accounts_store_, cache_, clock_};
  service::LinkService links_{links_store_, codes_, cache_, clock_, "sho.rt"};
  service::ClickQueue clicks_{4096};
  WorkerPool workers_{1, 64};
  service::Principal who_;
};

TEST_F(ApiAllocationTest, CountingAllocatorSeesAllocations) {
  // Guards the test itself: if the replacement were not in effect, zero would prove nothing.
  std::uint64_t seen = 0;
  {
    CountAllocations counter;
    auto p = std::make_unique<std::string>(100, 'x');
    std::vector<int> v(1000);
    seen = counter.count();
  }
  EXPECT_GE(seen, 2u);

  // Allocations inside the kurz libraries are seen as well (a miss resolves through the store).
  auto api = MakeApi();
  const std::string code = CreateLink();
  std::uint64_t in_library = 0;
  {
    CountAllocations counter;
    auto resolved = links_.Resolve(code);
    in_library = counter.count();
    EXPECT_TRUE(resolved);
  }
  EXPECT_GT(in_library, 0u);
}

TEST_F(ApiAllocationTest, CachedRedirectAllocatesNothing) {
  auto api = MakeApi();
  const std::string code = CreateLink();
  ASSERT_EQ(code.size(), 7u);
  auto resolved = links_.Resolve(code);  // warms the cache as a first miss would
  ASSERT_TRUE(resolved);
  ASSERT_EQ(resolved->state, core::LinkState::kActive);

  const std::string path = "/" + code;
  const Request req = Get(path);
  RecordingResponder res;

  api->Handle(req, res);  // warm-up: first-touch effects (lazy statics, buffers) happen here
  ASSERT_EQ(res.sends_, 1);
  ASSERT_EQ(res.defers_, 0) << "a cached redirect must be answered on the loop thread";
  ASSERT_EQ(res.status_, 301);

  constexpr int kCalls = 1000;
  const std::uint64_t pushed_before = clicks_.pushed();
  std::uint64_t allocations = 0;
  int wrong = 0;
  g_traces_left = 5;
  {
    CountAllocations counter;
    for (int i = 0; i < kCalls; ++i) {
      res.Reset();
      api->Handle(req, res);
      wrong += res.status_ != 301 || res.sends_ != 1 || res.defers_ != 0;
    }
    allocations = counter.count();
  }
  g_traces_left = 0;

  EXPECT_EQ(allocations, 0u) << "the cached redirect path allocated (backtraces on stderr)";
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(res.status_, 301);
  EXPECT_EQ(res.HeaderValue("Location"), kTarget);
  EXPECT_EQ(res.HeaderValue("Cache-Control"), "public, max-age=3600");
  ASSERT_TRUE(res.HeaderValue("X-Request-Id"));
  EXPECT_FALSE(res.HeaderValue("X-Request-Id")->empty());
  EXPECT_TRUE(res.body_.empty());

  // Exactly one click event per answered redirect, none dropped.
  EXPECT_EQ(clicks_.pushed() - pushed_before, static_cast<std::uint64_t>(kCalls));
  EXPECT_EQ(clicks_.dropped(), 0u);
  std::vector<core::ClickEvent> events(2 * kCalls);
  ASSERT_EQ(clicks_.PopBatch(events), static_cast<std::size_t>(kCalls + 1));
  const core::ClickEvent& e = events[kCalls];
  EXPECT_EQ(e.code.view(), code);
  EXPECT_EQ(e.user_agent.view(), kUserAgent);
  EXPECT_EQ(e.referrer.view(), kReferer);
  EXPECT_EQ(e.accept_language.view(), "de-DE,de;q=0.9");
  EXPECT_EQ(e.ip, req.peer_ip);
  EXPECT_FALSE(e.head);
  EXPECT_EQ(e.id_hi, kClickPrefix);
  EXPECT_EQ(e.at, kT0);
}

TEST_F(ApiAllocationTest, CachedTemporaryRedirectAndHeadAllocateNothing) {
  auto api = MakeApi();
  const std::string code = CreateLink(core::RedirectType::k307);
  ASSERT_TRUE(links_.Resolve(code));
  const std::string path = "/" + code;
  Request req = Get(path);
  req.method = Method::kHead;
  req.method_text = "HEAD";
  RecordingResponder res;
  api->Handle(req, res);
  ASSERT_EQ(res.status_, 307);

  std::uint64_t allocations = 0;
  g_traces_left = 5;
  {
    CountAllocations counter;
    for (int i = 0; i < 1000; ++i) api->Handle(req, res);
    allocations = counter.count();
  }
  g_traces_left = 0;
  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(res.status_, 307);
  EXPECT_EQ(res.HeaderValue("Cache-Control"), "private, max-age=0");
  EXPECT_EQ(res.HeaderValue("Location"), kTarget);
  // HEAD is recorded as such: the analytics count it as a bot.
  std::vector<core::ClickEvent> events(1);
  ASSERT_EQ(clicks_.PopBatch(events), 1u);
  EXPECT_TRUE(events[0].head);
}

TEST_F(ApiAllocationTest, CachedRedirectWithPerIpRateLimitAllocatesNothing) {
  auto api = MakeApi(/*rate_limit_redirect=*/1'000'000);
  const std::string code = CreateLink();
  ASSERT_TRUE(links_.Resolve(code));
  const std::string path = "/" + code;
  const Request req = Get(path);
  RecordingResponder res;
  api->Handle(req, res);  // the client's limiter entry is created here
  ASSERT_EQ(res.status_, 301);

  std::uint64_t allocations = 0;
  g_traces_left = 5;
  {
    CountAllocations counter;
    for (int i = 0; i < 1000; ++i) api->Handle(req, res);
    allocations = counter.count();
  }
  g_traces_left = 0;
  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(res.status_, 301);
}

TEST_F(ApiAllocationTest, CachedRedirectBehindTrustedProxiesAllocatesNothing) {
  // The peer (203.0.113.7) is a trusted proxy: the client comes from X-Forwarded-For, read on
  // every redirect, with the per-IP limit on as well.
  auto trusted = core::ParseCidrList("203.0.113.0/24, 2001:db8::/32");
  ASSERT_TRUE(trusted);
  auto api = MakeApi(/*rate_limit_redirect=*/1'000'000, *trusted);
  const std::string code = CreateLink();
  ASSERT_TRUE(links_.Resolve(code));
  const std::string path = "/" + code;
  Request req = Get(path);
  req.forwarded_for = "192.0.2.1, 198.51.100.23, 2001:db8::5 ,203.0.113.9";
  RecordingResponder res;
  api->Handle(req, res);
  ASSERT_EQ(res.status_, 301);

  constexpr int kCalls = 1000;
  std::uint64_t allocations = 0;
  g_traces_left = 5;
  {
    CountAllocations counter;
    for (int i = 0; i < kCalls; ++i) api->Handle(req, res);
    allocations = counter.count();
  }
  g_traces_left = 0;
  EXPECT_EQ(allocations, 0u) << "the client IP lookup allocated (backtraces on stderr)";
  EXPECT_EQ(res.status_, 301);

  std::vector<core::ClickEvent> events(2 * kCalls);
  ASSERT_EQ(clicks_.PopBatch(events), static_cast<std::size_t>(kCalls + 1));
  const core::IpAddress client{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 23};
  EXPECT_EQ(events[0].ip, client);
  EXPECT_EQ(events[kCalls].ip, client);
}

TEST_F(ApiAllocationTest, PerIpRedirectLimitCountsTheForwardedClient) {
  auto trusted = core::ParseCidrList("203.0.113.0/24");
  ASSERT_TRUE(trusted);
  auto api = MakeApi(/*rate_limit_redirect=*/1, *trusted);
  const std::string code = CreateLink();
  ASSERT_TRUE(links_.Resolve(code));
  const std::string path = "/" + code;
  RecordingResponder res;

  // Two clients behind the same proxy each get their own allowance.
  Request first = Get(path);
  first.forwarded_for = "198.51.100.1";
  Request second = Get(path);
  second.forwarded_for = "198.51.100.2";
  api->Handle(first, res);
  EXPECT_EQ(res.status_, 301);
  api->Handle(second, res);
  EXPECT_EQ(res.status_, 301);
  api->Handle(first, res);
  EXPECT_EQ(res.status_, 429) << "the first client's second redirect within the second";

  // A client that is not behind a trusted proxy cannot pick its address to escape the limit.
  Request direct = Get(path);
  direct.peer_ip = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 77};
  direct.forwarded_for = "198.51.100.3";
  api->Handle(direct, res);
  EXPECT_EQ(res.status_, 301);
  direct.forwarded_for = "198.51.100.4";
  api->Handle(direct, res);
  EXPECT_EQ(res.status_, 429);
  EXPECT_EQ(clicks_.pushed(), 3u);
}

TEST_F(ApiAllocationTest, CachedNotFoundAllocatesNothing) {
  // Scanners probing random codes hit the negative cache; that path must be as cheap.
  auto api = MakeApi();
  auto resolved = links_.Resolve("nothing1");
  ASSERT_TRUE(resolved);
  ASSERT_EQ(resolved->state, core::LinkState::kNotFound);
  const Request req = Get("/nothing1");
  RecordingResponder res;
  api->Handle(req, res);
  ASSERT_EQ(res.status_, 404);
  ASSERT_EQ(res.defers_, 0);

  std::uint64_t allocations = 0;
  g_traces_left = 5;
  {
    CountAllocations counter;
    for (int i = 0; i < 1000; ++i) api->Handle(req, res);
    allocations = counter.count();
  }
  g_traces_left = 0;
  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(res.status_, 404);
  EXPECT_EQ(res.HeaderValue("Cache-Control"), "no-store");
  EXPECT_EQ(clicks_.pushed(), 0u) << "a 404 is not a click";
}

TEST_F(ApiAllocationTest, CachedLinkPastItsExpiryAnswersGoneOnTheLoopWithoutAllocating) {
  // The L1 keeps the link with its expiry; the decision turns it into 410 at that instant.
  auto api = MakeApi();
  constexpr core::Micros kExpires = kT0 + 60'000'000;
  service::CreateLinkInput input;
  input.url = std::string(kTarget);
  input.expires_at = kExpires;
  auto created = links_.Create(who_, std::move(input));
  ASSERT_TRUE(created);
  ASSERT_TRUE(links_.Resolve(created->link.code));  // cached while live
  const std::string path = "/" + created->link.code;
  const Request req = Get(path);
  RecordingResponder res;
  api->Handle(req, res);
  ASSERT_EQ(res.status_, 301);
  ASSERT_EQ(clicks_.pushed(), 1u);

  clock_.now_ = kExpires;
  api->Handle(req, res);
  ASSERT_EQ(res.status_, 410) << "expires_at == now is gone";
  ASSERT_EQ(res.defers_, 0) << "answered from the cache, on the loop";
  std::uint64_t allocations = 0;
  g_traces_left = 5;
  {
    CountAllocations counter;
    for (int i = 0; i < 1000; ++i) api->Handle(req, res);
    allocations = counter.count();
  }
  g_traces_left = 0;
  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(res.status_, 410);
  EXPECT_EQ(res.HeaderValue("Cache-Control"), "no-store");
  EXPECT_EQ(res.HeaderValue("Content-Type"), "text/html; charset=utf-8");
  EXPECT_FALSE(res.HeaderValue("Location")) << "an expired link must not redirect";
  EXPECT_EQ(clicks_.pushed(), 1u) << "a 410 is not a click";
}

TEST_F(ApiAllocationTest, MissGoesToTheWorkerAndWarmsTheCache) {
  auto api = MakeApi();
  const std::string code = CreateLink();
  const std::string path = "/" + code;
  const Request req = Get(path);

  RecordingResponder res;
  auto captured = std::make_shared<CapturedResponse>();
  res.target_ = captured;
  api->Handle(req, res);
  EXPECT_EQ(res.defers_, 1) << "a miss must leave the loop thread";
  EXPECT_EQ(res.sends_, 0);
  auto response = captured->Wait();
  ASSERT_TRUE(response) << "no answer from the worker";
  EXPECT_EQ(response->status, 301);
  EXPECT_EQ(FindHeader(*response, "Location"), kTarget);
  EXPECT_EQ(FindHeader(*response, "Cache-Control"), "public, max-age=3600");
  EXPECT_TRUE(FindHeader(*response, "X-Request-Id"));
  EXPECT_EQ(clicks_.pushed(), 1u) << "the miss is a click too";

  // The next request is answered from the cache, on the loop thread.
  RecordingResponder hit;
  api->Handle(req, hit);
  EXPECT_EQ(hit.defers_, 0);
  EXPECT_EQ(hit.status_, 301);
  EXPECT_EQ(clicks_.pushed(), 2u);
  workers_.Stop();  // nothing of the Api may run after it is destroyed
}

}  // namespace
}  // namespace kurz::http
