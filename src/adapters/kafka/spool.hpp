#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace kurz::adapters::kafka {

// Where the producer keeps events the cluster cannot take now: a directory of segment files
//   <dir>/LOCK                          flock'ed while a Spool has the directory open
//   <dir>/segment-<20-digit seq>.spool  "KURZSPL1", then records
// Each record is [u32 crc32c][u32 key size][u32 payload size][key][payload] (little-endian; the
// CRC covers both sizes and the bytes), so a torn or corrupt record is detected; reading a
// segment stops there and returns what came before it. Records are appended to the newest
// ("active") segment through a memory buffer that Sync() writes and fdatasync's; the producer
// calls Sync() every 100 ms from its own thread, so Append never waits for the disk. Segments are
// read and removed whole, oldest first, and only once sealed (no longer appended to).
struct SpoolOptions {
  std::filesystem::path dir;                    // created if missing
  std::uint64_t max_bytes = 1ull << 30;         // on disk plus buffered; beyond it Append drops
  std::uint64_t segment_bytes = 8ull << 20;     // a segment is sealed once it reaches this size
  std::size_t write_through_bytes = 256 << 10;  // a bigger buffer is written (not synced) at once
};

struct SpoolRecord {
  std::string key;
  std::string payload;
};

struct SpoolSegment {
  std::vector<SpoolRecord> records;
  std::uint64_t ignored_bytes = 0;  // a torn or corrupt tail, skipped
};

class Spool {
 public:
  // unavailable when the directory cannot be created or written, or another Spool holds it;
  // invalid_argument for an empty path. Existing segments are kept for reading (oldest first).
  static core::Result<std::unique_ptr<Spool>> Open(SpoolOptions options);

  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;
  ~Spool();  // Close()

  // Adds a record. False when it was dropped: the cap would be exceeded, or the disk failed.
  bool Append(std::string_view key, std::string_view payload);

  // Writes the buffer and makes everything appended so far durable (fdatasync, directory fsync).
  void Sync();

  // Sync()s, seals the active segment and releases the directory. Idempotent.
  void Close();

  // The oldest segment with records to read, sealing the active one if it is the only one.
  std::optional<std::uint64_t> OldestSegment();

  // The records of segment `seq` (unavailable if it cannot be read).
  core::Result<SpoolSegment> ReadSegment(std::uint64_t seq) const;

  // Deletes segment `seq` (after all its records were delivered).
  void RemoveSegment(std::uint64_t seq);

  std::uint64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  // No segment on disk or being written (a segment may still turn out to hold no valid record).
  bool empty() const { return segments_.load(std::memory_order_relaxed) == 0; }
  // Records accepted by Append but lost later because writing them failed.
  std::uint64_t lost() const { return lost_.load(std::memory_order_relaxed); }
  const std::filesystem::path& dir() const { return options_.dir; }

  static std::string SegmentName(std::uint64_t seq);  // "segment-00000000000000000042.spool"

 private:
  struct Sealed {
    std::uint64_t seq;
    std::uint64_t bytes;
  };

  Spool(SpoolOptions options, int lock_fd, int dir_fd);
  std::filesystem::path SegmentPath(std::uint64_t seq) const;
  bool OpenActiveLocked();
  bool WriteBufferLocked();
  void SealActiveLocked();

  const SpoolOptions options_;
  int lock_fd_;
  int dir_fd_;

  mutable std::mutex mu_;
  std::deque<Sealed> sealed_;  // oldest first
  int active_fd_ = -1;         // -1: no active segment yet
  std::uint64_t active_seq_ = 0;
  std::uint64_t active_bytes_ = 0;  // including the buffer
  std::uint64_t next_seq_ = 1;
  std::string buffer_;      // appended, not yet written
  bool dirty_ = false;      // written but not fdatasync'ed
  bool dir_dirty_ = false;  // a segment was created or removed
  bool closed_ = false;

  std::atomic<std::uint64_t> bytes_{0};     // every segment plus the buffer
  std::uint64_t active_written_ = 0;        // bytes of the active segment known to be in the file
  std::uint64_t buffer_records_ = 0;        // records in buffer_
  std::atomic<std::uint64_t> segments_{0};  // sealed ones plus the active one
  std::atomic<std::uint64_t> lost_{0};
};

}  // namespace kurz::adapters::kafka
