#include "targets.h"

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>

#include "engine/page_token.h"
#include "json/wire.h"
#include "storage/log.h"
#include "storage/manifest.h"
#include "storage/records.h"
#include "storage/snapshot.h"
#include "util/crc32c.h"
#include "support/differential_harness.h"
#include "support/op_generator.h"

namespace caserepo::fuzz {
namespace {

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "caserepo fuzz: %s\n", what.c_str());
  std::abort();
}

// Rewrites every checksum a file carries so that mutated bytes reach the
// decoders behind the checksums (otherwise nearly every input stops at the
// first CRC). Used on half of the inputs; the other half are taken as they are.
void fix_log_checksums(std::string& b) {
  using storage::put_u32;
  if (b.size() < storage::kLogHeaderSize) return;
  const std::uint32_t h = util::crc32c(b.data(), 20);
  for (int i = 0; i < 4; ++i) b[20 + i] = static_cast<char>(h >> (8 * i));
  std::size_t pos = storage::kLogHeaderSize;
  while (pos + storage::kRecordHeaderSize <= b.size()) {
    const std::uint32_t length = storage::get_u32(b.data() + pos + 4);
    if (length > b.size() - pos - storage::kRecordHeaderSize) break;
    const std::uint32_t crc = util::crc32c(b.data() + pos + 4, storage::kRecordHeaderSize - 4 + length);
    for (int i = 0; i < 4; ++i) b[pos + i] = static_cast<char>(crc >> (8 * i));
    pos += storage::kRecordHeaderSize + length;
  }
}

void fix_snapshot_checksums(std::string& b) {
  if (b.size() < storage::kSnapshotHeaderSize + storage::kSnapshotFooterSize) return;
  auto put = [&](std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + i] = static_cast<char>(v >> (8 * i));
  };
  put(52, util::crc32c(b.data(), 52));
  const std::size_t footer = b.size() - storage::kSnapshotFooterSize;
  put(footer + 24, util::crc32c(b.data() + footer, 24));
  std::size_t pos = storage::kSnapshotHeaderSize;
  while (pos + storage::kFrameHeaderSize <= footer) {
    const std::uint32_t length = storage::get_u32(b.data() + pos + 4);
    if (length > footer - pos - storage::kFrameHeaderSize) break;
    put(pos, util::crc32c(b.data() + pos + storage::kFrameHeaderSize, length));
    pos += storage::kFrameHeaderSize + length;
  }
}

}  // namespace

void ops_differential(const std::uint8_t* data, std::size_t size) {
  testing::ByteChoices choices({data, size});
  // The tuning is chosen by the input too: both plans, frequent compaction.
  engine::Tuning tuning;
  switch (choices.below(4)) {
    case 0: tuning = engine::Tuning{0, 4, 2}; break;  // bitmap plans, lazy last AND, short skips
    case 1: tuning = engine::Tuning{std::numeric_limits<std::uint64_t>::max(), 4}; break;
    case 2: tuning = engine::Tuning{0, 16, 0}; break;  // bitmap plans, materialised
    default: tuning = engine::Tuning{8, 16}; break;
  }
  testing::DifferentialHarness harness(choices.percent(20) ? "lowcode-app" : "", tuning);
  testing::OpGenerator ops(choices, harness);
  for (int i = 0; i < 400 && !choices.exhausted(); ++i) {
    if (auto diff = ops.step(); !diff.empty()) fail("operation " + std::to_string(i) + ": " + diff);
    if (choices.percent(3)) harness.compact();
  }
  if (auto diff = harness.compare_everything(); !diff.empty()) fail("final state: " + diff);
}

void page_token(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return;
  const auto sort = static_cast<SortOrder>(data[0] % 4);
  const std::string token(reinterpret_cast<const char*>(data + 1), size - 1);
  Filter filter;
  filter.status = {"OPEN"};
  const std::uint64_t digest = engine::filter_digest(filter);
  auto key = engine::decode_page_token(token, sort, digest);
  if (!key.ok() && key.error().code() != ErrorCode::kInvalidArgument) fail("decode: " + key.error().to_string());
  if (key.ok() && engine::encode_page_token(sort, digest, *key) != token) fail("decode accepted a non-canonical token");
  // Any token through a real search: a page or InvalidArgument.
  Repository repo;
  for (int i = 0; i < 30; ++i) {
    CreateRequest r;
    r.caseType = "LOAN";
    r.clientId = "c" + std::to_string(i % 4);
    r.clientType = "PESEL";
    r.status = i % 3 ? "OPEN" : "NEW";
    if (!repo.create(r).ok()) fail("create");
  }
  PageRequest page;
  page.sort = sort;
  page.size = 7;
  page.token = token;
  auto result = repo.search(filter, page);
  if (!result.ok() && result.error().code() != ErrorCode::kInvalidArgument) fail("search: " + result.error().to_string());
  if (result.ok() && result->content.size() > 7) fail("page larger than its size");
}

void log_reader(const std::uint8_t* data, std::size_t size) {
  std::string copy(reinterpret_cast<const char*>(data), size);
  if (size % 2) fix_log_checksums(copy);
  const std::string_view bytes(copy);
  for (bool last : {true, false}) {
    auto scan = storage::scan_segment(bytes, last, "fuzz.log");
    if (!scan.ok()) {
      if (scan.error().code() != ErrorCode::kCorruption) fail("scan: " + scan.error().to_string());
      continue;
    }
    if (!last && scan->torn) fail("a torn tail reported in a segment that is not the last");
    if (scan->good_bytes > size) fail("good_bytes beyond the file");
    for (const auto& rec : scan->records) {
      auto m = storage::decode_payload(rec.type, rec.payload);
      if (!m.ok() && m.error().code() != ErrorCode::kCorruption) fail("decode: " + m.error().to_string());
      // cereal accepts a payload in either byte order (its first byte says
      // which), so the bytes need not re-encode identically; the value must.
      if (m.ok()) {
        const std::string canonical = storage::encode_payload(*m);
        auto again = storage::decode_payload(rec.type, canonical);
        if (!again.ok() || storage::encode_payload(*again) != canonical) fail("payload does not round-trip");
      }
    }
  }
}

void snapshot_loader(const std::uint8_t* data, std::size_t size) {
  std::string copy(reinterpret_cast<const char*>(data), size);
  if (size % 2) fix_snapshot_checksums(copy);
  const std::string_view bytes(copy);
  auto snap = storage::parse_snapshot(bytes, "fuzz.snap");
  if (!snap.ok()) {
    if (snap.error().code() != ErrorCode::kCorruption) fail("parse: " + snap.error().to_string());
    return;
  }
  engine::Store store;
  const std::size_t n = snap->entries.size();
  store.restore(std::move(snap->entries), snap->counters);
  if (store.entry_count() != n) fail("restored another number of entries");
}

void manifest(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto m = storage::parse_manifest(bytes, "MANIFEST");
  if (!m.ok()) {
    if (m.error().code() != ErrorCode::kCorruption) fail("parse: " + m.error().to_string());
    return;
  }
  if (storage::encode_manifest(*m) != bytes) fail("manifest does not round-trip");
}

void json_request(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto parsed = json::parse(text);
  if (!parsed.ok()) {
    if (parsed.error().code() != ErrorCode::kInvalidArgument) fail("parse: " + parsed.error().to_string());
    return;
  }
  auto expect_invalid = [](const Error& e, const char* what) {
    if (e.code() != ErrorCode::kInvalidArgument) fail(std::string(what) + ": " + e.to_string());
  };
  Repository repo;
  CreateRequest seed;
  seed.caseId = "c1";
  seed.caseType = "LOAN";
  seed.clientId = "1";
  seed.clientType = "PESEL";
  seed.status = "OPEN";
  if (!repo.create(seed).ok()) fail("seed create");
  switch (data[0] % 3) {
    case 0: {
      auto r = json::parse_create(*parsed);
      if (!r.ok()) return expect_invalid(r.error(), "parse_create");
      auto e = repo.create(*r);
      if (!e.ok() && e.error().code() != ErrorCode::kInvalidArgument && e.error().code() != ErrorCode::kConflict) {
        fail("create: " + e.error().to_string());
      }
      if (e.ok()) (void)json::to_json(*e).dump();
      break;
    }
    case 1: {
      auto p = json::parse_patch(*parsed);
      if (!p.ok()) return expect_invalid(p.error(), "parse_patch");
      auto e = repo.update("c1", *p);
      if (!e.ok()) expect_invalid(e.error(), "update");
      break;
    }
    default: {
      auto s = json::parse_search(*parsed);
      if (!s.ok()) return expect_invalid(s.error(), "parse_search");
      auto r = repo.search(s->filter, s->page);
      if (!r.ok()) return expect_invalid(r.error(), "search");
      (void)json::to_json(*r).dump();
    }
  }
}

}  // namespace caserepo::fuzz
