#include "adapters/kafka/spool.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

namespace kurz::adapters::kafka {
namespace {

constexpr std::string_view kMagic = "KURZSPL1";
constexpr std::size_t kRecordHeader = 12;  // crc, key size, payload size
constexpr std::string_view kPrefix = "segment-";
constexpr std::string_view kSuffix = ".spool";
constexpr std::size_t kSeqDigits = 20;

// CRC-32C (Castagnoli), the checksum Kafka uses for record batches.
const std::array<std::uint32_t, 256>& CrcTable() {
  static const std::array<std::uint32_t, 256> table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}

std::uint32_t Crc32c(std::uint32_t crc, std::string_view bytes) {
  const auto& table = CrcTable();
  crc = ~crc;
  for (const char ch : bytes) {
    crc = table[(crc ^ static_cast<unsigned char>(ch)) & 0xFF] ^ (crc >> 8);
  }
  return ~crc;
}

void PutU32(std::string& out, std::uint32_t v) {
  const char bytes[4] = {static_cast<char>(v), static_cast<char>(v >> 8),
                         static_cast<char>(v >> 16), static_cast<char>(v >> 24)};
  out.append(bytes, 4);
}

// The little-endian 32-bit value at `at` in `bytes` (which holds at least at + 4 bytes).
std::uint32_t GetU32(std::string_view bytes, std::size_t at = 0) {
  const auto* u = reinterpret_cast<const unsigned char*>(bytes.data() + at);
  return std::uint32_t{u[0]} | std::uint32_t{u[1]} << 8 | std::uint32_t{u[2]} << 16 |
         std::uint32_t{u[3]} << 24;
}

std::uint32_t RecordCrc(std::string_view sizes, std::string_view key, std::string_view payload) {
  return Crc32c(Crc32c(Crc32c(0, sizes), key), payload);
}

std::optional<std::uint64_t> ParseSegmentName(const std::string& name) {
  if (name.size() != kPrefix.size() + kSeqDigits + kSuffix.size() || !name.starts_with(kPrefix) ||
      !name.ends_with(kSuffix)) {
    return std::nullopt;
  }
  std::uint64_t seq = 0;
  for (std::size_t i = kPrefix.size(); i < kPrefix.size() + kSeqDigits; ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    seq = seq * 10 + static_cast<std::uint64_t>(name[i] - '0');
  }
  return seq;
}

// Writes all of `bytes` at the file's end; false on any error.
bool WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::string Errno(int err) { return std::error_code(err, std::generic_category()).message(); }

}  // namespace

std::string Spool::SegmentName(std::uint64_t seq) {
  std::string digits = std::to_string(seq);
  return std::string(kPrefix) + std::string(kSeqDigits - digits.size(), '0') + digits +
         std::string(kSuffix);
}

core::Result<std::unique_ptr<Spool>> Spool::Open(SpoolOptions options) {
  if (options.dir.empty()) {
    return core::Fail(core::ErrorCode::kInvalidArgument, "spool directory: empty path");
  }
  const std::string shown = options.dir.string();
  const auto unavailable = [&](const std::string& why) {
    return core::Fail(core::ErrorCode::kUnavailable, "spool directory '" + shown + "': " + why);
  };
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) return unavailable("cannot create it: " + ec.message());
  if (!std::filesystem::is_directory(options.dir, ec)) return unavailable("not a directory");

  const int dir_fd = ::open(options.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return unavailable("cannot open it: " + Errno(errno));
  const auto fail = [&](const std::string& why, int lock_fd) {
    if (lock_fd >= 0) ::close(lock_fd);
    ::close(dir_fd);
    return unavailable(why);
  };
  // Proves the directory is writable (permission bits do not stop root; a read-only mount does).
  const std::filesystem::path probe = options.dir / ".write-test";
  const int probe_fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (probe_fd < 0) return fail("not writable: " + Errno(errno), -1);
  ::close(probe_fd);
  ::unlink(probe.c_str());

  const std::filesystem::path lock_path = options.dir / "LOCK";
  const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0) return fail("cannot create LOCK: " + Errno(errno), -1);
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    return fail(err == EWOULDBLOCK ? "in use by another producer (LOCK is held)"
                                   : "cannot lock LOCK: " + Errno(err),
                lock_fd);
  }

  std::vector<Sealed> found;
  for (const auto& entry : std::filesystem::directory_iterator(options.dir, ec)) {
    const auto seq = ParseSegmentName(entry.path().filename().string());
    if (!seq || !entry.is_regular_file()) continue;
    std::error_code size_ec;
    const auto size = entry.file_size(size_ec);
    found.push_back(Sealed{*seq, size_ec ? 0 : size});
  }
  if (ec) return fail("cannot list it: " + ec.message(), lock_fd);
  std::ranges::sort(found, {}, &Sealed::seq);

  std::unique_ptr<Spool> spool(new Spool(std::move(options), lock_fd, dir_fd));
  std::uint64_t total = 0;
  for (const Sealed& s : found) {
    spool->sealed_.push_back(s);
    total += s.bytes;
    spool->next_seq_ = s.seq + 1;
  }
  spool->bytes_.store(total);
  spool->segments_.store(found.size());
  return spool;
}

Spool::Spool(SpoolOptions options, int lock_fd, int dir_fd)
    : options_(std::move(options)), lock_fd_(lock_fd), dir_fd_(dir_fd) {}

Spool::~Spool() {
  Close();
  ::close(dir_fd_);
  ::close(lock_fd_);  // releases the flock
}

std::filesystem::path Spool::SegmentPath(std::uint64_t seq) const {
  return options_.dir / SegmentName(seq);
}

bool Spool::OpenActiveLocked() {
  const std::uint64_t seq = next_seq_;
  const std::filesystem::path path = SegmentPath(seq);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  if (!WriteAll(fd, kMagic)) {
    ::close(fd);
    ::unlink(path.c_str());
    return false;
  }
  ++next_seq_;
  active_fd_ = fd;
  active_seq_ = seq;
  active_bytes_ = kMagic.size();
  active_written_ = kMagic.size();
  dirty_ = true;
  dir_dirty_ = true;
  bytes_.fetch_add(kMagic.size(), std::memory_order_relaxed);
  segments_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool Spool::WriteBufferLocked() {
  if (buffer_.empty()) return true;
  if (WriteAll(active_fd_, buffer_)) {
    active_written_ += buffer_.size();
    buffer_.clear();
    buffer_records_ = 0;
    dirty_ = true;
    return true;
  }
  // A partial write would leave a torn record in the middle of the segment, hiding every later
  // one from the reader: cut the file back and count the buffered records as lost.
  if (::ftruncate(active_fd_, static_cast<off_t>(active_written_)) != 0) {
    // The reader stops at the torn record; nothing more can be done here.
  }
  lost_.fetch_add(buffer_records_, std::memory_order_relaxed);
  bytes_.fetch_sub(buffer_.size(), std::memory_order_relaxed);
  active_bytes_ -= buffer_.size();
  buffer_.clear();
  buffer_records_ = 0;
  return false;
}

void Spool::SealActiveLocked() {
  if (active_fd_ < 0) return;
  WriteBufferLocked();
  ::fdatasync(active_fd_);
  ::close(active_fd_);
  active_fd_ = -1;
  dirty_ = false;
  sealed_.push_back(Sealed{active_seq_, active_bytes_});
}

bool Spool::Append(std::string_view key, std::string_view payload) {
  const std::uint64_t size = kRecordHeader + key.size() + payload.size();
  if (key.size() > UINT32_MAX || payload.size() > UINT32_MAX) return false;
  std::lock_guard lock(mu_);
  if (closed_) return false;
  const bool need_new = active_fd_ < 0 || active_bytes_ + size > options_.segment_bytes;
  const std::uint64_t extra = need_new ? kMagic.size() : 0;
  if (bytes_.load(std::memory_order_relaxed) + size + extra > options_.max_bytes) return false;
  if (need_new) {
    if (active_fd_ >= 0 && active_bytes_ > kMagic.size()) SealActiveLocked();
    if (active_fd_ < 0 && !OpenActiveLocked()) return false;
  }
  std::string sizes;
  PutU32(sizes, static_cast<std::uint32_t>(key.size()));
  PutU32(sizes, static_cast<std::uint32_t>(payload.size()));
  PutU32(buffer_, RecordCrc(sizes, key, payload));
  buffer_ += sizes;
  buffer_ += key;
  buffer_ += payload;
  ++buffer_records_;
  active_bytes_ += size;
  bytes_.fetch_add(size, std::memory_order_relaxed);
  if (buffer_.size() >= options_.write_through_bytes) WriteBufferLocked();
  return true;
}

void Spool::Sync() {
  int fd = -1;
  bool sync_dir = false;
  {
    std::lock_guard lock(mu_);
    if (active_fd_ >= 0) {
      WriteBufferLocked();
      // fdatasync outside the lock, so Append does not wait for the disk; the duplicate keeps
      // the file open should the segment be sealed meanwhile (sealing syncs it too).
      if (dirty_) fd = ::dup(active_fd_);
      dirty_ = false;
    }
    sync_dir = dir_dirty_;
    dir_dirty_ = false;
  }
  if (fd >= 0) {
    ::fdatasync(fd);
    ::close(fd);
  }
  if (sync_dir) ::fsync(dir_fd_);
}

void Spool::Close() {
  std::lock_guard lock(mu_);
  if (closed_) return;
  closed_ = true;
  if (active_fd_ >= 0) {
    if (active_bytes_ > kMagic.size()) {
      SealActiveLocked();
    } else {  // created, never written to: not worth keeping
      ::close(active_fd_);
      active_fd_ = -1;
      ::unlink(SegmentPath(active_seq_).c_str());
      bytes_.fetch_sub(active_bytes_, std::memory_order_relaxed);
      segments_.fetch_sub(1, std::memory_order_relaxed);
    }
  }
  ::fsync(dir_fd_);
  dir_dirty_ = false;
}

std::optional<std::uint64_t> Spool::OldestSegment() {
  std::lock_guard lock(mu_);
  if (sealed_.empty() && active_fd_ >= 0 && active_bytes_ > kMagic.size()) SealActiveLocked();
  if (sealed_.empty()) return std::nullopt;
  return sealed_.front().seq;
}

core::Result<SpoolSegment> Spool::ReadSegment(std::uint64_t seq) const {
  const std::filesystem::path path = SegmentPath(seq);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return core::Fail(core::ErrorCode::kUnavailable,
                      "spool segment '" + path.string() + "': cannot open it");
  }
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    return core::Fail(core::ErrorCode::kUnavailable,
                      "spool segment '" + path.string() + "': read error");
  }
  SpoolSegment segment;
  std::string_view rest(data);
  if (!rest.starts_with(kMagic)) {
    segment.ignored_bytes = rest.size();
    return segment;
  }
  rest.remove_prefix(kMagic.size());
  while (rest.size() >= kRecordHeader) {
    const std::uint32_t crc = GetU32(rest);
    const std::uint64_t key_size = GetU32(rest, 4);
    const std::uint64_t payload_size = GetU32(rest, 8);
    if (key_size + payload_size > rest.size() - kRecordHeader) break;  // torn
    const std::string_view sizes = rest.substr(4, 8);
    const std::string_view key = rest.substr(kRecordHeader, key_size);
    const std::string_view payload = rest.substr(kRecordHeader + key_size, payload_size);
    if (RecordCrc(sizes, key, payload) != crc) break;  // corrupt
    segment.records.push_back(SpoolRecord{std::string(key), std::string(payload)});
    rest.remove_prefix(kRecordHeader + key_size + payload_size);
  }
  segment.ignored_bytes = rest.size();
  return segment;
}

void Spool::RemoveSegment(std::uint64_t seq) {
  std::lock_guard lock(mu_);
  const auto it = std::ranges::find(sealed_, seq, &Sealed::seq);
  if (it == sealed_.end()) return;
  ::unlink(SegmentPath(seq).c_str());
  bytes_.fetch_sub(it->bytes, std::memory_order_relaxed);
  segments_.fetch_sub(1, std::memory_order_relaxed);
  sealed_.erase(it);
  dir_dirty_ = true;
}

}  // namespace kurz::adapters::kafka
