#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/click_event.hpp"
#include "core/error.hpp"

namespace kurz::ports {

using core::Result;

using core::StreamPosition;

// One message read from a partitioned event stream (the Kafka topic click-events).
struct StreamMessage {
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string key;
  std::string payload;
  // Sent again from the producer's spool (header kurz-replayed: 1): it may have been delivered
  // before, so the consumer checks its event id against the stored ones.
  bool replayed = false;
};

// How far a consumer is behind, per assigned partition.
struct PartitionLag {
  std::int32_t partition = 0;
  std::int64_t position = 0;        // next offset this consumer reads
  std::int64_t high_watermark = 0;  // offset the next produced message gets
};

// Where `kurz worker` reads click events from: one member of a consumer group. The group splits
// the partitions among its members and moves them when a member joins or dies. Not thread-safe:
// one thread polls.
class ClickSource {
 public:
  // Called inside Poll when the group gives this member partitions: returns where to start
  // reading each of them (the consumer's own stored positions; a partition left out starts at
  // the group's committed offset, or the earliest one). An error makes Poll fail; the
  // partitions are then read from the committed offsets.
  using OnAssign =
      std::function<Result<std::vector<StreamPosition>>(const std::vector<std::int32_t>&)>;
  // Called inside Poll before partitions are taken away (a rebalance, or Close): messages of
  // them not yet stored must be forgotten; whoever gets them next reads them again.
  using OnRevoke = std::function<void(const std::vector<std::int32_t>&)>;

  virtual ~ClickSource() = default;

  // Joins the group (asynchronously; the first assignment comes through a later Poll).
  virtual Result<void> Subscribe(OnAssign on_assign, OnRevoke on_revoke) = 0;

  // Waits up to `wait` for messages and appends up to `max` of them to `out`, in offset order
  // within each partition. Returns how many were appended (0 on timeout). Transient cluster
  // trouble (brokers down) is not an error: Poll returns 0 and the client reconnects.
  virtual Result<std::size_t> Poll(std::vector<StreamMessage>& out, std::size_t max,
                                   std::chrono::milliseconds wait) = 0;

  // Records in the group that messages before these positions are processed, so the next
  // member given a partition starts there. Asynchronous; failures are reported by later calls.
  virtual Result<void> Commit(const std::vector<StreamPosition>& next) = 0;

  // Continues reading these assigned partitions at these offsets (after a store refused a batch
  // because another consumer had moved on: the stored positions are the truth).
  virtual Result<void> Seek(const std::vector<StreamPosition>& positions) = 0;

  // Lag of the partitions assigned now (high watermarks as last reported by the brokers).
  virtual std::vector<PartitionLag> Lag() = 0;

  // Leaves the group (revoking through OnRevoke). Idempotent.
  virtual void Close() = 0;
};

}  // namespace kurz::ports
