#pragma once

#include <algorithm>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "adapters/contract/helpers.hpp"
#include "ports/raw_click_store.hpp"

// The RawClickStore contract. Instantiate with a backend type that has Store() (a store whose
// schema exists, empty) and StoredRows(code): every stored row of a code, read back outside the
// port, for round-trip checks. A backend that merges copies in the background (ClickHouse) holds
// merges for the test, so that "every copy" is observable.
namespace kurz::testing {

inline ports::RawClick NewRawClick(std::string event_id, std::string code, core::Micros at,
                                   std::int64_t offset = 0) {
  ports::RawClick click;
  click.event_id = std::move(event_id);
  click.at = at;
  click.code = std::move(code);
  click.visitor = std::string(32, 'a');
  click.country = "DE";
  click.city = "Berlin";
  click.referrer = "(direct)";
  click.device = "Other";
  click.browser = "Firefox";
  click.os = "Linux";
  click.user_agent = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0";
  click.accept_language = "de-DE,de;q=0.9";
  click.partition = 0;
  click.offset = offset;
  return click;
}

// A 32-character hex event id per n.
inline std::string EventId(long long n) {
  std::string id = Numbered("", n);
  return std::string(32 - id.size(), 'e') + id;
}

inline void SortEvents(std::vector<ports::StoredEvent>& events) {
  std::sort(events.begin(), events.end(), [](const auto& a, const auto& b) {
    return std::tie(a.event_id, a.partition, a.offset) <
           std::tie(b.event_id, b.partition, b.offset);
  });
}

inline void SortClicks(std::vector<ports::RawClick>& clicks) {
  std::sort(clicks.begin(), clicks.end(), [](const auto& a, const auto& b) {
    return std::tie(a.event_id, a.partition, a.offset) <
           std::tie(b.event_id, b.partition, b.offset);
  });
}

template <class Backend>
class RawClickStoreContract : public ::testing::Test {
 protected:
  ports::RawClickStore& store() { return backend_.Store(); }

  std::int64_t CountOf(const std::string& code, core::Micros from, core::Micros to) {
    auto count = store().Count(code, from, to);
    EXPECT_TRUE(count) << Describe(count);
    return count ? *count : -1;
  }

  std::vector<ports::StoredEvent> FindSorted(const std::vector<std::string>& codes,
                                             const std::vector<std::string>& ids) {
    auto found = store().Find(codes, ids);
    EXPECT_TRUE(found) << Describe(found);
    if (!found) return {};
    SortEvents(*found);
    return *found;
  }

  Backend backend_;
};

TYPED_TEST_SUITE_P(RawClickStoreContract);

TYPED_TEST_P(RawClickStoreContract, InsertedEventsAreCountedPerCode) {
  const std::vector<ports::RawClick> rows = {
      NewRawClick(EventId(1), "abc", kT0, 1),
      NewRawClick(EventId(2), "abc", kT0 + 1, 2),
      NewRawClick(EventId(3), "abc", kT0 + 3600 * core::kMicrosPerSecond, 3),
      NewRawClick(EventId(4), "xyz", kT0, 4),
  };
  ASSERT_TRUE(this->store().Insert(rows));
  const core::Micros day_later = kT0 + 86'400 * core::kMicrosPerSecond;
  EXPECT_EQ(this->CountOf("abc", kT0, day_later), 3);
  EXPECT_EQ(this->CountOf("xyz", kT0, day_later), 1);
  EXPECT_EQ(this->CountOf("ABC", kT0, day_later), 0);  // codes are case-sensitive
  EXPECT_EQ(this->CountOf("nothing", kT0, day_later), 0);
  EXPECT_EQ(this->CountOf("abc", kT0, kT0 + 3600 * core::kMicrosPerSecond), 2);
}

TYPED_TEST_P(RawClickStoreContract, BotClicksAreCountedToo) {
  auto human = NewRawClick(EventId(1), "abc", kT0, 1);
  auto bot = NewRawClick(EventId(2), "abc", kT0, 2);
  bot.bot = true;
  ASSERT_TRUE(this->store().Insert({human, bot}));
  EXPECT_EQ(this->CountOf("abc", kT0, kT0 + 1), 2);
}

TYPED_TEST_P(RawClickStoreContract, ReinsertedRowsCountOnce) {
  std::vector<ports::RawClick> batch;
  for (int i = 0; i < 20; ++i) batch.push_back(NewRawClick(EventId(i), "abc", kT0 + i, i));
  ASSERT_TRUE(this->store().Insert(batch));
  ASSERT_TRUE(this->store().Insert(batch));  // a batch retried after a crash
  // The same events read again at other positions (a rebalance before the commit).
  std::vector<ports::RawClick> moved(batch.begin(), batch.begin() + 5);
  for (ports::RawClick& row : moved) {
    row.partition = 3;
    row.offset += 1000;
  }
  ASSERT_TRUE(this->store().Insert(moved));
  EXPECT_EQ(this->CountOf("abc", kT0, kT0 + core::kMicrosPerSecond), 20);
  EXPECT_EQ(this->CountOf("abc", kT0 + 5, kT0 + core::kMicrosPerSecond), 15);
}

TYPED_TEST_P(RawClickStoreContract, StringsRoundTripByteForByte) {
  std::string every_byte;
  for (int b = 0; b < 256; ++b) every_byte += static_cast<char>(b);
  auto row = NewRawClick(EventId(1), "abc", kT0 + 123'456, 77);
  row.visitor = std::string(32, 'f');
  row.bot = true;
  row.country = "ZZ";
  row.city = "Zürich \"quoted\" 'single' \\ back\\slash";
  row.referrer = "(unknown)";
  row.device = "tab\there\tand\nnewline\r\nCRLF";
  row.browser = "\\t is not a tab, \\n is not a newline, \\\\ two, \\x41, \\N, \\";
  row.os = std::string("NUL\0inside", 10);
  row.user_agent = "invalid UTF-8: \xff\xfe\xc3\x28 \xed\xa0\x80 end\\";
  row.accept_language = every_byte;
  row.partition = -5;
  row.offset = 9'007'199'254'740'993LL;  // 2^53 + 1: not a double
  auto empty = NewRawClick(EventId(2), "abc", kT0, 78);
  empty.city = "";
  empty.user_agent = "";
  empty.accept_language = "";
  ASSERT_TRUE(this->store().Insert({row, empty}));
  auto stored = this->backend_.StoredRows("abc");
  SortClicks(stored);
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[0], row);
  EXPECT_EQ(stored[1], empty);
}

TYPED_TEST_P(RawClickStoreContract, CodesAndIdsWithQuotesAndBackslashesAreLiterals) {
  const std::string code = "it's \\' OR 1=1 -- \t\n\"x\"";
  const std::string id = "id'\\''\\";
  ASSERT_TRUE(this->store().Insert(
      {NewRawClick(id, code, kT0, 5), NewRawClick(EventId(9), "plain", kT0, 6)}));
  EXPECT_EQ(this->CountOf(code, kT0, kT0 + 1), 1);
  EXPECT_EQ(this->CountOf("it's", kT0, kT0 + 1), 0);
  EXPECT_EQ(this->FindSorted({code}, {id}), (std::vector<ports::StoredEvent>{{id, 0, 5}}));
  EXPECT_TRUE(this->FindSorted({code, "plain"}, {"id'", "' OR '1'='1"}).empty());
  auto stored = this->backend_.StoredRows(code);
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].code, code);
  EXPECT_EQ(stored[0].event_id, id);
}

TYPED_TEST_P(RawClickStoreContract, FindReturnsEveryStoredCopyAndNothingForUnknownIds) {
  auto a = NewRawClick(EventId(1), "abc", kT0, 10);
  auto b = NewRawClick(EventId(2), "abc", kT0 + 5, 11);
  auto c = NewRawClick(EventId(3), "xyz", kT0, 12);
  ASSERT_TRUE(this->store().Insert({a, b, c}));
  auto a_again = a;  // read again from another partition, stored again
  a_again.partition = 2;
  a_again.offset = 500;
  ASSERT_TRUE(this->store().Insert({a_again}));

  EXPECT_EQ(this->FindSorted({"abc", "xyz"}, {EventId(1), EventId(3), EventId(99)}),
            (std::vector<ports::StoredEvent>{
                {EventId(1), 0, 10}, {EventId(1), 2, 500}, {EventId(3), 0, 12}}));
  // The codes narrow the search: an event under another code is not found.
  EXPECT_EQ(this->FindSorted({"abc"}, {EventId(2), EventId(3)}),
            (std::vector<ports::StoredEvent>{{EventId(2), 0, 11}}));
  EXPECT_TRUE(this->FindSorted({"abc"}, {EventId(98), EventId(99)}).empty());
  EXPECT_TRUE(this->FindSorted({"nothing"}, {EventId(1)}).empty());
  EXPECT_TRUE(this->FindSorted({}, {EventId(1)}).empty());
  EXPECT_TRUE(this->FindSorted({"abc"}, {}).empty());
  // Repeated ids and codes in the question do not repeat the answer.
  EXPECT_EQ(this->FindSorted({"abc", "abc"}, {EventId(2), EventId(2)}),
            (std::vector<ports::StoredEvent>{{EventId(2), 0, 11}}));
}

TYPED_TEST_P(RawClickStoreContract, FindHandlesThousandsOfIds) {
  std::vector<ports::RawClick> rows;
  std::vector<std::string> ids;
  std::vector<ports::StoredEvent> expected;
  for (int i = 0; i < 2500; ++i) {
    const std::string code = Numbered("c", i % 7);
    rows.push_back(NewRawClick(EventId(i), code, kT0 + i * 1000LL, 100 + i));
    expected.push_back({EventId(i), 0, 100 + i});
  }
  ASSERT_TRUE(this->store().Insert(rows));
  for (int i = 0; i < 2600; ++i) ids.push_back(EventId(i));  // 100 unknown
  std::vector<std::string> codes;
  for (int c = 0; c < 7; ++c) codes.push_back(Numbered("c", c));
  SortEvents(expected);
  EXPECT_EQ(this->FindSorted(codes, ids), expected);
}

TYPED_TEST_P(RawClickStoreContract, CountBoundsAreExactToTheMicrosecond) {
  const core::Micros s = kT0 + 42 * core::kMicrosPerSecond;  // a whole second
  ASSERT_TRUE(this->store().Insert({
      NewRawClick(EventId(1), "abc", s - 1, 1),          // ..., 41.999999
      NewRawClick(EventId(2), "abc", s, 2),              // 42.000000
      NewRawClick(EventId(3), "abc", s + 1, 3),          // 42.000001
      NewRawClick(EventId(4), "abc", s + 999'999, 4),    // 42.999999
      NewRawClick(EventId(5), "abc", s + 1'000'000, 5),  // 43.000000
  }));
  EXPECT_EQ(this->CountOf("abc", s, s + 1), 1);
  EXPECT_EQ(this->CountOf("abc", s - 1, s), 1);
  EXPECT_EQ(this->CountOf("abc", s - 1, s + 1), 2);
  EXPECT_EQ(this->CountOf("abc", s + 1, s + 999'999), 1);
  EXPECT_EQ(this->CountOf("abc", s + 1, s + 1'000'000), 2);
  EXPECT_EQ(this->CountOf("abc", s, s + 1'000'001), 4);
  EXPECT_EQ(this->CountOf("abc", s - 1, s + 1'000'001), 5);
  EXPECT_EQ(this->CountOf("abc", s + 2, s + 999'999), 0);
  EXPECT_EQ(this->CountOf("abc", s, s), 0);          // empty range
  EXPECT_EQ(this->CountOf("abc", s + 5, s - 5), 0);  // reversed range
  // Days apart, and bounds beyond what can be stored.
  const core::Micros day = 86'400 * core::kMicrosPerSecond;
  ASSERT_TRUE(this->store().Insert({NewRawClick(EventId(6), "abc", s + 40 * day, 6)}));
  EXPECT_EQ(this->CountOf("abc", s, s + 40 * day), 4);
  EXPECT_EQ(this->CountOf("abc", s, s + 40 * day + 1), 5);
  EXPECT_EQ(this->CountOf("abc", -100 * day, 200LL * 365 * day * 1000), 6);
}

TYPED_TEST_P(RawClickStoreContract, TimesAtTheEdgesOfTheSupportedRange) {
  const core::Micros end = 4'102'444'800LL * core::kMicrosPerSecond;  // 2100-01-01
  auto first = NewRawClick(EventId(1), "abc", 0, 1);
  auto last = NewRawClick(EventId(2), "abc", end - 1, 2);
  ASSERT_TRUE(this->store().Insert({first, last}));
  EXPECT_EQ(this->CountOf("abc", 0, 1), 1);
  EXPECT_EQ(this->CountOf("abc", end - 1, end), 1);
  auto stored = this->backend_.StoredRows("abc");
  SortClicks(stored);
  EXPECT_EQ(stored, (std::vector<ports::RawClick>{first, last}));

  for (const core::Micros at : {core::Micros{-1}, end, end + 1'000'000}) {
    auto bad = this->store().Insert(
        {NewRawClick(EventId(3), "abc", kT0, 3), NewRawClick(EventId(4), "abc", at, 4)});
    ASSERT_FALSE(bad) << at;
    EXPECT_EQ(bad.error().code, core::ErrorCode::kInvalidArgument);
  }
  EXPECT_EQ(this->CountOf("abc", kT0, kT0 + 1), 0);  // all or nothing
}

TYPED_TEST_P(RawClickStoreContract, EmptyInsertIsANoOp) {
  auto done = this->store().Insert({});
  EXPECT_TRUE(done) << Describe(done);
  EXPECT_EQ(this->CountOf("abc", 0, kT0 * 2), 0);
}

TYPED_TEST_P(RawClickStoreContract, EnsureSchemaAgainKeepsTheRows) {
  ASSERT_TRUE(this->store().Insert({NewRawClick(EventId(1), "abc", kT0, 1)}));
  auto again = this->store().EnsureSchema();
  EXPECT_TRUE(again) << Describe(again);
  auto once_more = this->store().EnsureSchema();
  EXPECT_TRUE(once_more) << Describe(once_more);
  EXPECT_EQ(this->CountOf("abc", kT0, kT0 + 1), 1);
}

TYPED_TEST_P(RawClickStoreContract, ConcurrentCallsAreSafe) {
  constexpr int kThreads = 4;
  constexpr int kBatches = 5;
  constexpr int kRows = 20;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      EXPECT_TRUE(this->store().EnsureSchema());
      for (int b = 0; b < kBatches; ++b) {
        std::vector<ports::RawClick> rows;
        for (int r = 0; r < kRows; ++r) {
          const int n = (t * kBatches + b) * kRows + r;
          rows.push_back(NewRawClick(EventId(n), "abc", kT0 + n, n));
        }
        auto done = this->store().Insert(rows);
        EXPECT_TRUE(done) << Describe(done);
        auto count = this->store().Count("abc", kT0, kT0 + core::kMicrosPerSecond);
        EXPECT_TRUE(count && *count >= kRows) << Describe(count);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(this->CountOf("abc", kT0, kT0 + core::kMicrosPerSecond), kThreads * kBatches * kRows);
}

REGISTER_TYPED_TEST_SUITE_P(RawClickStoreContract, InsertedEventsAreCountedPerCode,
                            BotClicksAreCountedToo, ReinsertedRowsCountOnce,
                            StringsRoundTripByteForByte,
                            CodesAndIdsWithQuotesAndBackslashesAreLiterals,
                            FindReturnsEveryStoredCopyAndNothingForUnknownIds,
                            FindHandlesThousandsOfIds, CountBoundsAreExactToTheMicrosecond,
                            TimesAtTheEdgesOfTheSupportedRange, EmptyInsertIsANoOp,
                            EnsureSchemaAgainKeepsTheRows, ConcurrentCallsAreSafe);

}  // namespace kurz::testing
