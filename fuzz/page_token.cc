// libFuzzer entry point for caserepo::fuzz::page_token (see targets.h, docs/fuzzing.md).
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  caserepo::fuzz::page_token(data, size);
  return 0;
}
