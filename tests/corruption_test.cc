// Damaged files: every byte of every file type, each offset class, single
// and multi-byte damage — the directory opens with exactly every
// acknowledged write, or refuses with Corruption naming the file and
// offset; never a silent prefix. Then the recovery modes, and repair.
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <random>

#include "storage/format.h"
#include "storage/log.h"
#include "storage/manifest.h"
#include "storage/records.h"
#include "support/fault_env.h"
#include "support/fixtures.h"
#include "support/log_bytes.h"
#include "support/persistence_workload.h"

namespace caserepo::testing {
namespace {

const std::string& kDir = kDataDir;
using Files = std::map<std::string, std::string>;

// A small data directory — a snapshot, a log with records after it, a
// MANIFEST — every write of which was acknowledged and fsynced.
Files small_directory(std::vector<std::vector<Entry>>& states) {
  FaultEnv env;
  ManualClock clock;
  const auto ops = workload();
  states = expected_states(ops);
  auto repo = Repository::open(kDir, options_for(env, clock));
  EXPECT_TRUE(repo.ok());
  EXPECT_FALSE(run(**repo, clock, ops).failed);
  repo->reset();
  Files files = env.files();
  files.erase(kDir + "/LOCK");
  return files;
}

std::string path_ending(const Files& files, const std::string& part) {
  for (const auto& [path, data] : files) {
    if (path.find(part) != std::string::npos) return path;
  }
  return "";
}

// The offset classes of a file's bytes, named per file type.
std::string offset_class(const std::string& path, const std::string& data, std::size_t byte) {
  if (path.ends_with("MANIFEST")) {
    static const char* kParts[] = {"magic", "version", "snapshot seq", "log start seq", "checksum"};
    const std::size_t bounds[] = {8, 12, 20, 28, 32};
    for (int i = 0; i < 5; ++i) {
      if (byte < bounds[i]) return std::string("manifest ") + kParts[i];
    }
  }
  if (path.find("/snapshot-") != std::string::npos) {
    if (byte < storage::kSnapshotHeaderSize) return "snapshot header";
    if (byte >= data.size() - storage::kSnapshotFooterSize) return "snapshot footer";
    std::size_t pos = storage::kSnapshotHeaderSize;
    while (pos + storage::kFrameHeaderSize <= byte) {
      const std::size_t end = pos + storage::kFrameHeaderSize + util::get_u32(data.data() + pos + 4);
      if (byte < end) return "snapshot frame payload";
      pos = end;
    }
    return byte < pos + 4 ? "snapshot frame checksum" : "snapshot frame length";
  }
  if (byte < storage::kLogHeaderSize) return "log file header";
  std::size_t pos = storage::kLogHeaderSize;
  for (const auto& r : storage::scan_segment(data, storage::get_u64(data.data() + 12)).records) {
    pos = r.offset;
    const std::size_t in = byte - pos;
    if (byte < pos + storage::kRecordHeaderSize + r.payload.size()) {
      if (in < 4) return "log record header checksum";
      if (in < 8) return "log record length";
      if (in < 9) return "log record type";
      if (in < 17) return "log record seq";
      if (in < 21) return "log record payload checksum";
      return "log record payload";
    }
  }
  return "log beyond its records";
}

// Opens `files`: "" when the state is exactly `full`, or the Corruption
// names `path` and an offset (or, for the MANIFEST, the file); else why not.
std::string check_damaged(const Files& files, const std::string& path, const std::vector<Entry>& full, bool* refused) {
  FaultEnv env;
  for (const auto& [p, data] : files) env.set_file(p, data);
  ManualClock clock;
  auto repo = Repository::open(kDir, options_for(env, clock));
  if (repo.ok()) {
    *refused = false;
    return all_entries(**repo) == full ? "" : "opened to another state than every acknowledged write";
  }
  *refused = true;
  const Error& e = repo.error();
  if (e.code() != ErrorCode::kCorruption) return "not Corruption: " + e.to_string();
  if (e.message().find(path) == std::string::npos) return "Corruption not naming " + path + ": " + e.message();
  if (!path.ends_with("MANIFEST") && e.message().find(" at offset ") == std::string::npos) {
    return "Corruption without an offset: " + e.message();
  }
  return "";
}

TEST(CorruptionTest, EveryDamageOfEveryFileIsTheFullStateOrCorruptionNamingFileAndOffset) {
  std::vector<std::vector<Entry>> states;
  const Files files = small_directory(states);
  ASSERT_FALSE(path_ending(files, "/snapshot-").empty());
  ASSERT_FALSE(path_ending(files, "/log-").empty());
  std::mt19937_64 rng(7);
  std::map<std::string, std::pair<int, int>> counts;  // class -> (cases, refused)
  int silent = 0;
  for (const auto& [path, data] : files) {
    for (std::size_t byte = 0; byte < data.size(); ++byte) {
      const std::string cls = offset_class(path, data, byte);
      std::vector<std::string> damages;
      for (int bit = 0; bit < 8; ++bit) {  // every single-bit flip
        std::string d = data;
        d[byte] = static_cast<char>(d[byte] ^ (1 << bit));
        damages.push_back(std::move(d));
      }
      {  // and multi-byte damage: 2..8 bytes from here, each changed
        std::string d = data;
        const std::size_t len = std::min<std::size_t>(2 + byte % 7, data.size() - byte);
        for (std::size_t i = byte; i < byte + len; ++i) d[i] = static_cast<char>(d[i] ^ (1 + rng() % 255));
        damages.push_back(std::move(d));
      }
      for (std::string& d : damages) {
        Files damaged = files;
        damaged[path] = std::move(d);
        bool refused = false;
        const std::string why = check_damaged(damaged, path, states.back(), &refused);
        if (!why.empty()) ++silent;
        ASSERT_TRUE(why.empty()) << path << " byte " << byte << " (" << cls << "): " << why;
        ++counts[cls].first;
        counts[cls].second += refused;
      }
    }
  }
  int total = 0;
  for (const auto& [cls, n] : counts) {
    std::cout << "[ counts   ] " << cls << ": " << n.first << " damaged, " << n.second << " Corruption, "
              << n.first - n.second << " opened with the full state\n";
    total += n.first;
  }
  std::cout << "[ counts   ] " << total << " damaged directories, " << silent << " silent acceptances\n";
  EXPECT_EQ(counts.size(), 17u);  // every offset class of the three file types was reached
}

// A cut can only be told from a torn append by what follows it: a log cut
// anywhere opens with exactly the records before the cut; a snapshot or
// MANIFEST cut anywhere is Corruption.
TEST(CorruptionTest, EveryTruncationOfTheLogIsATornTailAndOfOtherFilesCorruption) {
  std::vector<std::vector<Entry>> states;
  const Files files = small_directory(states);
  const std::string log = path_ending(files, "/log-");
  const auto scan = storage::scan_segment(files.at(log), storage::get_u64(files.at(log).data() + 12));
  const std::size_t covered = states.size() - 1 - scan.records.size();  // writes in the snapshot
  for (const auto& [path, data] : files) {
    for (std::size_t size = 0; size < data.size(); ++size) {
      Files damaged = files;
      damaged[path].resize(size);
      FaultEnv env;
      for (const auto& [p, d] : damaged) env.set_file(p, d);
      ManualClock clock;
      auto repo = Repository::open(kDir, options_for(env, clock));
      if (path != log) {
        ASSERT_FALSE(repo.ok()) << path << " cut to " << size;
        EXPECT_EQ(repo.error().code(), ErrorCode::kCorruption);
        continue;
      }
      ASSERT_TRUE(repo.ok()) << path << " cut to " << size << ": " << repo.error().to_string();
      std::size_t complete = 0;
      for (const auto& r : scan.records) complete += r.offset + storage::kRecordHeaderSize + r.payload.size() <= size;
      EXPECT_EQ(all_entries(**repo), states[covered + complete]) << "cut to " << size;
    }
  }
}

TEST(CorruptionTest, AZeroFilledTailIsCutOffAndReported) {
  std::vector<std::vector<Entry>> states;
  Files files = small_directory(states);
  files[path_ending(files, "/log-")].append(4096, '\0');
  FaultEnv env;
  for (const auto& [path, data] : files) env.set_file(path, data);
  ManualClock clock;
  auto repo = Repository::open(kDir, options_for(env, clock));
  ASSERT_TRUE(repo.ok()) << repo.error().to_string();
  EXPECT_EQ(all_entries(**repo), states.back());
  EXPECT_EQ((*repo)->stats().tailBytesDropped, 4096u);
  EXPECT_FALSE((*repo)->stats().tailRepair.empty());
}

// The report that started the evidence rule: 100 fsynced creates, one byte
// of the 51st record's length changed. It used to open with 50 entries.
class HundredCreatesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto repo = Repository::open(kDir, options_for(env_, clock_));
    ASSERT_TRUE(repo.ok());
    for (int i = 1; i <= 100; ++i) {
      CreateRequest r = request("k" + std::to_string(i % 9), "LOAN", "NEW");
      r.caseId = "c" + std::to_string(i);
      auto e = (*repo)->create(r);
      ASSERT_TRUE(e.ok());
      if (i <= 50) first_fifty_.push_back(*e);
    }
    repo->reset();
    for (const auto& [path, data] : env_.files()) {
      if (path.find("/log-") != std::string::npos) log_ = path;
    }
    std::string bytes = env_.files()[log_];
    const auto scan = storage::scan_segment(bytes, 1);
    ASSERT_EQ(scan.records.size(), 100u);
    offset_ = scan.records[50].offset;
    bytes[offset_ + 5] ^= 0x01;  // the length field's second byte
    env_.set_file(log_, bytes);
    damaged_ = bytes;
  }
  FaultEnv env_;
  ManualClock clock_;
  std::string log_, damaged_;
  std::uint64_t offset_ = 0;
  std::vector<Entry> first_fifty_;
};

TEST_F(HundredCreatesTest, OpenRefusesWithCorruptionNamingTheLogAndTheOffset) {
  auto repo = Repository::open(kDir, options_for(env_, clock_));
  ASSERT_FALSE(repo.ok());
  EXPECT_EQ(repo.error().code(), ErrorCode::kCorruption);
  EXPECT_NE(repo.error().message().find(log_ + " at offset " + std::to_string(offset_) + ":"), std::string::npos)
      << repo.error().message();
  EXPECT_EQ(env_.files()[log_], damaged_);  // refusing changed nothing
  auto verified = verify(kDir, options_for(env_, clock_));
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().code(), ErrorCode::kCorruption);
}

TEST_F(HundredCreatesTest, RepairKeepsTheFiftyIntactRecordsAndTheCutBytes) {
  auto dry = repair(kDir, options_for(env_, clock_), /*dryRun=*/true);
  ASSERT_TRUE(dry.ok()) << dry.error().to_string();
  EXPECT_EQ(dry->recordsDropped, 50u);
  EXPECT_EQ(env_.files()[log_], damaged_);  // a dry run changes nothing

  auto r = repair(kDir, options_for(env_, clock_));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(r->damaged);
  EXPECT_EQ(r->damagedFile, log_);
  EXPECT_EQ(r->damagedOffset, offset_);
  EXPECT_EQ(r->recordsDropped, 50u);
  EXPECT_EQ(r->firstDroppedSeq, 51u);
  EXPECT_EQ(r->lastDroppedSeq, 100u);
  EXPECT_EQ(r->entries, 50u);
  ASSERT_EQ(r->evidenceFiles.size(), 1u);
  EXPECT_EQ(env_.files()[kDir + "/" + r->evidenceFiles[0]], damaged_.substr(offset_));
  EXPECT_EQ(r->bytesMoved, damaged_.size() - offset_);
  EXPECT_EQ(env_.files()[log_], damaged_.substr(0, offset_));

  auto repo = Repository::open(kDir, options_for(env_, clock_));
  ASSERT_TRUE(repo.ok()) << repo.error().to_string();
  EXPECT_EQ(all_entries(**repo), first_fifty_);
  auto next = (*repo)->create(request("k1", "LOAN", "NEW"));  // the log continues at seq 51
  ASSERT_TRUE(next.ok());
  EXPECT_EQ((*repo)->stats().lastSeq, 51u);
}

TEST_F(HundredCreatesTest, PointInTimeRecoveryIsRepairOnOpen) {
  Options o = options_for(env_, clock_);
  o.recovery = RecoveryMode::kPointInTime;
  auto repo = Repository::open(kDir, o);
  ASSERT_TRUE(repo.ok()) << repo.error().to_string();
  EXPECT_EQ(all_entries(**repo), first_fifty_);
  EXPECT_EQ((*repo)->stats().recordsDroppedAtOpen, 50u);
  EXPECT_NE((*repo)->stats().tailRepair.find("damaged-at-" + std::to_string(offset_)), std::string::npos);
}

TEST(RecoveryModeTest, AbsoluteConsistencyRefusesEvenATornTailAndChangesNothing) {
  FaultEnv env;
  ManualClock clock;
  const std::string log = log_after_creates(env, clock, 3);
  const std::string torn = env.files()[log].substr(0, env.files()[log].size() - 3);
  env.set_file(log, torn);
  Options strict = options_for(env, clock);
  strict.recovery = RecoveryMode::kAbsoluteConsistency;
  auto refused = Repository::open(kDir, strict);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kCorruption);
  EXPECT_NE(refused.error().message().find("torn tail"), std::string::npos) << refused.error().message();
  EXPECT_EQ(env.files()[log], torn);
  // The default mode cuts it: two entries.
  auto repo = Repository::open(kDir, options_for(env, clock));
  ASSERT_TRUE(repo.ok());
  EXPECT_EQ((*repo)->stats().entries, 2u);
}

TEST(RecoveryModeTest, VerifyReportsATornTailWithoutCuttingIt) {
  FaultEnv env;
  ManualClock clock;
  const std::string log = log_after_creates(env, clock, 3);
  const std::string torn = env.files()[log] + std::string("\x01\x02\x03", 3);
  env.set_file(log, torn);
  auto v = verify(kDir, options_for(env, clock));
  ASSERT_TRUE(v.ok()) << v.error().to_string();
  EXPECT_EQ(v->entries, 3u);
  EXPECT_EQ(v->tornTailBytes, 3u);
  EXPECT_FALSE(v->tornTail.empty());
  EXPECT_EQ(env.files()[log], torn);
}

// `log`: four creates (c1..c4), then an intact record that cannot be
// replayed, then creates up to c6. Opening refuses it as Corruption at the
// fifth record's offset, naming `why`; repair cuts the log there, dropping
// it and everything after it, and the directory opens to c1..c4.
void expect_cut_at_fifth_record(const LogBytes& log, const std::string& why) {
  FaultEnv env;
  env.set_file(kDir + "/MANIFEST", storage::encode_manifest(storage::Manifest{}));
  env.set_file(kDir + "/" + storage::log_name(1), log.bytes);
  ManualClock clock;
  auto refused = Repository::open(kDir, options_for(env, clock));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kCorruption);
  const std::string& message = refused.error().message();
  EXPECT_NE(message.find("at offset " + std::to_string(log.offsets[4]) + ": record cannot be replayed"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find(why), std::string::npos) << message;
  auto r = repair(kDir, options_for(env, clock));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const std::uint64_t records = log.offsets.size() - 1;
  EXPECT_EQ(r->recordsDropped, records - 4);  // the bad one and the ones after it
  EXPECT_EQ(r->firstDroppedSeq, 5u);
  EXPECT_EQ(r->lastDroppedSeq, records);
  EXPECT_EQ(r->entries, 4u);
  auto repo = Repository::open(kDir, options_for(env, clock));
  ASSERT_TRUE(repo.ok()) << repo.error().to_string();
  EXPECT_EQ((*repo)->stats().entries, 4u);
  EXPECT_TRUE((*repo)->get("c4").ok());
  EXPECT_EQ((*repo)->get("c6").error().code(), ErrorCode::kNotFound);
}

TEST(RepairTest, ARecordThatCannotBeReplayedIsWhereTheLogIsCut) {
  // An update of a case nobody created (the check against the state).
  LogBytes log = LogBytes::v2(4);
  engine::ResolvedUpdate u{"no-such-case", Patch{}, 1735689600100LL};
  u.patch.status = "OPEN";
  log.append(storage::RecordType::kUpdate, storage::encode_payload(u));
  log.append_create(5);
  log.append_create(6);
  expect_cut_at_fifth_record(log, "no case 'no-such-case'");
}

// A record's form (its values' rules) is checked on replay's decoding
// thread (db/decode_ahead.h): its verdict stops replay the same way.
TEST(RepairTest, ARecordWhoseValuesBreakTheRulesIsWhereTheLogIsCut) {
  LogBytes log = LogBytes::v2(4);
  engine::ResolvedCreate bad;
  bad.request.caseId = "c5";
  bad.request.caseType = "LOAN";
  bad.request.clientId = "k5";
  bad.request.clientType = "PESEL";
  bad.request.status = std::string("OP\xff\xfe" "EN");  // not UTF-8
  bad.stamp_ms = 1735689600005LL;
  log.append(storage::RecordType::kCreate, storage::encode_payload(bad));
  log.append_create(6);
  expect_cut_at_fifth_record(log, "'status'");
}

TEST(RepairTest, ADamagedSnapshotIsNotRepairedButReported) {
  std::vector<std::vector<Entry>> states;
  Files files = small_directory(states);
  const std::string snap = path_ending(files, "/snapshot-");
  files[snap][100] ^= 0x20;
  FaultEnv env;
  for (const auto& [p, d] : files) env.set_file(p, d);
  ManualClock clock;
  auto r = repair(kDir, options_for(env, clock));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kCorruption);
  EXPECT_NE(r.error().message().find(snap), std::string::npos);
  EXPECT_EQ(env.files()[snap], files[snap]);
}

TEST(RepairTest, ARepairOfAnIntactDirectoryChangesNothing) {
  std::vector<std::vector<Entry>> states;
  const Files files = small_directory(states);
  FaultEnv env;
  for (const auto& [p, d] : files) env.set_file(p, d);
  ManualClock clock;
  auto r = repair(kDir, options_for(env, clock));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->damaged);
  EXPECT_EQ(r->recordsDropped, 0u);
  Files after = env.files();
  after.erase(kDir + "/LOCK");
  EXPECT_EQ(after, files);
}

TEST(CompatibilityTest, AVersion1LogIsReadAndTheLogContinuesInAVersion2Segment) {
  FaultEnv env;
  ManualClock clock;
  env.set_file(kDir + "/MANIFEST", storage::encode_manifest(storage::Manifest{}));
  env.set_file(kDir + "/" + storage::log_name(1), LogBytes::v1(5).bytes);
  {
    auto repo = Repository::open(kDir, options_for(env, clock));
    ASSERT_TRUE(repo.ok()) << repo.error().to_string();
    EXPECT_EQ((*repo)->stats().entries, 5u);
    ASSERT_TRUE((*repo)->get("c5").ok());
    ASSERT_TRUE((*repo)->create(request("k", "LOAN", "NEW")).ok());
  }
  const std::string fresh = env.files()[kDir + "/" + storage::log_name(6)];
  ASSERT_GE(fresh.size(), storage::kLogHeaderSize);
  EXPECT_EQ(util::get_u32(fresh.data() + 8), storage::kLogVersion);
  EXPECT_EQ(env.files()[kDir + "/" + storage::log_name(1)], LogBytes::v1(5).bytes);  // untouched
  auto repo = Repository::open(kDir, options_for(env, clock));
  ASSERT_TRUE(repo.ok()) << repo.error().to_string();
  EXPECT_EQ((*repo)->stats().entries, 6u);
}

// A replay reads a segment a window (4,096 records) at a time while it
// applies the window before (db/decode_ahead.h), so damage deep in a long
// segment is found by the reading side, windows after the first. The
// records before it are applied, exactly; the repair and the torn-tail cut
// start exactly at the damaged record.
class LongSegmentDamageTest : public ::testing::Test {
 protected:
  static constexpr int kRecords = 10000;
  static constexpr int kDamaged = 9001;  // 1-based: the third window

  void SetUp() override {
    Options o = options_for(env_, clock_);
    o.fsync = FsyncPolicy::kNone;
    auto repo = Repository::open(kDir, o);
    ASSERT_TRUE(repo.ok());
    for (int i = 1; i <= kRecords; ++i) {
      CreateRequest r = request("k" + std::to_string(i % 3000 % 97), "LOAN", "NEW");
      r.caseId = "c" + std::to_string(i % 3000);  // cases of several entries, each of one client
      auto e = (*repo)->create(r);
      ASSERT_TRUE(e.ok()) << e.error().to_string();
      if (i < kDamaged) before_.push_back(*e);
    }
    repo->reset();
    log_ = path_ending(env_.files(), "/log-");
    bytes_ = env_.files()[log_];
    const auto scan = storage::scan_segment(bytes_, 1);
    ASSERT_EQ(scan.records.size(), static_cast<std::size_t>(kRecords));
    offset_ = scan.records[kDamaged - 1].offset;
  }
  FaultEnv env_;
  ManualClock clock_;
  std::string log_, bytes_;
  std::uint64_t offset_ = 0;
  std::vector<Entry> before_;  // the entries of the records before the damaged one, oldest first
};

TEST_F(LongSegmentDamageTest, RepairKeepsExactlyTheRecordsBeforeTheDamage) {
  std::string damaged = bytes_;
  damaged[offset_ + storage::kRecordHeaderSize + 3] ^= 0x20;  // a payload byte: its checksum fails, intact records follow
  env_.set_file(log_, damaged);
  auto refused = Repository::open(kDir, options_for(env_, clock_));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find(log_ + " at offset " + std::to_string(offset_) + ": record checksum mismatch"),
            std::string::npos)
      << refused.error().message();

  auto r = repair(kDir, options_for(env_, clock_));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->damagedOffset, offset_);
  EXPECT_EQ(r->firstDroppedSeq, static_cast<std::uint64_t>(kDamaged));
  EXPECT_EQ(r->lastDroppedSeq, static_cast<std::uint64_t>(kRecords));
  EXPECT_EQ(r->entries, before_.size());
  auto repo = Repository::open(kDir, options_for(env_, clock_));
  ASSERT_TRUE(repo.ok()) << repo.error().to_string();
  EXPECT_EQ((*repo)->stats().lastSeq, static_cast<std::uint64_t>(kDamaged - 1));
  EXPECT_EQ(all_entries(**repo), before_);
}

TEST_F(LongSegmentDamageTest, ATornTailDeepInALongSegmentIsCutAtTheTornRecord) {
  env_.set_file(log_, bytes_.substr(0, offset_ + 7));  // the file ends inside record kDamaged's header
  auto repo = Repository::open(kDir, options_for(env_, clock_));
  ASSERT_TRUE(repo.ok()) << repo.error().to_string();
  EXPECT_EQ((*repo)->stats().tailBytesDropped, 7u);
  EXPECT_EQ((*repo)->stats().lastSeq, static_cast<std::uint64_t>(kDamaged - 1));
  EXPECT_EQ(all_entries(**repo), before_);
  EXPECT_EQ(env_.files()[log_], bytes_.substr(0, offset_));  // cut durably before any write
}

}  // namespace
}  // namespace caserepo::testing
