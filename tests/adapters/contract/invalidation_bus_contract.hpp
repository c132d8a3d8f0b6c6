#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "adapters/contract/helpers.hpp"
#include "ports/invalidation_bus.hpp"

// The InvalidationBus contract. Instantiate with a backend type that has Bus() and OtherBus():
// two instances' buses on one channel (they may be the same object).
namespace kurz::testing {

// Collects what a handler receives, with the time each code arrived.
class Inbox {
 public:
  ports::InvalidationBus::Handler Handler() {
    return [this](const ports::Invalidation& message) {
      std::lock_guard lock(mu_);
      if (message.lost) {
        ++lost_;
      } else {
        codes_.emplace_back(message.code);
        arrived_.push_back(std::chrono::steady_clock::now());
      }
      cv_.notify_all();
    };
  }

  // Waits until `count` codes arrived (at most `limit`); true when they did.
  bool WaitForCodes(std::size_t count, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return codes_.size() >= count; });
  }
  bool WaitForLost(int count, std::chrono::milliseconds limit) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return lost_ >= count; });
  }

  std::vector<std::string> codes() const {
    std::lock_guard lock(mu_);
    return codes_;
  }
  std::chrono::steady_clock::time_point arrived(std::size_t i) const {
    std::lock_guard lock(mu_);
    return arrived_.at(i);
  }
  int lost() const {
    std::lock_guard lock(mu_);
    return lost_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> codes_;
  std::vector<std::chrono::steady_clock::time_point> arrived_;
  int lost_ = 0;
};

template <class Backend>
class InvalidationBusContract : public ::testing::Test {
 protected:
  ports::InvalidationBus& bus() { return backend_.Bus(); }
  ports::InvalidationBus& other() { return backend_.OtherBus(); }

  // The inboxes outlive the backend (declared first, destroyed last): handlers may run until
  // the buses are gone.
  Inbox first_;
  Inbox second_;
  Inbox third_;
  Backend backend_;
};

TYPED_TEST_SUITE_P(InvalidationBusContract);

TYPED_TEST_P(InvalidationBusContract, PublishedCodeReachesTheSubscriber) {
  auto subscribed = this->bus().Subscribe(this->first_.Handler());
  ASSERT_TRUE(subscribed) << Describe(subscribed);
  auto published = this->bus().Publish("aB3dE5f");
  ASSERT_TRUE(published) << Describe(published);
  ASSERT_TRUE(this->first_.WaitForCodes(1));
  EXPECT_EQ(this->first_.codes(), std::vector<std::string>{"aB3dE5f"});
  EXPECT_EQ(this->first_.lost(), 0);
}

TYPED_TEST_P(InvalidationBusContract, EverySubscriberOfEveryInstanceGetsEachCode) {
  ASSERT_TRUE(this->bus().Subscribe(this->first_.Handler()));
  ASSERT_TRUE(this->bus().Subscribe(this->second_.Handler()));
  ASSERT_TRUE(this->other().Subscribe(this->third_.Handler()));
  ASSERT_TRUE(this->other().Publish("from-other"));
  ASSERT_TRUE(this->bus().Publish("from-first"));
  for (Inbox* inbox : {&this->first_, &this->second_, &this->third_}) {
    ASSERT_TRUE(inbox->WaitForCodes(2));
    auto codes = inbox->codes();
    std::sort(codes.begin(), codes.end());
    EXPECT_EQ(codes, (std::vector<std::string>{"from-first", "from-other"}));
    EXPECT_EQ(inbox->lost(), 0);
  }
}

TYPED_TEST_P(InvalidationBusContract, CodesFromOnePublisherArriveInOrder) {
  ASSERT_TRUE(this->other().Subscribe(this->first_.Handler()));
  std::vector<std::string> sent;
  for (int i = 0; i < 100; ++i) {
    sent.push_back(Numbered("c", i));
    ASSERT_TRUE(this->bus().Publish(sent.back()));
  }
  ASSERT_TRUE(this->first_.WaitForCodes(sent.size()));
  EXPECT_EQ(this->first_.codes(), sent);
}

TYPED_TEST_P(InvalidationBusContract, PublishWithoutSubscribersSucceeds) {
  auto published = this->bus().Publish("nobody-listens");
  EXPECT_TRUE(published) << Describe(published);
}

// Issue 5: a delete on one instance is seen by another within 100 ms.
TYPED_TEST_P(InvalidationBusContract, CodesArriveWithin100Milliseconds) {
  ASSERT_TRUE(this->other().Subscribe(this->first_.Handler()));
  std::vector<std::chrono::microseconds> delays;
  for (int i = 0; i < 9; ++i) {
    const auto sent = std::chrono::steady_clock::now();
    ASSERT_TRUE(this->bus().Publish(Numbered("fast", i)));
    ASSERT_TRUE(this->first_.WaitForCodes(static_cast<std::size_t>(i) + 1));
    delays.push_back(
        std::chrono::duration_cast<std::chrono::microseconds>(this->first_.arrived(i) - sent));
  }
  std::sort(delays.begin(), delays.end());
  EXPECT_LT(delays[delays.size() / 2], std::chrono::milliseconds(100));
}

REGISTER_TYPED_TEST_SUITE_P(InvalidationBusContract, PublishedCodeReachesTheSubscriber,
                            EverySubscriberOfEveryInstanceGetsEachCode,
                            CodesFromOnePublisherArriveInOrder, PublishWithoutSubscribersSucceeds,
                            CodesArriveWithin100Milliseconds);

}  // namespace kurz::testing
