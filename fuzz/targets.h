// The fuzz targets' bodies, as plain functions: each fuzz/<target>.cc wraps
// one in LLVMFuzzerTestOneInput, and tests/fuzz_regression_test.cc replays
// every committed regression input through them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace caserepo::fuzz {

// Bytes -> a sequence of operations and searches, run on the engine and on
// the reference model; aborts on any difference.
void ops_differential(const std::uint8_t* data, std::size_t size);

// Bytes -> a page token and a search with it: a result or InvalidArgument,
// never a crash; and encode/decode round-trips.
void page_token(const std::uint8_t* data, std::size_t size);

}  // namespace caserepo::fuzz
