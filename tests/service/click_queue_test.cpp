#include "service/click_queue.hpp"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace kurz::service {
namespace {

bool PushCode(ClickQueue& queue, std::string_view code, core::Micros at = 0) {
  return queue.TryPush([&](core::ClickEvent& e) {
    e.code.Assign(code);
    e.at = at;
  });
}

TEST(ClickQueueTest, CapacityIsRoundedUpToAPowerOfTwo) {
  EXPECT_EQ(ClickQueue(5).capacity(), 8u);
  EXPECT_EQ(ClickQueue(8).capacity(), 8u);
  EXPECT_EQ(ClickQueue(65'536).capacity(), 65'536u);
  EXPECT_GE(ClickQueue(0).capacity(), 1u);
  EXPECT_GE(ClickQueue(1).capacity(), 1u);
}

TEST(ClickQueueTest, PopsInOrderWithWhatWasFilled) {
  ClickQueue queue(16);
  ASSERT_TRUE(queue.TryPush([](core::ClickEvent& e) {
    e.id_hi = 42;
    e.at = 1000;
    e.code.Assign("abc1234");
    e.ip[15] = 7;
    e.user_agent.Assign("curl/8.0");
    e.referrer.Assign("https://news.example/");
    e.accept_language.Assign("de-DE");
  }));
  ASSERT_TRUE(PushCode(queue, "second"));
  EXPECT_EQ(queue.depth(), 2u);

  std::vector<core::ClickEvent> out(8);
  ASSERT_EQ(queue.PopBatch(out), 2u);
  EXPECT_EQ(out[0].id_hi, 42u);
  EXPECT_EQ(out[0].at, 1000);
  EXPECT_EQ(out[0].code.view(), "abc1234");
  EXPECT_EQ(out[0].ip[15], 7);
  EXPECT_EQ(out[0].user_agent.view(), "curl/8.0");
  EXPECT_EQ(out[0].referrer.view(), "https://news.example/");
  EXPECT_EQ(out[0].accept_language.view(), "de-DE");
  EXPECT_EQ(out[1].code.view(), "second");
  EXPECT_EQ(queue.depth(), 0u);
  EXPECT_EQ(queue.PopBatch(out), 0u) << "an empty queue pops nothing";
}

TEST(ClickQueueTest, PopBatchTakesAtMostTheSpanSize) {
  ClickQueue queue(16);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(PushCode(queue, "c" + std::to_string(i)));
  std::vector<core::ClickEvent> out(4);
  ASSERT_EQ(queue.PopBatch(out), 4u);
  EXPECT_EQ(out[3].code.view(), "c3");
  ASSERT_EQ(queue.PopBatch(out), 4u);
  EXPECT_EQ(out[0].code.view(), "c4");
  ASSERT_EQ(queue.PopBatch(out), 2u);
  EXPECT_EQ(out[1].code.view(), "c9");
}

TEST(ClickQueueTest, FullQueueDropsAndCountsInsteadOfBlocking) {
  ClickQueue queue(8);
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(PushCode(queue, "c" + std::to_string(i))) << i;
  EXPECT_FALSE(PushCode(queue, "x"));
  EXPECT_FALSE(PushCode(queue, "y"));
  EXPECT_EQ(queue.pushed(), 8u);
  EXPECT_EQ(queue.dropped(), 2u);
  EXPECT_EQ(queue.depth(), 8u);

  // Room again after the consumer took something; the dropped events are really gone.
  std::vector<core::ClickEvent> out(3);
  ASSERT_EQ(queue.PopBatch(out), 3u);
  EXPECT_TRUE(PushCode(queue, "z"));
  std::vector<core::ClickEvent> rest(16);
  ASSERT_EQ(queue.PopBatch(rest), 6u);
  EXPECT_EQ(rest[4].code.view(), "c7");
  EXPECT_EQ(rest[5].code.view(), "z");
  EXPECT_EQ(queue.pushed(), 9u);
  EXPECT_EQ(queue.dropped(), 2u);
}

TEST(ClickQueueTest, IdsAreUniqueAcrossManyWrapArounds) {
  ClickQueue queue(8);
  std::set<std::uint64_t> ids;
  std::vector<core::ClickEvent> out(8);
  for (int round = 0; round < 1000; ++round) {
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(PushCode(queue, "c"));
    const std::size_t n = queue.PopBatch(out);
    ASSERT_EQ(n, 5u);
    for (std::size_t i = 0; i < n; ++i) {
      EXPECT_TRUE(ids.insert(out[i].id_lo).second) << "duplicate id " << out[i].id_lo;
    }
  }
  EXPECT_EQ(ids.size(), 5000u);
}

TEST(ClickQueueTest, IdSetByTheQueueWinsOverTheFiller) {
  ClickQueue queue(8);
  ASSERT_TRUE(queue.TryPush([](core::ClickEvent& e) { e.id_lo = 12345; }));
  ASSERT_TRUE(queue.TryPush([](core::ClickEvent& e) { e.id_lo = 12345; }));
  std::vector<core::ClickEvent> out(2);
  ASSERT_EQ(queue.PopBatch(out), 2u);
  EXPECT_NE(out[0].id_lo, out[1].id_lo);
}

TEST(ClickQueueTest, FourProducersOneConsumerLoseNothingThatWasAccepted) {
  constexpr int kProducers = 4;
  constexpr int kPerProducer = 100'000;
  ClickQueue queue(1024);  // small enough that producers outrun the consumer now and then

  std::array<std::atomic<std::uint64_t>, kProducers> accepted{};
  std::atomic<int> running{kProducers};
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      const std::string code = "p" + std::to_string(p);
      for (int i = 0; i < kPerProducer; ++i) {
        if (PushCode(queue, code, i)) accepted[p].fetch_add(1, std::memory_order_relaxed);
      }
      running.fetch_sub(1, std::memory_order_release);
    });
  }

  std::array<std::vector<core::Micros>, kProducers> received;
  std::set<std::uint64_t> ids;
  bool bad_code = false;
  std::vector<core::ClickEvent> batch(256);
  for (;;) {
    const bool producers_done = running.load(std::memory_order_acquire) == 0;
    const std::size_t n = queue.PopBatch(batch);
    for (std::size_t i = 0; i < n; ++i) {
      const std::string_view code = batch[i].code.view();
      if (code.size() != 2 || code[0] != 'p' || code[1] < '0' || code[1] >= '0' + kProducers) {
        bad_code = true;
        continue;
      }
      received[static_cast<std::size_t>(code[1] - '0')].push_back(batch[i].at);
      ids.insert(batch[i].id_lo);
    }
    if (n == 0 && producers_done) break;
    if (n == 0) std::this_thread::yield();
  }
  for (std::thread& t : producers) t.join();
  ASSERT_EQ(queue.PopBatch(batch), 0u);

  EXPECT_FALSE(bad_code) << "an event was torn or corrupted";
  std::uint64_t total_accepted = 0;
  for (int p = 0; p < kProducers; ++p) {
    const auto& got = received[static_cast<std::size_t>(p)];
    total_accepted += accepted[p].load();
    EXPECT_EQ(got.size(), accepted[p].load()) << "producer " << p;
    // Each producer's accepted events arrive once, in the order it pushed them.
    bool ordered = true;
    for (std::size_t i = 1; i < got.size(); ++i) ordered = ordered && got[i - 1] < got[i];
    EXPECT_TRUE(ordered) << "producer " << p << " events out of order or duplicated";
  }
  EXPECT_EQ(ids.size(), total_accepted) << "event ids must be unique";
  EXPECT_EQ(queue.pushed(), total_accepted);
  EXPECT_EQ(queue.pushed() + queue.dropped(),
            static_cast<std::uint64_t>(kProducers) * kPerProducer);
}

}  // namespace
}  // namespace kurz::service
