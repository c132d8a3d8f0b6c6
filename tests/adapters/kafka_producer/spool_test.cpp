#include "adapters/kafka/spool.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "adapters/temp_dir.hpp"

namespace kurz::adapters::kafka {
namespace {

using kurz::testing::TempDir;

std::vector<std::filesystem::path> SegmentFiles(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".spool") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Every record of every segment, oldest first, removing the segments.
std::vector<SpoolRecord> Drain(Spool& spool) {
  std::vector<SpoolRecord> all;
  while (auto seq = spool.OldestSegment()) {
    auto segment = spool.ReadSegment(*seq);
    EXPECT_TRUE(segment) << segment.error().detail;
    if (!segment) break;
    for (auto& r : segment->records) all.push_back(std::move(r));
    spool.RemoveSegment(*seq);
  }
  return all;
}

TEST(Spool, RecordsComeBackInOrderAcrossSegments) {
  TempDir dir;
  auto spool = Spool::Open({.dir = dir.path() / "spool", .segment_bytes = 1000});
  ASSERT_TRUE(spool) << spool.error().detail;
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE((*spool)->Append("k" + std::to_string(i % 7), "payload-" + std::to_string(i)));
  }
  (*spool)->Append("", "");  // empty key and payload are records too
  EXPECT_FALSE((*spool)->empty());
  (*spool)->Sync();
  EXPECT_GT(SegmentFiles(dir.path() / "spool").size(), 3u);

  auto records = Drain(**spool);
  ASSERT_EQ(records.size(), 201u);
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(records[i].key, "k" + std::to_string(i % 7));
    EXPECT_EQ(records[i].payload, "payload-" + std::to_string(i));
  }
  EXPECT_EQ(records[200].key, "");
  EXPECT_TRUE((*spool)->empty());
  EXPECT_EQ((*spool)->bytes(), 0u);
  EXPECT_TRUE(SegmentFiles(dir.path() / "spool").empty());
}

TEST(Spool, SurvivesReopenAndKeepsTheOrder) {
  TempDir dir;
  {
    auto spool = Spool::Open({.dir = dir.path(), .segment_bytes = 300});
    ASSERT_TRUE(spool) << spool.error().detail;
    for (int i = 0; i < 30; ++i) ASSERT_TRUE((*spool)->Append("k", std::to_string(i)));
  }  // closed without Sync(): Close() writes the buffer
  std::uint64_t bytes_on_disk = 0;
  for (const auto& f : SegmentFiles(dir.path())) bytes_on_disk += std::filesystem::file_size(f);
  {
    auto spool = Spool::Open({.dir = dir.path(), .segment_bytes = 300});
    ASSERT_TRUE(spool) << spool.error().detail;
    EXPECT_EQ((*spool)->bytes(), bytes_on_disk);
    for (int i = 30; i < 40; ++i) ASSERT_TRUE((*spool)->Append("k", std::to_string(i)));
    auto records = Drain(**spool);
    ASSERT_EQ(records.size(), 40u);
    for (int i = 0; i < 40; ++i) EXPECT_EQ(records[i].payload, std::to_string(i));
  }
}

TEST(Spool, CapRefusesRecordsBeyondIt) {
  TempDir dir;
  auto spool = Spool::Open({.dir = dir.path(), .max_bytes = 500});
  ASSERT_TRUE(spool) << spool.error().detail;
  int accepted = 0;
  for (int i = 0; i < 100; ++i) accepted += (*spool)->Append("key", std::string(20, 'x')) ? 1 : 0;
  EXPECT_GT(accepted, 5);
  EXPECT_LT(accepted, 100);
  EXPECT_LE((*spool)->bytes(), 500u);
  // Room again once a segment is gone.
  auto records = Drain(**spool);
  EXPECT_EQ(static_cast<int>(records.size()), accepted);
  EXPECT_TRUE((*spool)->Append("key", std::string(20, 'x')));
}

TEST(Spool, TornTailAndCorruptRecordEndTheSegment) {
  TempDir dir;
  {
    auto spool = Spool::Open({.dir = dir.path()});
    ASSERT_TRUE(spool);
    for (int i = 0; i < 10; ++i) ASSERT_TRUE((*spool)->Append("k", "p" + std::to_string(i)));
  }
  auto files = SegmentFiles(dir.path());
  ASSERT_EQ(files.size(), 1u);
  {
    std::ofstream out(files[0], std::ios::binary | std::ios::app);
    out.write("\x01\x02\x03\x04\x05\x00\x00\x00\x40", 9);  // half a record header
  }
  {
    auto spool = Spool::Open({.dir = dir.path()});
    ASSERT_TRUE(spool);
    auto segment = (*spool)->ReadSegment(1);
    ASSERT_TRUE(segment) << segment.error().detail;
    EXPECT_EQ(segment->records.size(), 10u);
    EXPECT_EQ(segment->ignored_bytes, 9u);
  }
  // Flip a byte of record 6's payload: records 0..5 survive.
  const auto size = std::filesystem::file_size(files[0]);
  std::string data(size, '\0');
  {
    std::ifstream in(files[0], std::ios::binary);
    in.read(data.data(), static_cast<std::streamsize>(size));
  }
  const auto at = data.find("p6");
  ASSERT_NE(at, std::string::npos);
  data[at + 1] = '7';
  {
    std::ofstream out(files[0], std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
  }
  auto spool = Spool::Open({.dir = dir.path()});
  ASSERT_TRUE(spool);
  auto segment = (*spool)->ReadSegment(1);
  ASSERT_TRUE(segment);
  ASSERT_EQ(segment->records.size(), 6u);
  EXPECT_EQ(segment->records[5].payload, "p5");
}

TEST(Spool, OneOwnerPerDirectory) {
  TempDir dir;
  auto first = Spool::Open({.dir = dir.path()});
  ASSERT_TRUE(first);
  auto second = Spool::Open({.dir = dir.path()});
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, core::ErrorCode::kUnavailable);
  EXPECT_NE(second.error().detail.find("in use"), std::string::npos) << second.error().detail;
  first->reset();
  EXPECT_TRUE(Spool::Open({.dir = dir.path()}));
}

TEST(Spool, UnusableDirectoryFailsClearly) {
  TempDir dir;
  { std::ofstream(dir.File("plain-file")) << "x"; }
  auto under_file = Spool::Open({.dir = dir.path() / "plain-file" / "spool"});
  ASSERT_FALSE(under_file);
  EXPECT_EQ(under_file.error().code, core::ErrorCode::kUnavailable);
  EXPECT_NE(under_file.error().detail.find("plain-file/spool"), std::string::npos)
      << under_file.error().detail;

  auto empty = Spool::Open({.dir = ""});
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, core::ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace kurz::adapters::kafka
