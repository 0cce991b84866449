// The POSIX Env on real files. map_file (how a restart reads the snapshot
// and the log: mapped, not copied) gives exactly read_file's bytes and
// errors; a restart from a real directory cuts a torn tail, and a repair cuts
// a damaged record, to the exact state — the same rules corruption_test
// checks on the in-memory FaultEnv, here through the mapping and a truncate
// of a file that is still mapped.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "caserepo/env.h"
#include "support/fixtures.h"

namespace caserepo::testing {
namespace {

namespace fs = std::filesystem;

void write_bytes(const fs::path& path, const std::string& bytes, std::ios::openmode mode = std::ios::trunc) {
  std::ofstream out(path, std::ios::binary | mode);
  out << bytes;
  ASSERT_TRUE(out.good()) << path;
}

TEST(PosixEnvTest, MapFileGivesReadFilesBytes) {
  TempDir dir("caserepo-posix-env");
  std::string big(3 * 1024 * 1024 + 7, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131) ^ (i >> 9));
  for (const std::string& bytes : {std::string(), std::string("x"), big}) {
    const fs::path path = dir.path() / ("f" + std::to_string(bytes.size()));
    write_bytes(path, bytes);
    auto mapped = Env::posix()->map_file(path.string(), bytes.size());
    ASSERT_TRUE(mapped.ok()) << mapped.error().to_string();
    EXPECT_EQ((*mapped)->bytes(), bytes);
    auto read = Env::posix()->read_file(path.string(), bytes.size());
    ASSERT_TRUE(read.ok());
    EXPECT_EQ(*read, bytes);
  }
}

TEST(PosixEnvTest, MapFileFailsAsReadFileDoes) {
  TempDir dir("caserepo-posix-env");
  const fs::path path = dir.path() / "hundred";
  write_bytes(path, std::string(100, 'a'));
  auto over = Env::posix()->map_file(path.string(), 99);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code(), ErrorCode::kCorruption);
  EXPECT_EQ(over.error().code(), Env::posix()->read_file(path.string(), 99).error().code());
  auto missing = Env::posix()->map_file((dir.path() / "missing").string(), 100);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kIOError);
}

// 200 creates, a checkpoint after the first 100 (so a restart loads a
// snapshot and replays a log), closed. Returns the entries, oldest first.
std::vector<Entry> populate(const std::string& dir) {
  Options o;
  o.fsync = FsyncPolicy::kNone;  // a clean close leaves every byte in the files
  o.checkpointLogBytes = 0;
  auto repo = Repository::open(dir, o);
  if (!repo.ok()) throw std::runtime_error(repo.error().to_string());
  for (int i = 0; i < 200; ++i) {
    auto e = (*repo)->create(request("client-" + std::to_string(i % 17), "LOAN", i % 3 ? "OPEN" : "CLOSED"));
    if (!e.ok()) throw std::runtime_error(e.error().to_string());
    if (i == 99 && !(*repo)->checkpoint().ok()) throw std::runtime_error("checkpoint");
  }
  return all_entries(**repo);
}

fs::path newest_log(const fs::path& dir) {
  std::vector<fs::path> logs;
  for (const auto& f : fs::directory_iterator(dir)) {
    if (f.path().extension() == ".log") logs.push_back(f.path());
  }
  if (logs.empty()) throw std::runtime_error("no log in " + dir.string());
  return *std::max_element(logs.begin(), logs.end());
}

TEST(PosixEnvTest, RestartOfARealDirectoryCutsATornTailExactly) {
  TempDir dir("caserepo-posix-env");
  const std::vector<Entry> created = populate(dir.str());
  const fs::path log = newest_log(dir.path());
  const auto intact_size = fs::file_size(log);
  write_bytes(log, std::string(4096, '\0'), std::ios::app);  // a crash mid-append, zero-filled

  auto repo = Repository::open(dir.str());
  ASSERT_TRUE(repo.ok()) << repo.error().to_string();
  EXPECT_EQ((*repo)->stats().tailBytesDropped, 4096u);
  EXPECT_EQ(all_entries(**repo), created);
  EXPECT_EQ(fs::file_size(log), intact_size);
}

TEST(PosixEnvTest, RepairOfARealDirectoryKeepsExactlyTheRecordsBeforeTheDamage) {
  TempDir dir("caserepo-posix-env");
  const std::vector<Entry> created = populate(dir.str());
  const fs::path log = newest_log(dir.path());
  std::string bytes = file_bytes(log);
  const std::size_t flipped = bytes.size() * 3 / 5;  // in a record after the snapshot's 100
  bytes[flipped] = static_cast<char>(bytes[flipped] ^ 0x40);
  write_bytes(log, bytes);

  auto refused = Repository::open(dir.str());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kCorruption);

  auto report = repair(dir.str());
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  ASSERT_TRUE(report->damaged);
  ASSERT_LE(report->damagedOffset, flipped);
  ASSERT_EQ(report->evidenceFiles.size(), 1u);
  EXPECT_EQ(file_bytes(dir.path() / report->evidenceFiles[0]), bytes.substr(report->damagedOffset));
  EXPECT_EQ(fs::file_size(log), report->damagedOffset);
  // Record seq k is the k-th create: the snapshot holds 1..100, the log the rest.
  ASSERT_GT(report->firstDroppedSeq, 101u);
  EXPECT_EQ(report->lastDroppedSeq, 200u);
  const std::vector<Entry> kept(created.begin(), created.begin() + static_cast<long>(report->firstDroppedSeq - 1));

  auto repo = Repository::open(dir.str());
  ASSERT_TRUE(repo.ok()) << repo.error().to_string();
  EXPECT_EQ(all_entries(**repo), kept);
}

}  // namespace
}  // namespace caserepo::testing
