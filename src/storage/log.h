// Log segment framing: encoding a record, and scanning a segment read back
// from disk into records, deciding where a torn tail starts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "caserepo/error.h"
#include "storage/format.h"

namespace caserepo::storage {

std::string encode_log_header(std::uint64_t first_seq);
std::string encode_record(RecordType type, std::uint64_t seq, std::string_view payload);

struct LogRecord {
  RecordType type;
  std::uint64_t seq;
  std::string_view payload;  // points into the scanned buffer
  std::uint64_t offset;      // of the record in its file
};

struct SegmentScan {
  std::uint64_t first_seq = 0;
  std::vector<LogRecord> records;
  std::uint64_t good_bytes = 0;  // the file is valid up to here
  bool torn = false;             // bytes after good_bytes are a torn tail (last segment only)
  std::string torn_reason;
};

// Scans one segment. In the last segment an incomplete or damaged final
// record, or a zero-filled tail, is a torn tail (a crash mid-append): the
// scan stops there and says so. Anything else that is wrong — a bad record
// followed by more bytes, damage in an earlier segment, a bad header, seqs
// out of order — is Corruption naming `name` and the byte offset.
Result<SegmentScan> scan_segment(std::string_view bytes, bool is_last, const std::string& name);

}  // namespace caserepo::storage
