// libFuzzer entry point for caserepo::fuzz::http_request (see targets.h, docs/fuzzing.md).
#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  caserepo::fuzz::http_request(data, size);
  return 0;
}
