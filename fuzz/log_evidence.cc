// libFuzzer entry point for caserepo::fuzz::log_evidence (see targets.h, docs/fuzzing.md).
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  caserepo::fuzz::log_evidence(data, size);
  return 0;
}
