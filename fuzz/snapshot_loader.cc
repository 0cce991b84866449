// libFuzzer entry point for caserepo::fuzz::snapshot_loader (see targets.h, docs/fuzzing.md).
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  caserepo::fuzz::snapshot_loader(data, size);
  return 0;
}
