#pragma once

// Fakes shared by the service tests: a clock that tests move by hand, a click log that records
// (and fails on request), and a link store decorator that injects failures and hooks.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/click_event.hpp"
#include "core/error.hpp"
#include "core/link.hpp"
#include "core/time.hpp"
#include "ports/click_log.hpp"
#include "ports/clock.hpp"
#include "ports/link_store.hpp"

namespace kurz::service::fakes {

// 2026-11-18T00:53:20Z: a fixed, ordinary instant to start from.
constexpr core::Micros kT0 = 1'795'000'000LL * core::kMicrosPerSecond;
constexpr core::Micros kSecond = core::kMicrosPerSecond;
constexpr core::Micros kDay = 86'400 * kSecond;

// Prints an error result readably in assertion messages.
template <class T>
std::string Describe(const core::Result<T>& r) {
  if (r) return "ok";
  return std::string(core::ToString(r.error().code)) + ": " + r.error().detail;
}

class FakeClock final : public ports::Clock {
 public:
  explicit FakeClock(core::Micros start = kT0) : now_(start) {}
  core::Micros Now() const override { return now_.load(std::memory_order_relaxed); }
  void Advance(core::Micros by) { now_.fetch_add(by, std::memory_order_relaxed); }
  void Set(core::Micros to) { now_.store(to, std::memory_order_relaxed); }

 private:
  std::atomic<core::Micros> now_;
};

// Records every applied batch; the next `fail_next` calls fail with unavailable. Idempotent by
// batch id like the real logs, so a replayed batch is visible as such (duplicates() > 0).
class RecordingClickLog final : public ports::ClickLog {
 public:
  core::Result<bool> Apply(const core::ClickBatch& batch) override {
    std::lock_guard lock(mu_);
    ++calls_;
    if (fail_next_ > 0) {
      --fail_next_;
      return core::Fail(core::ErrorCode::kUnavailable, "injected failure");
    }
    if (refuse_next_ > 0) {
      --refuse_next_;
      return core::Fail(core::ErrorCode::kInvalidArgument, "injected refusal");
    }
    if (!ids_.insert(batch.id).second) {
      ++duplicates_;
      return false;
    }
    for (const core::ClickDelta& delta : batch.deltas) deltas_.push_back(delta);
    return true;
  }
  // The drain reads no event stream: no positions are ever stored.
  core::Result<std::vector<core::StreamPosition>> Positions(std::string_view) override {
    return std::vector<core::StreamPosition>{};
  }

  void FailNext(int n) {
    std::lock_guard lock(mu_);
    fail_next_ = n;
  }
  // The next n batches are refused as invalid (a store that will never accept them).
  void RefuseNext(int n) {
    std::lock_guard lock(mu_);
    refuse_next_ = n;
  }
  std::vector<core::ClickDelta> deltas() const {
    std::lock_guard lock(mu_);
    return deltas_;
  }
  // Clicks stored over all batches (of one code, when given).
  std::int64_t clicks(std::string_view code = {}) const {
    std::lock_guard lock(mu_);
    std::int64_t total = 0;
    for (const core::ClickDelta& d : deltas_) {
      if (code.empty() || d.code == code) total += d.clicks;
    }
    return total;
  }
  int calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  std::size_t batches() const {
    std::lock_guard lock(mu_);
    return ids_.size();
  }
  std::size_t duplicates() const {
    std::lock_guard lock(mu_);
    return duplicates_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<core::ClickDelta> deltas_;
  std::unordered_set<std::string> ids_;
  int fail_next_ = 0;
  int refuse_next_ = 0;
  int calls_ = 0;
  std::size_t duplicates_ = 0;
};

// Delegates to a real LinkStore; can make the next calls fail, count leases, and run a hook
// right after Find has read the store (to interleave a writer with a reader deterministically).
class ScriptedLinkStore final : public ports::LinkStore {
 public:
  explicit ScriptedLinkStore(ports::LinkStore& inner) : inner_(inner) {}

  core::Result<void> Insert(const core::Link& link) override {
    if (auto e = Injected()) return std::unexpected(*e);
    return inner_.Insert(link);
  }
  core::Result<core::Link> Find(std::string_view code) override {
    if (auto e = Injected()) return std::unexpected(*e);
    auto found = inner_.Find(code);
    if (after_find_) std::exchange(after_find_, nullptr)();
    return found;
  }
  core::Result<std::optional<core::Link>> FindDuplicate(std::int64_t owner_id, std::string_view url,
                                                        core::RedirectType type) override {
    if (auto e = Injected()) return std::unexpected(*e);
    return inner_.FindDuplicate(owner_id, url, type);
  }
  core::Result<std::vector<core::Link>> SearchByOwner(std::int64_t owner_id,
                                                      const core::LinkQuery& query) override {
    if (auto e = Injected()) return std::unexpected(*e);
    return inner_.SearchByOwner(owner_id, query);
  }
  core::Result<std::vector<core::TagCount>> ListTags(std::int64_t owner_id) override {
    if (auto e = Injected()) return std::unexpected(*e);
    return inner_.ListTags(owner_id);
  }
  core::Result<void> Update(const core::Link& link) override {
    if (auto e = Injected()) return std::unexpected(*e);
    return inner_.Update(link);
  }
  core::Result<bool> UseClick(std::string_view code) override {
    if (auto e = Injected()) return std::unexpected(*e);
    return inner_.UseClick(code);
  }
  core::Result<std::vector<core::Result<void>>> InsertMany(
      std::span<const core::Link> links) override {
    if (auto e = Injected()) return std::unexpected(*e);
    return inner_.InsertMany(links);
  }
  core::Result<void> SoftDelete(std::string_view code, std::int64_t owner_id,
                                core::Micros at) override {
    if (auto e = Injected()) return std::unexpected(*e);
    return inner_.SoftDelete(code, owner_id, at);
  }
  core::Result<std::uint64_t> LeaseCodeBlock(std::uint64_t count) override {
    if (auto e = Injected()) return std::unexpected(*e);
    leases_.fetch_add(1, std::memory_order_relaxed);
    return inner_.LeaseCodeBlock(count);
  }

  // The next n calls (of any method) fail with `code`.
  void FailNext(int n, core::ErrorCode code = core::ErrorCode::kUnavailable) {
    std::lock_guard lock(mu_);
    fail_next_ = n;
    fail_code_ = code;
  }
  // Runs once, after the next Find has read the store and before it returns.
  void AfterNextFind(std::function<void()> hook) { after_find_ = std::move(hook); }
  int leases() const { return leases_.load(std::memory_order_relaxed); }

 private:
  std::optional<core::Error> Injected() {
    std::lock_guard lock(mu_);
    if (fail_next_ == 0) return std::nullopt;
    --fail_next_;
    return core::Error{fail_code_, "injected failure"};
  }

  ports::LinkStore& inner_;
  std::mutex mu_;
  int fail_next_ = 0;
  core::ErrorCode fail_code_ = core::ErrorCode::kUnavailable;
  std::function<void()> after_find_;
  std::atomic<int> leases_{0};
};

// Polls `done` every 5 ms until it holds or `timeout` passes; false on timeout.
inline bool WaitUntil(const std::function<bool()>& done,
                      std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace kurz::service::fakes
