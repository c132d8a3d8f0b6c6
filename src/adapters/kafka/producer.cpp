#include "adapters/kafka/producer.hpp"

#include "adapters/kafka/conf.hpp"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <utility>

#include "adapters/kafka/kafka_url.hpp"

namespace kurz::adapters::kafka {
namespace {

constexpr std::chrono::milliseconds kPollInterval{20};
constexpr std::chrono::milliseconds kSyncInterval{100};
constexpr std::chrono::milliseconds kProbeInterval{1000};
constexpr std::chrono::milliseconds kProbeTimeout{500};
constexpr std::chrono::milliseconds kReplayRetry{1000};
constexpr std::chrono::milliseconds kPurgeGrace{1000};
constexpr std::chrono::milliseconds kCloseFlush{2000};
constexpr std::size_t kMaxReplayWindow = 10'000;

void Log(const std::string& line) {
  std::fprintf(stderr, "kurz kafka producer: %s\n", line.c_str());
}

// Errors that no retry can fix: such an event is dropped rather than spooled (or replayed) again.
bool IsPermanent(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
      return true;
    default:
      return false;
  }
}

// librdkafka's per-message opaque carries the segment number; it is never dereferenced.
void* ReplayOpaque(std::uint64_t seq) {
  const auto bits = static_cast<std::uintptr_t>(seq);
  return reinterpret_cast<void*>(bits);  // NOLINT(performance-no-int-to-ptr): see above
}

std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

core::Result<std::unique_ptr<KafkaEventSink>> KafkaEventSink::Open(ProducerOptions options) {
  const auto bad = [](const std::string& why) {
    return core::Fail(core::ErrorCode::kInvalidArgument, "kafka producer: " + why);
  };
  if (options.brokers.empty()) return bad("no brokers given");
  if (!IsValidTopicName(options.topic)) {
    return bad("illegal topic name '" + options.topic +
               "' (1..249 of letters, digits, '.', '_', '-')");
  }
  if (options.max_in_memory == 0) return bad("max_in_memory must be at least 1");
  if (options.linger.count() < 0) return bad("linger must not be negative");
  if (options.stall_timeout.count() <= 0) return bad("stall_timeout must be positive");

  auto spool =
      Spool::Open(SpoolOptions{.dir = options.spool_dir, .max_bytes = options.spool_max_bytes});
  if (!spool) return std::unexpected(spool.error());

  const std::size_t window =
      std::clamp<std::size_t>(options.max_in_memory / 4, 1, kMaxReplayWindow);
  std::map<std::string, std::string> settings = {
      {"bootstrap.servers", options.brokers},
      {"client.id", "kurz-producer"},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"linger.ms", std::to_string(options.linger.count())},
      {"compression.codec", "lz4"},
      {"partitioner", "murmur2_random"},
      // Never let librdkafka give up on a message: when the cluster is down they are purged into
      // the spool on purpose instead.
      {"message.timeout.ms", "0"},
      // Our own bound (max_in_memory for live events, the replay window) is the real one; this
      // one only backs it up with room for racing Publish calls.
      {"queue.buffering.max.messages", std::to_string(options.max_in_memory + window + 1000)},
      {"reconnect.backoff.max.ms", "1000"},
      {"log.connection.close", "false"},
  };
  for (const auto& [name, value] : options.extra) settings[name] = value;

  core::Result<rd_kafka_conf_t*> made = NewConf(settings);
  if (!made) return bad(made.error().detail);
  rd_kafka_conf_t* conf = *made;
  char errstr[512];
  std::unique_ptr<KafkaEventSink> sink(new KafkaEventSink(std::move(options), std::move(*spool)));
  rd_kafka_conf_set_opaque(conf, sink.get());
  rd_kafka_conf_set_dr_msg_cb(
      conf, [](rd_kafka_t* rk, const rd_kafka_message_t* m, void* o) { OnDelivery(rk, m, o); });
  rd_kafka_conf_set_error_cb(conf, [](rd_kafka_t* rk, int err, const char* reason, void* o) {
    OnError(rk, err, reason, o);
  });
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (rk == nullptr) {  // conf is still ours on failure
    rd_kafka_conf_destroy(conf);
    return bad(std::string("cannot create the client: ") + errstr);
  }
  sink->rk_ = rk;
  sink->rkt_ = rd_kafka_topic_new(rk, sink->options_.topic.c_str(), nullptr);
  if (sink->rkt_ == nullptr) {
    return bad("cannot create topic handle: " +
               std::string(rd_kafka_err2str(rd_kafka_last_error())));
  }
  sink->thread_ = std::thread([s = sink.get()] { s->Run(); });
  return sink;
}

KafkaEventSink::KafkaEventSink(ProducerOptions options, std::unique_ptr<Spool> spool)
    : options_(std::move(options)),
      replay_window_(std::clamp<std::size_t>(options_.max_in_memory / 4, 1, kMaxReplayWindow)),
      spool_(std::move(spool)) {}

KafkaEventSink::~KafkaEventSink() {
  if (thread_.joinable()) {
    Flush(kCloseFlush);
    stop_.store(true);
    thread_.join();
  }
  if (rk_ != nullptr) {
    // Whatever is still held comes back purged: live events go to the spool, replayed records
    // are still in their segment.
    rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    DrainReports(kPurgeGrace);
    if (rkt_ != nullptr) rd_kafka_topic_destroy(rkt_);
    rd_kafka_destroy(rk_);
  }
  replay_.reset();
  spool_->Close();
}

void KafkaEventSink::Publish(std::string_view key, std::string_view payload) {
  published_.fetch_add(1, std::memory_order_relaxed);
  if (down_.load(std::memory_order_relaxed)) {
    SpoolEvent(key, payload);
    return;
  }
  if (live_outstanding_.fetch_add(1, std::memory_order_relaxed) >=
      static_cast<std::int64_t>(options_.max_in_memory)) {
    live_outstanding_.fetch_sub(1, std::memory_order_relaxed);
    SpoolEvent(key, payload);
    return;
  }
  const rd_kafka_resp_err_t err =
      rd_kafka_producev(rk_, RD_KAFKA_V_RKT(rkt_), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                        RD_KAFKA_V_KEY(key.empty() ? nullptr : key.data(), key.size()),
                        RD_KAFKA_V_VALUE(const_cast<char*>(payload.data()), payload.size()),
                        RD_KAFKA_V_OPAQUE(nullptr), RD_KAFKA_V_END);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (IsPermanent(err)) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
    } else {  // QUEUE_FULL, a fatal client error, an unknown topic: keep it for later
      SpoolEvent(key, payload);
    }
    if (live_outstanding_.fetch_sub(1, std::memory_order_relaxed) == 1) NotifyIfIdle();
  }
}

void KafkaEventSink::SpoolEvent(std::string_view key, std::string_view payload) {
  if (spool_->Append(key, payload)) {
    spooled_.fetch_add(1, std::memory_order_relaxed);
  } else {
    dropped_.fetch_add(1, std::memory_order_relaxed);
  }
}

void KafkaEventSink::NotifyIfIdle() {
  std::lock_guard lock(idle_mu_);
  idle_cv_.notify_all();
}

bool KafkaEventSink::Flush(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const std::uint64_t dropped_before = Stats().dropped;
  const auto idle = [this] { return live_outstanding_.load() == 0; };
  {
    std::unique_lock lock(idle_mu_);
    idle_cv_.wait_until(lock, deadline, idle);
  }
  if (!idle()) {
    // Out of time: take back what librdkafka holds. Its delivery reports (served by the
    // background thread) put the events into the spool.
    rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    std::unique_lock lock(idle_mu_);
    idle_cv_.wait_for(lock, kPurgeGrace, idle);
  }
  spool_->Sync();
  return idle() && Stats().dropped == dropped_before;
}

ports::EventSinkStats KafkaEventSink::Stats() const {
  ports::EventSinkStats stats;
  stats.published = published_.load(std::memory_order_relaxed);
  stats.delivered = delivered_.load(std::memory_order_relaxed);
  stats.spooled = spooled_.load(std::memory_order_relaxed);
  stats.replayed = replayed_.load(std::memory_order_relaxed);
  stats.dropped = dropped_.load(std::memory_order_relaxed) + spool_->lost();
  stats.spool_bytes = spool_->bytes();
  stats.queued = static_cast<std::uint64_t>(
      std::max<std::int64_t>(0, live_outstanding_.load(std::memory_order_relaxed)) +
      std::max<std::int64_t>(0, replay_outstanding_.load(std::memory_order_relaxed)));
  stats.connected = connected_.load(std::memory_order_relaxed);
  return stats;
}

void KafkaEventSink::OnDelivery(rd_kafka_s* /*rk*/, const rd_kafka_message_s* message,
                                void* opaque) {
  auto* self = static_cast<KafkaEventSink*>(opaque);
  if (message->_private == nullptr) {
    self->HandleLiveReport(*message);
  } else {
    self->HandleReplayReport(
        *message, static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(message->_private)));
  }
}

void KafkaEventSink::OnError(rd_kafka_s* rk, int err, const char* reason, void* opaque) {
  auto* self = static_cast<KafkaEventSink*>(opaque);
  const auto code = static_cast<rd_kafka_resp_err_t>(err);
  if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    self->MarkDown(reason != nullptr ? reason : "all brokers down");
  } else if (code == RD_KAFKA_RESP_ERR__FATAL) {
    char fatal[512];
    rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
    Log(std::string("fatal client error, events will be spooled: ") + fatal);
  }
}

void KafkaEventSink::HandleLiveReport(const rd_kafka_message_s& message) {
  if (message.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    delivered_.fetch_add(1, std::memory_order_relaxed);
    MarkUp();
  } else if (IsPermanent(message.err)) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
  } else {
    // Purged (never sent, or sent without an answer), or failed: keep it; if it might have been
    // persisted after all, the replayed copy carries the header and is deduplicated downstream.
    SpoolEvent(std::string_view(static_cast<const char*>(message.key), message.key_len),
               std::string_view(static_cast<const char*>(message.payload), message.len));
  }
  if (live_outstanding_.fetch_sub(1, std::memory_order_relaxed) == 1) NotifyIfIdle();
}

void KafkaEventSink::HandleReplayReport(const rd_kafka_message_s& message, std::uint64_t seq) {
  replay_outstanding_.fetch_sub(1, std::memory_order_relaxed);
  if (message.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    replayed_.fetch_add(1, std::memory_order_relaxed);
    MarkUp();
  } else if (IsPermanent(message.err)) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
  }
  if (!replay_ || replay_->seq != seq) return;  // cannot happen: one segment at a time
  --replay_->inflight;
  if (message.err != RD_KAFKA_RESP_ERR_NO_ERROR && !IsPermanent(message.err)) {
    replay_->failed = true;
  }
}

void KafkaEventSink::MarkUp() {
  last_ack_ns_.store(NowNs(), std::memory_order_relaxed);
  connected_.store(true, std::memory_order_relaxed);
  if (down_.exchange(false)) Log("cluster reachable again; sending live events and the spool");
}

void KafkaEventSink::MarkDown(std::string_view why) {
  connected_.store(false, std::memory_order_relaxed);
  if (!down_.exchange(true)) {
    Log("cluster unreachable (" + std::string(why) + "); spooling events");
    purge_wanted_.store(true);
  }
}

void KafkaEventSink::Probe(Clock::time_point now) {
  next_probe_ = now + kProbeInterval;
  const rd_kafka_metadata_t* metadata = nullptr;
  const rd_kafka_resp_err_t err =
      rd_kafka_metadata(rk_, 0, rkt_, &metadata, static_cast<int>(kProbeTimeout.count()));
  bool ok = false;
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR && metadata != nullptr) {
    ok = metadata->topic_cnt == 1 && metadata->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
         metadata->topics[0].partition_cnt > 0;
  }
  if (metadata != nullptr) rd_kafka_metadata_destroy(metadata);
  if (ok) MarkUp();
}

void KafkaEventSink::Run() {
  last_sync_ = Clock::now();
  busy_since_ = last_sync_;
  while (!stop_.load()) {
    rd_kafka_poll(rk_, static_cast<int>(kPollInterval.count()));
    const auto now = Clock::now();

    // Stall: messages outstanding and nothing acknowledged for stall_timeout.
    const std::int64_t outstanding = live_outstanding_.load() + replay_outstanding_.load();
    if (outstanding == 0) {
      busy_since_ = now;
    } else {
      const auto last_ack = Clock::time_point(std::chrono::nanoseconds(last_ack_ns_.load()));
      if (now - std::max(busy_since_, last_ack) > options_.stall_timeout) {
        MarkDown("no acknowledgement for " + std::to_string(options_.stall_timeout.count()) +
                 " ms");
        busy_since_ = now;
      }
    }
    // While down, take back never-sent messages (also ones a racing Publish queued after the
    // first purge); their delivery reports spool them.
    if (down_.load() && live_outstanding_.load() > 0 && now >= next_purge_) {
      purge_wanted_.store(true);
    }
    if (purge_wanted_.exchange(false)) {
      rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE);
      next_purge_ = now + kProbeInterval;
    }
    if (now - last_sync_ >= kSyncInterval) {
      spool_->Sync();
      last_sync_ = now;
    }
    if (!connected_.load() && now >= next_probe_) Probe(now);
    DriveReplay(Clock::now());
  }
}

void KafkaEventSink::DriveReplay(Clock::time_point now) {
  if (!replay_) {
    if (down_.load() || !connected_.load() || spool_->empty() || now < replay_retry_at_) return;
    const auto seq = spool_->OldestSegment();
    if (!seq) return;
    auto segment = spool_->ReadSegment(*seq);
    if (!segment) {
      Log(segment.error().detail + "; retrying");
      replay_retry_at_ = now + kReplayRetry;
      return;
    }
    if (segment->ignored_bytes > 0) {
      Log("spool segment " + Spool::SegmentName(*seq) + ": ignored a torn or corrupt tail of " +
          std::to_string(segment->ignored_bytes) + " bytes after " +
          std::to_string(segment->records.size()) + " records");
    }
    // Not emplace(): clang decides std::optional<Replay> inside KafkaEventSink, before Replay's
    // member initializers are parsed, and then finds Replay not default-constructible.
    replay_ = Replay{};
    replay_->seq = *seq;
    replay_->records = std::move(segment->records);
  }
  Replay& replay = *replay_;
  while (!replay.failed && replay.next < replay.records.size() &&
         replay.inflight < replay_window_ && !down_.load()) {
    const SpoolRecord& record = replay.records[replay.next];
    // No copy: the records stay in replay_ until every one of them is reported.
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        rk_, RD_KAFKA_V_RKT(rkt_), RD_KAFKA_V_MSGFLAGS(0),
        RD_KAFKA_V_KEY(record.key.empty() ? nullptr : record.key.data(), record.key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(record.payload.data()), record.payload.size()),
        RD_KAFKA_V_HEADER(kReplayedHeader, "1", 1), RD_KAFKA_V_OPAQUE(ReplayOpaque(replay.seq)),
        RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) break;  // next round
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (IsPermanent(err)) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        ++replay.next;
        continue;
      }
      replay.failed = true;
      break;
    }
    ++replay.next;
    ++replay.inflight;
    replay_outstanding_.fetch_add(1, std::memory_order_relaxed);
  }
  if (replay.inflight == 0 && (replay.failed || replay.next == replay.records.size())) {
    if (replay.failed) {
      replay_retry_at_ = now + kReplayRetry;  // the whole segment again, later
    } else {
      spool_->RemoveSegment(replay.seq);
    }
    replay_.reset();
  }
}

void KafkaEventSink::DrainReports(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while ((live_outstanding_.load() > 0 || replay_outstanding_.load() > 0) &&
         Clock::now() < deadline) {
    rd_kafka_poll(rk_, 10);
  }
}

}  // namespace kurz::adapters::kafka
