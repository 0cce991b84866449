// The on-disk grammar shared by every writer and reader: magics, versions,
// sizes and file names. docs/format.md is its prose twin.
//
// Every integer is little-endian. Enum values stored on disk: never renumber.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "util/coding.h"

namespace caserepo::storage {

using util::get_u32;
using util::get_u64;
using util::put_u32;
using util::put_u64;

// --- log segments: log-<first seq, 20 digits>.log --------------------------
// file        := file_header record*
// file_header := "CRLOG001" u32 version u64 first_seq u32 crc32c(previous 20 bytes)
// record (v2) := u32 header_crc u32 payload_length u8 type u64 seq u32 payload_crc payload
//   header_crc  = crc32c(payload_length type seq payload_crc), so a damaged
//                 length is told from a torn append: see log.h
//   payload_crc = crc32c(payload)
// record (v1, read only) := u32 crc32c(rest of record) u32 payload_length u8 type u64 seq payload
inline constexpr std::string_view kLogMagic = "CRLOG001";
inline constexpr std::uint32_t kLogVersion = 2;          // written
inline constexpr std::uint32_t kOldestLogVersion = 1;    // still read
inline constexpr std::size_t kLogHeaderSize = 8 + 4 + 8 + 4;
inline constexpr std::size_t kRecordHeaderSize = 4 + 4 + 1 + 8 + 4;
inline constexpr std::size_t kRecordHeaderSizeV1 = 4 + 4 + 1 + 8;
inline constexpr std::uint32_t kMaxRecordPayload = 1u << 20;  // checked before anything is allocated
static_assert(kLogHeaderSize == 24 && kRecordHeaderSize == 21 && kRecordHeaderSizeV1 == 17,
              "log layout changed: bump kLogVersion");
// Crashes lose whole pages of unsynced data: a zero-filled tail that starts
// on a page boundary can be a torn append (see log.h).
inline constexpr std::size_t kPageSize = 4096;

// kStream: u64 position, u8 inner type (0: none), the inner type's payload
// (storage/records.h StreamRecord).
enum class RecordType : std::uint8_t { kCreate = 1, kUpdate = 2, kRemove = 3, kStream = 4 };

// --- snapshots: snapshot-<covered seq, 20 digits>.snap ----------------------
// file   := header frame* footer
// header := "CRSNAP01" u32 version u64 covered_seq u64 entry_count u64 next_seq
//           u64 next_touch_seq i64 last_stamp_ms u32 crc32c(previous 52 bytes)
// frame  := u32 crc32c(payload) u32 payload_length payload, the payload a
//           Boost.Serialization binary archive of:
//   v2, v3: u8 section, then
//       values  (1): u8 column u32 n u32 length[n] bytes     column 0-6: a field, 7: statusDescription
//       entries (2): u32 n u64 seq[n] i64 creation_ms[n] u32 code[7][n] u32 description[n]
//       touches (3): u32 n u32 slot[n] u64 touch_seq[n] i64 update_ms[n]
//       stream  (4): u64 position                           v3 only, once: Repository::streamPosition
//       (arrays as binary blocks; every values frame, then entries, then touches, then stream)
//   v1: u32 n, then n entries of seq touch_seq creation_ms update_ms and the
//       eight strings (u32 length + bytes; optional ones after a u8 presence byte)
// footer := "CRSNAPND" u64 frame_count u64 entry_count u32 crc32c(previous 24 bytes)
inline constexpr std::string_view kSnapshotMagic = "CRSNAP01";
inline constexpr std::string_view kSnapshotFooterMagic = "CRSNAPND";
inline constexpr std::uint32_t kSnapshotVersion = 3;        // written
inline constexpr std::uint32_t kOldestSnapshotVersion = 1;  // still read
inline constexpr std::size_t kSnapshotHeaderSize = 8 + 4 + 8 * 5 + 4;
inline constexpr std::size_t kSnapshotFooterSize = 8 + 8 + 8 + 4;
inline constexpr std::size_t kFrameHeaderSize = 4 + 4;
inline constexpr std::uint32_t kSnapshotFrameEntries = 4096;    // v1
inline constexpr std::uint32_t kSnapshotFrameRows = 1u << 16;   // v2: entries, touches or values per frame
inline constexpr std::uint32_t kSnapshotFrameValueBytes = 8u << 20;  // v2: a values frame closes past this
inline constexpr std::uint32_t kMaxFramePayload = 64u << 20;
static_assert(kSnapshotHeaderSize == 56 && kSnapshotFooterSize == 28, "snapshot layout changed: bump version");

enum class SnapshotSection : std::uint8_t { kValues = 1, kEntries = 2, kTouches = 3, kStream = 4 };

// --- MANIFEST: which snapshot and log segments make the state -------------
// file := "CRMANI01" u32 version u64 snapshot_seq u64 log_start_seq u32 crc32c(previous 28 bytes)
// snapshot_seq 0 = no snapshot. Replaced atomically (MANIFEST.tmp, fsync, rename, fsync dir).
inline constexpr std::string_view kManifestMagic = "CRMANI01";
inline constexpr std::uint32_t kManifestVersion = 1;
inline constexpr std::size_t kManifestSize = 8 + 4 + 8 + 8 + 4;
static_assert(kManifestSize == 32, "manifest layout changed: bump version");

inline constexpr const char* kManifestName = "MANIFEST";
inline constexpr const char* kLockName = "LOCK";
inline constexpr std::uint64_t kMaxLogFileBytes = std::uint64_t{1} << 36;       // read cap: 64 GiB
inline constexpr std::uint64_t kMaxSnapshotFileBytes = std::uint64_t{1} << 40;  // read cap: 1 TiB

inline std::string numbered(const char* prefix, std::uint64_t seq, const char* suffix) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s%020llu%s", prefix, static_cast<unsigned long long>(seq), suffix);
  return buf;
}
inline std::string log_name(std::uint64_t first_seq) { return numbered("log-", first_seq, ".log"); }
inline std::string snapshot_name(std::uint64_t seq) { return numbered("snapshot-", seq, ".snap"); }

// The number in a name of the form prefix<20 digits>suffix, or nullopt.
std::optional<std::uint64_t> parse_numbered(std::string_view name, std::string_view prefix, std::string_view suffix);

}  // namespace caserepo::storage
