// Snapshot files: version-1 and version-2 files, written by the releases
// before versions 2 and 3 and kept in tests/data/snapshot-v1 and -v2, still
// open to exactly the state they held and are rewritten in the current
// version by the next checkpoint; an image that
// breaks the Store's invariants is refused as Corruption, even with every
// checksum right. (Round trips of random states through version 2, with
// compaction, are in differential_test.)
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/store.h"
#include "engine/store_image.h"
#include "json/wire.h"
#include "storage/format.h"
#include "storage/snapshot.h"
#include "support/fixtures.h"
#include "util/crc32c.h"

namespace caserepo::testing {
namespace {

namespace fs = std::filesystem;

json::Json search_json(const Repository& repo, bool currentOnly) {
  Filter filter;
  filter.currentOnly = currentOnly;
  PageRequest page;
  page.size = 100;
  auto r = repo.search(filter, page);
  if (!r.ok()) throw std::runtime_error(r.error().to_string());
  return json::to_json(*r);
}

// A data directory written by an older release, kept in tests/data.
struct OldRelease {
  const char* dir;
  const char* snapshot;
  const char* log;
  std::uint32_t version;
  std::uint64_t entries;
};

class SnapshotFormatOldReleaseTest : public ::testing::TestWithParam<OldRelease> {};

TEST_P(SnapshotFormatOldReleaseTest, OpensExactlyAndTheNextCheckpointWritesTheCurrentVersion) {
  const OldRelease& old = GetParam();
  const fs::path data = fs::path(CASEREPO_TEST_DATA_DIR) / old.dir;
  TempDir dir("caserepo-snapshot-test");
  for (const char* name : {"MANIFEST", old.snapshot, old.log}) fs::copy_file(data / name, dir.path() / name);
  ASSERT_EQ(storage::get_u32(file_bytes(dir.path() / old.snapshot).data() + 8), old.version);
  ManualClock clock;
  Options options;
  options.clock = clock.function();
  auto repo = Repository::open(dir.path().string(), options);
  ASSERT_TRUE(repo.ok()) << repo.error().to_string();
  EXPECT_EQ((*repo)->stats().recoveredSnapshotEntries, old.entries);
  EXPECT_EQ((*repo)->streamPosition(), 0u);
  EXPECT_EQ(search_json(**repo, false), json::Json::parse(file_bytes(data / "all-entries.json")));
  EXPECT_EQ(search_json(**repo, true), json::Json::parse(file_bytes(data / "current-entries.json")));

  // The indexes came back too: a businessKey joins its case, a filter finds it.
  CreateRequest joining = request("client-4", "loan", "CLOSED");
  joining.clientType = "sme";
  joining.businessKey = "BK-4";
  auto joined = (*repo)->create(joining);
  ASSERT_TRUE(joined.ok()) << joined.error().to_string();
  EXPECT_EQ(joined->caseId, "a64d8523-f5f7-4626-9fe5-821231dc5b9b");
  Filter by_status;
  by_status.status = {"REOPENED"};
  auto reopened = (*repo)->search(by_status, PageRequest{});
  ASSERT_TRUE(reopened.ok());
  ASSERT_EQ(reopened->totalElements, 1u);
  EXPECT_EQ(reopened->content[0].caseId, "case-fixed-1");

  const json::Json before = search_json(**repo, false);
  auto checkpoint = (*repo)->checkpoint();
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.error().to_string();
  repo->reset();
  const std::string rewritten = file_bytes(dir.path() / storage::snapshot_name(checkpoint->seq));
  ASSERT_GE(rewritten.size(), storage::kSnapshotHeaderSize);
  EXPECT_EQ(storage::get_u32(rewritten.data() + 8), storage::kSnapshotVersion);
  EXPECT_FALSE(fs::exists(dir.path() / old.snapshot));

  auto again = Repository::open(dir.path().string(), options);
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_EQ((*again)->stats().recoveredSnapshotEntries, old.entries + 1);
  EXPECT_EQ((*again)->stats().replayedRecords, 0u);
  EXPECT_EQ(search_json(**again, false), before);
}

INSTANTIATE_TEST_SUITE_P(
    Releases, SnapshotFormatOldReleaseTest,
    ::testing::Values(OldRelease{"snapshot-v1", "snapshot-00000000000000000013.snap", "log-00000000000000000014.log", 1, 8},
                      OldRelease{"snapshot-v2", "snapshot-00000000000000000014.snap", "log-00000000000000000015.log", 2, 9}),
    [](const ::testing::TestParamInfo<OldRelease>& info) { return "Version" + std::to_string(info.param.version); });

// A small, valid image: two cases, one updated after the other's creation.
engine::StoreImage valid_image() {
  engine::StoredEntry a{1, 3, 1000, 1200, "c1", "bk1", "LOAN", "client-1", "PESEL", "OPEN", "first", std::nullopt};
  engine::StoredEntry b{2, 2, 1100, 1100, "c2", std::nullopt, "LOAN", "client-2", "PESEL", "CLOSED", std::nullopt, "web"};
  const engine::StoredEntry entries[] = {a, b};
  return engine::image_of(entries, engine::StoreCounters{3, 4, 1200});
}

TEST(SnapshotFormatTest, AValidImageRestoresEveryIndex) {
  engine::StoreImage image = valid_image();
  ASSERT_EQ(engine::check_image(image), std::nullopt);
  EXPECT_EQ(std::vector<std::uint32_t>(image.touch_slot.begin(), image.touch_slot.end()),
            (std::vector<std::uint32_t>{1, 0}));  // c2's touch_seq (2) is below c1's (3)
  engine::Store store;
  ASSERT_EQ(store.restore(std::move(image)), std::nullopt);
  EXPECT_EQ(store.entry_count(), 2u);
  EXPECT_EQ(store.case_count(), 2u);
  const auto* loan = store.dictionary(engine::Field::kCaseType).find("LOAN");
  ASSERT_NE(loan, nullptr);
  EXPECT_EQ(loan->payload.size(), 2u);
  EXPECT_EQ(store.touch_of(0), 1u);
  EXPECT_EQ(store.slot_at_touch(0), 1u);
  engine::Store::ViewScratch scratch;
  EXPECT_EQ(store.view(1, scratch).source, std::optional<std::string_view>("web"));
  EXPECT_EQ(store.view(0, scratch).statusDescription, std::optional<std::string_view>("first"));
  EXPECT_EQ(store.view(1, scratch).businessKey, std::nullopt);
}

TEST(SnapshotFormatTest, AnImageBreakingAnInvariantIsNamed) {
  using engine::Field;
  using engine::index_of;
  struct Case {
    const char* what;
    void (*damage)(engine::StoreImage&);
  };
  const Case cases[] = {
      {"status value used by no entry", [](engine::StoreImage& i) { i.values[index_of(Field::kStatus)].push_back("NEW"); }},
      {"caseType code out of range", [](engine::StoreImage& i) { i.codes[index_of(Field::kCaseType)][1] = 7; }},
      {"clientId code out of range", [](engine::StoreImage& i) { i.codes[index_of(Field::kClientId)][0] = engine::kNoValue; }},
      {"invalid status value", [](engine::StoreImage& i) { i.values[index_of(Field::kStatus)] = {std::string("OP\0N", 4) + "CLOSED", {4, 10}}; }},
      {"update order is not a permutation of the entries", [](engine::StoreImage& i) { i.touch_slot = {0, 0}; }},
      {"entries out of update order", [](engine::StoreImage& i) { i.touch_seq = {3, 2}; }},
      {"entries out of creation order", [](engine::StoreImage& i) { i.creation_ms = {1100, 1000}; }},
      {"entry seq beyond the counters", [](engine::StoreImage& i) { i.counters.next_seq = 2; }},
      {"entry update beyond the counters or before its creation", [](engine::StoreImage& i) { i.touch_ms = {1000, 1200}; }},
      {"entry arrays of different lengths", [](engine::StoreImage& i) { i.description.pop_back(); }},
  };
  for (const Case& c : cases) {
    engine::StoreImage image = valid_image();
    c.damage(image);
    EXPECT_EQ(engine::check_image(image), std::optional<std::string>(c.what)) << c.what;
  }
}

TEST(SnapshotFormatTest, AValueListedTwiceIsFoundByRestore) {
  engine::StoreImage image = valid_image();
  image.values[engine::index_of(engine::Field::kCaseId)] = {"c1c1", {2, 4}};
  ASSERT_EQ(engine::check_image(image), std::nullopt);
  engine::Store store;
  EXPECT_EQ(store.restore(std::move(image)), std::optional<std::string>("caseId value listed twice"));
}

TEST(SnapshotFormatTest, ASnapshotFileWithCheckedButInconsistentContentIsCorruption) {
  // A version-2 file whose checksums are all right but whose second entry
  // names a status value that is not there.
  storage::SnapshotData data;
  data.covered_seq = 2;
  data.counters = engine::StoreCounters{3, 4, 1200};
  data.entries = {{1, 3, 1000, 1200, "c1", "bk1", "LOAN", "client-1", "PESEL", "OPEN", "first", std::nullopt},
                  {2, 2, 1100, 1100, "c2", std::nullopt, "LOAN", "client-2", "PESEL", "CLOSED", std::nullopt, "web"}};
  TempDir dir("caserepo-snapshot-test");
  const std::string path = (dir.path() / "s.snap").string();
  Env& env = *Env::posix();
  ASSERT_TRUE(storage::write_snapshot(env, path, data).ok());
  std::string bytes = file_bytes(path);
  ASSERT_TRUE(storage::parse_snapshot(bytes, "s.snap").ok());

  // Find the entries frame and point entry 2's status code past the status values.
  std::size_t pos = storage::kSnapshotHeaderSize;
  while (true) {
    const std::uint32_t length = util::get_u32(bytes.data() + pos + 4);
    const char* payload = bytes.data() + pos + storage::kFrameHeaderSize;
    if (static_cast<std::uint8_t>(payload[0]) == static_cast<std::uint8_t>(storage::SnapshotSection::kEntries)) {
      // u8 section, u32 n, u64 seq[2], i64 creation_ms[2], u32 code[7][2]: status is field 5
      const std::size_t status_of_second = 1 + 4 + 16 + 16 + (index_of(engine::Field::kStatus) * 2 + 1) * 4;
      util::set_u32(bytes, pos + storage::kFrameHeaderSize + status_of_second, 9);
      util::set_u32(bytes, pos, util::crc32c(bytes.data() + pos + storage::kFrameHeaderSize, length));
      break;
    }
    pos += storage::kFrameHeaderSize + length;
  }
  auto parsed = storage::parse_snapshot(bytes, "s.snap");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code(), ErrorCode::kCorruption);
  EXPECT_NE(parsed.error().message().find("s.snap at offset 56: status code out of range"), std::string::npos)
      << parsed.error().to_string();
}

}  // namespace
}  // namespace caserepo::testing
