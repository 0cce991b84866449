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

// Bytes as a log segment: intact records in seq order and the first damage,
// consistently placed; every record's payload decodes or is Corruption.
void log_reader(const std::uint8_t* data, std::size_t size);

// Bytes -> damage (bit flips, overwritten and zeroed ranges, a cut) to a
// log of n creates, then the evidence rule: the default open gives exactly
// the intact records before the first damage, never dropping an intact
// record, or Corruption naming file and offset; repair always opens with
// exactly that prefix and keeps every cut byte.
void log_evidence(const std::uint8_t* data, std::size_t size);

// Bytes as a snapshot file: entries or Corruption; accepted entries load
// into a store.
void snapshot_loader(const std::uint8_t* data, std::size_t size);

// Bytes as a MANIFEST: a manifest or Corruption; accepted ones re-encode
// to the same bytes.
void manifest(const std::uint8_t* data, std::size_t size);

// Bytes as a wire-format request (first byte picks create, patch or
// search): a value or InvalidArgument; accepted searches run.
void json_request(const std::uint8_t* data, std::size_t size);

// Bytes as one or more raw HTTP requests, parsed as the server parses them
// (Beast's parser, the server's limits) and answered by its dispatcher
// (routing, Basic auth, the endpoints) over an in-memory repository: a
// response with a valid status and a JSON body (the error JSON for errors),
// never a crash or a 500.
void http_request(const std::uint8_t* data, std::size_t size);

}  // namespace caserepo::fuzz
