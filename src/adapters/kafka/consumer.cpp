#include "adapters/kafka/consumer.hpp"

#include "adapters/kafka/conf.hpp"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <string_view>
#include <utility>

#include "core/guard.hpp"

namespace kurz::adapters::kafka {

using core::ErrorCode;
using core::Fail;
using core::Result;
using ports::StreamMessage;

namespace {

// A C string: rd_kafka_header_get_last takes the name NUL-terminated.
constexpr char kReplayedHeader[] = "kurz-replayed";
// Lag waits at most this long for the committed offsets of partitions it knows no position of.
constexpr int kCommittedTimeoutMs = 200;

// Settings the adapter relies on: offsets move only through Commit (and OnAssign's positions),
// and a group without a committed offset starts at the beginning.
constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kFixedSettings = {{
    {"enable.auto.commit", "false"},
    {"enable.auto.offset.store", "false"},
    {"auto.offset.reset", "earliest"},
    {"enable.partition.eof", "false"},
}};

struct PartitionList {
  rd_kafka_topic_partition_list_t* list;
  explicit PartitionList(int size) : list(rd_kafka_topic_partition_list_new(size)) {}
  ~PartitionList() { rd_kafka_topic_partition_list_destroy(list); }
  PartitionList(const PartitionList&) = delete;
  PartitionList& operator=(const PartitionList&) = delete;
};

struct Message {
  rd_kafka_message_t* m;
  ~Message() {
    if (m != nullptr) rd_kafka_message_destroy(m);
  }
};

std::vector<std::int32_t> PartitionsOf(const rd_kafka_topic_partition_list_t* parts) {
  std::vector<std::int32_t> ids;
  ids.reserve(parts->cnt);
  for (int i = 0; i < parts->cnt; ++i) ids.push_back(parts->elems[i].partition);
  return ids;
}

bool Replayed(rd_kafka_message_t* m) {
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(m, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
  const void* value = nullptr;
  std::size_t size = 0;
  if (rd_kafka_header_get_last(headers, kReplayedHeader, &value, &size) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return false;
  }
  return size == 1 && value != nullptr && *static_cast<const char*>(value) == '1';
}

// The error a message carries that Poll must report; nullopt for what the client gets over by
// itself (brokers down or unreachable, a coordinator moving, a rebalance under way, ...).
std::optional<core::Error> PollError(rd_kafka_t* rk, const rd_kafka_message_t& m) {
  const std::string what = "kafka consumer: " + std::string(rd_kafka_message_errstr(&m));
  switch (m.err) {
    case RD_KAFKA_RESP_ERR__FATAL: {
      char reason[512] = "";
      rd_kafka_fatal_error(rk, reason, sizeof(reason));
      return core::Error{ErrorCode::kInternal,
                         "kafka consumer: fatal error: " + std::string(reason)};
    }
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
      return core::Error{ErrorCode::kNotFound, what};
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
      return core::Error{ErrorCode::kForbidden, what};
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
      return core::Error{ErrorCode::kUnauthorized, what};
    default:
      return std::nullopt;
  }
}

}  // namespace

// librdkafka calls these from inside rd_kafka_consumer_poll and rd_kafka_consumer_close, on the
// polling thread. Nothing may throw through librdkafka's C frames.
struct Callbacks {
  static void Rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                        rd_kafka_topic_partition_list_t* parts, void* opaque) {
    auto* self = static_cast<KafkaClickSource*>(opaque);
    try {
      if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        self->Assign(parts);
      } else {
        self->Revoke(parts);
      }
    } catch (...) {
      // Only allocation throws here: read what the group assigns from the committed offsets.
      if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (int i = 0; i < parts->cnt; ++i) parts->elems[i].offset = RD_KAFKA_OFFSET_STORED;
        rd_kafka_assign(rk, parts);
      } else {
        rd_kafka_assign(rk, nullptr);
        self->assigned_.clear();
      }
    }
  }

  static void Commit(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets,
                     void* opaque) {
    auto* self = static_cast<KafkaClickSource*>(opaque);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR && offsets != nullptr) {
      for (int i = 0; i < offsets->cnt && err == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
        err = offsets->elems[i].err;
      }
    }
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET) return;
    try {
      self->commit_error_ =
          core::Error{ErrorCode::kUnavailable,
                      "kafka consumer: commit failed: " + std::string(rd_kafka_err2str(err))};
    } catch (...) {
    }
  }
};

Result<std::unique_ptr<KafkaClickSource>> KafkaClickSource::Open(ConsumerOptions options) {
  return core::Guarded("kafka consumer", [&]() -> Result<std::unique_ptr<KafkaClickSource>> {
    if (options.brokers.empty() || options.topic.empty() || options.group.empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "kafka consumer: brokers, topic and group are required");
    }
    std::vector<std::pair<std::string, std::string>> settings = {
        {"bootstrap.servers", options.brokers},
        {"group.id", options.group},
        {"session.timeout.ms", std::to_string(options.session_timeout.count())},
        {"heartbeat.interval.ms", std::to_string(options.heartbeat_interval.count())},
        {"partition.assignment.strategy", "range"},
    };
    for (const auto& [name, value] : options.extra) {
      for (const auto& [fixed, fixed_value] : kFixedSettings) {
        if (name == fixed && value != fixed_value) {
          return Fail(ErrorCode::kInvalidArgument,
                      "kafka consumer: " + name + " must stay " + std::string(fixed_value));
        }
      }
      if (name == "partition.assignment.strategy" &&
          value.find("cooperative") != std::string::npos) {
        return Fail(ErrorCode::kInvalidArgument,
                    "kafka consumer: only eager assignors (range, roundrobin) are supported");
      }
      settings.emplace_back(name, value);
    }
    for (const auto& [name, value] : kFixedSettings) settings.emplace_back(name, value);

    // Not make_unique: the constructor is private. Its address is the callbacks' opaque.
    std::unique_ptr<KafkaClickSource> source(new KafkaClickSource(std::move(options), nullptr));
    Result<rd_kafka_conf_t*> made = NewConf(settings);
    if (!made) return Fail(ErrorCode::kInvalidArgument, "kafka consumer: " + made.error().detail);
    rd_kafka_conf_t* conf = *made;
    char errstr[512];
    rd_kafka_conf_set_rebalance_cb(conf, &Callbacks::Rebalance);
    rd_kafka_conf_set_offset_commit_cb(conf, &Callbacks::Commit);
    rd_kafka_conf_set_opaque(conf, source.get());
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (rk == nullptr) {
      rd_kafka_conf_destroy(conf);  // rd_kafka_new takes it only on success
      return Fail(ErrorCode::kInvalidArgument, "kafka consumer: " + std::string(errstr));
    }
    source->rk_ = rk;
    // Rebalances, commit results and errors all come out of rd_kafka_consumer_poll.
    rd_kafka_poll_set_consumer(rk);
    return source;
  });
}

KafkaClickSource::KafkaClickSource(ConsumerOptions options, rd_kafka_s* rk)
    : options_(std::move(options)), rk_(rk) {}

KafkaClickSource::~KafkaClickSource() {
  if (rk_ == nullptr) return;
  Close();
  rd_kafka_destroy(rk_);
}

Result<void> KafkaClickSource::Subscribe(OnAssign on_assign, OnRevoke on_revoke) {
  return core::Guarded("kafka consumer", [&]() -> Result<void> {
    if (closed_) return Fail(ErrorCode::kUnavailable, "kafka consumer: closed");
    on_assign_ = std::move(on_assign);
    on_revoke_ = std::move(on_revoke);
    PartitionList topics(1);
    rd_kafka_topic_partition_list_add(topics.list, options_.topic.c_str(), RD_KAFKA_PARTITION_UA);
    if (const rd_kafka_resp_err_t err = rd_kafka_subscribe(rk_, topics.list)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "kafka consumer: subscribe: " + std::string(rd_kafka_err2str(err)));
    }
    subscribed_ = true;
    return {};
  });
}

Result<std::size_t> KafkaClickSource::Poll(std::vector<StreamMessage>& out, std::size_t max,
                                           std::chrono::milliseconds wait) {
  using Clock = std::chrono::steady_clock;
  if (closed_) return Fail(ErrorCode::kUnavailable, "kafka consumer: closed");
  if (!subscribed_) return Fail(ErrorCode::kInvalidArgument, "kafka consumer: not subscribed");
  const std::size_t from = out.size();
  polling_ = &out;
  polling_from_ = from;
  Result<std::size_t> result = core::Guarded("kafka consumer", [&]() -> Result<std::size_t> {
    const Clock::time_point deadline = Clock::now() + wait;
    for (bool first = true; out.size() - from < max; first = false) {
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0 && !first) break;
      Message message{rd_kafka_consumer_poll(rk_, static_cast<int>(std::max<long>(left, 0)))};
      if (assign_error_) {
        // OnAssign failed inside this poll: read the new assignment from the committed offsets,
        // from its start (`message` may already be one of it, and is dropped).
        rd_kafka_topic_partition_list_t* parts = nullptr;
        if (rd_kafka_assignment(rk_, &parts) == RD_KAFKA_RESP_ERR_NO_ERROR) {
          for (int i = 0; i < parts->cnt; ++i) parts->elems[i].offset = RD_KAFKA_OFFSET_STORED;
          rd_kafka_assign(rk_, parts);
          rd_kafka_topic_partition_list_destroy(parts);
        }
        for (Assigned& a : assigned_) a.position = -1;
        core::Error error = std::move(*assign_error_);
        assign_error_.reset();
        return std::unexpected(std::move(error));
      }
      rd_kafka_message_t* m = message.m;
      if (m == nullptr) continue;
      if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (std::optional<core::Error> error = PollError(rk_, *m)) {
          return std::unexpected(std::move(*error));
        }
        continue;
      }
      StreamMessage& sm = out.emplace_back();
      sm.partition = m->partition;
      sm.offset = m->offset;
      if (m->key != nullptr) sm.key.assign(static_cast<const char*>(m->key), m->key_len);
      if (m->payload != nullptr) {
        sm.payload.assign(static_cast<const char*>(m->payload), m->len);
      }
      sm.replayed = Replayed(m);
      for (Assigned& a : assigned_) {
        if (a.partition == m->partition) a.position = m->offset + 1;
      }
    }
    return out.size() - from;
  });
  polling_ = nullptr;
  return result;
}

Result<void> KafkaClickSource::Commit(const std::vector<core::StreamPosition>& next) {
  return core::Guarded("kafka consumer", [&]() -> Result<void> {
    if (closed_) return Fail(ErrorCode::kUnavailable, "kafka consumer: closed");
    if (!next.empty()) {
      PartitionList offsets(static_cast<int>(next.size()));
      for (const core::StreamPosition& p : next) {
        rd_kafka_topic_partition_list_add(offsets.list, options_.topic.c_str(), p.partition)
            ->offset = p.offset;
      }
      if (const rd_kafka_resp_err_t err = rd_kafka_commit(rk_, offsets.list, /*async=*/1)) {
        return Fail(ErrorCode::kUnavailable,
                    "kafka consumer: commit: " + std::string(rd_kafka_err2str(err)));
      }
    }
    if (commit_error_) {
      core::Error error = std::move(*commit_error_);
      commit_error_.reset();
      return std::unexpected(std::move(error));
    }
    return {};
  });
}

Result<void> KafkaClickSource::Seek(const std::vector<core::StreamPosition>& positions) {
  return core::Guarded("kafka consumer", [&]() -> Result<void> {
    if (closed_) return Fail(ErrorCode::kUnavailable, "kafka consumer: closed");
    if (positions.empty()) return {};
    PartitionList list(static_cast<int>(positions.size()));
    for (const core::StreamPosition& p : positions) {
      rd_kafka_topic_partition_list_add(list.list, options_.topic.c_str(), p.partition)->offset =
          p.offset;
    }
    if (rd_kafka_error_t* error = rd_kafka_seek_partitions(rk_, list.list, 5000)) {
      std::string why = rd_kafka_error_string(error);
      rd_kafka_error_destroy(error);
      return Fail(ErrorCode::kUnavailable, "kafka consumer: seek: " + why);
    }
    for (int i = 0; i < list.list->cnt; ++i) {
      const rd_kafka_topic_partition_t& part = list.list->elems[i];
      if (part.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return Fail(ErrorCode::kUnavailable, "kafka consumer: seek partition " +
                                                 std::to_string(part.partition) + ": " +
                                                 rd_kafka_err2str(part.err));
      }
      for (Assigned& a : assigned_) {
        if (a.partition == part.partition) a.position = part.offset;
      }
    }
    return {};
  });
}

std::vector<ports::PartitionLag> KafkaClickSource::Lag() {
  std::vector<ports::PartitionLag> lags;
  try {
    if (closed_) return lags;
    FillUnknownPositions();
    for (const Assigned& a : assigned_) {
      std::int64_t low = RD_KAFKA_OFFSET_INVALID;
      std::int64_t high = RD_KAFKA_OFFSET_INVALID;
      rd_kafka_get_watermark_offsets(rk_, options_.topic.c_str(), a.partition, &low, &high);
      ports::PartitionLag& lag = lags.emplace_back();
      lag.partition = a.partition;
      lag.position = a.position >= 0 ? a.position : std::max<std::int64_t>(low, 0);
      lag.high_watermark = high >= 0 ? high : lag.position;
    }
  } catch (...) {
    lags.clear();  // out of memory: no lag known
  }
  return lags;
}

void KafkaClickSource::Close() {
  if (closed_ || rk_ == nullptr) return;
  closed_ = true;
  // Revokes the assignment through the rebalance callback (OnRevoke), waits for commits in
  // flight and leaves the group.
  rd_kafka_consumer_close(rk_);
  assigned_.clear();
}

void KafkaClickSource::Assign(rd_kafka_topic_partition_list_t* parts) {
  const std::vector<std::int32_t> ids = PartitionsOf(parts);
  for (int i = 0; i < parts->cnt; ++i) parts->elems[i].offset = RD_KAFKA_OFFSET_STORED;
  if (on_assign_) {
    Result<std::vector<core::StreamPosition>> starts =
        core::Guarded("kafka consumer: OnAssign", [&] { return on_assign_(ids); });
    if (starts) {
      for (const core::StreamPosition& p : *starts) {
        rd_kafka_topic_partition_t* elem =
            rd_kafka_topic_partition_list_find(parts, options_.topic.c_str(), p.partition);
        if (elem != nullptr && p.offset >= 0) elem->offset = p.offset;
      }
    } else {
      assign_error_ = std::move(starts.error());  // Poll re-assigns from the committed offsets
    }
  }
  assigned_.clear();
  for (int i = 0; i < parts->cnt; ++i) {
    const std::int64_t offset = parts->elems[i].offset;
    assigned_.push_back({parts->elems[i].partition, offset >= 0 ? offset : -1});
  }
  if (const rd_kafka_resp_err_t err = rd_kafka_assign(rk_, parts)) {
    assign_error_ = core::Error{ErrorCode::kInternal,
                                "kafka consumer: assign: " + std::string(rd_kafka_err2str(err))};
  }
}

void KafkaClickSource::Revoke(rd_kafka_topic_partition_list_t* parts) {
  // Any rebalance error other than ASSIGN also drops the whole assignment (eager protocol).
  std::vector<std::int32_t> ids = PartitionsOf(parts);
  if (ids.empty()) {
    for (const Assigned& a : assigned_) ids.push_back(a.partition);
  }
  if (polling_ != nullptr) {
    // This Poll's messages of those partitions were not handed out yet: forget them too.
    auto revoked = [&](const StreamMessage& m) {
      return std::ranges::find(ids, m.partition) != ids.end();
    };
    polling_->erase(std::remove_if(polling_->begin() + static_cast<std::ptrdiff_t>(polling_from_),
                                   polling_->end(), revoked),
                    polling_->end());
  }
  if (on_revoke_ && !ids.empty()) {
    try {
      on_revoke_(ids);
    } catch (...) {
      // OnRevoke must not throw; the partitions go anyway.
    }
  }
  rd_kafka_assign(rk_, nullptr);
  assigned_.clear();
}

void KafkaClickSource::FillUnknownPositions() {
  std::vector<std::int32_t> unknown;
  for (const Assigned& a : assigned_) {
    if (a.position < 0 && !a.asked_committed) unknown.push_back(a.partition);
  }
  if (unknown.empty()) return;
  PartitionList parts(static_cast<int>(unknown.size()));
  for (std::int32_t p : unknown) {
    rd_kafka_topic_partition_list_add(parts.list, options_.topic.c_str(), p);
  }
  if (rd_kafka_committed(rk_, parts.list, kCommittedTimeoutMs) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return;  // asked again by the next Lag
  }
  for (Assigned& a : assigned_) {
    const rd_kafka_topic_partition_t* elem =
        rd_kafka_topic_partition_list_find(parts.list, options_.topic.c_str(), a.partition);
    if (elem == nullptr || a.position >= 0) continue;
    a.asked_committed = true;
    if (elem->err == RD_KAFKA_RESP_ERR_NO_ERROR && elem->offset >= 0) a.position = elem->offset;
  }
}

}  // namespace kurz::adapters::kafka
