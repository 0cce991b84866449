// DecodeAhead: a log segment's records decoded, and checked for form, one
// window ahead of the replay that applies them. Decoding (cereal, string
// copies) and the form check (engine::check_form: UTF-8, lengths) read no
// store state, so on a machine with a second core they run on a helper
// thread while the calling thread applies the previous window; the helper
// also frees the windows already applied, and pre-faults its window's share
// of the store's reserved room (first touches of fresh memory, the kernel
// zeroing pages, were a fifth of the applying thread's time). Replay then
// costs about the larger of the two sides instead of their sum.
#pragma once

#include <cstddef>
#include <future>
#include <optional>
#include <span>
#include <vector>

#include "caserepo/error.h"
#include "storage/log.h"
#include "storage/records.h"

namespace caserepo::db {

struct DecodedRecord {
  Result<storage::StreamRecord> record;  // Corruption when the payload does not decode
  std::optional<Error> malformed;        // check_form's verdict on its mutation
};

class DecodeAhead {
 public:
  // REQUIRES: `records` (and the bytes their payloads point into) outlive
  // this. `room`: memory the applies will fill, in record order roughly
  // (Store::unused_reserve()); only ever pre-faulted, never written, so a
  // range that went stale (its vector moved) costs nothing but the call.
  explicit DecodeAhead(std::span<const storage::LogRecord> records,
                       std::vector<std::span<const std::byte>> room = {});
  DecodeAhead(const DecodeAhead&) = delete;
  DecodeAhead& operator=(const DecodeAhead&) = delete;
  ~DecodeAhead();  // waits for a window still being decoded

  // Record i decoded. REQUIRES: i is 0 or one more than the previous call's.
  DecodedRecord& next(std::size_t i);

 private:
  using Window = std::vector<DecodedRecord>;
  static constexpr std::size_t kWindowRecords = 4096;

  Window decode(std::size_t begin) const;
  // Pre-faults the share of `room_` that the window at `begin` will fill.
  void prefault(std::size_t begin) const;
  // Decoding of the window at `begin`, on the helper if there is one, which
  // first frees `done`.
  void start(std::size_t begin, Window done);

  std::span<const storage::LogRecord> records_;
  const std::vector<std::span<const std::byte>> room_;
  Window current_;
  std::size_t current_begin_ = 0;
  std::future<Window> pending_;
  std::size_t pending_begin_ = 0;
  bool helper_ = false;
};

}  // namespace caserepo::db
