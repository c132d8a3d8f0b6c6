#include "service/password_guard.hpp"

#include <algorithm>
#include <functional>

namespace kurz::service {

LocalAttemptCounter::LocalAttemptCounter(std::size_t max_keys)
    : max_per_shard_(std::max<std::size_t>(max_keys / kShards, 1)),
      shards_(std::make_unique<std::array<Shard, kShards>>()) {}

LocalAttemptCounter::Shard& LocalAttemptCounter::ShardOf(std::string_view key) const {
  return (*shards_)[std::hash<std::string_view>{}(key) % kShards];
}

Result<ports::AttemptWindow> LocalAttemptCounter::Add(std::string_view key, core::Micros window,
                                                      core::Micros now) {
  Shard& shard = ShardOf(key);
  std::lock_guard lock(shard.mutex);
  auto it = shard.entries.find(key);
  if (it == shard.entries.end()) {
    if (shard.entries.size() >= max_per_shard_) {
      std::erase_if(shard.entries,
                    [now](const auto& item) { return item.second.closes_at <= now; });
    }
    if (shard.entries.size() >= max_per_shard_) {
      shard.entries.erase(std::ranges::min_element(
          shard.entries, {}, [](const auto& item) { return item.second.closes_at; }));
    }
    it = shard.entries.emplace(std::string(key), Entry{}).first;
  }
  Entry& entry = it->second;
  if (entry.closes_at <= now)
    entry = Entry{.count = 0, .closes_at = now + std::max(window, core::Micros{1})};
  ++entry.count;
  return ports::AttemptWindow{.count = entry.count, .resets_in = entry.closes_at - now};
}

Result<void> LocalAttemptCounter::TakeBack(std::string_view key, core::Micros now) {
  Shard& shard = ShardOf(key);
  std::lock_guard lock(shard.mutex);
  const auto it = shard.entries.find(key);
  if (it == shard.entries.end() || it->second.closes_at <= now) return {};
  if (--it->second.count <= 0) shard.entries.erase(it);
  return {};
}

std::size_t LocalAttemptCounter::size() const {
  std::size_t total = 0;
  for (const Shard& shard : *shards_) {
    std::lock_guard lock(shard.mutex);
    total += shard.entries.size();
  }
  return total;
}

PasswordGuard::PasswordGuard(const ports::Clock& clock, ports::AttemptCounter* shared)
    : PasswordGuard(clock, shared, Options{}) {}

PasswordGuard::PasswordGuard(const ports::Clock& clock, ports::AttemptCounter* shared,
                             Options options)
    : clock_(clock), shared_(shared), options_(options), local_(options.max_local_keys) {}

std::string PasswordGuard::KeyOf(std::string_view client_ip, std::string_view code) {
  // "pw:<ip> <code>": no IP text holds a space, so the pair reads back one way only.
  std::string key = "pw:";
  key += client_ip;
  key += ' ';
  key += code;
  return key;
}

PasswordGuard::Try PasswordGuard::Begin(std::string_view client_ip, std::string_view code) {
  const std::string key = KeyOf(client_ip, code);
  const core::Micros now = clock_.Now();
  Try attempt;
  Result<ports::AttemptWindow> window = core::Fail(core::ErrorCode::kUnavailable, "no store");
  if (shared_ != nullptr) {
    window = shared_->Add(key, options_.window, now);
    attempt.shared = window.has_value();
    if (!window) fallbacks_.fetch_add(1, std::memory_order_relaxed);
  }
  if (!window) window = local_.Add(key, options_.window, now);  // never fails
  attempt.allowed = window->count <= options_.max_failures;
  if (!attempt.allowed) attempt.retry_after = window->resets_in;
  return attempt;
}

void PasswordGuard::Forgive(const Try& attempt, std::string_view client_ip, std::string_view code) {
  if (!attempt.allowed) return;  // refused tries were never verified, so never right
  const std::string key = KeyOf(client_ip, code);
  // A failed take-back leaves the try counted: a right password then costs one of the five
  // tries, which errs on the side of the limit.
  (void)(attempt.shared ? *shared_ : static_cast<ports::AttemptCounter&>(local_))
      .TakeBack(key, clock_.Now());
}

}  // namespace kurz::service
