#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "adapters/contract/helpers.hpp"
#include "ports/shared_cache.hpp"

// The SharedCache contract. Instantiate with a backend type that has Cache() and OtherCache():
// two instances' views of one shared cache (they may be the same object).
namespace kurz::testing {

template <class Backend>
class SharedCacheContract : public ::testing::Test {
 protected:
  ports::SharedCache& cache() { return backend_.Cache(); }

  static ports::CachedRedirect Redirect(std::string location, std::int64_t owner = 7) {
    ports::CachedRedirect value;
    value.state = core::LinkState::kActive;
    value.status = core::RedirectType::k302;
    value.location = std::move(location);
    value.owner_id = owner;
    return value;
  }

  // Polls until the code is gone, for at most `limit`; true when it went.
  bool WaitUntilMiss(std::string_view code, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      auto got = cache().Get(code);
      EXPECT_TRUE(got) << Describe(got);
      if (got && !got->has_value()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  Backend backend_;
};

TYPED_TEST_SUITE_P(SharedCacheContract);

TYPED_TEST_P(SharedCacheContract, UnknownCodeIsAMiss) {
  auto got = this->cache().Get("nothing1");
  ASSERT_TRUE(got) << Describe(got);
  EXPECT_FALSE(got->has_value());
}

TYPED_TEST_P(SharedCacheContract, PutThenGetRoundTripsEveryField) {
  ports::CachedRedirect value;
  value.state = core::LinkState::kActive;
  value.status = core::RedirectType::k307;
  value.location = "https://example.com/a path/with%20spaces?q=1 2&x=|y|#frag ment";
  value.expires_at = kT0 + 123'456'789;
  value.owner_id = 9'007'199'254'740'993LL;  // 2^53 + 1: not a double
  ASSERT_TRUE(this->cache().Put("aB3dE5f", value, ports::kSharedCacheTtl));
  auto got = this->cache().Get("aB3dE5f");
  ASSERT_TRUE(got) << Describe(got);
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(**got, value);
}

TYPED_TEST_P(SharedCacheContract, OptionsRoundTripWithTheEntry) {
  ports::CachedRedirect value = this->Redirect("https://example.com/plain");
  auto options = std::make_shared<core::LinkOptions>();
  options->forward_query = true;
  options->password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";
  options->budget = true;
  options->expired_location = "https://example.com/over";
  core::RuleConditions when;
  when.country = {"DE", "AT"};
  when.device = {"mobile"};
  when.os = {"iOS"};
  when.language = {"de"};
  when.after = kT0;
  when.before = kT0 + 1'000'000;
  options->rules = {{when, "https://example.de/app?x=1 2"}};
  options->variants = {{"https://a.example/", 70}, {"https://b.example/\"quoted\"", 30}};
  options->og = core::OpenGraph{"Spring <launch>", "line one\nline two", "https://x/card.png"};
  value.options = options;
  ASSERT_TRUE(this->cache().Put("opt1abc", value, ports::kSharedCacheTtl));
  auto got = this->cache().Get("opt1abc");
  ASSERT_TRUE(got) << Describe(got);
  ASSERT_TRUE(got->has_value());
  ASSERT_NE((*got)->options, nullptr);
  EXPECT_EQ(*(*got)->options, *options);
  EXPECT_EQ(**got, value);
  // And a plain entry stays plain.
  ASSERT_TRUE(this->cache().Put("opt1abc", this->Redirect("https://example.com/p"),
                                ports::kSharedCacheTtl));
  got = this->cache().Get("opt1abc");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->options, nullptr);
}

TYPED_TEST_P(SharedCacheContract, EveryStateRoundTrips) {
  ports::CachedRedirect not_found;  // the defaults: kNotFound, no owner, no location
  ports::CachedRedirect gone;
  gone.state = core::LinkState::kGone;
  gone.owner_id = 42;
  ports::CachedRedirect long_url =
      TestFixture::Redirect("https://example.com/" + std::string(4000, 'x'));
  long_url.status = core::RedirectType::k301;
  ASSERT_TRUE(this->cache().Put("nf", not_found, 5 * core::kMicrosPerSecond));
  ASSERT_TRUE(this->cache().Put("gone", gone, ports::kSharedCacheTtl));
  ASSERT_TRUE(this->cache().Put("long", long_url, ports::kSharedCacheTtl));
  EXPECT_EQ(this->cache().Get("nf")->value(), not_found);
  EXPECT_EQ(this->cache().Get("gone")->value(), gone);
  EXPECT_EQ(this->cache().Get("long")->value(), long_url);
}

TYPED_TEST_P(SharedCacheContract, AnExpiredLinkIsStoredAsItIsNotAnswered) {
  // The cache keeps values; expiry is the redirect decision's (core::AnswerRedirect), so an entry
  // whose link expired before it was read comes back unchanged, and answers 410.
  ports::CachedRedirect expired = TestFixture::Redirect("https://expired.example/");
  expired.expires_at = kT0;
  ASSERT_TRUE(this->cache().Put("expired", expired, ports::kSharedCacheTtl));
  auto got = this->cache().Get("expired");
  ASSERT_TRUE(got) << Describe(got);
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(**got, expired);
  EXPECT_EQ(core::AnswerRedirect((*got)->View(), kT0, {}).status, 410);
  EXPECT_EQ(core::AnswerRedirect((*got)->View(), kT0 - 1, {}).status, 302);
}

TYPED_TEST_P(SharedCacheContract, PutReplacesTheEntry) {
  ASSERT_TRUE(this->cache().Put("code1", TestFixture::Redirect("https://a.example/"),
                                ports::kSharedCacheTtl));
  ports::CachedRedirect gone;
  gone.state = core::LinkState::kGone;
  ASSERT_TRUE(this->cache().Put("code1", gone, ports::kSharedCacheTtl));
  EXPECT_EQ(this->cache().Get("code1")->value(), gone);
}

TYPED_TEST_P(SharedCacheContract, PutIfAbsentNeverOverwritesATombstone) {
  // A delete writes a tombstone; a miss that read the link before the delete then fills late.
  ports::CachedRedirect gone;
  gone.state = core::LinkState::kGone;
  ASSERT_TRUE(this->cache().Put("late", gone, ports::kSharedCacheTtl));
  auto late = this->cache().PutIfAbsent("late", TestFixture::Redirect("https://stale.example/"),
                                        ports::kSharedCacheTtl);
  ASSERT_TRUE(late) << Describe(late);
  EXPECT_FALSE(*late);
  EXPECT_EQ(this->cache().Get("late")->value(), gone);

  auto fresh = this->cache().PutIfAbsent("fresh", TestFixture::Redirect("https://a.example/"),
                                         ports::kSharedCacheTtl);
  ASSERT_TRUE(fresh) << Describe(fresh);
  EXPECT_TRUE(*fresh);
  EXPECT_EQ(this->cache().Get("fresh")->value(), TestFixture::Redirect("https://a.example/"));
  auto bad = this->cache().PutIfAbsent("x", gone, 0);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, core::ErrorCode::kInvalidArgument);
}

TYPED_TEST_P(SharedCacheContract, RemoveForgetsTheEntryAndMayBeRepeated) {
  ASSERT_TRUE(this->cache().Put("code2", TestFixture::Redirect("https://a.example/"),
                                ports::kSharedCacheTtl));
  ASSERT_TRUE(this->cache().Remove("code2"));
  auto got = this->cache().Get("code2");
  ASSERT_TRUE(got) << Describe(got);
  EXPECT_FALSE(got->has_value());
  auto again = this->cache().Remove("code2");
  EXPECT_TRUE(again) << Describe(again);
  auto never = this->cache().Remove("never-stored");
  EXPECT_TRUE(never) << Describe(never);
}

TYPED_TEST_P(SharedCacheContract, CodesAreCaseSensitiveAndIndependent) {
  ASSERT_TRUE(this->cache().Put("abcDEF1", TestFixture::Redirect("https://upper.example/"),
                                ports::kSharedCacheTtl));
  ASSERT_TRUE(this->cache().Put("abcdef1", TestFixture::Redirect("https://lower.example/"),
                                ports::kSharedCacheTtl));
  EXPECT_EQ(this->cache().Get("abcDEF1")->value().location, "https://upper.example/");
  EXPECT_EQ(this->cache().Get("abcdef1")->value().location, "https://lower.example/");
  ASSERT_TRUE(this->cache().Remove("abcdef1"));
  EXPECT_TRUE(this->cache().Get("abcDEF1")->has_value());
}

TYPED_TEST_P(SharedCacheContract, EntriesExpireAfterTheirTtl) {
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(this->cache().Put("short", TestFixture::Redirect("https://short.example/"),
                                400'000));  // 400 ms
  ASSERT_TRUE(this->cache().Put("long", TestFixture::Redirect("https://long.example/"),
                                ports::kSharedCacheTtl));
  auto fresh = this->cache().Get("short");
  ASSERT_TRUE(fresh) << Describe(fresh);
  if (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(300)) {
    EXPECT_TRUE(fresh->has_value()) << "gone long before its TTL";
  }
  EXPECT_TRUE(this->WaitUntilMiss("short", std::chrono::seconds(5)));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(390));
  EXPECT_TRUE(this->cache().Get("long")->has_value());
}

TYPED_TEST_P(SharedCacheContract, NonPositiveTtlIsInvalidArgument) {
  auto put = this->cache().Put("code3", TestFixture::Redirect("https://a.example/"), 0);
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_FALSE(this->cache().Get("code3")->has_value());
}

TYPED_TEST_P(SharedCacheContract, AnotherInstanceSeesTheSameEntries) {
  ports::SharedCache& other = this->backend_.OtherCache();
  ASSERT_TRUE(this->cache().Put("shared1", TestFixture::Redirect("https://shared.example/"),
                                ports::kSharedCacheTtl));
  auto seen = other.Get("shared1");
  ASSERT_TRUE(seen) << Describe(seen);
  ASSERT_TRUE(seen->has_value());
  EXPECT_EQ((*seen)->location, "https://shared.example/");
  ASSERT_TRUE(other.Remove("shared1"));
  EXPECT_FALSE(this->cache().Get("shared1")->has_value());
}

TYPED_TEST_P(SharedCacheContract, ConcurrentWritersNeverMixEntries) {
  constexpr int kThreads = 8;
  constexpr int kRounds = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string own = Numbered("own-", t);
      const std::string location = Numbered("https://writer.example/", t);
      for (int i = 0; i < kRounds; ++i) {
        auto value = TestFixture::Redirect(location, t);
        EXPECT_TRUE(this->cache().Put("contended", value, ports::kSharedCacheTtl));
        EXPECT_TRUE(this->cache().Put(own, value, ports::kSharedCacheTtl));
        auto mine = this->cache().Get(own);
        EXPECT_TRUE(mine && mine->has_value() && (*mine)->location == location);
        auto any = this->cache().Get("contended");
        ASSERT_TRUE(any && any->has_value()) << Describe(any);
        // Whichever writer won, its fields belong together.
        EXPECT_EQ((*any)->location, Numbered("https://writer.example/", (*any)->owner_id));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
}

REGISTER_TYPED_TEST_SUITE_P(SharedCacheContract, PutIfAbsentNeverOverwritesATombstone,
                            UnknownCodeIsAMiss, PutThenGetRoundTripsEveryField,
                            OptionsRoundTripWithTheEntry, EveryStateRoundTrips,
                            AnExpiredLinkIsStoredAsItIsNotAnswered, PutReplacesTheEntry,
                            RemoveForgetsTheEntryAndMayBeRepeated,
                            CodesAreCaseSensitiveAndIndependent, EntriesExpireAfterTheirTtl,
                            NonPositiveTtlIsInvalidArgument, AnotherInstanceSeesTheSameEntries,
                            ConcurrentWritersNeverMixEntries);

}  // namespace kurz::testing
