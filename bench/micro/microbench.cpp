// Microbenchmarks of the pieces on the redirect and create paths.

#include <benchmark/benchmark.h>
#include <malloc.h>

#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/base62.hpp"
#include "core/code_scrambler.hpp"
#include "core/redirect.hpp"
#include "core/url.hpp"
#include "service/click_queue.hpp"
#include "service/redirect_cache.hpp"

namespace {

using namespace kurz;

void BM_Base62Encode7(benchmark::State& state) {
  char out[7];
  std::uint64_t v = 123456789;
  for (auto _ : state) {
    core::EncodeBase62Fixed7(v, out);
    benchmark::DoNotOptimize(out);
    v = (v + 7919) % core::kCodeSpace;
  }
}
BENCHMARK(BM_Base62Encode7);

void BM_Scramble(benchmark::State& state) {
  core::CodeScrambler scrambler({1, 2, 3, 4});
  std::uint64_t v = 0;
  for (auto _ : state) benchmark::DoNotOptimize(scrambler.Scramble(v++));
}
BENCHMARK(BM_Scramble);

void BM_ValidateUrl(benchmark::State& state) {
  const std::string url = "https://www.example.com/some/long/path/to/a/page?utm_source=news&id=42";
  for (auto _ : state) benchmark::DoNotOptimize(core::ValidateUrl(url, "sho.rt"));
}
BENCHMARK(BM_ValidateUrl);

void BM_ValidateIdnUrl(benchmark::State& state) {
  const std::string url = "https://bücher.example/wiki/Straße?q=größe";
  for (auto _ : state) benchmark::DoNotOptimize(core::ValidateUrl(url, "sho.rt"));
}
BENCHMARK(BM_ValidateIdnUrl);

// L1 hit: random codes out of state.range(0) cached links.
void BM_CacheHit(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  service::RedirectCache cache(n, 2'000'000);
  std::vector<std::string> codes;
  codes.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    codes.push_back(core::EncodeBase62(i * 7919 % core::kCodeSpace));
    core::ResolvedLink v;
    v.state = core::LinkState::kActive;
    v.location = "https://example.com/page/" + std::to_string(i);
    cache.Fill(codes.back(), v, cache.Generation(codes.back()), 0);
  }
  std::mt19937_64 rng(42);
  std::size_t found = 0;
  for (auto _ : state) {
    const std::string& code = codes[rng() % n];
    cache.Lookup(code, 1, [&](const core::ResolvedLinkView& hit) { found += hit.location.size(); });
  }
  benchmark::DoNotOptimize(found);
}
BENCHMARK(BM_CacheHit)->Arg(10'000)->Arg(1'000'000);

// L1 hit and its answer (status, Location, Cache-Control), as the redirect hit path does it.
void BM_CacheHitAnswer(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  service::RedirectCache cache(n, 2'000'000);
  std::vector<std::string> codes;
  codes.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    codes.push_back(core::EncodeBase62(i * 7919 % core::kCodeSpace));
    core::ResolvedLink v;
    v.state = core::LinkState::kActive;
    v.status = i % 4 == 0 ? core::RedirectType::k302 : core::RedirectType::k301;
    v.location = "https://example.com/page/" + std::to_string(i);
    v.expires_at = i % 8 == 0 ? core::Micros{5} : core::Micros{0};
    cache.Fill(codes.back(), v, cache.Generation(codes.back()), 0);
  }
  const core::RedirectRequest request{false, "text/html,application/xhtml+xml", {}, false};
  std::mt19937_64 rng(42);
  std::size_t sent = 0;
  for (auto _ : state) {
    const std::string& code = codes[rng() % n];
    cache.Lookup(code, 1, [&](const core::ResolvedLinkView& link) {
      const core::RedirectAnswer answer = core::AnswerRedirect(link, 10, request);
      sent += static_cast<std::size_t>(answer.status) + answer.location.size() +
              answer.CacheControl().size() + answer.body.size();
    });
  }
  benchmark::DoNotOptimize(sent);
}
BENCHMARK(BM_CacheHitAnswer)->Arg(10'000)->Arg(1'000'000);

// Heap bytes the L1 spends per cached link beyond the URL's own bytes (goal: at most 150).
void BM_CacheMemoryPerEntry(benchmark::State& state) {
  constexpr std::size_t kEntries = 200'000;
  const std::string url_base = "https://example.com/some/page/";  // + 10 digits = 40 bytes
  for (auto _ : state) {
    const std::size_t before = mallinfo2().uordblks;
    auto cache = std::make_unique<service::RedirectCache>(kEntries, 2'000'000);
    std::size_t url_bytes = 0;
    char digits[16];
    for (std::size_t i = 0; i < kEntries; ++i) {
      std::snprintf(digits, sizeof digits, "%010zu", i);
      core::ResolvedLink v;
      v.state = core::LinkState::kActive;
      v.location = url_base + digits;
      url_bytes += v.location.size();
      const std::string code = core::EncodeBase62(i * 7919 % core::kCodeSpace);
      cache->Fill(code, v, cache->Generation(code), 0);
    }
    const std::size_t after = mallinfo2().uordblks;
    state.counters["bytes_per_entry_beyond_url"] =
        (static_cast<double>(after - before) - static_cast<double>(url_bytes)) / kEntries;
    state.counters["entries"] = static_cast<double>(cache->size());
  }
}
BENCHMARK(BM_CacheMemoryPerEntry)->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_ClickEnqueue(benchmark::State& state) {
  service::ClickQueue queue(1 << 16);
  std::vector<core::ClickEvent> sink(1024);
  std::size_t pushed = 0;
  for (auto _ : state) {
    queue.TryPush([&](core::ClickEvent& e) {
      e.at = 1;
      e.code.Assign("aZ3kP9q");
      e.user_agent.Assign("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0");
      e.referrer.Assign("https://news.ycombinator.com/");
      e.accept_language.Assign("en-US,en;q=0.5");
    });
    if (++pushed % 1024 == 0) {
      state.PauseTiming();
      queue.PopBatch(sink);
      state.ResumeTiming();
    }
  }
}
BENCHMARK(BM_ClickEnqueue);

}  // namespace
