#include "db/decode_ahead.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <system_error>
#include <thread>
#include <utility>

#include "engine/apply.h"

namespace caserepo::db {

DecodeAhead::DecodeAhead(std::span<const storage::LogRecord> records, std::vector<std::span<const std::byte>> room)
    : records_(records), room_(std::move(room)), helper_(std::thread::hardware_concurrency() > 1) {
  start(0, {});
}

DecodeAhead::~DecodeAhead() {
  if (pending_.valid()) pending_.wait();
}

DecodeAhead::Window DecodeAhead::decode(std::size_t begin) const {
  Window out;
  const std::size_t end = std::min(records_.size(), begin + kWindowRecords);
  out.reserve(end - begin);
  for (std::size_t i = begin; i < end; ++i) {
    auto record = storage::decode_record(records_[i].type, records_[i].payload);
    std::optional<Error> malformed;
    if (record.ok() && record->mutation) malformed = engine::check_form(*record->mutation);
    out.push_back(DecodedRecord{std::move(record), std::move(malformed)});
  }
  return out;
}

void DecodeAhead::prefault(std::size_t begin) const {
  static const std::uintptr_t page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  const std::size_t n = records_.size();
  const std::size_t end = std::min(n, begin + kWindowRecords);
  for (const auto& r : room_) {
    const auto from = reinterpret_cast<std::uintptr_t>(r.data() + r.size() * begin / n) & ~(page - 1);
    const auto to = reinterpret_cast<std::uintptr_t>(r.data() + r.size() * end / n);
    // Linux 5.14+; an older kernel refuses it (EINVAL) and the applies fault as before.
    if (to > from) madvise(reinterpret_cast<void*>(from), to - from, MADV_POPULATE_WRITE);
  }
}

void DecodeAhead::start(std::size_t begin, Window done) {
  pending_begin_ = begin;
  if (begin >= records_.size()) return;
  if (helper_) {
    try {
      pending_ = std::async(std::launch::async, [this, begin, done = std::move(done)]() mutable {
        Window().swap(done);  // freed here: the lambda itself dies with its future, on the calling thread
        Window decoded = decode(begin);
        prefault(begin);  // while the calling thread applies the window before
        return decoded;
      });
      return;
    } catch (const std::system_error&) {
      helper_ = false;  // no thread to be had: decode on the calling thread from now on
    }
  }
  std::promise<Window> decoded;
  decoded.set_value(decode(begin));
  pending_ = decoded.get_future();
}

DecodedRecord& DecodeAhead::next(std::size_t i) {
  if (i >= current_begin_ + current_.size()) {
    Window done = std::exchange(current_, pending_.get());  // rethrows a helper's bad_alloc here
    current_begin_ = pending_begin_;
    start(current_begin_ + current_.size(), std::move(done));
  }
  return current_[i - current_begin_];
}

}  // namespace caserepo::db
