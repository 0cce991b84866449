#include "storage/data_dir.h"

#include <algorithm>

#include "storage/format.h"
#include "storage/manifest.h"

namespace caserepo::storage {

Result<DirListing> list_data_dir(Env& env, const std::string& dir) {
  auto names = env.list_dir(dir);
  if (!names.ok()) return names.error();
  DirListing out;
  for (const std::string& name : *names) {
    if (auto seq = parse_numbered(name, "log-", ".log")) out.segments.push_back(*seq);
    if (auto seq = parse_numbered(name, "snapshot-", ".snap")) out.snapshots.push_back(*seq);
    if (name == kManifestName) out.has_manifest = true;
    if (name.size() > 4 && name.ends_with(".tmp")) out.temporary.push_back(name);
  }
  std::sort(out.segments.begin(), out.segments.end());
  std::sort(out.snapshots.begin(), out.snapshots.end());
  return out;
}

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

Status truncate_durably(Env& env, const std::string& dir, const std::string& name, std::uint64_t size) {
  const std::string path = dir + "/" + name;
  if (auto s = env.truncate(path, size); !s.ok()) return s;
  auto file = env.open_writable(path, /*truncate=*/false);
  if (!file.ok()) return file.error();
  if (auto s = (*file)->sync(); !s.ok()) return s;
  if (auto s = (*file)->close(); !s.ok()) return s;
  return env.sync_dir(dir);
}

namespace {

std::string aside_name(Env& env, const std::string& dir, const std::string& name, std::uint64_t offset) {
  const std::string base = name + ".damaged-at-" + std::to_string(offset);
  std::string aside = base;
  for (int n = 2; env.exists(dir + "/" + aside); ++n) aside = base + "." + std::to_string(n);
  return aside;
}

}  // namespace

Result<std::string> keep_aside(Env& env, const std::string& dir, const std::string& name, std::uint64_t offset,
                               const std::string& bytes) {
  const std::string aside = aside_name(env, dir, name, offset);
  if (auto s = write_file_atomically(env, dir, aside, bytes); !s.ok()) return s.error();
  return aside;
}

Result<std::string> move_aside(Env& env, const std::string& dir, const std::string& name) {
  const std::string aside = aside_name(env, dir, name, 0);
  if (auto s = env.rename(dir + "/" + name, dir + "/" + aside); !s.ok()) return s.error();
  if (auto s = env.sync_dir(dir); !s.ok()) return s.error();
  return aside;
}

Result<std::uint64_t> write_checkpoint(Env& env, const std::string& dir, const SnapshotData& data) {
  const std::string name = snapshot_name(data.covered_seq);
  const std::string tmp = dir + "/" + name + ".tmp";
  auto size = write_snapshot(env, tmp, data);
  if (!size.ok()) return size.error();
  if (auto s = env.rename(tmp, dir + "/" + name); !s.ok()) return s.error();
  if (auto s = env.sync_dir(dir); !s.ok()) return s.error();
  const Manifest m{data.covered_seq, data.covered_seq + 1};
  if (auto s = write_file_atomically(env, dir, kManifestName, encode_manifest(m)); !s.ok()) return s.error();
  // Only now is the old state unreferenced.
  auto listing = list_data_dir(env, dir);
  if (!listing.ok()) return listing.error();
  for (std::uint64_t seg : listing->segments) {
    if (seg > data.covered_seq) continue;
    if (auto s = env.remove(dir + "/" + log_name(seg)); !s.ok()) return s.error();
  }
  for (std::uint64_t snap : listing->snapshots) {
    if (snap == data.covered_seq) continue;
    if (auto s = env.remove(dir + "/" + snapshot_name(snap)); !s.ok()) return s.error();
  }
  if (auto s = env.sync_dir(dir); !s.ok()) return s.error();
  return *size;
}

}  // namespace caserepo::storage
