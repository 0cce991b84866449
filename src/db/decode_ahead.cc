#include "db/decode_ahead.h"

#include <algorithm>
#include <system_error>
#include <thread>

namespace caserepo::db {

DecodeAhead::DecodeAhead(std::span<const storage::LogRecord> records)
    : records_(records), helper_(std::thread::hardware_concurrency() > 1) {
  start(0);
}

DecodeAhead::~DecodeAhead() {
  if (pending_.valid()) pending_.wait();
}

DecodeAhead::Window DecodeAhead::decode(std::size_t begin) const {
  Window out;
  const std::size_t end = std::min(records_.size(), begin + kWindowRecords);
  out.reserve(end - begin);
  for (std::size_t i = begin; i < end; ++i) out.push_back(storage::decode_record(records_[i].type, records_[i].payload));
  return out;
}

void DecodeAhead::start(std::size_t begin) {
  pending_begin_ = begin;
  if (begin >= records_.size()) return;
  if (helper_) {
    try {
      pending_ = std::async(std::launch::async, [this, begin] { return decode(begin); });
      return;
    } catch (const std::system_error&) {
      helper_ = false;  // no thread to be had: decode on the calling thread from now on
    }
  }
  std::promise<Window> done;
  done.set_value(decode(begin));
  pending_ = done.get_future();
}

Result<storage::StreamRecord>& DecodeAhead::next(std::size_t i) {
  if (i >= current_begin_ + current_.size()) {
    current_ = pending_.get();  // rethrows a helper's bad_alloc here
    current_begin_ = pending_begin_;
    start(current_begin_ + current_.size());
  }
  return current_[i - current_begin_];
}

}  // namespace caserepo::db
