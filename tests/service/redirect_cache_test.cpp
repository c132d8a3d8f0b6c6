#include "service/redirect_cache.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "service/fakes.hpp"

namespace kurz::service {
namespace {

using fakes::kSecond;
using fakes::kT0;

constexpr core::Micros kNegativeTtl = 2 * kSecond;

using core::LinkState;
using core::RedirectType;

core::ResolvedLink Redirect(std::string location, RedirectType status = RedirectType::k301,
                            core::Micros expires_at = 0) {
  core::ResolvedLink v;
  v.state = LinkState::kActive;
  v.status = status;
  v.location = std::move(location);
  v.expires_at = expires_at;
  return v;
}

core::ResolvedLink Missing(LinkState state = LinkState::kNotFound) {
  core::ResolvedLink v;
  v.state = state;
  return v;
}

// What a lookup saw, copied out of the callback.
struct Seen {
  LinkState state;
  RedirectType status;
  std::string location;
  core::Micros expires_at;
  std::int64_t owner_id;
  const core::LinkOptions* options;
  int answer;  // what core::AnswerRedirect makes of it at the lookup's instant
};

std::optional<Seen> Get(RedirectCache& cache, std::string_view code, core::Micros now = kT0) {
  std::optional<Seen> seen;
  const bool hit = cache.Lookup(code, now, [&](const core::ResolvedLinkView& v) {
    seen = Seen{v.state,
                v.status,
                std::string(v.location),
                v.expires_at,
                v.owner_id,
                v.options,
                core::AnswerRedirect(v, now, {}).status};
  });
  EXPECT_EQ(hit, seen.has_value()) << "Lookup's result and its callback disagree for " << code;
  return seen;
}

void Put(RedirectCache& cache, std::string_view code, const core::ResolvedLink& value,
         core::Micros now = kT0) {
  cache.Fill(code, value, cache.Generation(code), now);
}

std::string Code(int i) { return "c" + std::to_string(i); }

TEST(RedirectCacheTest, FilledRedirectIsFoundWithItsLocationAndStatus) {
  RedirectCache cache(1000, kNegativeTtl);
  Put(cache, "abc1234", Redirect("https://example.com/a", RedirectType::k302));

  auto seen = Get(cache, "abc1234");
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->state, LinkState::kActive);
  EXPECT_EQ(seen->status, RedirectType::k302);
  EXPECT_EQ(seen->location, "https://example.com/a");
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(cache.misses(), 0u);
}

TEST(RedirectCacheTest, UnknownCodeMissesAndCountsAMiss) {
  RedirectCache cache(1000, kNegativeTtl);
  Put(cache, "abc1234", Redirect("https://example.com/a"));

  EXPECT_FALSE(Get(cache, "abc1235"));
  EXPECT_FALSE(Get(cache, "ABC1234")) << "codes are case-sensitive";
  EXPECT_EQ(cache.misses(), 2u);
  EXPECT_EQ(cache.hits(), 0u);
}

TEST(RedirectCacheTest, RefillReplacesTheValue) {
  RedirectCache cache(1000, kNegativeTtl);
  Put(cache, "abc", Redirect("https://example.com/old"));
  Put(cache, "abc", Redirect("https://example.com/new", RedirectType::k307));

  auto seen = Get(cache, "abc");
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->location, "https://example.com/new");
  EXPECT_EQ(seen->status, RedirectType::k307);
  EXPECT_EQ(cache.size(), 1u);
}

TEST(RedirectCacheTest, NeverHoldsMoreThanMaxEntries) {
  constexpr std::size_t kMax = 1000;
  RedirectCache cache(kMax, kNegativeTtl);
  for (int i = 0; i < 20'000; ++i) {
    Put(cache, Code(i), Redirect("https://example.com/" + std::to_string(i)));
    ASSERT_LE(cache.size(), kMax) << "after " << i + 1 << " fills";
  }
  // Whatever was filled last is always there.
  EXPECT_TRUE(Get(cache, Code(19'999)));
}

TEST(RedirectCacheTest, ZeroEntriesMeansNoCache) {
  // kurz serve --cache-size 0 documents "0 = no cache".
  RedirectCache cache(0, kNegativeTtl);
  Put(cache, "abc", Redirect("https://example.com/"));
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_FALSE(Get(cache, "abc"));
}

TEST(RedirectCacheTest, LruKeepsWhatIsReadAndEvictsWhatIsNot) {
  // Hot codes are read after every fill, so they are always the most recently used of their
  // shard; the cold one is never read again. Twenty times the capacity of fresh fills later the
  // hot ones must all be there and the cold one gone.
  constexpr std::size_t kMax = 640;
  RedirectCache cache(kMax, kNegativeTtl);
  const std::vector<std::string> hot = {"hot0", "hot1", "hot2", "hot3",
                                        "hot4", "hot5", "hot6", "hot7"};
  Put(cache, "cold", Redirect("https://example.com/cold"));
  for (const std::string& code : hot) Put(cache, code, Redirect("https://example.com/" + code));

  for (int i = 0; i < 20 * static_cast<int>(kMax); ++i) {
    Put(cache, Code(i), Redirect("https://example.com/x"));
    for (const std::string& code : hot) ASSERT_TRUE(Get(cache, code)) << code << " at fill " << i;
  }
  EXPECT_FALSE(Get(cache, "cold")) << "the least recently used entry must have been evicted";
  for (const std::string& code : hot) {
    auto seen = Get(cache, code);
    ASSERT_TRUE(seen) << code;
    EXPECT_EQ(seen->location, "https://example.com/" + code);
  }
}

TEST(RedirectCacheTest, EvictionFollowsRecencyNotInsertionOrder) {
  // Fill the cache several times over with a stream; the entries filled last survive, the ones
  // filled first do not -- unless they were read in between.
  constexpr std::size_t kMax = 6400;
  RedirectCache cache(kMax, kNegativeTtl);
  for (int i = 0; i < 100; ++i) Put(cache, Code(i), Redirect("https://example.com/"));
  for (int i = 100; i < 5 * static_cast<int>(kMax); ++i) {
    Put(cache, Code(i), Redirect("https://example.com/"));
    if (i % 100 == 0) {
      for (int j = 0; j < 50; ++j) Get(cache, Code(j));  // keep the first 50 warm
    }
  }
  int warm_kept = 0;
  int cold_kept = 0;
  for (int j = 0; j < 50; ++j) warm_kept += Get(cache, Code(j)) ? 1 : 0;
  for (int j = 50; j < 100; ++j) cold_kept += Get(cache, Code(j)) ? 1 : 0;
  EXPECT_EQ(warm_kept, 50);
  EXPECT_EQ(cold_kept, 0);
  // The most recent fills are all present (a full shard never evicts its newest entries).
  for (int i = 5 * static_cast<int>(kMax) - 50; i < 5 * static_cast<int>(kMax); ++i) {
    EXPECT_TRUE(Get(cache, Code(i))) << Code(i);
  }
}

TEST(RedirectCacheTest, NegativeEntryLivesForTheTtlOnly) {
  RedirectCache cache(1000, kNegativeTtl);
  Put(cache, "nope", Missing(), kT0);

  auto seen = Get(cache, "nope", kT0 + kNegativeTtl - 1);
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->state, LinkState::kNotFound);
  EXPECT_EQ(seen->answer, 404);
  EXPECT_FALSE(Get(cache, "nope", kT0 + kNegativeTtl)) << "expired negative entry still answers";
  EXPECT_FALSE(Get(cache, "nope", kT0)) << "an expired negative entry must be forgotten";
  EXPECT_EQ(cache.size(), 0u);
}

TEST(RedirectCacheTest, PositiveAndGoneEntriesDoNotExpireWithTheNegativeTtl) {
  RedirectCache cache(1000, kNegativeTtl);
  Put(cache, "live", Redirect("https://example.com/"), kT0);
  Put(cache, "dead", Missing(LinkState::kGone), kT0);

  const core::Micros later = kT0 + 100 * kNegativeTtl;
  auto live = Get(cache, "live", later);
  ASSERT_TRUE(live);
  EXPECT_EQ(live->state, LinkState::kActive);
  EXPECT_EQ(live->answer, 301);
  auto dead = Get(cache, "dead", later);
  ASSERT_TRUE(dead);
  EXPECT_EQ(dead->state, LinkState::kGone);
  EXPECT_EQ(dead->answer, 410);
}

TEST(RedirectCacheTest, LinkPastItsExpiryIsHandedAsFilledAndAnswersGone) {
  // The cache keeps values, not answers: the link stays kActive with its expiry, and the
  // decision (core::AnswerRedirect) answers 410 from that instant on.
  RedirectCache cache(1000, kNegativeTtl);
  const core::Micros expires = kT0 + 60 * kSecond;
  Put(cache, "brief", Redirect("https://example.com/", RedirectType::k301, expires), kT0);

  auto before = Get(cache, "brief", expires - 1);
  ASSERT_TRUE(before);
  EXPECT_EQ(before->answer, 301);
  auto at = Get(cache, "brief", expires);
  ASSERT_TRUE(at);
  EXPECT_EQ(at->state, LinkState::kActive);
  EXPECT_EQ(at->expires_at, expires);
  EXPECT_EQ(at->location, "https://example.com/");
  EXPECT_EQ(at->answer, 410);
  auto after = Get(cache, "brief", expires + 100 * kNegativeTtl);
  ASSERT_TRUE(after) << "an expired link is not a negative entry: it stays until invalidated";
  EXPECT_EQ(after->answer, 410);
}

TEST(RedirectCacheTest, EveryFieldOfTheValueIsHandedBack) {
  RedirectCache cache(1000, kNegativeTtl);
  core::ResolvedLink value = Redirect("https://example.com/x", RedirectType::k307, kT0 + 5);
  value.owner_id = 9'007'199'254'740'993LL;
  Put(cache, "full", value);
  core::ResolvedLink gone = Missing(LinkState::kGone);
  gone.owner_id = 42;
  Put(cache, "gone", gone);

  auto seen = Get(cache, "full");
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->state, LinkState::kActive);
  EXPECT_EQ(seen->status, RedirectType::k307);
  EXPECT_EQ(seen->location, "https://example.com/x");
  EXPECT_EQ(seen->expires_at, kT0 + 5);
  EXPECT_EQ(seen->owner_id, 9'007'199'254'740'993LL);
  EXPECT_EQ(seen->options, nullptr) << "a plain link has no options block";
  auto dead = Get(cache, "gone");
  ASSERT_TRUE(dead);
  EXPECT_EQ(dead->owner_id, 42);
  EXPECT_EQ(dead->expires_at, 0);
}

TEST(RedirectCacheTest, AnOptionsBlockIsKeptAsTheEntrysOwnCopyAndFreedWithIt) {
  // LeakSanitizer (the dev preset) fails this test if an entry's options outlive it.
  RedirectCache cache(64, kNegativeTtl);
  core::ResolvedLink value = Redirect("https://example.com/opt");
  value.options = std::make_shared<const core::LinkOptions>();
  Put(cache, "opt", value);
  auto seen = Get(cache, "opt");
  ASSERT_TRUE(seen);
  ASSERT_NE(seen->options, nullptr);
  EXPECT_NE(seen->options, value.options.get()) << "the entry must not borrow the caller's block";
  EXPECT_EQ(*seen->options, *value.options);

  Put(cache, "opt", value);                                   // replaced
  cache.Invalidate("opt");                                    // erased
  for (int i = 0; i < 1000; ++i) Put(cache, Code(i), value);  // evicted
  const std::uint64_t stale = cache.Generation("late");
  cache.Invalidate("late");
  cache.Fill("late", value, stale, kT0);  // refused
  cache.Clear();                          // all the rest
  EXPECT_EQ(cache.size(), 0u);
  Put(cache, "kept", value);  // and freed by the destructor
}

TEST(RedirectCacheTest, InvalidateMakesTheNextLookupMiss) {
  RedirectCache cache(1000, kNegativeTtl);
  Put(cache, "abc", Redirect("https://example.com/"));
  Put(cache, "nope", Missing());
  ASSERT_TRUE(Get(cache, "abc"));

  cache.Invalidate("abc");
  cache.Invalidate("nope");
  EXPECT_FALSE(Get(cache, "abc"));
  EXPECT_FALSE(Get(cache, "nope"));
  cache.Invalidate("never-cached");  // harmless
  EXPECT_EQ(cache.size(), 0u);
}

TEST(RedirectCacheTest, FillWithAStaleGenerationIsIgnored) {
  RedirectCache cache(1000, kNegativeTtl);
  // A reader took the generation, then asked the store (which said "not found")...
  const std::uint64_t generation = cache.Generation("new1");
  // ...meanwhile a writer created the link and invalidated the code...
  cache.Invalidate("new1");
  // ...and the reader's late answer must not be remembered.
  cache.Fill("new1", Missing(), generation, kT0);
  EXPECT_FALSE(Get(cache, "new1"));

  // A fill that read the current generation is kept.
  cache.Fill("new1", Redirect("https://example.com/"), cache.Generation("new1"), kT0);
  EXPECT_TRUE(Get(cache, "new1"));
}

TEST(RedirectCacheTest, StaleFillDoesNotOverwriteANewerEntry) {
  RedirectCache cache(1000, kNegativeTtl);
  const std::uint64_t reader = cache.Generation("abc");
  cache.Invalidate("abc");  // a delete...
  Put(cache, "abc", Missing(LinkState::kGone));
  cache.Fill("abc", Redirect("https://example.com/"), reader, kT0);  // ...and a late read

  auto seen = Get(cache, "abc");
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->state, LinkState::kGone);
}

TEST(RedirectCacheTest, ClearForgetsEverythingAndFillsInFlight) {
  RedirectCache cache(1000, kNegativeTtl);
  for (int i = 0; i < 500; ++i) Put(cache, Code(i), Redirect("https://example.com/"));
  const std::uint64_t in_flight = cache.Generation("late");
  ASSERT_EQ(cache.size(), 500u);

  cache.Clear();
  EXPECT_EQ(cache.size(), 0u);
  for (int i = 0; i < 500; ++i) EXPECT_FALSE(Get(cache, Code(i))) << Code(i);
  cache.Fill("late", Redirect("https://example.com/"), in_flight, kT0);
  EXPECT_FALSE(Get(cache, "late")) << "a fill that started before Clear must be ignored";

  // Still usable afterwards.
  Put(cache, "again", Redirect("https://example.com/again"));
  EXPECT_TRUE(Get(cache, "again"));
}

TEST(RedirectCacheTest, CodeLongerThanAnyShortCodeIsNotCached) {
  RedirectCache cache(1000, kNegativeTtl);
  const std::string longer(core::kMaxCodeLength + 1, 'a');
  Put(cache, longer, Redirect("https://example.com/"));
  EXPECT_FALSE(Get(cache, longer));
  const std::string longest(core::kMaxCodeLength, 'a');
  Put(cache, longest, Redirect("https://example.com/"));
  EXPECT_TRUE(Get(cache, longest));
}

TEST(RedirectCacheTest, ConcurrentReadersAndWritersStayConsistent) {
  // Smoke test for the sanitizers: every hit must carry the location of its own code.
  RedirectCache cache(256, kNegativeTtl);
  std::atomic<bool> wrong{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, &wrong, t] {
      for (int i = 0; i < 20'000; ++i) {
        const std::string code = Code((i * 7 + t) % 1000);
        switch (i % 4) {
          case 0:
            Put(cache, code, Redirect("https://example.com/" + code));
            break;
          case 1:
            cache.Invalidate(code);
            break;
          default:
            cache.Lookup(code, kT0, [&](const core::ResolvedLinkView& h) {
              if (h.state == LinkState::kActive && h.location != "https://example.com/" + code) {
                wrong = true;
              }
            });
        }
        if (t == 0 && i % 5000 == 4999) cache.Clear();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_FALSE(wrong.load());
  EXPECT_LE(cache.size(), 256u + 64u);  // see NeverHoldsMoreThanMaxEntries for the exact bound
}

TEST(RedirectCacheTest, RandomFillsAndInvalidationsMatchAReferenceMap) {
  // Exercises the open-addressing table (growth, backward-shift deletion) against std::map,
  // with room for everything so that nothing is evicted.
  RedirectCache cache(100'000, kNegativeTtl);
  std::map<std::string, std::string> reference;
  std::mt19937 rng(7);
  for (int op = 0; op < 60'000; ++op) {
    const std::string code = "c" + std::to_string(rng() % 5'000);
    if (rng() % 3 == 0) {
      cache.Invalidate(code);
      reference.erase(code);
    } else {
      const std::string location = "https://example.com/" + code + "/" + std::to_string(op);
      cache.Fill(code, Redirect(location), cache.Generation(code), kT0);
      reference[code] = location;
    }
  }
  EXPECT_EQ(cache.size(), reference.size());
  for (int i = 0; i < 5'000; ++i) {
    const std::string code = "c" + std::to_string(i);
    auto seen = Get(cache, code);
    auto it = reference.find(code);
    if (it == reference.end()) {
      EXPECT_FALSE(seen) << code << " was invalidated but is still cached";
    } else {
      ASSERT_TRUE(seen) << code << " is missing";
      EXPECT_EQ(seen->location, it->second);
    }
  }
}

}  // namespace
}  // namespace kurz::service
