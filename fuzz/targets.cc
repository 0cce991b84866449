#include "targets.h"

#include <sodium.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>

#include "caserepo/maintenance.h"
#include "engine/page_token.h"
#include "json/wire.h"
#include "server/api.h"
#include "server/dispatcher.h"
#include "storage/log.h"
#include "storage/manifest.h"
#include "storage/records.h"
#include "storage/snapshot.h"
#include "util/crc32c.h"
#include "support/differential_harness.h"
#include "support/fault_env.h"
#include "support/op_generator.h"
#include "util/coding.h"

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
  if (b.size() < storage::kLogHeaderSize) return;
  util::set_u32(b, 20, util::crc32c(b.data(), 20));
  const bool v1 = util::get_u32(b.data() + 8) == 1;
  const std::size_t header = v1 ? storage::kRecordHeaderSizeV1 : storage::kRecordHeaderSize;
  std::size_t pos = storage::kLogHeaderSize;
  while (pos + header <= b.size()) {
    const std::uint32_t length = util::get_u32(b.data() + pos + 4);
    if (length > b.size() - pos - header) break;
    if (v1) {
      util::set_u32(b, pos, util::crc32c(b.data() + pos + 4, header - 4 + length));
    } else {
      util::set_u32(b, pos + 17, util::crc32c(b.data() + pos + header, length));
      util::set_u32(b, pos, util::crc32c(b.data() + pos + 4, header - 4));
    }
    pos += header + length;
  }
}

void fix_snapshot_checksums(std::string& b) {
  if (b.size() < storage::kSnapshotHeaderSize + storage::kSnapshotFooterSize) return;
  util::set_u32(b, 52, util::crc32c(b.data(), 52));
  const std::size_t footer = b.size() - storage::kSnapshotFooterSize;
  util::set_u32(b, footer + 24, util::crc32c(b.data() + footer, 24));
  std::size_t pos = storage::kSnapshotHeaderSize;
  while (pos + storage::kFrameHeaderSize <= footer) {
    const std::uint32_t length = util::get_u32(b.data() + pos + 4);
    if (length > footer - pos - storage::kFrameHeaderSize) break;
    util::set_u32(b, pos, util::crc32c(b.data() + pos + storage::kFrameHeaderSize, length));
    pos += storage::kFrameHeaderSize + length;
  }
}

// One case, c1 (LOAN, client 1, OPEN), for inputs that update or read it.
void seed_case(Repository& repo) {
  CreateRequest seed;
  seed.caseId = "c1";
  seed.caseType = "LOAN";
  seed.clientId = "1";
  seed.clientType = "PESEL";
  seed.status = "OPEN";
  if (!repo.create(seed).ok()) fail("seed create");
}

// A log of `n` creates of cases c1..cn, as the engine writes it.
std::string make_log(std::uint64_t n) {
  std::string log = storage::encode_log_header(1);
  for (std::uint64_t i = 1; i <= n; ++i) {
    engine::ResolvedCreate c;
    c.request.caseId = "c" + std::to_string(i);
    c.request.caseType = "LOAN";
    c.request.clientId = "k" + std::to_string(i % 3);
    c.request.clientType = "PESEL";
    c.request.status = i % 2 ? "OPEN" : "NEW";
    c.stamp_ms = 1735689600000LL + static_cast<std::int64_t>(i);
    log += storage::encode_record(storage::RecordType::kCreate, i, storage::encode_payload(c));
  }
  return log;
}

// The caseIds a repository holds, in creation order.
std::vector<std::string> case_ids(const Repository& repo) {
  std::vector<std::string> ids;
  PageRequest page;
  page.sort = SortOrder::kCreationDateAsc;
  page.size = kMaxPageSize;
  auto r = repo.search({}, page);
  if (!r.ok()) fail("search: " + r.error().to_string());
  for (const Entry& e : r->content) ids.push_back(e.caseId);
  return ids;
}

}  // namespace

void ops_differential(const std::uint8_t* data, std::size_t size) {
  testing::ByteChoices choices({data, size});
  // The tuning is chosen by the input too: both plans, frequent compaction.
  engine::Tuning tuning;
  switch (choices.below(4)) {
    case 0:  // bitmap plans, lazy last AND, short skips, facets by bitmap; compaction 3 positions a write
      tuning = engine::Tuning{0, 4, 2, 0};
      tuning.compaction_step = 3;
      break;
    case 1:  // probe plans; compaction a position a write, every field entry by entry; slow growth
      tuning = engine::Tuning{std::numeric_limits<std::uint64_t>::max(), 4};
      tuning.compaction_step = 1;
      tuning.compaction_bulk_values = 0;
      tuning.rehash_step = 1;  // dictionaries grow a slot per intern
      break;
    case 2: tuning = engine::Tuning{0, 16, 0}; break;  // bitmap plans, materialised
    default: tuning = engine::Tuning{8, 16}; break;
  }
  testing::DifferentialHarness harness(choices.percent(20) ? "lowcode-app" : "", tuning);
  testing::OpGenerator ops(choices, harness);
  for (int i = 0; i < 400 && !choices.exhausted(); ++i) {
    if (auto diff = ops.step(); !diff.empty()) fail("operation " + std::to_string(i) + ": " + diff);
    if (choices.percent(3)) {
      switch (choices.below(3)) {
        case 0: harness.compact(); break;
        case 1: harness.compact(/*update_order_only=*/true); break;
        default: harness.compact_in_steps(); break;  // the next writes take the steps
      }
    }
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
  const std::uint64_t name_seq = size >= storage::kLogHeaderSize ? util::get_u64(copy.data() + 12) : 1;
  const storage::SegmentScan scan = storage::scan_segment(bytes, name_seq);
  if (scan.good_bytes > size) fail("good_bytes beyond the file");
  if (!scan.damage && scan.good_bytes != size) fail("no damage, but the records end before the file");
  if (scan.damage && scan.damage->offset >= storage::kLogHeaderSize && scan.damage->offset != scan.good_bytes) {
    fail("record damage elsewhere than where the intact records end");
  }
  if (scan.damage) (void)storage::damage_error("fuzz.log", *scan.damage).to_string();
  std::uint64_t expected = scan.first_seq;
  for (const auto& rec : scan.records) {
    if (rec.seq != expected++) fail("records out of seq order");
    auto m = storage::decode_record(rec.type, rec.payload);
    if (!m.ok() && m.error().code() != ErrorCode::kCorruption) fail("decode: " + m.error().to_string());
    if (m.ok() && (m->position > 0) != (rec.type == storage::RecordType::kStream)) fail("position in a plain record");
    if (m.ok() && !m->mutation && m->position == 0) fail("a record with neither write nor position");
    // cereal accepts a payload in either byte order (its first byte says
    // which), so the bytes need not re-encode identically; the value must.
    if (m.ok()) {
      auto encode = [](const storage::StreamRecord& r) {
        return r.position > 0 ? storage::encode_stream_payload(r) : storage::encode_payload(*r.mutation);
      };
      const std::string canonical = encode(*m);
      auto again = storage::decode_record(rec.type, canonical);
      if (!again.ok() || encode(*again) != canonical) fail("payload does not round-trip");
    }
  }
}

void log_evidence(const std::uint8_t* data, std::size_t size) {
  testing::ByteChoices choices({data, size});
  const std::uint64_t n = 1 + choices.below(40);
  const std::string original = make_log(n);
  std::vector<std::uint64_t> offsets;  // of each record, then the end
  for (const storage::LogRecord& r : storage::scan_segment(original, 1).records) offsets.push_back(r.offset);
  offsets.push_back(original.size());

  // Damage: flipped bits, overwritten bytes, zeroed ranges, a cut.
  std::string log = original;
  for (int k = 1 + static_cast<int>(choices.below(4)); k > 0 && !choices.exhausted() && !log.empty(); --k) {
    const std::size_t at = choices.below(log.size());
    const std::size_t len = 1 + choices.below(std::min<std::size_t>(64, log.size() - at));
    switch (choices.below(4)) {
      case 0: log[at] = static_cast<char>(log[at] ^ (1 << choices.below(8))); break;
      case 1:
        for (std::size_t i = at; i < at + len; ++i) log[i] = static_cast<char>(choices.below(256));
        break;
      case 2: std::fill(log.begin() + static_cast<std::ptrdiff_t>(at), log.begin() + static_cast<std::ptrdiff_t>(at + len), '\0'); break;
      default: log.resize(at); break;
    }
  }
  // Record i (1-based) is intact when its bytes are all there, unchanged.
  auto intact = [&](std::uint64_t i) {
    const std::uint64_t b = offsets[i - 1], e = offsets[i];
    return e <= log.size() && log.compare(b, e - b, original, b, e - b) == 0;
  };
  const bool header_intact = log.size() >= storage::kLogHeaderSize && log.compare(0, storage::kLogHeaderSize, original, 0, storage::kLogHeaderSize) == 0;
  std::uint64_t prefix = 0;  // records 1..prefix are intact (and the file header)
  while (header_intact && prefix < n && intact(prefix + 1)) ++prefix;
  std::uint64_t last_intact = 0;
  for (std::uint64_t i = 1; i <= n; ++i) {
    if (intact(i)) last_intact = i;
  }

  auto directory = [&](testing::FaultEnv& env) {
    env.set_file("/d/MANIFEST", storage::encode_manifest(storage::Manifest{}));
    env.set_file("/d/" + storage::log_name(1), log);
  };
  auto expect_cases = [&](const Repository& repo, std::uint64_t count, const char* what) {
    const auto ids = case_ids(repo);
    if (ids.size() != count) {
      fail(std::string(what) + ": " + std::to_string(ids.size()) + " cases, " + std::to_string(count) + " expected");
    }
    for (std::uint64_t i = 0; i < count; ++i) {
      if (ids[i] != "c" + std::to_string(i + 1)) fail(std::string(what) + ": unexpected case " + ids[i]);
    }
  };

  // The default open: the exact state of the intact prefix, with no intact
  // record dropped, or Corruption naming the file and an offset.
  {
    testing::FaultEnv env;
    directory(env);
    Options o;
    o.env = &env;
    auto repo = Repository::open("/d", o);
    if (repo.ok()) {
      if (last_intact > prefix) fail("opened, dropping intact record " + std::to_string(last_intact));
      expect_cases(**repo, prefix, "open");
    } else if (repo.error().code() != ErrorCode::kCorruption ||
               repo.error().message().find("/d/log-") == std::string::npos ||
               repo.error().message().find(" at offset ") == std::string::npos) {
      fail("open: " + repo.error().to_string());
    }
  }
  // Repair: always opens, with exactly the intact prefix; the cut bytes are kept.
  {
    testing::FaultEnv env;
    directory(env);
    Options o;
    o.env = &env;
    auto r = repair("/d", o);
    if (!r.ok()) fail("repair: " + r.error().to_string());
    if (r->entries != prefix) fail("repair kept " + std::to_string(r->entries) + " entries, " + std::to_string(prefix) + " intact");
    if (r->damaged != (log != original.substr(0, offsets[prefix]))) fail("repair's verdict on damage is wrong");
    std::uint64_t kept = 0;
    for (const std::string& f : r->evidenceFiles) kept += env.files()["/d/" + f].size();
    const std::uint64_t cut_at = header_intact ? offsets[prefix] : 0;
    if (kept != r->bytesMoved || (r->damaged && kept != log.size() - cut_at)) {
      fail("repair kept " + std::to_string(kept) + " bytes aside, reported " + std::to_string(r->bytesMoved) +
           ", cut " + std::to_string(log.size() - cut_at));
    }
    auto repo = Repository::open("/d", o);
    if (!repo.ok()) fail("open after repair: " + repo.error().to_string());
    expect_cases(**repo, prefix, "open after repair");
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
  const std::size_t n = snap->image.entry_count();
  if (store.restore(std::move(snap->image))) return;  // a value listed twice: refused
  // Every entry is in its case's posting and in the live set, before and
  // after compaction (which builds the postings again from the codes).
  auto check = [&](const char* when) {
    std::uint64_t in_cases = 0;
    store.dictionary(engine::Field::kCaseId).for_each([&](const auto& v) { in_cases += v.payload.size(); });
    if (store.entry_count() != n || in_cases != n || store.live().in(engine::Space::kCreation).cardinality() != n) {
      fail(std::string(when) + ": postings disagree with the entry count");
    }
  };
  check("restored");
  store.rebuild();
  check("compacted");
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
  seed_case(repo);
  switch (data[0] % 4) {
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
    case 2: {  // a stream command: refused ones change nothing, not even the position
      auto c = json::parse_command(*parsed);
      if (!c.ok()) return expect_invalid(c.error(), "parse_command");
      c->position = 1;
      const std::uint64_t entries = repo.stats().entries;
      const StreamApplied a = repo.applyStream({&*c, 1});
      if (a.stopped) {
        const ErrorCode code = a.stopped->code();
        if (code != ErrorCode::kInvalidArgument && code != ErrorCode::kNotFound && code != ErrorCode::kConflict) {
          fail("applyStream: " + a.stopped->to_string());
        }
        if (a.applied != 0 || repo.streamPosition() != 0 || repo.stats().entries != entries) fail("a refused command changed something");
      } else if (a.applied != 1 || repo.streamPosition() != 1) {
        fail("an applied command did not take its position");
      }
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

void http_request(const std::uint8_t* data, std::size_t size) {
  namespace http = boost::beast::http;
  // Users whose hashes are cheap to check (the parameters live in the hash).
  static const std::vector<server::User> kUsers = [] {
    if (sodium_init() < 0) fail("sodium_init");
    auto cheap = [](const char* password) {
      char h[crypto_pwhash_STRBYTES];
      if (crypto_pwhash_str(h, password, std::strlen(password), crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN) != 0) {
        fail("crypto_pwhash_str");
      }
      return std::string(h);
    };
    return std::vector<server::User>{{"w", server::Role::kWriter, "", cheap("pw")},
                                     {"r", server::Role::kReader, "", cheap("pr")},
                                     {"l", server::Role::kWriter, "app", cheap("pl")}};
  }();
  static const std::string kDummy = kUsers[0].hash;
  Repository repo;
  seed_case(repo);
  server::Metrics metrics;
  server::Authenticator auth(kUsers, kDummy);
  server::Api api(repo, metrics);
  server::Dispatcher dispatcher(api, auth, metrics);

  // Several requests may follow each other (keep-alive, pipelining).
  boost::asio::const_buffer rest(data, size);
  for (int n = 0; n < 8 && rest.size() > 0; ++n) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(64 * 1024);
    parser.eager(true);
    boost::beast::error_code ec;
    const std::size_t used = parser.put(rest, ec);
    if (ec || !parser.is_done()) return;  // malformed or incomplete: the connection answers 400 or waits
    rest += used;
    server::RequestInfo info;
    const server::Response res = dispatcher.respond(parser.get(), "fuzz", info);
    const unsigned status = res.result_int();
    if (status == 500) fail("500: " + res.body());
    if (status < 200 || status > 503) fail("status " + std::to_string(status));
    // The metrics page, the console's files and its redirect are not JSON; everything else is.
    const auto target = parser.get().target();
    const bool metrics_page = target.substr(0, target.find('?')) == "/metrics" && status == 200;  // a query is ignored
    const bool console_file = info.route == "console" && status < 400;
    if (!metrics_page && !console_file) {
      auto body = json::parse(res.body());
      if (!body.ok()) fail("response body is not JSON: " + res.body().substr(0, 200));
      if (status >= 400 && (!body->is_object() || !body->contains("error") || !body->contains("message"))) {
        fail("error response without the error JSON: " + res.body().substr(0, 200));
      }
    }
  }
}

}  // namespace caserepo::fuzz
