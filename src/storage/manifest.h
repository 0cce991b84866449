// MANIFEST: names the snapshot and the first log segment of the state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "caserepo/error.h"

namespace caserepo::storage {

struct Manifest {
  std::uint64_t snapshot_seq = 0;   // 0: no snapshot
  std::uint64_t log_start_seq = 1;  // records from here on are replayed
};

std::string encode_manifest(const Manifest& m);
Result<Manifest> parse_manifest(std::string_view bytes, const std::string& name);

}  // namespace caserepo::storage
