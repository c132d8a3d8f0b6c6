#pragma once

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "adapters/contract/helpers.hpp"
#include "ports/link_store.hpp"

// The LinkStore contract. Instantiate with a backend type (see backends.hpp).
namespace kurz::testing {

template <class Backend>
class LinkStoreContract : public ::testing::Test {
 protected:
  void SetUp() override { owner_ = AddUser(backend_.Accounts(), "owner@example.com").first; }

  ports::LinkStore& links() { return backend_.Links(); }
  ports::AccountStore& accounts() { return backend_.Accounts(); }

  // The codes of the owner's whole listing, read in pages of page_size.
  std::vector<std::string> ReadAllPages(std::int64_t owner, int page_size) {
    std::vector<std::string> codes;
    std::optional<core::ListCursor> cursor;
    for (int guard = 0; guard < 1000; ++guard) {
      auto page = links().ListByOwner(owner, cursor, page_size);
      EXPECT_TRUE(page.has_value()) << Describe(page);
      if (!page || page->empty()) break;
      EXPECT_LE(static_cast<int>(page->size()), page_size);
      for (const core::Link& link : *page) codes.push_back(link.code);
      cursor = core::ListCursor{page->back().created_at, page->back().code};
    }
    return codes;
  }

  Backend backend_;
  std::int64_t owner_ = 0;
};

TYPED_TEST_SUITE_P(LinkStoreContract);

TYPED_TEST_P(LinkStoreContract, InsertThenFindRoundTripsEveryField) {
  auto key = this->accounts().CreateKey([&] {
    core::ApiKey k = NewKey("second");
    k.user_id = this->owner_;
    return k;
  }());
  ASSERT_TRUE(key) << Describe(key);
  core::Link link = NewLink("launch-2026", this->owner_, kT0, "https://example.com/a?b=c#d");
  link.api_key_id = key->id;
  link.expires_at = kT0 + 3600 * core::kMicrosPerSecond;
  link.is_custom = true;
  link.redirect_type = core::RedirectType::k307;
  link.metadata_json = R"({"campaign":"spring"})";
  ASSERT_TRUE(this->links().Insert(link));

  auto found = this->links().Find("launch-2026");
  ASSERT_TRUE(found) << Describe(found);
  EXPECT_EQ(found->code, link.code);
  EXPECT_EQ(found->url, link.url);
  EXPECT_EQ(found->owner_id, this->owner_);
  EXPECT_EQ(found->api_key_id, key->id);
  EXPECT_EQ(found->created_at, kT0);
  EXPECT_EQ(found->expires_at, link.expires_at);
  EXPECT_FALSE(found->deleted_at.has_value());
  EXPECT_TRUE(found->is_custom);
  EXPECT_EQ(found->redirect_type, core::RedirectType::k307);
  EXPECT_EQ(found->metadata_json, link.metadata_json);
  EXPECT_EQ(found->click_count, 0);
  EXPECT_FALSE(found->owner_suspended);
}

TYPED_TEST_P(LinkStoreContract, FindUnknownCodeIsNotFound) {
  auto found = this->links().Find("nope123");
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().code, core::ErrorCode::kNotFound);
}

TYPED_TEST_P(LinkStoreContract, CodesAreCaseSensitive) {
  ASSERT_TRUE(this->links().Insert(NewLink("abcDEF1", this->owner_, kT0, "https://a.example/")));
  ASSERT_TRUE(this->links().Insert(NewLink("abcdef1", this->owner_, kT0, "https://b.example/")));
  EXPECT_EQ(this->links().Find("abcDEF1")->url, "https://a.example/");
  EXPECT_EQ(this->links().Find("abcdef1")->url, "https://b.example/");
}

TYPED_TEST_P(LinkStoreContract, InsertTakenCodeIsConflictAndKeepsTheFirst) {
  ASSERT_TRUE(this->links().Insert(NewLink("taken", this->owner_, kT0, "https://first/")));
  auto other = AddUser(this->accounts(), "other@example.com").first;
  auto again = this->links().Insert(NewLink("taken", other, kT0 + 1, "https://second/"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, core::ErrorCode::kConflict);
  EXPECT_EQ(this->links().Find("taken")->url, "https://first/");
}

TYPED_TEST_P(LinkStoreContract, InsertDeletedCodeIsConflict) {
  ASSERT_TRUE(this->links().Insert(NewLink("gone1", this->owner_, kT0)));
  ASSERT_TRUE(this->links().SoftDelete("gone1", this->owner_, kT0 + 5));
  auto again = this->links().Insert(NewLink("gone1", this->owner_, kT0 + 10));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, core::ErrorCode::kConflict);
}

TYPED_TEST_P(LinkStoreContract, InsertExpiredCodeIsConflict) {
  core::Link link = NewLink("expired", this->owner_, kT0);
  link.expires_at = kT0 + 1;
  ASSERT_TRUE(this->links().Insert(link));
  auto again = this->links().Insert(NewLink("expired", this->owner_, kT0 + 10));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, core::ErrorCode::kConflict);
}

TYPED_TEST_P(LinkStoreContract, InsertWithUnknownOwnerIsInvalidArgument) {
  auto inserted = this->links().Insert(NewLink("orphan", 987654, kT0));
  ASSERT_FALSE(inserted);
  EXPECT_EQ(inserted.error().code, core::ErrorCode::kInvalidArgument) << Describe(inserted);
  EXPECT_FALSE(this->links().Find("orphan"));
}

TYPED_TEST_P(LinkStoreContract, UrlOfAtMost2048BytesIsStored) {
  const std::string base = "https://example.com/";
  std::string longest = base + std::string(2048 - base.size(), 'a');
  ASSERT_TRUE(this->links().Insert(NewLink("long1", this->owner_, kT0, longest)));
  EXPECT_EQ(this->links().Find("long1")->url, longest);
  // 2049 bytes, of which fewer than 2048 characters: the limit is on bytes.
  std::string too_long = base + std::string(2048 - base.size() - 3, 'a') + "\xC3\x9F\xC3\x9F";
  ASSERT_EQ(too_long.size(), 2049u);
  auto inserted = this->links().Insert(NewLink("long2", this->owner_, kT0, too_long));
  ASSERT_FALSE(inserted);
  EXPECT_EQ(inserted.error().code, core::ErrorCode::kInvalidArgument);
}

TYPED_TEST_P(LinkStoreContract, CodesUpTo32CharactersAreStored) {
  const std::string code32(32, 'x');
  ASSERT_TRUE(this->links().Insert(NewLink(code32, this->owner_, kT0)));
  EXPECT_TRUE(this->links().Find(code32));
  auto inserted = this->links().Insert(NewLink(std::string(33, 'y'), this->owner_, kT0));
  ASSERT_FALSE(inserted);
  EXPECT_EQ(inserted.error().code, core::ErrorCode::kInvalidArgument);
}

TYPED_TEST_P(LinkStoreContract, AnOwnerHasOneActivePlainLinkPerUrlAndType) {
  const std::string url = "https://example.com/dup";
  ASSERT_TRUE(this->links().Insert(NewLink("first", this->owner_, kT0, url)));
  auto second = this->links().Insert(NewLink("second", this->owner_, kT0 + 10, url));
  ASSERT_FALSE(second) << "two identical plain links were stored";
  EXPECT_EQ(second.error().code, core::ErrorCode::kConflict);
  EXPECT_FALSE(this->links().Find("second"));

  auto dup = this->links().FindDuplicate(this->owner_, url, core::RedirectType::k301);
  ASSERT_TRUE(dup) << Describe(dup);
  ASSERT_TRUE(dup->has_value());
  EXPECT_EQ((*dup)->code, "first");
  EXPECT_EQ((*dup)->url, url);

  // Once the first is deleted, a new one may take its place.
  ASSERT_TRUE(this->links().SoftDelete("first", this->owner_, kT0 + 20));
  ASSERT_TRUE(this->links().Insert(NewLink("third", this->owner_, kT0 + 30, url)));
}

TYPED_TEST_P(LinkStoreContract, FindDuplicateIgnoresLinksThatDoNotQualify) {
  const std::string url = "https://example.com/dup";
  const std::int64_t other = AddUser(this->accounts(), "other@example.com").first;
  core::Link custom = NewLink("custom", this->owner_, kT0 + 1, url);
  custom.is_custom = true;
  core::Link expiring = NewLink("expiring", this->owner_, kT0 + 2, url);
  expiring.expires_at = kT0 + 1'000'000'000;
  core::Link deleted = NewLink("deleted", this->owner_, kT0 + 3, url);
  core::Link temporary = NewLink("temporary", this->owner_, kT0 + 4, url);
  temporary.redirect_type = core::RedirectType::k302;
  core::Link foreign = NewLink("foreign", other, kT0 + 5, url);
  core::Link similar = NewLink("similar", this->owner_, kT0 + 6, url + "/");
  for (const core::Link& link : {custom, expiring, deleted, temporary, foreign, similar}) {
    ASSERT_TRUE(this->links().Insert(link)) << link.code;
  }
  ASSERT_TRUE(this->links().SoftDelete("deleted", this->owner_, kT0 + 7));

  auto none = this->links().FindDuplicate(this->owner_, url, core::RedirectType::k301);
  ASSERT_TRUE(none) << Describe(none);
  EXPECT_FALSE(none->has_value()) << (*none)->code;

  auto by_type = this->links().FindDuplicate(this->owner_, url, core::RedirectType::k302);
  ASSERT_TRUE(by_type && by_type->has_value());
  EXPECT_EQ((*by_type)->code, "temporary");

  auto by_owner = this->links().FindDuplicate(other, url, core::RedirectType::k301);
  ASSERT_TRUE(by_owner && by_owner->has_value());
  EXPECT_EQ((*by_owner)->code, "foreign");
}

TYPED_TEST_P(LinkStoreContract, ListByOwnerIsNewestFirstWithCodeBreakingTies) {
  ASSERT_TRUE(this->links().Insert(NewLink("b", this->owner_, kT0)));
  ASSERT_TRUE(this->links().Insert(NewLink("c", this->owner_, kT0)));
  ASSERT_TRUE(this->links().Insert(NewLink("a", this->owner_, kT0)));
  ASSERT_TRUE(this->links().Insert(NewLink("z", this->owner_, kT0 - 1)));
  ASSERT_TRUE(this->links().Insert(NewLink("y", this->owner_, kT0 + 1)));
  auto page = this->links().ListByOwner(this->owner_, std::nullopt, 10);
  ASSERT_TRUE(page) << Describe(page);
  std::vector<std::string> codes;
  for (const core::Link& link : *page) codes.push_back(link.code);
  EXPECT_EQ(codes, (std::vector<std::string>{"y", "c", "b", "a", "z"}));
}

TYPED_TEST_P(LinkStoreContract, ListByOwnerPagesWithAKeysetCursor) {
  const std::int64_t other = AddUser(this->accounts(), "other@example.com").first;
  // 30 links in groups of 3 sharing created_at, inserted out of order; some deleted; some of
  // another owner.
  std::vector<std::pair<core::Micros, std::string>> expected;
  for (int i = 29; i >= 0; --i) {
    const core::Micros at = kT0 + (i / 3) * 1000;
    const std::string code = Numbered("c", 100 + (i * 7) % 30);
    ASSERT_TRUE(this->links().Insert(NewLink(code, this->owner_, at)));
    if (i % 10 == 4) {
      ASSERT_TRUE(this->links().SoftDelete(code, this->owner_, kT0));
    } else {
      expected.emplace_back(at, code);
    }
    ASSERT_TRUE(this->links().Insert(NewLink("o" + code, other, at)));
  }
  std::sort(expected.begin(), expected.end(), std::greater<>());
  std::vector<std::string> expected_codes;
  for (const auto& [at, code] : expected) expected_codes.push_back(code);

  for (int page_size : {1, 2, 3, 4, 7, 27, 100}) {
    EXPECT_EQ(this->ReadAllPages(this->owner_, page_size), expected_codes) << page_size;
  }
}

TYPED_TEST_P(LinkStoreContract, ListByOwnerAfterTheLastIsEmpty) {
  ASSERT_TRUE(this->links().Insert(NewLink("only", this->owner_, kT0)));
  auto page = this->links().ListByOwner(this->owner_, core::ListCursor{kT0, "only"}, 10);
  ASSERT_TRUE(page) << Describe(page);
  EXPECT_TRUE(page->empty());
  auto nobody = this->links().ListByOwner(this->owner_ + 1000, std::nullopt, 10);
  ASSERT_TRUE(nobody);
  EXPECT_TRUE(nobody->empty());
}

TYPED_TEST_P(LinkStoreContract, SoftDeleteMarksTheLinkOnce) {
  ASSERT_TRUE(this->links().Insert(NewLink("del", this->owner_, kT0)));
  ASSERT_TRUE(this->links().SoftDelete("del", this->owner_, kT0 + 42));
  auto found = this->links().Find("del");
  ASSERT_TRUE(found) << Describe(found);
  EXPECT_EQ(found->deleted_at, kT0 + 42);
  EXPECT_TRUE(found->IsGoneAt(kT0 + 43));

  auto twice = this->links().SoftDelete("del", this->owner_, kT0 + 50);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(this->links().Find("del")->deleted_at, kT0 + 42);

  auto unknown = this->links().SoftDelete("never", this->owner_, kT0);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, core::ErrorCode::kNotFound);
}

TYPED_TEST_P(LinkStoreContract, SoftDeleteOfAnotherOwnersLinkIsNotFound) {
  const std::int64_t other = AddUser(this->accounts(), "other@example.com").first;
  ASSERT_TRUE(this->links().Insert(NewLink("mine", this->owner_, kT0)));
  auto deleted = this->links().SoftDelete("mine", other, kT0 + 1);
  ASSERT_FALSE(deleted);
  EXPECT_EQ(deleted.error().code, core::ErrorCode::kNotFound);
  EXPECT_FALSE(this->links().Find("mine")->deleted_at.has_value());
  EXPECT_EQ(this->links().ListByOwner(this->owner_, std::nullopt, 10)->size(), 1u);
}

TYPED_TEST_P(LinkStoreContract, OwnerSuspensionIsVisibleOnEveryRead) {
  const std::string url = "https://example.com/s";
  ASSERT_TRUE(this->links().Insert(NewLink("susp", this->owner_, kT0, url)));
  ASSERT_TRUE(this->accounts().SetUserStatus(this->owner_, core::UserStatus::kSuspended));

  auto found = this->links().Find("susp");
  ASSERT_TRUE(found) << Describe(found);
  EXPECT_TRUE(found->owner_suspended);
  EXPECT_TRUE(found->IsGoneAt(kT0));
  auto listed = this->links().ListByOwner(this->owner_, std::nullopt, 10);
  ASSERT_TRUE(listed && listed->size() == 1);
  EXPECT_TRUE(listed->front().owner_suspended);
  auto dup = this->links().FindDuplicate(this->owner_, url, core::RedirectType::k301);
  ASSERT_TRUE(dup && dup->has_value());
  EXPECT_TRUE((*dup)->owner_suspended);

  ASSERT_TRUE(this->accounts().SetUserStatus(this->owner_, core::UserStatus::kActive));
  EXPECT_FALSE(this->links().Find("susp")->owner_suspended);
}

TYPED_TEST_P(LinkStoreContract, LeaseCodeBlockHandsOutConsecutiveBlocksFromZero) {
  auto first = this->links().LeaseCodeBlock(1000);
  ASSERT_TRUE(first) << Describe(first);
  EXPECT_EQ(*first, 0u);
  auto second = this->links().LeaseCodeBlock(10);
  ASSERT_TRUE(second);
  EXPECT_EQ(*second, 1000u);
  EXPECT_EQ(*this->links().LeaseCodeBlock(1), 1010u);
  auto zero = this->links().LeaseCodeBlock(0);
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().code, core::ErrorCode::kInvalidArgument);
}

TYPED_TEST_P(LinkStoreContract, LeaseCodeBlocksNeverOverlapAcrossThreads) {
  constexpr int kThreads = 16;
  constexpr int kLeasesPerThread = 25;
  std::mutex mu;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> blocks;  // [first, first + count)
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kLeasesPerThread; ++i) {
        const std::uint64_t count = 1 + static_cast<std::uint64_t>((t * 31 + i * 17) % 100);
        auto first = this->links().LeaseCodeBlock(count);
        std::lock_guard lock(mu);
        EXPECT_TRUE(first) << Describe(first);
        if (first) blocks.emplace_back(*first, *first + count);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_EQ(blocks.size(), static_cast<std::size_t>(kThreads * kLeasesPerThread));
  std::sort(blocks.begin(), blocks.end());
  EXPECT_EQ(blocks.front().first, 0u);
  for (std::size_t i = 1; i < blocks.size(); ++i) {
    // No overlap and no gap: the counter was advanced exactly once per lease.
    EXPECT_EQ(blocks[i].first, blocks[i - 1].second) << i;
  }
}

REGISTER_TYPED_TEST_SUITE_P(
    LinkStoreContract, InsertThenFindRoundTripsEveryField, FindUnknownCodeIsNotFound,
    CodesAreCaseSensitive, InsertTakenCodeIsConflictAndKeepsTheFirst, InsertDeletedCodeIsConflict,
    InsertExpiredCodeIsConflict, InsertWithUnknownOwnerIsInvalidArgument,
    UrlOfAtMost2048BytesIsStored, CodesUpTo32CharactersAreStored,
    AnOwnerHasOneActivePlainLinkPerUrlAndType, FindDuplicateIgnoresLinksThatDoNotQualify,
    ListByOwnerIsNewestFirstWithCodeBreakingTies, ListByOwnerPagesWithAKeysetCursor,
    ListByOwnerAfterTheLastIsEmpty, SoftDeleteMarksTheLinkOnce,
    SoftDeleteOfAnotherOwnersLinkIsNotFound, OwnerSuspensionIsVisibleOnEveryRead,
    LeaseCodeBlockHandsOutConsecutiveBlocksFromZero, LeaseCodeBlocksNeverOverlapAcrossThreads);

}  // namespace kurz::testing
