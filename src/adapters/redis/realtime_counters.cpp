#include "adapters/redis/realtime_counters.hpp"

#include <charconv>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "adapters/redis/guard.hpp"

namespace kurz::adapters::redis {
namespace {

// How long the keys outlive their last write: minutes are read for an hour, visitors for a day.
constexpr std::string_view kMinuteTtlSeconds = "7200";
constexpr std::string_view kVisitorsTtlSeconds = "172800";
constexpr int kMinutesPerHour = 60;

// Minutes since the epoch of the minute t lies in (also before 1970).
std::int64_t EpochMinute(core::Micros t) {
  std::int64_t minute = t / core::kMicrosPerMinute;
  if (t % core::kMicrosPerMinute < 0) --minute;
  return minute;
}

bool ValidCode(std::string_view code) {
  return !code.empty() && code.find_first_of("{}") == std::string_view::npos;
}

core::Error Unexpected(const Reply& reply, std::string_view what) {
  return core::Error{core::ErrorCode::kInternal,
                     "redis realtime counters " + std::string(what) + ": " +
                         (reply.IsError() ? reply.str : std::string("unexpected reply"))};
}

// A counter's value: nil is 0; anything but a decimal integer is an error.
std::optional<std::int64_t> CounterOf(const Reply& reply) {
  if (reply.type == Reply::Type::kNil) return 0;
  if (reply.type == Reply::Type::kInteger) return reply.integer;
  if (reply.type != Reply::Type::kString) return std::nullopt;
  std::int64_t value = 0;
  const char* end = reply.str.data() + reply.str.size();
  const auto [ptr, ec] = std::from_chars(reply.str.data(), end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

// The commands of one pipeline, owning the strings their arguments point into.
class Commands {
 public:
  // Adds a command; its arguments are copied.
  void Add(std::initializer_list<std::string_view> args) {
    std::vector<std::string_view>& command = commands_.emplace_back();
    for (std::string_view arg : args) command.push_back(Keep(arg));
  }
  // Adds a command of a head (copied) and then every item (PFADD key v1 v2 ...), not copied: the
  // items must outlive the pipeline.
  void Add(std::initializer_list<std::string_view> head, const std::vector<std::string>& items) {
    Add(head);
    for (const std::string& item : items) commands_.back().push_back(item);
  }
  std::vector<Args> View() const {
    std::vector<Args> view;
    view.reserve(commands_.size());
    for (const auto& command : commands_) view.emplace_back(command);
    return view;
  }
  bool empty() const { return commands_.empty(); }

 private:
  std::string_view Keep(std::string_view s) { return strings_.emplace_back(s); }

  std::deque<std::string> strings_;  // stable addresses
  std::vector<std::vector<std::string_view>> commands_;
};

}  // namespace

RedisRealtimeCounters::RedisRealtimeCounters(RedisClient& client, std::string key_prefix)
    : client_(client), key_prefix_(std::move(key_prefix)) {}

std::string RedisRealtimeCounters::KeyBase(std::string_view code) const {
  std::string key = key_prefix_;
  key += "rt:{";
  key += code;
  key += "}:";
  return key;
}

Result<void> RedisRealtimeCounters::Add(const std::vector<core::ClickDelta>& deltas) {
  return Guard([&]() -> Result<void> {
    // The deltas by code: a batch may hold several days (and so deltas) of one code.
    std::map<std::string_view, std::vector<const core::ClickDelta*>> by_code;
    for (const core::ClickDelta& delta : deltas) {
      if (!ValidCode(delta.code)) {
        return core::Fail(core::ErrorCode::kInvalidArgument,
                          "realtime counters: code '" + delta.code + "' cannot be a hash tag");
      }
      by_code[delta.code].push_back(&delta);
    }
    // One round trip per node for up to kCodesPerRound codes (a window may hold many
    // thousands), not one per code.
    constexpr std::size_t kCodesPerRound = 500;
    std::deque<Commands> commands;  // stable: the views point into them
    std::vector<std::string> bases;
    std::vector<std::vector<Args>> views;
    auto flush = [&]() -> Result<void> {
      if (views.empty()) return {};
      std::vector<RedisClient::CommandGroup> groups;
      groups.reserve(views.size());
      for (std::size_t i = 0; i < views.size(); ++i) groups.push_back({bases[i], views[i]});
      auto replies = client_.PipelineGroups(groups);
      if (!replies) return std::unexpected(std::move(replies.error()));
      for (const auto& group : *replies) {
        for (const Reply& reply : group) {
          if (reply.IsError()) return std::unexpected(Unexpected(reply, "add"));
        }
      }
      commands.clear();
      bases.clear();
      views.clear();
      return {};
    };
    for (const auto& [code, code_deltas] : by_code) {
      const std::string base = KeyBase(code);
      std::int64_t clicks = 0;
      std::map<std::int64_t, std::int64_t> minutes;  // human clicks by epoch minute
      Commands& code_commands = commands.emplace_back();
      for (const core::ClickDelta* delta : code_deltas) {
        clicks += delta->clicks;
        for (const core::BucketCount& m : delta->minutes) {
          if (m.clicks != 0) minutes[EpochMinute(m.start)] += m.clicks;
        }
        if (!delta->visitors.empty()) {
          const std::string key = base + "uv:" + core::FormatDate(delta->date);
          code_commands.Add({"PFADD", key}, delta->visitors);
          code_commands.Add({"EXPIRE", key, kVisitorsTtlSeconds});
        }
      }
      if (clicks != 0) code_commands.Add({"INCRBY", base + "clicks", std::to_string(clicks)});
      for (const auto& [minute, n] : minutes) {
        const std::string key = base + "m:" + std::to_string(minute);
        code_commands.Add({"INCRBY", key, std::to_string(n)});
        code_commands.Add({"EXPIRE", key, kMinuteTtlSeconds});
      }
      if (code_commands.empty()) {
        commands.pop_back();
        continue;
      }
      bases.push_back(base);
      views.push_back(code_commands.View());
      if (views.size() == kCodesPerRound) {
        if (auto done = flush(); !done) return done;
      }
    }
    if (auto done = flush(); !done) return done;
    return {};
  });
}

Result<ports::RealtimeStats> RedisRealtimeCounters::Read(std::string_view code, core::Micros now) {
  return Guard([&]() -> Result<ports::RealtimeStats> {
    if (!ValidCode(code)) {
      return core::Fail(core::ErrorCode::kInvalidArgument,
                        "realtime counters: code '" + std::string(code) + "' cannot be a hash tag");
    }
    const std::string base = KeyBase(code);
    // The minute of `now` and the 59 before it.
    const std::int64_t last = EpochMinute(now);
    std::vector<std::string> minute_keys;
    minute_keys.reserve(kMinutesPerHour);
    for (std::int64_t m = last - (kMinutesPerHour - 1); m <= last; ++m) {
      minute_keys.push_back(base + "m:" + std::to_string(m));
    }
    Commands read;
    read.Add({"GET", base + "clicks"});
    read.Add({"MGET"}, minute_keys);
    read.Add({"PFCOUNT", base + "uv:" + core::FormatDate(core::DateOf(now))});
    const std::vector<Args> view = read.View();
    auto replies = client_.Pipeline(base, view);
    if (!replies) return std::unexpected(std::move(replies.error()));
    if (replies->size() != 3) return core::Fail(core::ErrorCode::kInternal, "redis: replies");
    const Reply& total = (*replies)[0];
    const Reply& hour = (*replies)[1];
    const Reply& visitors = (*replies)[2];

    ports::RealtimeStats stats;
    std::optional<std::int64_t> clicks = CounterOf(total);
    if (!clicks) return std::unexpected(Unexpected(total, "read"));
    stats.clicks = *clicks;
    if (hour.type != Reply::Type::kArray) return std::unexpected(Unexpected(hour, "read"));
    for (const Reply& minute : hour.elements) {
      std::optional<std::int64_t> n = CounterOf(minute);
      if (!n) return std::unexpected(Unexpected(minute, "read"));
      stats.clicks_last_hour += *n;
    }
    if (visitors.type != Reply::Type::kInteger) {
      return std::unexpected(Unexpected(visitors, "read"));
    }
    stats.visitors_today = visitors.integer;
    return stats;
  });
}

}  // namespace kurz::adapters::redis
