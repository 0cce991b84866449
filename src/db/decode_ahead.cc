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

DecodeAhead::DecodeAhead(std::span<const storage::LogRecord> records, RoomFor room_for)
    : records_(records), room_for_(std::move(room_for)), helper_(std::thread::hardware_concurrency() > 1) {
  start(0, {});
}

DecodeAhead::~DecodeAhead() {
  if (pending_.valid()) pending_.wait();
}

void DecodeAhead::decode(std::size_t begin, Window& window) const {
  const std::size_t end = std::min(records_.size(), begin + kWindowRecords);
  window.resize(end - begin);
  for (std::size_t i = begin; i < end; ++i) {
    DecodedRecord& d = window[i - begin];
    d.corrupt = storage::decode_record_into(records_[i].type, records_[i].payload, d.record);
    d.malformed.reset();
    d.keys = {};
    if (!d.corrupt && d.record.mutation) {
      d.malformed = engine::check_form(*d.record.mutation);
      if (!d.malformed) d.keys = engine::key_tags(*d.record.mutation);
    }
  }
}

namespace {

void prefault(const std::vector<std::span<const std::byte>>& room) {
  static const std::uintptr_t page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  for (const auto& r : room) {
    const auto from = reinterpret_cast<std::uintptr_t>(r.data()) & ~(page - 1);
    const auto to = reinterpret_cast<std::uintptr_t>(r.data() + r.size());
    // Linux 5.14+; an older kernel refuses it (EINVAL) and the applies fault as before.
    if (to > from) madvise(reinterpret_cast<void*>(from), to - from, MADV_POPULATE_WRITE);
  }
}

}  // namespace

void DecodeAhead::start(std::size_t begin, Window reused) {
  pending_begin_ = begin;
  if (begin >= records_.size()) return;
  if (helper_) {
    try {
      // Measured here, on the calling thread, which is about to apply the
      // window before this one: room for both.
      auto room = room_for_ ? room_for_(2 * kWindowRecords) : std::vector<std::span<const std::byte>>{};
      pending_ = std::async(std::launch::async, [this, begin, window = std::move(reused), room = std::move(room)]() mutable {
        decode(begin, window);
        prefault(room);  // while the calling thread applies the window before
        return std::move(window);
      });
      return;
    } catch (const std::system_error&) {
      helper_ = false;  // no thread to be had: decode on the calling thread from now on
    }
  }
  std::promise<Window> decoded;
  decode(begin, reused);
  decoded.set_value(std::move(reused));
  pending_ = decoded.get_future();
}

DecodedRecord& DecodeAhead::next(std::size_t i) {
  if (i >= current_begin_ + current_.size()) {
    Window applied = std::exchange(current_, pending_.get());  // rethrows a helper's bad_alloc here
    current_begin_ = pending_begin_;
    start(current_begin_ + current_.size(), std::move(applied));
  }
  return current_[i - current_begin_];
}

}  // namespace caserepo::db
