#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "adapters/redis/client.hpp"
#include "ports/realtime_counters.hpp"

namespace kurz::adapters::redis {

using core::Result;

// The real-time counters in Redis. Per code, under one hash tag so that a code's keys share a
// slot (one pipeline per code, also in a cluster):
//   <prefix>rt:{<code>}:clicks              human clicks, all time (INCRBY)
//   <prefix>rt:{<code>}:m:<epoch minute>    human clicks in that minute (INCRBY, EXPIRE 2 h)
//   <prefix>rt:{<code>}:uv:<yyyy-mm-dd>     visitors of that day (PFADD: HyperLogLog, EXPIRE 2 d)
// Add sends one pipeline per code; Read one (GET, MGET of the hour's 60 minutes, PFCOUNT). A
// pipeline is not a transaction: a failed Add may have counted part of a code's delta, and
// retrying it counts that part twice (the port allows this; PostgreSQL has the exact counts).
class RedisRealtimeCounters final : public ports::RealtimeCounters {
 public:
  explicit RedisRealtimeCounters(RedisClient& client, std::string key_prefix = "kurz:");

  // invalid_argument (nothing sent) for an empty code or one with '{' or '}', which would
  // break the hash tag.
  Result<void> Add(const std::vector<core::ClickDelta>& deltas) override;
  Result<ports::RealtimeStats> Read(std::string_view code, core::Micros now) override;

 private:
  // "<prefix>rt:{<code>}:"
  std::string KeyBase(std::string_view code) const;

  RedisClient& client_;
  std::string key_prefix_;
};

}  // namespace kurz::adapters::redis
