// DecodeAhead: a log segment's records read, decoded, and checked for form,
// one window ahead of the replay that applies them. Reading (the framing
// checks and checksums, storage::SegmentReader), decoding (cereal, string
// copies) and the form check (engine::check_form: UTF-8, lengths) read no
// store state, so on a machine with a second core they run on a helper
// thread while the calling thread applies the previous window. The helper
// decodes into the window applied last (its strings' room reused: no
// allocation per record once warm), computes each record's key hashes for
// the applying thread's batched lookups (engine/apply.h), and pre-faults
// the memory the next applies will first write (first touches of fresh
// memory, the kernel zeroing pages, were a fifth to a third of the applying
// thread's time). Replay then costs about the larger of the two sides
// instead of their sum (bench/notes.md, stops 37 and 40).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <optional>
#include <span>
#include <vector>

#include "caserepo/error.h"
#include "engine/apply.h"
#include "storage/log.h"
#include "storage/records.h"

namespace caserepo::db {

struct DecodedRecord {
  storage::LogRecord log;          // the record's place in its segment
  storage::StreamRecord record;    // meaningless when `corrupt`
  std::optional<Error> corrupt;    // Corruption when the payload does not decode
  std::optional<Error> malformed;  // check_form's verdict on its mutation
  engine::KeyTags keys;            // of a well-formed mutation (none otherwise)
};

class DecodeAhead {
 public:
  // The memory the next n records' applies will first write
  // (Store::room_for); called on the calling thread, between applies. The
  // helper only pre-faults it, never writes it, so a range that went stale
  // (its vector moved) costs nothing but the call.
  using RoomFor = std::function<std::vector<std::span<const std::byte>>(std::size_t n)>;
  // Called once on the calling thread, before the first record is applied,
  // with how many entries the segment's records will create, estimated
  // from the first window's share of the segment's bytes (Store::reserve_more).
  using Reserve = std::function<void(std::size_t entries)>;

  // Reads `reader`'s records from seq `from_seq` on.
  // REQUIRES: `reader` (and its bytes) outlive this; nothing else calls it
  // until this is destroyed.
  DecodeAhead(storage::SegmentReader& reader, std::uint64_t from_seq, RoomFor room_for = {}, Reserve reserve = {});
  DecodeAhead(const DecodeAhead&) = delete;
  DecodeAhead& operator=(const DecodeAhead&) = delete;
  ~DecodeAhead();  // waits for a window still being read

  // Record i (counted from the first at or after from_seq), or nullptr
  // after the last intact one. REQUIRES: i is 0 or one more than the
  // previous call's.
  DecodedRecord* next(std::size_t i);
  // Record i, a few past the last next(i), if its window is the one being
  // applied (else nullptr: it is not read yet).
  const DecodedRecord* peek(std::size_t i) const {
    return i >= current_begin_ && i - current_begin_ < current_.records.size() ? &current_.records[i - current_begin_]
                                                                            : nullptr;
  }

 private:
  struct Window {
    std::vector<DecodedRecord> records;
    std::size_t entries_estimate = 0;  // for the whole segment, from this window's share of it
  };
  static constexpr std::size_t kWindowRecords = 4096;

  // Reads and decodes the next window into `window`, over the records it
  // held (their strings' room reused: no allocation per record once warm).
  void read(Window& window);
  // Reading of the next window into `reused` (a window already applied),
  // on the helper if there is one, which then pre-faults the room of the
  // window applied meanwhile and of this one.
  void start(Window reused);

  storage::SegmentReader& reader_;
  const std::uint64_t from_seq_;
  const RoomFor room_for_;
  const Reserve reserve_;
  Window current_;
  std::size_t current_begin_ = 0;
  std::future<Window> pending_;
  bool reserved_ = false;
  bool helper_ = false;
};

}  // namespace caserepo::db
