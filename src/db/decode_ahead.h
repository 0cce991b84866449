// DecodeAhead: a log segment's records decoded one window ahead of the replay
// that applies them. Decoding (cereal, string copies) reads no store state,
// so on a machine with a second core it runs on a helper thread while the
// calling thread checks and applies the previous window; replay then costs
// about the larger of the two instead of their sum.
#pragma once

#include <cstddef>
#include <future>
#include <span>
#include <vector>

#include "caserepo/error.h"
#include "storage/log.h"
#include "storage/records.h"

namespace caserepo::db {

class DecodeAhead {
 public:
  // REQUIRES: `records` (and the bytes their payloads point into) outlive this.
  explicit DecodeAhead(std::span<const storage::LogRecord> records);
  DecodeAhead(const DecodeAhead&) = delete;
  DecodeAhead& operator=(const DecodeAhead&) = delete;
  ~DecodeAhead();  // waits for a window still being decoded

  // Record i decoded. REQUIRES: i is 0 or one more than the previous call's.
  Result<storage::StreamRecord>& next(std::size_t i);

 private:
  using Window = std::vector<Result<storage::StreamRecord>>;
  static constexpr std::size_t kWindowRecords = 4096;

  Window decode(std::size_t begin) const;
  void start(std::size_t begin);  // decoding of the window at `begin`, on the helper if there is one

  std::span<const storage::LogRecord> records_;
  Window current_;
  std::size_t current_begin_ = 0;
  std::future<Window> pending_;
  std::size_t pending_begin_ = 0;
  bool helper_ = false;
};

}  // namespace caserepo::db
