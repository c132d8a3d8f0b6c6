#pragma once

// The LinkStore contract for what links carry beyond the seed (issue 12): every option stored and
// read back, deduplication that skips personal links, searching (sorts, tags, text) with keyset
// paging, tag counts, Update, the click budget (UseClick) and InsertMany. Instantiate with a
// backend type (see backends.hpp), like LinkStoreContract.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "adapters/contract/helpers.hpp"
#include "ports/link_store.hpp"

namespace kurz::testing {

// A link with every option set (a personal one: it has a password, a budget, rules, variants).
inline core::Link FullLink(const std::string& code, std::int64_t owner, core::Micros at) {
  core::Link link = NewLink(code, owner, at, "https://example.com/full/" + code);
  link.redirect_type = core::RedirectType::k308;
  link.title = "Spring launch — Ümlaut \"quoted\"";
  link.tags = {"Zeta", "größe", "日本", "alpha"};
  link.forward_query = true;
  link.password_hash = "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA";
  link.max_clicks = 10;
  link.clicks_used = 4;
  link.expired_url = "https://example.com/over";
  core::TargetRule rule;
  rule.when.country = {"DE", "AT"};
  rule.when.device = {"mobile"};
  rule.when.os = {"iOS"};
  rule.when.language = {"de"};
  rule.when.after = at - 5;
  rule.when.before = at + 3600 * core::kMicrosPerSecond;
  rule.url = "https://example.de/ä";
  core::TargetRule catch_all;
  catch_all.url = "https://example.com/any";
  link.rules = {rule, catch_all};
  link.variants = {core::Variant{"https://a.example/", 30},
                   core::Variant{"https://b.example/", 70}};
  link.og = core::OpenGraph{"OG title", "A description", "https://example.com/og.png"};
  return link;
}

template <class Backend>
class LinkOptionsContract : public ::testing::Test {
 protected:
  void SetUp() override { owner_ = AddUser(backend_.Accounts(), "owner@example.com").first; }

  ports::LinkStore& links() { return backend_.Links(); }
  ports::AccountStore& accounts() { return backend_.Accounts(); }

  // The codes of the owner's whole search result, read in pages of page_size, each page
  // continuing after the last link of the previous one.
  std::vector<std::string> Codes(core::LinkQuery query, int page_size = 1000) {
    std::vector<std::string> codes;
    query.limit = page_size;
    query.after.reset();
    for (int guard = 0; guard < 1000; ++guard) {
      auto page = links().SearchByOwner(owner_, query);
      EXPECT_TRUE(page.has_value()) << Describe(page);
      if (!page || page->empty()) break;
      EXPECT_LE(static_cast<int>(page->size()), page_size);
      for (const core::Link& link : *page) codes.push_back(link.code);
      const core::Link& last = page->back();
      query.after = core::ListCursor{last.created_at, last.code, last.click_count};
    }
    return codes;
  }

  Backend backend_;
  std::int64_t owner_ = 0;
};

TYPED_TEST_SUITE_P(LinkOptionsContract);

TYPED_TEST_P(LinkOptionsContract, InsertThenFindRoundTripsEveryOption) {
  const core::Link link = FullLink("full1", this->owner_, kT0);
  ASSERT_TRUE(this->links().Insert(link));
  auto found = this->links().Find("full1");
  ASSERT_TRUE(found) << Describe(found);
  EXPECT_EQ(found->redirect_type, core::RedirectType::k308);
  EXPECT_EQ(found->title, link.title);
  EXPECT_EQ(found->tags, link.tags);  // in the order given, spellings kept
  EXPECT_TRUE(found->forward_query);
  EXPECT_EQ(found->password_hash, link.password_hash);
  EXPECT_EQ(found->max_clicks, 10);
  EXPECT_EQ(found->clicks_used, 4);
  EXPECT_EQ(found->expired_url, link.expired_url);
  EXPECT_EQ(found->rules, link.rules);
  EXPECT_EQ(found->variants, link.variants);
  EXPECT_EQ(found->og, link.og);
  EXPECT_TRUE(found->IsPersonal());

  // Every read fills them, not only Find.
  auto listed = this->links().ListByOwner(this->owner_, std::nullopt, 10);
  ASSERT_TRUE(listed) << Describe(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().tags, link.tags);
  EXPECT_EQ(listed->front().rules, link.rules);
  EXPECT_EQ(listed->front().og, link.og);

  // A plain link reads back with none.
  ASSERT_TRUE(this->links().Insert(NewLink("plain1", this->owner_, kT0)));
  auto plain = this->links().Find("plain1");
  ASSERT_TRUE(plain) << Describe(plain);
  EXPECT_EQ(plain->title, "");
  EXPECT_TRUE(plain->tags.empty());
  EXPECT_FALSE(plain->forward_query);
  EXPECT_FALSE(plain->password_hash);
  EXPECT_FALSE(plain->max_clicks);
  EXPECT_EQ(plain->clicks_used, 0);
  EXPECT_FALSE(plain->expired_url);
  EXPECT_TRUE(plain->rules.empty());
  EXPECT_TRUE(plain->variants.empty());
  EXPECT_FALSE(plain->og);
  EXPECT_FALSE(plain->HasRedirectOptions());
}

TYPED_TEST_P(LinkOptionsContract, DeduplicationSkipsPersonalLinks) {
  const std::string url = "https://example.com/shared";
  // A personal link first: it is no duplicate, and a plain link with its url may still be made.
  core::Link guarded = NewLink("guard1", this->owner_, kT0, url);
  guarded.password_hash = "$argon2id$x";
  ASSERT_TRUE(this->links().Insert(guarded));
  auto none = this->links().FindDuplicate(this->owner_, url, core::RedirectType::k301);
  ASSERT_TRUE(none) << Describe(none);
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(this->links().Insert(NewLink("plain2", this->owner_, kT0 + 1, url)));
  // More personal links with that url: a budget, rules, variants.
  core::Link budget = NewLink("budget1", this->owner_, kT0 + 2, url);
  budget.max_clicks = 5;
  ASSERT_TRUE(this->links().Insert(budget));
  core::Link ruled = NewLink("ruled1", this->owner_, kT0 + 3, url);
  core::TargetRule german;
  german.when.country = {"DE"};
  german.url = "https://de.example/";
  ruled.rules = {german};
  ASSERT_TRUE(this->links().Insert(ruled));
  core::Link split = NewLink("split1", this->owner_, kT0 + 4, url);
  split.variants = {core::Variant{"https://a.example/", 1}, core::Variant{"https://b.example/", 1}};
  ASSERT_TRUE(this->links().Insert(split));
  // The plain one is the duplicate, and still the only one.
  auto dup = this->links().FindDuplicate(this->owner_, url, core::RedirectType::k301);
  ASSERT_TRUE(dup) << Describe(dup);
  ASSERT_TRUE(dup->has_value());
  EXPECT_EQ((*dup)->code, "plain2");
  auto again = this->links().Insert(NewLink("plain3", this->owner_, kT0 + 5, url));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, core::ErrorCode::kConflict);
  // Options that are not personal keep a link plain (deduplicated).
  core::Link titled = NewLink("titled1", this->owner_, kT0 + 6, url);
  titled.title = "t";
  titled.tags = {"x"};
  auto titled_insert = this->links().Insert(titled);
  ASSERT_FALSE(titled_insert);
  EXPECT_EQ(titled_insert.error().code, core::ErrorCode::kConflict);
}

TYPED_TEST_P(LinkOptionsContract, EachSortPagesWithoutDuplicatesOrMisses) {
  // created_at and click_count ties, so the later keys decide.
  struct Row {
    const char* code;
    core::Micros at;
    std::int64_t clicks;
  };
  const Row rows[] = {{"s1", kT0, 5},     {"s2", kT0, 5},     {"s3", kT0 + 1, 0},
                      {"s4", kT0 + 1, 9}, {"s5", kT0 + 2, 5}, {"s6", kT0 + 3, 0},
                      {"s7", kT0 + 3, 5}};
  for (const Row& row : rows) {
    core::Link link = NewLink(row.code, this->owner_, row.at);
    link.click_count = row.clicks;
    ASSERT_TRUE(this->links().Insert(link));
  }
  ASSERT_TRUE(this->links().SoftDelete("s6", this->owner_, kT0 + 10));
  const std::vector<std::string> newest = {"s7", "s5", "s4", "s3", "s2", "s1"};
  const std::vector<std::string> oldest = {"s1", "s2", "s3", "s4", "s5", "s7"};
  const std::vector<std::string> clicks = {"s4", "s7", "s5", "s2", "s1", "s3"};
  for (int page_size : {1, 2, 4, 100}) {
    core::LinkQuery query;
    query.sort = core::LinkSort::kNewest;
    EXPECT_EQ(this->Codes(query, page_size), newest) << page_size;
    query.sort = core::LinkSort::kOldest;
    EXPECT_EQ(this->Codes(query, page_size), oldest) << page_size;
    query.sort = core::LinkSort::kMostClicks;
    EXPECT_EQ(this->Codes(query, page_size), clicks) << page_size;
  }
  // A cursor stays valid when links come before it meanwhile.
  core::LinkQuery query;
  query.sort = core::LinkSort::kMostClicks;
  query.limit = 2;
  auto first = this->links().SearchByOwner(this->owner_, query);
  ASSERT_TRUE(first) << Describe(first);
  ASSERT_EQ(first->size(), 2u);
  core::Link hot = NewLink("s8", this->owner_, kT0 + 4);
  hot.click_count = 100;
  ASSERT_TRUE(this->links().Insert(hot));
  query.after =
      core::ListCursor{first->back().created_at, first->back().code, first->back().click_count};
  query.limit = 10;
  auto rest = this->links().SearchByOwner(this->owner_, query);
  ASSERT_TRUE(rest) << Describe(rest);
  std::vector<std::string> codes;
  for (const core::Link& link : *rest) codes.push_back(link.code);
  EXPECT_EQ(codes, (std::vector<std::string>{"s5", "s2", "s1", "s3"}));
}

TYPED_TEST_P(LinkOptionsContract, TagFilterWantsEveryTagIgnoringCase) {
  auto tagged = [&](const char* code, core::Micros at, std::vector<std::string> tags) {
    core::Link link = NewLink(code, this->owner_, at);
    link.tags = std::move(tags);
    ASSERT_TRUE(this->links().Insert(link)) << code;
  };
  tagged("t1", kT0, {"Work", "urgent"});
  tagged("t2", kT0 + 1, {"work"});
  tagged("t3", kT0 + 2, {"URGENT", "home", "WORK"});
  tagged("t4", kT0 + 3, {});
  tagged("t5", kT0 + 4, {"Größe"});
  // Another owner's link with the same tags is never listed.
  const std::int64_t other = AddUser(this->accounts(), "other@example.com").first;
  core::Link theirs = NewLink("t6", other, kT0 + 5);
  theirs.tags = {"work", "urgent"};
  ASSERT_TRUE(this->links().Insert(theirs));

  core::LinkQuery query;
  query.tags = {"work"};
  EXPECT_EQ(this->Codes(query), (std::vector<std::string>{"t3", "t2", "t1"}));
  query.tags = {"wOrK", "Urgent"};
  EXPECT_EQ(this->Codes(query), (std::vector<std::string>{"t3", "t1"}));
  EXPECT_EQ(this->Codes(query, 1), (std::vector<std::string>{"t3", "t1"}));
  query.tags = {"work", "urgent", "home"};
  EXPECT_EQ(this->Codes(query), (std::vector<std::string>{"t3"}));
  query.tags = {"nothing"};
  EXPECT_TRUE(this->Codes(query).empty());
  query.tags = {"Größe"};
  EXPECT_EQ(this->Codes(query), (std::vector<std::string>{"t5"}));
  query.tags = {"GRößE"};  // ASCII letters fold, the others compare as they are
  EXPECT_EQ(this->Codes(query), (std::vector<std::string>{"t5"}));
  // Deleted links are not listed.
  ASSERT_TRUE(this->links().SoftDelete("t3", this->owner_, kT0 + 10));
  query.tags = {"urgent"};
  EXPECT_EQ(this->Codes(query), (std::vector<std::string>{"t1"}));
}

TYPED_TEST_P(LinkOptionsContract, TextFilterIsASubstringOfCodeUrlOrTitleWithLiteralWildcards) {
  auto add = [&](const char* code, core::Micros at, const char* url, const char* title) {
    core::Link link = NewLink(code, this->owner_, at, url);
    link.title = title;
    ASSERT_TRUE(this->links().Insert(link)) << code;
  };
  add("Launch", kT0, "https://example.com/a", "");
  add("x2", kT0 + 1, "https://Shop.example/SALE", "");
  add("x3", kT0 + 2, "https://example.com/c", "Summer SALE 50%");
  add("x4", kT0 + 3, "https://example.com/d", "50 percent");
  add("x5", kT0 + 4, "https://example.com/snake_case", "");
  add("x6", kT0 + 5, "https://example.com/snakeXcase", "back\\slash");

  core::LinkQuery query;
  query.text = "LAUNCH";  // the code, any case
  EXPECT_EQ(this->Codes(query), (std::vector<std::string>{"Launch"}));
  query.text = "sale";  // the url and the title, any case
  EXPECT_EQ(this->Codes(query), (std::vector<std::string>{"x3", "x2"}));
  query.text = "shop.EXAMPLE";
  EXPECT_EQ(this->Codes(query), (std::vector<std::string>{"x2"}));
  query.text = "50%";  // % is literal
  EXPECT_EQ(this->Codes(query), (std::vector<std::string>{"x3"}));
  query.text = "%";
  EXPECT_EQ(this->Codes(query), (std::vector<std::string>{"x3"}));
  query.text = "snake_case";  // _ is literal
  EXPECT_EQ(this->Codes(query), (std::vector<std::string>{"x5"}));
  query.text = "\\";
  EXPECT_EQ(this->Codes(query), (std::vector<std::string>{"x6"}));
  query.text = "nowhere";
  EXPECT_TRUE(this->Codes(query).empty());
  // Combined with tags and a sort, and paged.
  query.text = "example.com";
  query.sort = core::LinkSort::kOldest;
  EXPECT_EQ(this->Codes(query, 2), (std::vector<std::string>{"Launch", "x3", "x4", "x5", "x6"}));
}

TYPED_TEST_P(LinkOptionsContract, ListTagsCountsLiveLinksMostUsedFirst) {
  auto tagged = [&](const char* code, core::Micros at, std::vector<std::string> tags) {
    core::Link link = NewLink(code, this->owner_, at);
    link.tags = std::move(tags);
    ASSERT_TRUE(this->links().Insert(link)) << code;
  };
  tagged("c1", kT0, {"News", "b"});
  tagged("c2", kT0 + 1, {"news", "a"});
  tagged("c3", kT0 + 2, {"NEWS", "b", "gone"});
  tagged("c4", kT0 + 3, {"a"});
  tagged("c5", kT0 + 4, {"gone"});
  ASSERT_TRUE(this->links().SoftDelete("c5", this->owner_, kT0 + 9));
  const std::int64_t other = AddUser(this->accounts(), "other@example.com").first;
  core::Link theirs = NewLink("c6", other, kT0);
  theirs.tags = {"news", "theirs"};
  ASSERT_TRUE(this->links().Insert(theirs));

  auto tags = this->links().ListTags(this->owner_);
  ASSERT_TRUE(tags) << Describe(tags);
  std::vector<std::pair<std::string, std::int64_t>> got;
  for (const core::TagCount& tag : *tags) got.emplace_back(tag.tag, tag.links);
  // The spelling of the first use; the deleted link's tag counts only its live link.
  EXPECT_EQ(got, (std::vector<std::pair<std::string, std::int64_t>>{
                     {"News", 3}, {"a", 2}, {"b", 2}, {"gone", 1}}));
  auto nobody = this->links().ListTags(other + 1000);
  ASSERT_TRUE(nobody) << Describe(nobody);
  EXPECT_TRUE(nobody->empty());
}

TYPED_TEST_P(LinkOptionsContract, UpdateReplacesFieldsAndTagsButKeepsCounters) {
  core::Link link = NewLink("upd1", this->owner_, kT0, "https://example.com/before");
  link.is_custom = true;
  link.click_count = 42;
  link.tags = {"old", "keep"};
  link.max_clicks = 10;
  link.clicks_used = 3;
  ASSERT_TRUE(this->links().Insert(link));

  core::Link changed = FullLink("upd1", this->owner_, kT0 + 500);
  changed.url = "https://example.com/after";
  changed.tags = {"Keep", "new"};
  changed.expires_at = kT0 + 7200 * core::kMicrosPerSecond;
  changed.metadata_json = R"({"v":2})";
  changed.is_custom = false;  // not changed by Update
  changed.click_count = 0;    // nor these
  changed.clicks_used = 0;
  ASSERT_TRUE(this->links().Update(changed));

  auto found = this->links().Find("upd1");
  ASSERT_TRUE(found) << Describe(found);
  EXPECT_EQ(found->url, "https://example.com/after");
  EXPECT_EQ(found->redirect_type, core::RedirectType::k308);
  EXPECT_EQ(found->expires_at, changed.expires_at);
  EXPECT_EQ(found->metadata_json, R"({"v":2})");
  EXPECT_EQ(found->title, changed.title);
  EXPECT_EQ(found->tags, (std::vector<std::string>{"Keep", "new"}));
  EXPECT_TRUE(found->forward_query);
  EXPECT_EQ(found->password_hash, changed.password_hash);
  EXPECT_EQ(found->max_clicks, 10);
  EXPECT_EQ(found->expired_url, changed.expired_url);
  EXPECT_EQ(found->rules, changed.rules);
  EXPECT_EQ(found->variants, changed.variants);
  EXPECT_EQ(found->og, changed.og);
  EXPECT_EQ(found->created_at, kT0);
  EXPECT_TRUE(found->is_custom);
  EXPECT_EQ(found->click_count, 42);
  EXPECT_EQ(found->clicks_used, 3);
  core::LinkQuery query;
  query.tags = {"old"};
  EXPECT_TRUE(this->Codes(query).empty());
  query.tags = {"NEW"};
  EXPECT_EQ(this->Codes(query), (std::vector<std::string>{"upd1"}));

  // Options removed again: the link is plain, and deduplicated (personal is recomputed).
  core::Link plain = NewLink("upd2", this->owner_, kT0, "https://example.com/same");
  plain.password_hash = "$argon2id$p";
  ASSERT_TRUE(this->links().Insert(plain));
  plain.password_hash.reset();
  ASSERT_TRUE(this->links().Update(plain));
  auto cleared = this->links().Find("upd2");
  ASSERT_TRUE(cleared) << Describe(cleared);
  EXPECT_FALSE(cleared->password_hash);
  EXPECT_TRUE(cleared->tags.empty());
  auto dup = this->links().FindDuplicate(this->owner_, "https://example.com/same",
                                         core::RedirectType::k301);
  ASSERT_TRUE(dup) << Describe(dup);
  ASSERT_TRUE(dup->has_value());
  EXPECT_EQ((*dup)->code, "upd2");
  auto second =
      this->links().Insert(NewLink("upd3", this->owner_, kT0, "https://example.com/same"));
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, core::ErrorCode::kConflict);
}

TYPED_TEST_P(LinkOptionsContract, UpdateOfADeletedOrAnotherOwnersLinkIsNotFound) {
  ASSERT_TRUE(this->links().Insert(NewLink("mine1", this->owner_, kT0)));
  const std::int64_t other = AddUser(this->accounts(), "other@example.com").first;
  core::Link theirs = NewLink("mine1", other, kT0, "https://evil.example/");
  auto stolen = this->links().Update(theirs);
  ASSERT_FALSE(stolen);
  EXPECT_EQ(stolen.error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(this->links().Find("mine1")->url, "https://example.com/mine1");

  ASSERT_TRUE(this->links().SoftDelete("mine1", this->owner_, kT0 + 1));
  core::Link revived = NewLink("mine1", this->owner_, kT0, "https://example.com/revived");
  auto updated = this->links().Update(revived);
  ASSERT_FALSE(updated);
  EXPECT_EQ(updated.error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(this->links().Find("mine1")->url, "https://example.com/mine1");

  auto unknown = this->links().Update(NewLink("never1", this->owner_, kT0));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, core::ErrorCode::kNotFound);
}

TYPED_TEST_P(LinkOptionsContract, UseClickSpendsTheBudgetExactly) {
  core::Link link = NewLink("once3", this->owner_, kT0);
  link.max_clicks = 3;
  ASSERT_TRUE(this->links().Insert(link));
  for (int i = 0; i < 3; ++i) {
    auto used = this->links().UseClick("once3");
    ASSERT_TRUE(used) << Describe(used);
    EXPECT_TRUE(*used) << i;
  }
  auto spent = this->links().UseClick("once3");
  ASSERT_TRUE(spent) << Describe(spent);
  EXPECT_FALSE(*spent);
  EXPECT_EQ(this->links().Find("once3")->clicks_used, 3);

  ASSERT_TRUE(this->links().Insert(NewLink("nobudget", this->owner_, kT0)));
  auto none = this->links().UseClick("nobudget");
  ASSERT_TRUE(none) << Describe(none);
  EXPECT_FALSE(*none);
  EXPECT_EQ(this->links().Find("nobudget")->clicks_used, 0);

  core::Link deleted = NewLink("deleted1", this->owner_, kT0);
  deleted.max_clicks = 3;
  ASSERT_TRUE(this->links().Insert(deleted));
  ASSERT_TRUE(this->links().SoftDelete("deleted1", this->owner_, kT0 + 1));
  auto dead = this->links().UseClick("deleted1");
  ASSERT_TRUE(dead) << Describe(dead);
  EXPECT_FALSE(*dead);

  auto unknown = this->links().UseClick("never2");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, core::ErrorCode::kNotFound);
}

TYPED_TEST_P(LinkOptionsContract, ConcurrentUseClickNeverOverspends) {
  constexpr int kThreads = 8;
  constexpr int kCallsPerThread = 50;
  constexpr std::int64_t kBudget = 100;
  core::Link link = NewLink("race1", this->owner_, kT0);
  link.max_clicks = kBudget;
  ASSERT_TRUE(this->links().Insert(link));
  std::atomic<int> granted{0};
  std::atomic<int> refused{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kCallsPerThread; ++i) {
        auto used = this->links().UseClick("race1");
        if (!used) {
          failed.fetch_add(1);
        } else {
          (*used ? granted : refused).fetch_add(1);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(granted.load(), kBudget);
  EXPECT_EQ(refused.load(), kThreads * kCallsPerThread - kBudget);
  EXPECT_EQ(this->links().Find("race1")->clicks_used, kBudget);
}

TYPED_TEST_P(LinkOptionsContract, InsertManyReportsEachLinkOnItsOwn) {
  ASSERT_TRUE(this->links().Insert(NewLink("taken1", this->owner_, kT0)));
  core::Link tagged = NewLink("bulk1", this->owner_, kT0 + 1);
  tagged.tags = {"bulk", "One"};
  core::Link full = FullLink("bulk4", this->owner_, kT0 + 4);
  const std::vector<core::Link> batch = {
      tagged,
      NewLink("taken1", this->owner_, kT0 + 2),  // the code is taken
      NewLink("bulk2", 987654, kT0 + 3),         // no such owner
      full,
      NewLink("bulk1", this->owner_, kT0 + 5),  // taken earlier in this batch
      NewLink("bulk5", this->owner_, kT0 + 6, "https://example.com/taken1"),  // a duplicate
      NewLink("bulk6", this->owner_, kT0 + 7),
  };
  auto results = this->links().InsertMany(batch);
  ASSERT_TRUE(results) << Describe(results);
  ASSERT_EQ(results->size(), batch.size());
  EXPECT_TRUE((*results)[0]) << Describe((*results)[0]);
  ASSERT_FALSE((*results)[1]);
  EXPECT_EQ((*results)[1].error().code, core::ErrorCode::kConflict);
  ASSERT_FALSE((*results)[2]);
  EXPECT_EQ((*results)[2].error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_TRUE((*results)[3]) << Describe((*results)[3]);
  ASSERT_FALSE((*results)[4]);
  EXPECT_EQ((*results)[4].error().code, core::ErrorCode::kConflict);
  ASSERT_FALSE((*results)[5]);
  EXPECT_EQ((*results)[5].error().code, core::ErrorCode::kConflict);
  EXPECT_TRUE((*results)[6]) << Describe((*results)[6]);

  // The successes are stored whole, the failures left no trace.
  auto bulk1 = this->links().Find("bulk1");
  ASSERT_TRUE(bulk1) << Describe(bulk1);
  EXPECT_EQ(bulk1->created_at, kT0 + 1);
  EXPECT_EQ(bulk1->tags, tagged.tags);
  auto bulk4 = this->links().Find("bulk4");
  ASSERT_TRUE(bulk4) << Describe(bulk4);
  EXPECT_EQ(bulk4->rules, full.rules);
  EXPECT_EQ(bulk4->tags, full.tags);
  EXPECT_TRUE(this->links().Find("bulk6"));
  EXPECT_EQ(this->links().Find("taken1")->created_at, kT0);
  EXPECT_EQ(this->links().Find("bulk2").error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(this->links().Find("bulk5").error().code, core::ErrorCode::kNotFound);
  core::LinkQuery query;
  query.tags = {"bulk"};
  EXPECT_EQ(this->Codes(query), (std::vector<std::string>{"bulk1"}));
  // The store is usable afterwards.
  EXPECT_TRUE(this->links().Insert(NewLink("after1", this->owner_, kT0 + 8)));
  auto empty = this->links().InsertMany({});
  ASSERT_TRUE(empty) << Describe(empty);
  EXPECT_TRUE(empty->empty());
}

REGISTER_TYPED_TEST_SUITE_P(LinkOptionsContract, InsertThenFindRoundTripsEveryOption,
                            DeduplicationSkipsPersonalLinks, EachSortPagesWithoutDuplicatesOrMisses,
                            TagFilterWantsEveryTagIgnoringCase,
                            TextFilterIsASubstringOfCodeUrlOrTitleWithLiteralWildcards,
                            ListTagsCountsLiveLinksMostUsedFirst,
                            UpdateReplacesFieldsAndTagsButKeepsCounters,
                            UpdateOfADeletedOrAnotherOwnersLinkIsNotFound,
                            UseClickSpendsTheBudgetExactly, ConcurrentUseClickNeverOverspends,
                            InsertManyReportsEachLinkOnItsOwn);

}  // namespace kurz::testing
