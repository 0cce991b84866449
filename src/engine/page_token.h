// Continuation tokens: opaque keyset cursors.
//
// A token names the sort key of the last entry of a page (its creation seq
// or its touch seq, both persistent) and is bound to the filter and sort it
// came from. Layout before hex encoding, little-endian:
//   u8 version | u8 sort | u64 filter hash | u64 key | u32 crc32c(previous bytes)
// The checksum catches damage; the filter hash catches a token replayed with
// another filter. Tokens are integrity-checked, not secret: a hand-made
// token can only position a cursor, which any page number can do too.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "caserepo/error.h"
#include "caserepo/query.h"

namespace caserepo::engine {

// Order-independent digest of a filter (values are compared as sets).
std::uint64_t filter_digest(const Filter& filter);

std::string encode_page_token(SortOrder sort, std::uint64_t filter_digest, std::uint64_t key);

// The key, or InvalidArgument when the token is damaged, forged or belongs
// to another filter or sort.
Result<std::uint64_t> decode_page_token(std::string_view token, SortOrder sort, std::uint64_t filter_digest);

}  // namespace caserepo::engine
