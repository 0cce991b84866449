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

DecodeAhead::DecodeAhead(storage::SegmentReader& reader, std::uint64_t from_seq, RoomFor room_for, Reserve reserve)
    : reader_(reader),
      from_seq_(from_seq),
      room_for_(std::move(room_for)),
      reserve_(std::move(reserve)),
      helper_(std::thread::hardware_concurrency() > 1) {
  start({});
}

DecodeAhead::~DecodeAhead() {
  if (pending_.valid()) pending_.wait();
}

void DecodeAhead::read(Window& window) {
  window.records.resize(kWindowRecords);
  std::size_t n = 0;
  std::size_t entries = 0;
  std::uint64_t first_offset = 0;
  while (n < kWindowRecords) {
    std::optional<storage::LogRecord> rec = reader_.next();
    if (!rec) break;
    if (rec->seq < from_seq_) continue;  // the snapshot holds it
    if (n == 0) first_offset = rec->offset;
    if (rec->type == storage::RecordType::kCreate || rec->type == storage::RecordType::kStream) ++entries;
    DecodedRecord& d = window.records[n++];
    d.log = *rec;
    d.corrupt = storage::decode_record_into(rec->type, rec->payload, d.record);
    d.malformed.reset();
    d.keys = {};
    if (!d.corrupt && d.record.mutation) {
      d.malformed = engine::check_form(*d.record.mutation);
      if (!d.malformed) d.keys = engine::key_tags(*d.record.mutation);
    }
  }
  window.records.resize(n);
  // The rest of the segment at this window's rate of entries per byte.
  const std::uint64_t window_bytes = reader_.good_bytes() - first_offset;
  window.entries_estimate =
      n == 0 ? 0 : entries + static_cast<std::size_t>(static_cast<double>(entries) * reader_.bytes_left() / window_bytes);
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

void DecodeAhead::start(Window reused) {
  if (helper_) {
    try {
      // Measured here, on the calling thread, which is about to apply the
      // window before this one: room for both.
      auto room = room_for_ ? room_for_(2 * kWindowRecords) : std::vector<std::span<const std::byte>>{};
      pending_ = std::async(std::launch::async, [this, window = std::move(reused), room = std::move(room)]() mutable {
        read(window);
        prefault(room);  // while the calling thread applies the window before
        return std::move(window);
      });
      return;
    } catch (const std::system_error&) {
      helper_ = false;  // no thread to be had: read on the calling thread from now on
    }
  }
  std::promise<Window> decoded;
  read(reused);
  decoded.set_value(std::move(reused));
  pending_ = decoded.get_future();
}

DecodedRecord* DecodeAhead::next(std::size_t i) {
  if (i >= current_begin_ + current_.records.size()) {
    if (!pending_.valid()) return nullptr;  // the last window was empty
    const std::size_t begin = current_begin_ + current_.records.size();
    Window applied = std::exchange(current_, pending_.get());  // rethrows a helper's bad_alloc here
    current_begin_ = begin;
    if (current_.records.empty()) return nullptr;  // the segment's intact records are all read
    if (!reserved_) {
      reserved_ = true;
      if (reserve_) reserve_(current_.entries_estimate);
    }
    start(std::move(applied));
  }
  return &current_.records[i - current_begin_];
}

}  // namespace caserepo::db
