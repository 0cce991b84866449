// The log's framing and the evidence rule, on segment bytes directly: what a
// crash mid-append can leave is a torn tail; anything else — and any damage
// followed by an intact record — is corruption. Also the bookkeeping of the
// `interval` policy's unsynced window.
#include <gtest/gtest.h>

#include <random>

#include "storage/log.h"
#include "storage/records.h"
#include "storage/unsynced_window.h"
#include "util/crc32c.h"
#include "support/log_bytes.h"

namespace caserepo::testing {
namespace {

using storage::kLogHeaderSize;
using storage::kRecordHeaderSize;
using storage::scan_segment;

TEST(LogFormatTest, AnIntactSegmentScansToAllItsRecords) {
  const LogBytes log = LogBytes::v2(5);
  const auto scan = scan_segment(log.bytes, 1);
  EXPECT_FALSE(scan.damage.has_value());
  ASSERT_EQ(scan.records.size(), 5u);
  EXPECT_EQ(scan.records[4].seq, 5u);
  EXPECT_EQ(scan.good_bytes, log.bytes.size());
}

TEST(LogFormatTest, EveryPrefixOfTheLastRecordIsATornTail) {
  const LogBytes log = LogBytes::v2(3);
  for (std::size_t size = log.offsets[2] + 1; size < log.bytes.size(); ++size) {
    const auto scan = scan_segment(log.bytes.substr(0, size), 1);
    ASSERT_TRUE(scan.damage.has_value()) << size;
    EXPECT_TRUE(scan.damage->torn()) << "cut to " << size << ": " << scan.damage->what;
    EXPECT_EQ(scan.damage->offset, log.offsets[2]);
    EXPECT_EQ(scan.records.size(), 2u);
  }
}

TEST(LogFormatTest, ZerosAfterTheLastRecordAreATornTail) {
  LogBytes log = LogBytes::v2(3);
  log.bytes.append(5000, '\0');
  const auto scan = scan_segment(log.bytes, 1);
  ASSERT_TRUE(scan.damage.has_value());
  EXPECT_TRUE(scan.damage->torn());
  EXPECT_EQ(scan.records.size(), 3u);
}

// The bug this rule fixes: a damaged length made a record "run past the end
// of the file", which was taken for a torn tail, and 50 fsynced records after
// it were cut off silently.
TEST(LogFormatTest, ADamagedLengthFollowedByIntactRecordsIsCorruption) {
  LogBytes log = LogBytes::v2(100);
  log.bytes[log.offsets[50] + 4 + 2] ^= 0x10;  // a length byte of record 51
  const auto scan = scan_segment(log.bytes, 1);
  ASSERT_TRUE(scan.damage.has_value());
  EXPECT_FALSE(scan.damage->torn());
  EXPECT_EQ(scan.damage->offset, log.offsets[50]);
  EXPECT_EQ(scan.damage->intact_after, 49u);
  EXPECT_EQ(scan.damage->last_intact_seq, 100u);
  EXPECT_EQ(scan.records.size(), 50u);
}

// With the header checksum, a damaged length in the LAST record is told from
// a torn append too: nothing follows it, yet its header does not check out.
TEST(LogFormatTest, EverySingleBitFlipInTheLastRecordIsCorruption) {
  const LogBytes log = LogBytes::v2(3);
  for (std::size_t byte = log.offsets[2]; byte < log.bytes.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = log.bytes;
      damaged[byte] = static_cast<char>(damaged[byte] ^ (1 << bit));
      const auto scan = scan_segment(damaged, 1);
      ASSERT_TRUE(scan.damage.has_value()) << byte << ":" << bit;
      EXPECT_FALSE(scan.damage->torn()) << "byte " << byte << " bit " << bit << ": " << scan.damage->what;
    }
  }
}

TEST(LogFormatTest, ZerosFromAPageBoundaryInsideTheLastRecordAreATornTail) {
  // A last record that spans a page boundary; the page after it was lost.
  std::string description(6000, 'x');
  LogBytes log = LogBytes::v2(2, description);
  const std::size_t page = 4096 * ((log.offsets[1] / 4096) + 1);
  ASSERT_LT(page, log.bytes.size());
  std::fill(log.bytes.begin() + static_cast<std::ptrdiff_t>(page), log.bytes.end(), '\0');
  const auto scan = scan_segment(log.bytes, 1);
  ASSERT_TRUE(scan.damage.has_value());
  EXPECT_TRUE(scan.damage->torn()) << scan.damage->what;
  EXPECT_EQ(scan.records.size(), 1u);
}

TEST(LogFormatTest, ZerosNotStartingOnAPageBoundaryInsideACompleteRecordAreCorruption) {
  std::string description(6000, 'x');
  LogBytes log = LogBytes::v2(2, description);
  const std::size_t from = log.bytes.size() - 100;
  ASSERT_NE(from % 4096, 0u);
  std::fill(log.bytes.begin() + static_cast<std::ptrdiff_t>(from), log.bytes.end(), '\0');
  const auto scan = scan_segment(log.bytes, 1);
  ASSERT_TRUE(scan.damage.has_value());
  EXPECT_FALSE(scan.damage->torn()) << scan.damage->what;
}

TEST(LogFormatTest, ALostPageFollowedByAKeptOneIsCorruption) {
  std::string description(3000, 'y');
  LogBytes log = LogBytes::v2(6, description);  // ~3 KiB records over several pages
  std::fill(log.bytes.begin() + 4096, log.bytes.begin() + 8192, '\0');
  const auto scan = scan_segment(log.bytes, 1);
  ASSERT_TRUE(scan.damage.has_value());
  EXPECT_FALSE(scan.damage->torn());
  EXPECT_GT(scan.damage->intact_after, 0u);
}

TEST(LogFormatTest, SeqsOutOfOrderAreCorruption) {
  const LogBytes log = LogBytes::v2(3);
  const LogBytes other = LogBytes::v2(3, "", /*first_seq=*/7);
  std::string mixed = log.bytes.substr(0, log.offsets[2]) + other.bytes.substr(other.offsets[2]);  // seq 9 after 2
  const auto bad = scan_segment(mixed, 1);
  ASSERT_TRUE(bad.damage.has_value());
  EXPECT_FALSE(bad.damage->torn());
  EXPECT_EQ(bad.damage->offset, log.offsets[2]);
  EXPECT_NE(bad.damage->what.find("seq 9"), std::string::npos) << bad.damage->what;
}

TEST(LogFormatTest, AHeaderNamingAnotherFirstSeqThanTheFileNameIsCorruption) {
  const LogBytes log = LogBytes::v2(2);
  const auto scan = scan_segment(log.bytes, 5);
  ASSERT_TRUE(scan.damage.has_value());
  EXPECT_FALSE(scan.damage->torn());
  EXPECT_EQ(scan.damage->offset, 12u);
}

TEST(LogFormatTest, AnIncompleteOrZeroFileHeaderIsTornOnlyWithNothingAfterIt) {
  const LogBytes log = LogBytes::v2(2);
  for (std::size_t size = 0; size < kLogHeaderSize; ++size) {
    const auto scan = scan_segment(log.bytes.substr(0, size), 1);
    ASSERT_TRUE(scan.damage.has_value());
    EXPECT_TRUE(scan.damage->torn()) << size;
  }
  std::string zeroed = log.bytes;
  std::fill(zeroed.begin(), zeroed.begin() + kLogHeaderSize, '\0');
  const auto scan = scan_segment(zeroed, 1);
  ASSERT_TRUE(scan.damage.has_value());
  EXPECT_FALSE(scan.damage->torn());  // intact records follow the zeroed header
  EXPECT_EQ(scan.damage->intact_after, 2u);
}

TEST(LogFormatTest, Version1SegmentsAreStillRead) {
  const LogBytes log = LogBytes::v1(4);
  const auto scan = scan_segment(log.bytes, 1);
  EXPECT_FALSE(scan.damage.has_value());
  EXPECT_EQ(scan.version, 1u);
  ASSERT_EQ(scan.records.size(), 4u);
  auto m = storage::decode_payload(scan.records[3].type, scan.records[3].payload);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*std::get<engine::ResolvedCreate>(*m).request.caseId, "c4");
}

// The payload bytes, spelled out from docs/format.md by hand (not by the
// encoder): cereal's portable-binary archive starts with its endianness
// byte (1: little), then each field; strings are a u64 length and bytes,
// an optional string has a presence byte first. A change of encoder (the stream the
// archive writes through, reused per thread) must leave them as they were:
// every log already on disk is read by this format.
std::string u64le(std::uint64_t v) {
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
  return out;
}
std::string text(const std::string& s) { return u64le(s.size()) + s; }

TEST(RecordsTest, PayloadsAreTheDocumentedBytes) {
  engine::ResolvedCreate c;
  c.request.caseId = "case-1";
  c.request.businessKey = std::nullopt;
  c.request.caseType = "LOAN";
  c.request.clientId = "client-7";
  c.request.clientType = "PESEL";
  c.request.status = "NEW";
  c.request.statusDescription = "waiting for documents";
  c.request.source = std::nullopt;
  c.stamp_ms = 0x0102030405060708;
  const std::string create = std::string(1, '\1') + text("case-1") + std::string(1, '\0') + text("LOAN") +
                             text("client-7") + text("PESEL") + text("NEW") + std::string(1, '\1') +
                             text("waiting for documents") + std::string(1, '\0') + u64le(0x0102030405060708);
  EXPECT_EQ(storage::encode_payload(c), create);

  engine::ResolvedUpdate u;
  u.caseId = "case-1";
  u.patch.status = "DONE";
  u.patch.businessKey = std::optional<std::string>();     // set to null
  u.patch.statusDescription = std::string("closed");      // set
  u.stamp_ms = 9;
  const std::string update = std::string(1, '\1') + text("case-1") + std::string(3, '\0') + std::string(1, '\1') +
                             text("DONE") + std::string(1, '\1') + std::string(1, '\2') + text("closed") +
                             std::string(1, '\0') + u64le(9);
  EXPECT_EQ(storage::encode_payload(u), update);

  // Stream records: position, inner type, the write's fields (no second
  // endianness byte: one archive); a refused command is type 0 and nothing.
  EXPECT_EQ(storage::encode_stream_payload({42, engine::Mutation(engine::ResolvedRemove{"case-1"})}),
            std::string(1, '\1') + u64le(42) + std::string(1, '\3') + text("case-1"));
  EXPECT_EQ(storage::encode_stream_payload({43, std::nullopt}), std::string(1, '\1') + u64le(43) + std::string(1, '\0'));
  // A short payload after a long one on the same thread is its own bytes only.
  c.request.statusDescription = std::string(3000, 'd');
  (void)storage::encode_payload(c);
  EXPECT_EQ(storage::encode_payload(engine::ResolvedRemove{"x"}), std::string(1, '\1') + text("x"));
}

// Replay decodes each record into an object that held another record
// before (decode_record_into, its strings' room reused). Whatever it held
// — another kind of write, fields present that are now absent, a stream
// position, a payload that did not decode — the result is the record's own:
// it encodes to the same bytes as a fresh decode.
TEST(RecordsTest, DecodingIntoAReusedRecordGivesWhatAFreshDecodeGives) {
  std::mt19937 rng(3);
  auto maybe = [&](const std::string& text) { return rng() % 2 ? std::optional<std::string>(text) : std::nullopt; };
  auto change = [&](const std::string& text) -> NullableChange {
    switch (rng() % 3) {
      case 0: return std::nullopt;                      // keep
      case 1: return std::optional<std::string>();      // set to null
      default: return std::optional<std::string>(text);  // set
    }
  };
  auto long_or_short = [&](const char* prefix) { return prefix + std::string(rng() % 40, 'x'); };
  std::vector<std::pair<storage::RecordType, std::string>> payloads;
  for (int i = 0; i < 300; ++i) {
    engine::Mutation m;
    switch (rng() % 3) {
      case 0: {
        engine::ResolvedCreate c;
        c.request.caseId = long_or_short("c");
        c.request.businessKey = maybe(long_or_short("bk"));
        c.request.caseType = long_or_short("T");
        c.request.clientId = long_or_short("k");
        c.request.clientType = "PESEL";
        c.request.status = long_or_short("S");
        c.request.statusDescription = maybe(long_or_short("d"));
        c.request.source = maybe("PORTAL");
        c.stamp_ms = static_cast<std::int64_t>(rng());
        m = std::move(c);
        break;
      }
      case 1: {
        engine::ResolvedUpdate u;
        u.caseId = long_or_short("c");
        u.patch.caseType = maybe(long_or_short("T"));
        u.patch.clientId = maybe(long_or_short("k"));
        u.patch.clientType = maybe("NIP");
        u.patch.status = maybe(long_or_short("S"));
        u.patch.businessKey = change(long_or_short("bk"));
        u.patch.statusDescription = change(long_or_short("d"));
        u.patch.source = change("MOBILE");
        u.stamp_ms = static_cast<std::int64_t>(rng());
        m = std::move(u);
        break;
      }
      default:
        m = engine::ResolvedRemove{long_or_short("c")};
    }
    switch (rng() % 4) {
      case 0:  // a stream command, or a refused one (no write)
        payloads.emplace_back(storage::RecordType::kStream,
                              storage::encode_stream_payload({i + 1u, rng() % 4 ? std::optional(m) : std::nullopt}));
        break;
      case 1:  // a payload that does not decode
        payloads.emplace_back(storage::type_of(m), storage::encode_payload(m).substr(0, 5));
        break;
      default:
        payloads.emplace_back(storage::type_of(m), storage::encode_payload(m));
    }
  }
  storage::StreamRecord reused;
  for (const auto& [type, payload] : payloads) {
    const auto fresh = storage::decode_record(type, payload);
    const auto error = storage::decode_record_into(type, payload, reused);
    ASSERT_EQ(error.has_value(), !fresh.ok());
    if (error) {
      EXPECT_EQ(error->to_string(), fresh.error().to_string());
      continue;
    }
    EXPECT_EQ(storage::encode_stream_payload(reused), storage::encode_stream_payload(*fresh));
  }
}

TEST(LogFormatTest, Version1DamageFollowedByIntactRecordsIsCorruption) {
  LogBytes log = LogBytes::v1(10);
  log.bytes[log.offsets[3] + 5] ^= 0x7f;  // a length byte of record 4
  const auto scan = scan_segment(log.bytes, 1);
  ASSERT_TRUE(scan.damage.has_value());
  EXPECT_FALSE(scan.damage->torn());
  EXPECT_EQ(scan.damage->intact_after, 6u);
}

TEST(Crc32cTest, TheFastChecksumEqualsTheReferenceForEveryLengthAndAlignment) {
  EXPECT_EQ(util::crc32c("123456789", 9), 0xE3069283u);  // the CRC-32C check value
  std::string bytes;
  for (int i = 0; i < 300; ++i) bytes.push_back(static_cast<char>(i * 131 + 7));
  for (std::size_t offset = 0; offset < 9; ++offset) {
    for (std::size_t n = 0; offset + n <= bytes.size(); n += 1 + n / 8) {
      ASSERT_EQ(util::crc32c(bytes.data() + offset, n), util::detail::crc32c_reference(bytes.data() + offset, n))
          << "offset " << offset << ", " << n << " bytes";
    }
  }
}

// The `interval` policy's bug: after a sync that did not cover appends made
// while it ran, the age of the oldest unsynced append stayed that of an
// append the sync had covered, so writers waited for syncs they did not need.
TEST(UnsyncedWindowTest, AppendsDuringASyncAgeFromTheirOwnTime) {
  using Clock = storage::UnsyncedWindow::Clock;
  const Clock::time_point t0{};
  storage::UnsyncedWindow w(0);
  EXPECT_FALSE(w.oldest_unsynced());
  w.appended(1, t0);
  EXPECT_EQ(w.oldest_unsynced(), t0);
  const std::uint64_t target = w.sync_started();
  w.appended(2, t0 + std::chrono::seconds(5));
  w.appended(3, t0 + std::chrono::seconds(6));
  w.sync_finished(target, true);
  EXPECT_EQ(w.synced_seq(), 1u);
  EXPECT_EQ(w.oldest_unsynced(), t0 + std::chrono::seconds(5));
  const std::uint64_t all = w.sync_started();
  w.sync_finished(all, true);
  EXPECT_FALSE(w.oldest_unsynced());
  w.appended(4, t0 + std::chrono::seconds(9));
  EXPECT_EQ(w.oldest_unsynced(), t0 + std::chrono::seconds(9));
}

TEST(UnsyncedWindowTest, AFailedSyncCoversNothing) {
  storage::UnsyncedWindow w(10);
  w.appended(11, {});
  w.sync_finished(w.sync_started(), false);
  EXPECT_EQ(w.synced_seq(), 10u);
  EXPECT_TRUE(w.dirty());
}

}  // namespace
}  // namespace caserepo::testing
