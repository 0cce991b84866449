// Log segment framing: encoding records, and scanning a segment read back
// from disk into its intact records and, if there is one, the first damage.
//
// Torn or corrupt is decided from evidence (docs/format.md "Recovery"):
// damage is a torn tail only when the bytes from the damaged record on are
// what a crash in the middle of an append can leave — a prefix of a record
// (an incomplete header, or a record with a valid header running past the
// end of the file), possibly followed by zeros from a page boundary or from
// the record's start — AND no intact record (valid checksums, plausible seq)
// follows it. Anything else is corruption, whatever the damaged bytes were.
// The scan only reports; whether a torn tail is cut is the caller's policy.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "caserepo/error.h"
#include "storage/format.h"

namespace caserepo::storage {

std::string encode_log_header(std::uint64_t first_seq);
std::string encode_record(RecordType type, std::uint64_t seq, std::string_view payload);
// The same record framed at the end of `out` (a batch's frames in one buffer).
void append_record(std::string& out, RecordType type, std::uint64_t seq, std::string_view payload);

struct LogRecord {
  RecordType type;
  std::uint64_t seq;
  std::string_view payload;  // points into the scanned buffer
  std::uint64_t offset;      // of the record in its file
};

// The first damaged region of a segment.
struct Damage {
  std::uint64_t offset = 0;  // where the damaged record (or the file header) starts
  std::string what;          // why it is damaged
  bool tail_shaped = false;  // the bytes from `offset` on could be a crash mid-append
  // Intact records found after the damage (valid checksums, plausible seq).
  std::uint64_t intact_after = 0;
  std::uint64_t first_intact_offset = 0;  // of the first one, when intact_after > 0
  std::uint64_t last_intact_seq = 0;      // the highest seq among them

  // A torn tail: a crash mid-append, and nothing acknowledged after it.
  bool torn() const noexcept { return tail_shaped && intact_after == 0; }
};

struct SegmentScan {
  std::uint32_t version = 0;      // of the file header (0 when it is damaged)
  std::uint64_t first_seq = 0;
  std::vector<LogRecord> records;  // the intact records before any damage, in order
  std::uint64_t good_bytes = 0;   // the file is valid up to here
  std::optional<Damage> damage;
};

// Reads a segment's intact records one at a time, checking each as it
// goes: the streaming form of scan_segment, for a replay that checks and
// applies a window of records at a time instead of listing all of a
// segment's records first (a 1M-record list was 40 MB of fresh memory, and
// the scan before the first apply 0.1-0.2 s of a 1 s restart on this
// project's VM: bench/notes.md, stop 40).
class SegmentReader {
 public:
  // Checks the file header at once: damage() is set if it is damaged.
  // REQUIRES: `bytes` outlive the reader and the records it returns.
  SegmentReader(std::string_view bytes, std::uint64_t name_seq);

  // The next intact record, or nullopt after the last one: at the end of
  // the file, or at the first damage (then damage() says what it is).
  std::optional<LogRecord> next();

  const std::optional<Damage>& damage() const noexcept { return damage_; }
  std::uint32_t version() const noexcept { return version_; }  // 0 when the file header is damaged
  std::uint64_t first_seq() const noexcept { return first_seq_; }
  // The file is valid up to here, as far as it has been read.
  std::uint64_t good_bytes() const noexcept { return pos_; }
  // The bytes past good_bytes().
  std::uint64_t bytes_left() const noexcept { return bytes_.size() - pos_; }

 private:
  void read_header();
  void header_damage(std::uint64_t offset, std::string what, bool tail);

  std::string_view bytes_;
  std::uint64_t name_seq_;
  std::uint32_t version_ = 0;
  std::uint64_t first_seq_ = 0;
  std::uint64_t pos_ = 0;
  std::uint64_t expected_ = 0;
  std::optional<Damage> damage_;
};

// Scans a whole segment whose file name says it starts at `name_seq`. Never
// fails: damage of any kind is reported in `damage`.
SegmentScan scan_segment(std::string_view bytes, std::uint64_t name_seq);

// Corruption naming `path`, the damage's offset and what follows it.
Error damage_error(const std::string& path, const Damage& damage);

}  // namespace caserepo::storage
