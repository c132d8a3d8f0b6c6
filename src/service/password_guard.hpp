#pragma once

// The failure limit of password links (API.md "Link options beyond the seed", Password): more
// than 5 wrong tries per client IP and link in a minute are refused with 429 until that minute
// has passed.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/time.hpp"
#include "ports/attempt_counter.hpp"
#include "ports/clock.hpp"

namespace kurz::service {

using core::Result;

// An AttemptCounter in this process, with bounded memory: at most max_keys keys (closed windows
// are swept, and when every slot holds an open window the one closing first is dropped; dropping
// forgets at most a minute of one key's failures, where refusing new keys would lock out people).
// Sharded by key hash with a plain mutex per shard: it is used only on the password path, where
// each try costs tens of milliseconds of argon2 anyway, so one lock would hardly be contended;
// shards still keep a flood of refused tries (which skip argon2) from queueing every worker thread
// on one lock. Never fails.
class LocalAttemptCounter final : public ports::AttemptCounter {
 public:
  explicit LocalAttemptCounter(std::size_t max_keys = 65536);

  Result<ports::AttemptWindow> Add(std::string_view key, core::Micros window,
                                   core::Micros now) override;
  Result<void> TakeBack(std::string_view key, core::Micros now) override;

  // Keys held now (open windows, and closed ones not swept yet).
  std::size_t size() const;

 private:
  struct Entry {
    std::int64_t count = 0;
    core::Micros closes_at = 0;
  };
  struct StringHash {
    using is_transparent = void;  // find by string_view without building a string
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, Entry, StringHash, std::equal_to<>> entries;
  };
  static constexpr std::size_t kShards = 16;

  Shard& ShardOf(std::string_view key) const;

  std::size_t max_per_shard_;
  std::unique_ptr<std::array<Shard, kShards>> shards_;
};

// Decides whether a password try may be checked, counting failures per (client IP, link code).
// Every try reserves one count before the password is verified and a right one gives it back, so
// only wrong tries count, and tries verified in parallel cannot pass the limit together. With a
// shared counter (Redis in cluster mode) the limit holds across instances; when that counter does
// not answer, this instance counts on its own (the limit then holds per instance) and
// fallbacks() goes up. Thread-safe; Begin and Forgive block on the shared counter, so call them on
// the worker pool (where the password is verified anyway).
class PasswordGuard {
 public:
  struct Options {
    std::int64_t max_failures = 5;                      // the 6th try in a window is refused
    core::Micros window = 60 * core::kMicrosPerSecond;  // opened by the first try
    std::size_t max_local_keys = 65536;
  };

  // What Begin decided.
  struct Try {
    bool allowed = false;
    core::Micros retry_after = 0;  // refused: until the window closes (Retry-After, rounded up)
    bool shared = false;           // counted by the shared counter (Forgive goes there too)
  };

  // shared may be null (embedded mode: the local count only).
  PasswordGuard(const ports::Clock& clock, ports::AttemptCounter* shared);
  PasswordGuard(const ports::Clock& clock, ports::AttemptCounter* shared, Options options);

  // Before verifying a password for code from client_ip: counts the try; refused when it is more
  // than max_failures in the current window (the caller answers 429 without verifying).
  Try Begin(std::string_view client_ip, std::string_view code);

  // After an allowed try turned out right: takes its count back.
  void Forgive(const Try& attempt, std::string_view client_ip, std::string_view code);

  // Tries the shared counter could not take, counted locally instead.
  std::uint64_t fallbacks() const { return fallbacks_.load(std::memory_order_relaxed); }

  const Options& options() const { return options_; }

 private:
  static std::string KeyOf(std::string_view client_ip, std::string_view code);

  const ports::Clock& clock_;
  ports::AttemptCounter* shared_;
  Options options_;
  LocalAttemptCounter local_;
  std::atomic<std::uint64_t> fallbacks_{0};
};

}  // namespace kurz::service
