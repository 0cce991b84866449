#include "storage/data_dir.h"

#include <algorithm>
#include <chrono>

#include "engine/apply.h"
#include "storage/format.h"
#include "storage/log.h"
#include "storage/manifest.h"
#include "storage/records.h"

namespace caserepo::storage {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

Error at(const std::string& file, std::uint64_t offset, const std::string& what) {
  return Error::Corruption(file + " at offset " + std::to_string(offset) + ": " + what);
}

}  // namespace

Status write_file_atomically(Env& env, const std::string& dir, const std::string& name, const std::string& bytes) {
  const std::string tmp = dir + "/" + name + ".tmp";
  auto file = env.open_writable(tmp, /*truncate=*/true);
  if (!file.ok()) return file.error();
  if (auto s = (*file)->append(bytes); !s.ok()) return s;
  if (auto s = (*file)->sync(); !s.ok()) return s;
  if (auto s = (*file)->close(); !s.ok()) return s;
  if (auto s = env.rename(tmp, dir + "/" + name); !s.ok()) return s;
  return env.sync_dir(dir);
}

Result<Recovered> recover(Env& env, const std::string& dir, engine::Store& store, bool repair) {
  Recovered out;
  RecoveryReport& report = out.report;
  auto names = env.list_dir(dir);
  if (!names.ok()) return names.error();
  std::vector<std::uint64_t> segments;
  std::vector<std::uint64_t> snapshots;
  bool has_manifest = false;
  for (const std::string& name : *names) {
    if (auto seq = parse_numbered(name, "log-", ".log")) segments.push_back(*seq);
    if (auto seq = parse_numbered(name, "snapshot-", ".snap")) snapshots.push_back(*seq);
    if (name == kManifestName) has_manifest = true;
    if (name.size() > 4 && name.ends_with(".tmp")) report.obsolete.push_back(name);
  }
  std::sort(segments.begin(), segments.end());

  Manifest manifest;
  if (!has_manifest) {
    if (!segments.empty() || !snapshots.empty()) {
      return Error::Corruption(dir + "/MANIFEST is missing but the directory holds log or snapshot files");
    }
    if (repair) {
      if (auto s = write_file_atomically(env, dir, kManifestName, encode_manifest(manifest)); !s.ok()) return s.error();
    }
  } else {
    auto bytes = env.read_file(dir + "/" + kManifestName, 4096);
    if (!bytes.ok()) return bytes.error();
    auto parsed = parse_manifest(*bytes, dir + "/" + kManifestName);
    if (!parsed.ok()) return parsed.error();
    manifest = *parsed;
  }

  // The snapshot.
  auto t0 = std::chrono::steady_clock::now();
  if (manifest.snapshot_seq > 0) {
    const std::string path = dir + "/" + snapshot_name(manifest.snapshot_seq);
    if (!env.exists(path)) return Error::Corruption(path + " is named by the MANIFEST but missing");
    auto bytes = env.read_file(path, kMaxSnapshotFileBytes);
    if (!bytes.ok()) return bytes.error();
    auto snap = parse_snapshot(*bytes, path);
    if (!snap.ok()) return snap.error();
    if (snap->covered_seq != manifest.snapshot_seq) return Error::Corruption(path + ": covers another seq than its name");
    report.snapshot_entries = snap->entries.size();
    store.restore(std::move(snap->entries), snap->counters);
  }
  report.snapshot_seq = manifest.snapshot_seq;
  report.snapshot_seconds = seconds_since(t0);
  for (std::uint64_t s : snapshots) {
    if (s != manifest.snapshot_seq) report.obsolete.push_back(snapshot_name(s));
  }

  // The segments that may hold records from log_start_seq on.
  std::size_t first = 0;
  while (first + 1 < segments.size() && segments[first + 1] <= manifest.log_start_seq) {
    report.obsolete.push_back(log_name(segments[first]));
    ++first;
  }
  t0 = std::chrono::steady_clock::now();
  std::uint64_t expected = manifest.log_start_seq;
  for (std::size_t i = first; i < segments.size(); ++i) {
    const bool last = i + 1 == segments.size();
    const std::string name = log_name(segments[i]);
    const std::string path = dir + "/" + name;
    auto bytes = env.read_file(path, kMaxLogFileBytes);
    if (!bytes.ok()) return bytes.error();
    auto scan = scan_segment(*bytes, last, path);
    if (!scan.ok()) return scan.error();
    if (scan->torn && scan->good_bytes == 0 && segments[i] != expected) {
      return at(path, 0, "empty segment starts at " + std::to_string(segments[i]) + ", not at the next seq " +
                             std::to_string(expected));
    }
    if (!scan->torn || scan->good_bytes > 0) {
      if (scan->first_seq != segments[i]) return at(path, 12, "header names another first seq than the file name");
      if (scan->first_seq > expected) {
        return at(path, 0, "log records " + std::to_string(expected) + ".." + std::to_string(scan->first_seq - 1) + " are missing");
      }
      if (i > first && scan->first_seq != expected) return at(path, 0, "segment overlaps the previous one");
    }
    report.segments.push_back(name);
    for (const LogRecord& rec : scan->records) {
      if (rec.seq < expected) continue;  // already in the snapshot
      auto m = decode_payload(rec.type, rec.payload);
      if (!m.ok()) return at(path, rec.offset, m.error().message());
      if (auto e = engine::check_mutation(store, *m)) return at(path, rec.offset, "record cannot be replayed: " + e->to_string());
      engine::apply_mutation(store, *m);
      ++expected;
      ++report.replayed_records;
    }
    if (!last && segments[i + 1] != expected) {
      return at(path, scan->good_bytes, "log ends at seq " + std::to_string(expected - 1) + " but the next segment starts at " +
                                            std::to_string(segments[i + 1]));
    }
    if (last) {
      out.last_segment = path;
      if (scan->torn) {
        report.tail_repaired = repair;
        report.tail_reason = scan->torn_reason;
        report.tail_bytes_dropped = bytes->size() - scan->good_bytes;
        if (scan->good_bytes == 0) {
          out.last_segment_fresh = true;
        } else if (repair) {
          if (auto s = env.truncate(path, scan->good_bytes); !s.ok()) return s.error();
        }
      }
    }
  }
  if (out.last_segment.empty()) {  // fresh, or a checkpoint crashed before its segment existed
    out.last_segment = dir + "/" + log_name(expected);
    out.last_segment_fresh = true;
  }
  report.last_seq = expected - 1;
  report.replay_seconds = seconds_since(t0);
  return out;
}

Status write_checkpoint(Env& env, const std::string& dir, const SnapshotData& data) {
  const std::string name = snapshot_name(data.covered_seq);
  const std::string tmp = dir + "/" + name + ".tmp";
  auto size = write_snapshot(env, tmp, data);
  if (!size.ok()) return size.error();
  if (auto s = env.rename(tmp, dir + "/" + name); !s.ok()) return s;
  if (auto s = env.sync_dir(dir); !s.ok()) return s;
  Manifest m{data.covered_seq, data.covered_seq + 1};
  if (auto s = write_file_atomically(env, dir, kManifestName, encode_manifest(m)); !s.ok()) return s;
  // Only now is the old state unreferenced.
  auto names = env.list_dir(dir);
  if (!names.ok()) return names.error();
  for (const std::string& n : *names) {
    const auto seg = parse_numbered(n, "log-", ".log");
    const auto snap = parse_numbered(n, "snapshot-", ".snap");
    if ((seg && *seg <= data.covered_seq) || (snap && *snap != data.covered_seq)) {
      if (auto s = env.remove(dir + "/" + n); !s.ok()) return s;
    }
  }
  return env.sync_dir(dir);
}

}  // namespace caserepo::storage
