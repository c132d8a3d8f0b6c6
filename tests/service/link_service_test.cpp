#include "service/link_service.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "adapters/memory/account_store.hpp"
#include "adapters/memory/link_store.hpp"
#include "adapters/memory/shared_cache.hpp"
#include "core/base62.hpp"
#include "core/redirect.hpp"
#include "service/fakes.hpp"

namespace kurz::service {
namespace {

using core::ErrorCode;
using core::RedirectType;
using fakes::Describe;
using fakes::FakeClock;
using fakes::kSecond;
using fakes::kT0;
using fakes::ScriptedLinkStore;

const core::CodeScrambler::Key kKey = {1, 2, 3, 4};
constexpr core::Micros kNegativeTtl = 2 * kSecond;
constexpr std::string_view kUrl = "https://example.com/some/long/path?q=1";

class LinkServiceTest : public ::testing::Test {
 protected:
  LinkServiceTest() : alice_(AddUser("alice@example.com")), bob_(AddUser("bob@example.com")) {}

  Principal AddUser(const std::string& email) {
    core::User user;
    user.email = email;
    user.created_at = kT0;
    core::ApiKey key;
    key.name = "default";
    key.key_hash = std::string(64, email[0]);
    key.prefix = key.key_hash.substr(0, 8);
    key.created_at = kT0;
    auto created = accounts_.CreateUser(user, key);
    EXPECT_TRUE(created) << Describe(created);
    if (!created) return {};
    return Principal{created->first.id, created->second.id, core::kDefaultUserPermissions};
  }

  core::Result<CreateLinkOutput> Create(const Principal& who, std::string_view url,
                                        std::optional<std::string> custom = std::nullopt,
                                        std::optional<core::Micros> expires_at = std::nullopt,
                                        RedirectType type = RedirectType::k301) {
    CreateLinkInput input;
    input.url = std::string(url);
    input.custom_code = std::move(custom);
    input.expires_at = expires_at;
    input.redirect_type = type;
    return links_.Create(who, std::move(input));
  }

  // Creates a link that must succeed; returns its code.
  std::string MustCreate(const Principal& who, std::string_view url,
                         std::optional<std::string> custom = std::nullopt) {
    auto created = Create(who, url, std::move(custom));
    EXPECT_TRUE(created) << Describe(created);
    return created ? created->link.code : std::string();
  }

  // The status the redirect hit path would answer from the cache right now; nullopt on a miss.
  std::optional<int> Cached(std::string_view code) {
    std::optional<int> status;
    const core::Micros now = clock_.Now();
    cache_.Lookup(code, now, [&](const core::ResolvedLinkView& link) {
      status = core::AnswerRedirect(link, now, {}).status;
    });
    return status;
  }

  // The status the redirect miss path would answer (Resolve, then the decision).
  int ResolveStatus(std::string_view code) {
    auto v = links_.Resolve(code);
    EXPECT_TRUE(v) << Describe(v);
    return v ? core::AnswerRedirect(v->View(), clock_.Now(), {}).status : 0;
  }

  FakeClock clock_;
  adapters::memory::MemoryAccountStore accounts_;
  adapters::memory::MemoryLinkStore memory_{accounts_};
  ScriptedLinkStore store_{memory_};
  RedirectCache cache_{1000, kNegativeTtl};
  CodeAllocator codes_{store_, core::CodeScrambler(kKey), 100};
  LinkService links_{store_, codes_, cache_, clock_, "sho.rt"};
  Principal alice_;
  Principal bob_;
};

// --- Create -----------------------------------------------------------------------------------

TEST_F(LinkServiceTest, CreateGivesAGeneratedCodeThatRedirects) {
  auto created = Create(alice_, kUrl);
  ASSERT_TRUE(created) << Describe(created);
  EXPECT_TRUE(created->created);
  const core::Link& link = created->link;
  EXPECT_EQ(link.code.size(), 7u);
  EXPECT_FALSE(link.is_custom);
  EXPECT_EQ(link.url, kUrl);
  EXPECT_EQ(link.owner_id, alice_.user_id);
  EXPECT_EQ(link.api_key_id, alice_.key_id);
  EXPECT_EQ(link.created_at, kT0);
  EXPECT_FALSE(link.expires_at);
  EXPECT_EQ(link.redirect_type, RedirectType::k301);

  auto resolved = links_.Resolve(link.code);
  ASSERT_TRUE(resolved) << Describe(resolved);
  EXPECT_EQ(resolved->state, core::LinkState::kActive);
  EXPECT_EQ(resolved->status, RedirectType::k301);
  EXPECT_EQ(resolved->location, kUrl);
  EXPECT_EQ(resolved->expires_at, 0);
  EXPECT_EQ(Cached(link.code), 301) << "Resolve must remember its answer";
}

TEST_F(LinkServiceTest, CreateIsDurableInTheStore) {
  const std::string code = MustCreate(alice_, kUrl);
  auto stored = memory_.Find(code);
  ASSERT_TRUE(stored) << Describe(stored);
  EXPECT_EQ(stored->url, kUrl);
  EXPECT_EQ(stored->owner_id, alice_.user_id);
}

TEST_F(LinkServiceTest, MetadataAndRedirectTypeAreKept) {
  CreateLinkInput input;
  input.url = std::string(kUrl);
  input.redirect_type = RedirectType::k307;
  input.metadata_json = R"({"campaign":"spring"})";
  auto created = links_.Create(alice_, std::move(input));
  ASSERT_TRUE(created) << Describe(created);
  auto got = links_.Get(alice_, created->link.code);
  ASSERT_TRUE(got) << Describe(got);
  EXPECT_EQ(got->metadata_json, R"({"campaign":"spring"})");
  EXPECT_EQ(got->redirect_type, RedirectType::k307);
  auto resolved = links_.Resolve(created->link.code);
  ASSERT_TRUE(resolved);
  EXPECT_EQ(resolved->status, RedirectType::k307);
}

TEST_F(LinkServiceTest, NonAsciiUrlIsStoredAsGivenAndRedirectsInAsciiForm) {
  auto created = Create(alice_, "https://bücher.example/wiki/Straße");
  ASSERT_TRUE(created) << Describe(created);
  EXPECT_EQ(created->link.url, "https://bücher.example/wiki/Straße");
  auto resolved = links_.Resolve(created->link.code);
  ASSERT_TRUE(resolved) << Describe(resolved);
  EXPECT_EQ(resolved->location, "https://xn--bcher-kva.example/wiki/Stra%C3%9Fe");
}

TEST_F(LinkServiceTest, SameUrlAndTypeReturnsTheExistingLink) {
  auto first = Create(alice_, kUrl);
  ASSERT_TRUE(first) << Describe(first);
  clock_.Advance(10 * kSecond);
  auto second = Create(alice_, kUrl);
  ASSERT_TRUE(second) << Describe(second);
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->link.code, first->link.code);
  EXPECT_EQ(second->link.created_at, kT0);
  auto page = links_.List(alice_, std::nullopt, 100);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->items.size(), 1u);
}

TEST_F(LinkServiceTest, DeduplicationIsPerOwner) {
  const std::string alices = MustCreate(alice_, kUrl);
  auto bobs = Create(bob_, kUrl);
  ASSERT_TRUE(bobs) << Describe(bobs);
  EXPECT_TRUE(bobs->created);
  EXPECT_NE(bobs->link.code, alices);
}

TEST_F(LinkServiceTest, DifferentUrlIsANewLink) {
  const std::string a = MustCreate(alice_, "https://example.com/a");
  const std::string b = MustCreate(alice_, "https://example.com/b");
  const std::string a_slash = MustCreate(alice_, "https://example.com/a/");
  EXPECT_NE(a, b);
  EXPECT_NE(a, a_slash) << "only the identical url deduplicates";
}

TEST_F(LinkServiceTest, CustomCodeAlwaysMakesANewLink) {
  const std::string plain = MustCreate(alice_, kUrl);
  auto custom = Create(alice_, kUrl, "launch-2026");
  ASSERT_TRUE(custom) << Describe(custom);
  EXPECT_TRUE(custom->created);
  EXPECT_EQ(custom->link.code, "launch-2026");
  EXPECT_TRUE(custom->link.is_custom);
  EXPECT_NE(plain, "launch-2026");
}

TEST_F(LinkServiceTest, AnExistingCustomLinkIsNotReturnedForAPlainRequest) {
  MustCreate(alice_, kUrl, "my-custom");
  auto plain = Create(alice_, kUrl);
  ASSERT_TRUE(plain) << Describe(plain);
  EXPECT_TRUE(plain->created);
  EXPECT_NE(plain->link.code, "my-custom");
  EXPECT_FALSE(plain->link.is_custom);
}

TEST_F(LinkServiceTest, ExpiryMakesANewLink) {
  const std::string plain = MustCreate(alice_, kUrl);
  const core::Micros expires = kT0 + 3600 * kSecond;
  auto expiring = Create(alice_, kUrl, std::nullopt, expires);
  ASSERT_TRUE(expiring) << Describe(expiring);
  EXPECT_TRUE(expiring->created);
  EXPECT_NE(expiring->link.code, plain);
  EXPECT_EQ(expiring->link.expires_at, expires);
  auto again = Create(alice_, kUrl, std::nullopt, expires);
  ASSERT_TRUE(again) << Describe(again);
  EXPECT_TRUE(again->created) << "requests with an expiry never deduplicate";
  EXPECT_NE(again->link.code, expiring->link.code);
  // And a plain request still finds the plain link, not an expiring one.
  auto plain_again = Create(alice_, kUrl);
  ASSERT_TRUE(plain_again);
  EXPECT_FALSE(plain_again->created);
  EXPECT_EQ(plain_again->link.code, plain);
}

TEST_F(LinkServiceTest, OtherRedirectTypeMakesANewLink) {
  const std::string permanent = MustCreate(alice_, kUrl);
  auto temporary = Create(alice_, kUrl, std::nullopt, std::nullopt, RedirectType::k302);
  ASSERT_TRUE(temporary) << Describe(temporary);
  EXPECT_TRUE(temporary->created);
  EXPECT_NE(temporary->link.code, permanent);
  auto temporary_again = Create(alice_, kUrl, std::nullopt, std::nullopt, RedirectType::k302);
  ASSERT_TRUE(temporary_again);
  EXPECT_FALSE(temporary_again->created);
  EXPECT_EQ(temporary_again->link.code, temporary->link.code);
}

TEST_F(LinkServiceTest, DeletedLinkIsNotReturnedByDeduplication) {
  const std::string old_code = MustCreate(alice_, kUrl);
  ASSERT_TRUE(links_.Delete(alice_, old_code));
  auto again = Create(alice_, kUrl);
  ASSERT_TRUE(again) << Describe(again);
  EXPECT_TRUE(again->created);
  EXPECT_NE(again->link.code, old_code);
}

TEST_F(LinkServiceTest, TakenCustomCodeIsAConflict) {
  MustCreate(alice_, kUrl, "launch-2026");
  auto mine_again = Create(alice_, "https://example.com/other", "launch-2026");
  ASSERT_FALSE(mine_again);
  EXPECT_EQ(mine_again.error().code, ErrorCode::kConflict);
  auto someone_else = Create(bob_, kUrl, "launch-2026");
  ASSERT_FALSE(someone_else);
  EXPECT_EQ(someone_else.error().code, ErrorCode::kConflict);
  // The original is untouched.
  auto resolved = links_.Resolve("launch-2026");
  ASSERT_TRUE(resolved);
  EXPECT_EQ(resolved->location, kUrl);
}

TEST_F(LinkServiceTest, CodeOfADeletedLinkStaysTaken) {
  MustCreate(alice_, kUrl, "gone-code");
  ASSERT_TRUE(links_.Delete(alice_, "gone-code"));
  auto reuse = Create(bob_, "https://evil.example/", "gone-code");
  ASSERT_FALSE(reuse) << "a deleted code must never point somewhere new";
  EXPECT_EQ(reuse.error().code, ErrorCode::kConflict);
}

TEST_F(LinkServiceTest, GeneratedCodeNeverTakesACustomCode) {
  // Someone picks, as a custom code, exactly the code the allocator will hand out first.
  const std::string next_generated =
      core::EncodeBase62(core::CodeScrambler(kKey).Scramble(0));  // a fresh store leases from 0
  MustCreate(bob_, "https://bob.example/", next_generated);
  auto generated = Create(alice_, kUrl);
  ASSERT_TRUE(generated) << Describe(generated);
  EXPECT_TRUE(generated->created);
  EXPECT_NE(generated->link.code, next_generated);
  auto bobs = links_.Resolve(next_generated);
  ASSERT_TRUE(bobs);
  EXPECT_EQ(bobs->location, "https://bob.example/");
}

TEST_F(LinkServiceTest, ReservedWordIsAnInvalidCode) {
  for (const char* word : {"admin", "Admin", "healthz", "metrics", "robots.txt", "api"}) {
    auto r = Create(alice_, kUrl, word);
    ASSERT_FALSE(r) << word;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidCode) << word;
  }
}

TEST_F(LinkServiceTest, MalformedCustomCodeIsAnInvalidCode) {
  for (const std::string& code : {std::string("ab"), std::string(33, 'a'), std::string("a b c"),
                                  std::string("ünï"), std::string("a/b/c"), std::string("")}) {
    auto r = Create(alice_, kUrl, code);
    ASSERT_FALSE(r) << "'" << code << "'";
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidCode) << "'" << code << "'";
  }
  EXPECT_TRUE(Create(alice_, kUrl, "a_B-9"));
  EXPECT_TRUE(Create(alice_, kUrl, std::string(32, 'z')));
}

TEST_F(LinkServiceTest, ExpiryInThePastIsAnInvalidArgument) {
  auto past = Create(alice_, kUrl, std::nullopt, kT0 - kSecond);
  ASSERT_FALSE(past);
  EXPECT_EQ(past.error().code, ErrorCode::kInvalidArgument);
  auto now = Create(alice_, kUrl, std::nullopt, kT0);
  ASSERT_FALSE(now) << "expiring at this very instant is not in the future";
  EXPECT_EQ(now.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Create(alice_, kUrl, std::nullopt, kT0 + 1));
}

TEST_F(LinkServiceTest, BadUrlIsAnInvalidUrl) {
  for (const char* url :
       {"ftp://example.com/file", "example.com/no-scheme", "https://user:pass@example.com/",
        "https://sho.rt/abc1234", "https://SHO.RT:443/abc1234", "https://exa mple.com/"}) {
    auto r = Create(alice_, url);
    ASSERT_FALSE(r) << url;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidUrl) << url;
  }
  auto page = links_.List(alice_, std::nullopt, 10);
  ASSERT_TRUE(page);
  EXPECT_TRUE(page->items.empty()) << "a refused request must store nothing";
}

TEST_F(LinkServiceTest, StoreFailureOnCreateIsReported) {
  store_.FailNext(1);
  auto r = Create(alice_, kUrl);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(Create(alice_, kUrl)) << "works again once the store is back";
}

// --- Get and Delete ---------------------------------------------------------------------------

TEST_F(LinkServiceTest, OwnerCanGetTheirLink) {
  const std::string code = MustCreate(alice_, kUrl);
  auto got = links_.Get(alice_, code);
  ASSERT_TRUE(got) << Describe(got);
  EXPECT_EQ(got->code, code);
  EXPECT_EQ(got->url, kUrl);
}

TEST_F(LinkServiceTest, AnotherUsersLinkIsNotFound) {
  const std::string code = MustCreate(alice_, kUrl);
  auto got = links_.Get(bob_, code);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::kNotFound);
  auto deleted = links_.Delete(bob_, code);
  ASSERT_FALSE(deleted);
  EXPECT_EQ(deleted.error().code, ErrorCode::kNotFound);
  // Bob's attempt changed nothing.
  EXPECT_EQ(ResolveStatus(code), 301);
  EXPECT_TRUE(links_.Get(alice_, code));
}

TEST_F(LinkServiceTest, UnknownCodeIsNotFoundOnGetAndDelete) {
  auto got = links_.Get(alice_, "nothing");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::kNotFound);
  auto deleted = links_.Delete(alice_, "nothing");
  ASSERT_FALSE(deleted);
  EXPECT_EQ(deleted.error().code, ErrorCode::kNotFound);
}

TEST_F(LinkServiceTest, DeleteThenResolveIsGone) {
  const std::string code = MustCreate(alice_, kUrl);
  ASSERT_EQ(ResolveStatus(code), 301);
  ASSERT_EQ(Cached(code), 301);

  auto deleted = links_.Delete(alice_, code);
  ASSERT_TRUE(deleted) << Describe(deleted);
  EXPECT_NE(Cached(code), 301)
      << "from Delete's return no redirect on this instance may answer with the link";
  EXPECT_EQ(ResolveStatus(code), 410);
  EXPECT_EQ(Cached(code), 410);

  auto got = links_.Get(alice_, code);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::kNotFound);
  auto again = links_.Delete(alice_, code);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kNotFound) << "deleting again: 404";
}

TEST_F(LinkServiceTest, DeletedLinkStaysGoneLongAfter) {
  const std::string code = MustCreate(alice_, kUrl);
  ASSERT_TRUE(links_.Delete(alice_, code));
  ASSERT_EQ(ResolveStatus(code), 410);
  clock_.Advance(30 * 86'400 * kSecond);
  EXPECT_EQ(Cached(code), 410);
  EXPECT_EQ(ResolveStatus(code), 410);
}

// --- Resolve ----------------------------------------------------------------------------------

TEST_F(LinkServiceTest, UnknownCodeResolvesNotFoundAndIsRememberedBriefly) {
  EXPECT_EQ(ResolveStatus("nothing"), 404);
  EXPECT_EQ(Cached("nothing"), 404);
  clock_.Advance(kNegativeTtl);
  EXPECT_FALSE(Cached("nothing")) << "a negative entry outlived its TTL";
}

TEST_F(LinkServiceTest, CreateAfterANotFoundRedirectsAtOnce) {
  ASSERT_EQ(ResolveStatus("launch-2026"), 404);
  ASSERT_EQ(Cached("launch-2026"), 404);

  MustCreate(alice_, kUrl, "launch-2026");  // same instant: the negative TTL has not run out
  EXPECT_NE(Cached("launch-2026"), 404) << "the negative entry must not outlive the create";
  auto resolved = links_.Resolve("launch-2026");
  ASSERT_TRUE(resolved) << Describe(resolved);
  EXPECT_EQ(resolved->state, core::LinkState::kActive);
  EXPECT_EQ(resolved->location, kUrl);
}

TEST_F(LinkServiceTest, NotFoundReadRacingACreateIsNotCached) {
  // Resolve reads "not found"; before it fills the cache, the link is created.
  store_.AfterNextFind([this] { MustCreate(alice_, kUrl, "race-code"); });
  EXPECT_EQ(ResolveStatus("race-code"), 404);  // what it read
  EXPECT_NE(Cached("race-code"), 404) << "a stale negative answer was cached over a newer create";
  EXPECT_EQ(ResolveStatus("race-code"), 301);
}

TEST_F(LinkServiceTest, RedirectReadRacingADeleteIsNotCached) {
  const std::string code = MustCreate(alice_, kUrl);
  store_.AfterNextFind([&] { ASSERT_TRUE(links_.Delete(alice_, code)); });
  EXPECT_EQ(ResolveStatus(code), 301);  // what it read
  EXPECT_NE(Cached(code), 301) << "a deleted link was cached as live";
  EXPECT_EQ(ResolveStatus(code), 410);
}

TEST_F(LinkServiceTest, ExpiredLinkIsGone) {
  const core::Micros expires = kT0 + 60 * kSecond;
  auto created = Create(alice_, kUrl, std::nullopt, expires);
  ASSERT_TRUE(created) << Describe(created);
  const std::string code = created->link.code;

  auto live = links_.Resolve(code);
  ASSERT_TRUE(live);
  EXPECT_EQ(live->state, core::LinkState::kActive);
  EXPECT_EQ(live->expires_at, expires);

  clock_.Set(expires - 1);
  EXPECT_EQ(Cached(code), 301) << "a link redirects until its very expiry";
  clock_.Set(expires);
  EXPECT_EQ(Cached(code), 410) << "the cached redirect must expire with the link";
  EXPECT_EQ(ResolveStatus(code), 410);
  // The value is the link's, not an answer: expiry is the decision's (core::AnswerRedirect).
  auto expired = links_.Resolve(code);
  ASSERT_TRUE(expired) << Describe(expired);
  EXPECT_EQ(expired->state, core::LinkState::kActive);
  EXPECT_EQ(expired->expires_at, expires);
  // Still the owner's link (expired is not deleted).
  EXPECT_TRUE(links_.Get(alice_, code));
}

TEST_F(LinkServiceTest, StoreFailureOnResolveIsReportedAndNotCached) {
  store_.FailNext(1);
  auto r = links_.Resolve("whatever");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_FALSE(Cached("whatever")) << "an outage must not be remembered as 'not found'";
}

// --- List -------------------------------------------------------------------------------------

TEST_F(LinkServiceTest, ListPagesNewestFirst) {
  std::vector<std::string> codes;
  for (int i = 0; i < 5; ++i) {
    codes.push_back(MustCreate(alice_, "https://example.com/" + std::to_string(i)));
    clock_.Advance(kSecond);
  }
  auto p1 = links_.List(alice_, std::nullopt, 2);
  ASSERT_TRUE(p1) << Describe(p1);
  ASSERT_EQ(p1->items.size(), 2u);
  EXPECT_EQ(p1->items[0].code, codes[4]);
  EXPECT_EQ(p1->items[1].code, codes[3]);
  ASSERT_TRUE(p1->next);

  auto p2 = links_.List(alice_, p1->next, 2);
  ASSERT_TRUE(p2) << Describe(p2);
  ASSERT_EQ(p2->items.size(), 2u);
  EXPECT_EQ(p2->items[0].code, codes[2]);
  EXPECT_EQ(p2->items[1].code, codes[1]);
  ASSERT_TRUE(p2->next);

  auto p3 = links_.List(alice_, p2->next, 2);
  ASSERT_TRUE(p3) << Describe(p3);
  ASSERT_EQ(p3->items.size(), 1u);
  EXPECT_EQ(p3->items[0].code, codes[0]);
  EXPECT_FALSE(p3->next) << "the last page has no next cursor";
}

TEST_F(LinkServiceTest, ListEndsWithoutAnEmptyPageWhenTheCountIsAMultipleOfTheLimit) {
  for (int i = 0; i < 4; ++i) {
    MustCreate(alice_, "https://example.com/" + std::to_string(i));
    clock_.Advance(kSecond);
  }
  auto p1 = links_.List(alice_, std::nullopt, 2);
  ASSERT_TRUE(p1 && p1->next);
  auto p2 = links_.List(alice_, p1->next, 2);
  ASSERT_TRUE(p2);
  EXPECT_EQ(p2->items.size(), 2u);
  EXPECT_FALSE(p2->next);

  auto all = links_.List(alice_, std::nullopt, 4);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->items.size(), 4u);
  EXPECT_FALSE(all->next);
}

TEST_F(LinkServiceTest, ListPagesThroughLinksCreatedInTheSameInstant) {
  std::set<std::string> created;
  for (int i = 0; i < 7; ++i)
    created.insert(MustCreate(alice_, "https://example.com/" + std::to_string(i)));
  std::set<std::string> seen;
  std::optional<core::ListCursor> cursor;
  for (int page = 0; page < 10; ++page) {
    auto p = links_.List(alice_, cursor, 3);
    ASSERT_TRUE(p) << Describe(p);
    for (const core::Link& l : p->items) EXPECT_TRUE(seen.insert(l.code).second) << l.code;
    if (!p->next) break;
    cursor = p->next;
  }
  EXPECT_EQ(seen, created);
}

TEST_F(LinkServiceTest, ListShowsOnlyTheCallersLiveLinks) {
  const std::string kept = MustCreate(alice_, "https://example.com/kept");
  const std::string deleted = MustCreate(alice_, "https://example.com/deleted");
  MustCreate(bob_, "https://example.com/bobs");
  ASSERT_TRUE(links_.Delete(alice_, deleted));

  auto page = links_.List(alice_, std::nullopt, 50);
  ASSERT_TRUE(page) << Describe(page);
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].code, kept);
  EXPECT_FALSE(page->next);

  Principal nobody{999, 0, core::kDefaultUserPermissions};
  auto empty = links_.List(nobody, std::nullopt, 50);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->items.empty());
  EXPECT_FALSE(empty->next);
}

// --- With a shared tier (cluster mode) -------------------------------------------------------

// Two instances over one store and one shared cache: `writer_` creates and deletes, `other_`
// (its own L1) resolves. The store fails for `other_` where a test must prove the L2 answered.
class LinkServiceSharedTest : public LinkServiceTest {
 protected:
  static CreateLinkInput PlainInput() {
    CreateLinkInput input;
    input.url = std::string(kUrl);
    return input;
  }
  core::Result<core::ResolvedLink> ResolveOnOther(std::string_view code, bool store_down) {
    if (store_down) other_store_.FailNext(1);
    auto value = other_.Resolve(code);
    if (store_down) other_store_.FailNext(0);  // unused when the shared cache answered
    return value;
  }
  int OtherAnswers(std::string_view code, bool store_down) {
    auto v = ResolveOnOther(code, store_down);
    EXPECT_TRUE(v) << Describe(v);
    return v ? core::AnswerRedirect(v->View(), clock_.Now(), {}).status : 0;
  }

  adapters::memory::MemorySharedCache shared_cache_;
  SuspendedOwners suspended_;
  RedirectCache writer_cache_{1000, kNegativeTtl};
  LinkService writer_{store_, codes_,   writer_cache_,
                      clock_, "sho.rt", SharedTier{&shared_cache_, nullptr, &suspended_}};
  ScriptedLinkStore other_store_{memory_};
  RedirectCache other_cache_{1000, kNegativeTtl};
  LinkService other_{other_store_, codes_,   other_cache_,
                     clock_,       "sho.rt", SharedTier{&shared_cache_, nullptr, &suspended_}};
};

TEST_F(LinkServiceSharedTest, CreateWritesThroughAndAnotherInstanceRedirectsFromTheSharedCache) {
  CreateLinkInput input;
  input.url = "https://bücher.example/wiki/Straße";
  input.redirect_type = RedirectType::k302;
  auto created = writer_.Create(alice_, input);
  ASSERT_TRUE(created) << Describe(created);

  auto value = ResolveOnOther(created->link.code, /*store_down=*/true);
  ASSERT_TRUE(value) << "the shared cache must answer while the store is down: " << Describe(value);
  EXPECT_EQ(value->state, core::LinkState::kActive);
  EXPECT_EQ(value->status, RedirectType::k302);
  EXPECT_EQ(value->location, "https://xn--bcher-kva.example/wiki/Stra%C3%9Fe");
  EXPECT_EQ(value->owner_id, alice_.user_id);
  EXPECT_EQ(value->options, nullptr) << "a plain link carries no options block";
}

TEST_F(LinkServiceSharedTest, SharedEntryOfAnExpiredLinkAnswersGoneFromItsExpiry) {
  const core::Micros expires = kT0 + 60 * kSecond;
  CreateLinkInput input;
  input.url = std::string(kUrl);
  input.expires_at = expires;
  auto created = writer_.Create(alice_, input);
  ASSERT_TRUE(created) << Describe(created);
  const std::string code = created->link.code;

  clock_.Set(expires - 1);
  EXPECT_EQ(OtherAnswers(code, /*store_down=*/true), 301);
  clock_.Set(expires);
  EXPECT_EQ(OtherAnswers(code, /*store_down=*/true), 410) << "from the shared cache";
  other_cache_.Clear();
  EXPECT_EQ(OtherAnswers(code, /*store_down=*/false), 410) << "filled from the store";
}

TEST_F(LinkServiceSharedTest, SharedEntryOfASuspendedOwnerAnswersGone) {
  const std::string code = [&] {
    auto created = writer_.Create(alice_, PlainInput());
    EXPECT_TRUE(created) << Describe(created);
    return created ? created->link.code : std::string();
  }();
  suspended_.Set(alice_.user_id, true);
  auto value = ResolveOnOther(code, /*store_down=*/true);
  ASSERT_TRUE(value) << Describe(value);
  EXPECT_EQ(value->state, core::LinkState::kGone);
  EXPECT_TRUE(value->location.empty());
  std::optional<int> l1;
  other_cache_.Lookup(code, clock_.Now(), [&](const core::ResolvedLinkView& link) {
    l1 = core::AnswerRedirect(link, clock_.Now(), {}).status;
  });
  EXPECT_EQ(l1, 410) << "the L1 must remember the suspended owner's link as gone";

  suspended_.Set(alice_.user_id, false);
  other_cache_.Clear();
  EXPECT_EQ(OtherAnswers(code, /*store_down=*/true), 301) << "the shared entry is the link's own";
}

TEST_F(LinkServiceSharedTest, DeleteLeavesATombstoneThatAnotherInstanceAnswersGone) {
  auto created = writer_.Create(alice_, PlainInput());
  ASSERT_TRUE(created) << Describe(created);
  ASSERT_TRUE(writer_.Delete(alice_, created->link.code));
  EXPECT_EQ(OtherAnswers(created->link.code, /*store_down=*/true), 410);
}

}  // namespace
}  // namespace kurz::service
