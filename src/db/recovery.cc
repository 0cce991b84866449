#include "db/recovery.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <span>
#include <utility>

#include "db/decode_ahead.h"
#include "db/reported_change.h"
#include "engine/apply.h"
#include "storage/data_dir.h"
#include "storage/format.h"
#include "storage/log.h"
#include "storage/manifest.h"
#include "storage/records.h"
#include "storage/snapshot.h"

namespace caserepo::db {
namespace {

// How far ahead of the record being applied the replay starts the lookups
// of a record's keys: their table slots, then their values (two steps of
// ~0.1 us misses each, against ~1 us to apply a record).
constexpr std::size_t kSlotsAhead = 8;
constexpr std::size_t kValuesAhead = 4;

using storage::Damage;
using storage::log_name;

// The first damage of the log: in which segment, and what.
struct Cut {
  std::size_t segment = 0;  // index into the segment list
  Damage damage;
  std::uint64_t first_lost_seq = 0;  // the seq the damaged record should have had
  bool unreplayable = false;         // an intact record that cannot be replayed: those after it are intact too
};

// The seqs the cut drops: from the damaged record to the last intact record
// after it — in its own segment past the damage, or in any later segment.
void count_lost(Env& env, const std::string& dir, const std::vector<std::uint64_t>& segments, const Cut& cut,
                const storage::SegmentScan& scan, RepairReport& r) {
  std::uint64_t last = cut.damage.last_intact_seq;
  auto add_scan = [&](const storage::SegmentScan& s, std::uint64_t from_offset) {
    for (const auto& rec : s.records) {
      if (rec.offset >= from_offset) last = std::max(last, rec.seq);
    }
    if (s.damage && s.damage->offset >= from_offset) last = std::max(last, s.damage->last_intact_seq);
  };
  if (cut.unreplayable) {
    last = std::max(last, cut.first_lost_seq);  // the record itself
    add_scan(scan, cut.damage.offset + 1);
  }
  for (std::size_t j = cut.segment + 1; j < segments.size(); ++j) {
    auto bytes = env.read_file(dir + "/" + log_name(segments[j]), storage::kMaxLogFileBytes);
    if (bytes.ok()) add_scan(storage::scan_segment(*bytes, segments[j]), 0);
  }
  r.firstDroppedSeq = cut.first_lost_seq;
  r.lastDroppedSeq = std::max(last, cut.first_lost_seq - 1);
  r.recordsDropped = r.lastDroppedSeq + 1 - r.firstDroppedSeq;
}

Damage plain_damage(std::uint64_t offset, std::string what) { return Damage{offset, std::move(what), false}; }

// Applies a replayed write and reports it as the commit path reported it live.
void report_change(engine::Store& store, const engine::Mutation& m, std::uint64_t seq, std::uint64_t position,
                   const std::function<void(const Change&)>& report) {
  std::string removed_type;
  std::uint64_t removed = 0;
  if (m.index() == 2) {
    removed_type = case_type_before_remove(store, m);
    removed = store.case_entries(engine::case_of(m))->size();
  }
  const std::uint32_t slot = engine::apply_mutation(store, m);
  Entry entry;
  if (slot != engine::kNoValue) entry = store.materialize(slot);
  report(reported_change(m, seq, position, &entry, removed_type, removed));
}

}  // namespace

Result<Recovered> recover(Env& env, const std::string& dir, engine::Store& store, RecoveryMode mode,
                          bool read_only, const ProgressFn& progress, const ChangeReplay* changes) {
  auto report_progress = [&](std::string_view task, std::uint64_t done, std::uint64_t total, bool finished) {
    if (progress) progress(Progress{task, done, total, finished});
  };
  Recovered out;
  RecoveryReport& report = out.report;
  auto listing = storage::list_data_dir(env, dir);
  if (!listing.ok()) return listing.error();
  const std::vector<std::uint64_t>& segments = listing->segments;
  report.obsolete = listing->temporary;

  // The MANIFEST.
  storage::Manifest manifest;
  const std::string manifest_path = dir + "/" + storage::kManifestName;
  if (!listing->has_manifest) {
    if (!segments.empty() || !listing->snapshots.empty()) {
      return Error::Corruption(manifest_path + " is missing but the directory holds log or snapshot files");
    }
    if (!read_only) {
      if (auto s = storage::write_file_atomically(env, dir, storage::kManifestName, storage::encode_manifest(manifest));
          !s.ok()) {
        return s.error();
      }
    }
  } else {
    auto bytes = env.read_file(manifest_path, 4096);
    if (!bytes.ok()) return bytes.error();
    auto parsed = storage::parse_manifest(*bytes, manifest_path);
    if (!parsed.ok()) return parsed.error();
    manifest = *parsed;
  }

  // The snapshot it names.
  if (manifest.snapshot_seq > 0) {
    const std::string path = dir + "/" + storage::snapshot_name(manifest.snapshot_seq);
    if (!env.exists(path)) return Error::Corruption(path + " is named by the MANIFEST but missing");
    auto contents = env.map_file(path, storage::kMaxSnapshotFileBytes);
    if (!contents.ok()) return contents.error();
    report_progress("loading snapshot", 0, 0, false);
    auto snap = storage::parse_snapshot((*contents)->bytes(), path);
    if (!snap.ok()) return snap.error();
    if (snap->covered_seq != manifest.snapshot_seq) return Error::Corruption(path + ": covers another seq than its name");
    report.snapshot_entries = snap->image.entry_count();
    report.stream_position = snap->stream_position;
    if (auto bad = store.restore(std::move(snap->image))) {
      return Error::Corruption(path + " at offset " + std::to_string(storage::kSnapshotHeaderSize) + ": " + *bad);
    }
    report_progress("loading snapshot", report.snapshot_entries, report.snapshot_entries, true);
  }
  report.snapshot_seq = manifest.snapshot_seq;
  for (std::uint64_t s : listing->snapshots) {
    if (s != manifest.snapshot_seq) report.obsolete.push_back(storage::snapshot_name(s));
  }

  // The segments that may hold records from log_start_seq on, oldest first.
  std::size_t first = 0;
  while (first + 1 < segments.size() && segments[first + 1] <= manifest.log_start_seq) {
    report.obsolete.push_back(log_name(segments[first]));
    ++first;
  }
  std::uint64_t expected = manifest.log_start_seq;
  std::optional<Cut> cut;
  std::unique_ptr<FileContents> cut_contents;  // the damaged segment, read whole
  std::string_view cut_bytes;
  storage::SegmentScan cut_scan;
  std::uint32_t last_version = 0;    // of the segment the log continues in
  std::uint64_t last_bytes = 0;
  for (std::size_t i = first; i < segments.size() && !cut; ++i) {
    const std::string name = log_name(segments[i]);
    const std::string path = dir + "/" + name;
    auto contents = env.map_file(path, storage::kMaxLogFileBytes);
    if (!contents.ok()) return contents.error();
    const std::string_view bytes = (*contents)->bytes();
    // The records are read (checked) a window at a time as they are
    // applied (decode_ahead.h); a damaged segment is scanned whole for
    // what the cut needs (the records past the damage, its version).
    storage::SegmentReader reader(bytes, segments[i]);
    const bool header_ok = !reader.damage();  // the reader checks the file header first
    auto stop = [&](Damage d, bool unreplayable = false) {
      cut = Cut{i, std::move(d), expected, unreplayable};
      cut_scan = storage::scan_segment(bytes, segments[i]);
      cut_contents = std::move(*contents);  // cut_bytes and cut_scan point into it
      cut_bytes = bytes;
    };
    if (segments[i] > expected) {
      stop(plain_damage(0, "log records " + std::to_string(expected) + ".." + std::to_string(segments[i] - 1) +
                               " are missing"));
      break;
    }
    if (i > first && segments[i] != expected) {
      stop(plain_damage(0, "segment starts at seq " + std::to_string(segments[i]) + ", overlapping the previous one"));
      break;
    }
    report.segments.push_back(name);
    // The records after the snapshot, read, decoded and checked for form
    // ahead on a helper thread (decode_ahead.h) while this one checks them
    // against the store and applies them, in order.
    std::optional<std::pair<std::uint64_t, std::string>> unreplayable;  // offset, why
    {
      DecodeAhead decoded(
          reader, expected, [&store](std::size_t n) { return store.room_for(n); },
          [&store](std::size_t entries) { store.reserve_more(entries); });
      for (std::size_t k = 0;; ++k) {
        DecodedRecord* d = decoded.next(k);
        if (d == nullptr) break;
        const storage::LogRecord& rec = d->log;
        // The lookups of the records a little ahead, started now (apply.h).
        if (const DecodedRecord* ahead = decoded.peek(k + kSlotsAhead)) engine::prefetch_slots(store, ahead->keys);
        if (const DecodedRecord* ahead = decoded.peek(k + kValuesAhead)) engine::prefetch_values(store, ahead->keys);
        const storage::StreamRecord& m = d->record;
        const bool decodes = !d->corrupt;
        std::optional<Error> bad;
        if (!decodes) {
          bad = std::move(d->corrupt);
        } else if (m.position > 0 && m.position <= report.stream_position) {
          bad = Error::InvalidArgument("stream position " + std::to_string(m.position) +
                                       " is not above the previous one, " + std::to_string(report.stream_position));
        } else if (d->malformed) {
          bad = std::move(d->malformed);
        } else if (m.mutation) {
          bad = engine::check_against(store, *m.mutation);
        }
        if (bad) {
          unreplayable.emplace(rec.offset, decodes ? "record cannot be replayed: " + bad->to_string() : bad->message());
          break;
        }
        if (m.mutation) {
          if (changes && rec.seq > changes->after) {
            report_change(store, *m.mutation, rec.seq, m.position, changes->report);
          } else {
            engine::apply_mutation(store, *m.mutation);
          }
        }
        if (m.position > 0) report.stream_position = m.position;
        ++expected;
        if (++report.replayed_records % 65536 == 0) report_progress("replaying log", report.replayed_records, 0, false);
      }
    }  // the helper is done with the reader (and the segment's bytes) before this reads it or stop() takes them
    if (unreplayable) stop(plain_damage(unreplayable->first, std::move(unreplayable->second)), /*unreplayable=*/true);
    if (cut) break;
    if (reader.damage()) {
      Damage d = *reader.damage();
      if (!header_ok && segments[i] != expected) d.tail_shaped = false;  // a fresh segment would start at `expected`
      stop(std::move(d));
      break;
    }
    last_version = reader.version();
    last_bytes = bytes.size();
  }
  report.last_seq = expected - 1;
  if (report.replayed_records > 0) report_progress("replaying log", report.replayed_records, report.replayed_records, true);

  if (cut) {
    const std::string name = log_name(segments[cut->segment]);
    const std::string path = dir + "/" + name;
    const bool torn = cut->damage.torn() && cut->segment + 1 == segments.size();
    if (mode == RecoveryMode::kTolerateTornTail && torn) {
      report.tail_reason = name + " at offset " + std::to_string(cut->damage.offset) + ": " + cut->damage.what;
      report.tail_bytes = cut_bytes.size() - cut->damage.offset;
      if (cut->damage.offset >= storage::kLogHeaderSize && !read_only) {
        if (auto s = storage::truncate_durably(env, dir, name, cut->damage.offset); !s.ok()) return s.error();
      }
    } else if (mode != RecoveryMode::kPointInTime) {
      return storage::damage_error(path, cut->damage);
    } else {
      RepairReport& r = report.repair;
      r.damaged = true;
      r.damagedFile = path;
      r.damagedOffset = cut->damage.offset;
      r.damage = cut->damage.what;
      count_lost(env, dir, segments, *cut, cut_scan, r);
      r.bytesMoved = cut_bytes.size() - cut->damage.offset;
      for (std::size_t j = cut->segment + 1; j < segments.size(); ++j) {
        auto bytes = env.read_file(dir + "/" + log_name(segments[j]), storage::kMaxLogFileBytes);
        if (bytes.ok()) r.bytesMoved += bytes->size();
      }
      if (!read_only) {
        // Evidence first: a crash in between leaves the original bytes too.
        if (cut->damage.offset >= storage::kLogHeaderSize && cut->damage.offset < cut_bytes.size()) {
          auto kept = storage::keep_aside(env, dir, name, cut->damage.offset, std::string(cut_bytes.substr(cut->damage.offset)));
          if (!kept.ok()) return kept.error();
          r.evidenceFiles.push_back(*kept);
        }
        for (std::size_t j = segments.size(); j-- > cut->segment + 1;) {
          auto moved = storage::move_aside(env, dir, log_name(segments[j]));
          if (!moved.ok()) return moved.error();
          r.evidenceFiles.push_back(*moved);
        }
        if (cut->damage.offset < storage::kLogHeaderSize) {
          auto moved = storage::move_aside(env, dir, name);
          if (!moved.ok()) return moved.error();
          r.evidenceFiles.push_back(*moved);
        } else if (cut->damage.offset < cut_bytes.size()) {
          // cut_bytes past the offset are not read again: they are gone from the mapping.
          if (auto s = storage::truncate_durably(env, dir, name, cut->damage.offset); !s.ok()) return s.error();
        }
      }
      r.lastSeq = report.last_seq;
    }
    // The log continues in the cut segment, unless nothing of it is left.
    if (cut->damage.offset >= storage::kLogHeaderSize) {
      last_version = cut_scan.version;
      last_bytes = cut->damage.offset;
    } else {
      last_version = 0;
    }
    out.segment_name = cut->damage.offset >= storage::kLogHeaderSize ? name : log_name(expected);
  } else if (!segments.empty()) {
    out.segment_name = log_name(segments.back());
  }
  // Appends continue in the last segment when it is of the current format;
  // otherwise (none yet, a torn header, an old version) in a fresh one.
  if (out.segment_name.empty() || last_version != storage::kLogVersion) {
    out.segment_name = log_name(expected);
    out.fresh = true;
  } else {
    out.segment_bytes = last_bytes;
  }

  if (!read_only && !report.obsolete.empty()) {
    for (const std::string& name : report.obsolete) (void)env.remove(dir + "/" + name);
    (void)env.sync_dir(dir);
  }
  return out;
}

}  // namespace caserepo::db
