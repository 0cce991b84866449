#include "storage/manifest.h"

#include "storage/format.h"
#include "util/crc32c.h"

namespace caserepo::storage {

std::string encode_manifest(const Manifest& m) {
  std::string out(kManifestMagic);
  put_u32(out, kManifestVersion);
  put_u64(out, m.snapshot_seq);
  put_u64(out, m.log_start_seq);
  put_u32(out, util::crc32c(out));
  return out;
}

Result<Manifest> parse_manifest(std::string_view bytes, const std::string& name) {
  if (bytes.size() != kManifestSize) {
    return Error::Corruption(name + ": " + std::to_string(bytes.size()) + " bytes, " + std::to_string(kManifestSize) +
                             " expected");
  }
  if (bytes.substr(0, 8) != kManifestMagic) return Error::Corruption(name + ": not a caserepo manifest (bad magic)");
  if (get_u32(bytes.data() + 28) != util::crc32c(bytes.data(), 28)) return Error::Corruption(name + ": checksum mismatch");
  if (get_u32(bytes.data() + 8) != kManifestVersion) return Error::Corruption(name + ": version is not supported");
  Manifest m{get_u64(bytes.data() + 12), get_u64(bytes.data() + 20)};
  if (m.log_start_seq != m.snapshot_seq + 1) {
    return Error::Corruption(name + ": log starts at " + std::to_string(m.log_start_seq) + " after snapshot " +
                             std::to_string(m.snapshot_seq));
  }
  return m;
}

}  // namespace caserepo::storage
