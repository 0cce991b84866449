#include "engine/posting.h"

#include <algorithm>
#include <cassert>
#include <new>

#include <roaring/containers/containers.h>

namespace caserepo::engine {
namespace {

void make_dense(roaring_array_t& ra, std::int32_t i) {
  if (ra.typecodes[i] != ARRAY_CONTAINER_TYPE_CODE) return;  // bitsets, runs and shares stay as they are
  auto* array = static_cast<array_container_t*>(ra.containers[i]);
  if (array->cardinality < Posting::kDenseAt) return;
  bitset_container_t* bitset = bitset_container_from_array(array);
  if (bitset == nullptr) throw std::bad_alloc();
  array_container_free(array);
  ra_set_container_at_index(&ra, i, bitset, BITSET_CONTAINER_TYPE_CODE);
}

void add_dense(Bitmap& b, std::uint32_t v) {
  b.add(v);
  roaring_array_t& ra = b.roaring.high_low_container;
  make_dense(ra, ra_get_index(&ra, static_cast<std::uint16_t>(v >> 16)));
}

void remove_dense(Bitmap& b, std::uint32_t v) {
  roaring_array_t& ra = b.roaring.high_low_container;
  const std::int32_t i = ra_get_index(&ra, static_cast<std::uint16_t>(v >> 16));
  if (i >= 0 && ra.typecodes[i] == BITSET_CONTAINER_TYPE_CODE) {
    auto* bitset = static_cast<bitset_container_t*>(ra.containers[i]);
    if (bitset->cardinality > Posting::kSparseAt) {  // CRoaring would make it an array at 4096
      bitset_container_remove(bitset, static_cast<std::uint16_t>(v));
      return;
    }
  }
  b.remove(v);  // an array, a run, or a bitset thin enough to become an array again
}

void densify(Bitmap& b) {
  roaring_array_t& ra = b.roaring.high_low_container;
  for (std::int32_t i = 0; i < ra.size; ++i) make_dense(ra, i);
}

}  // namespace

void Posting::make_room_for_one() {
  const std::uint32_t room = capacity_ == 0 ? kInline : capacity_;
  if (count_ < room) return;
  const std::uint32_t grown = std::min<std::uint32_t>(room * 2, kPromoteAt);
  auto* moved = new std::uint32_t[grown];  // first: on bad_alloc nothing has changed
  std::copy(members(), members() + count_, moved);
  free_storage();
  heap_ = moved;
  capacity_ = grown;
}

void Posting::add(std::uint32_t slot, std::uint32_t touch, std::span<const std::uint32_t> touch_of) {
  if (is_big()) {
    add_dense(big_->by_space[0], slot);
    add_dense(big_->by_space[1], touch);
    ++count_;
    return;
  }
  if (count_ == kPromoteAt) {
    auto big = std::make_unique<DualBitmap>();  // built first: on bad_alloc nothing has changed
    for (const std::uint32_t s : small_slots()) big->add(s, touch_of[s]);  // 65 members: no container is dense
    big->add(slot, touch);
    // No runOptimize: values interleave, so runs would be short and many,
    // and cardinality/select on run containers cost O(runs).
    free_storage();
    big_ = big.release();
    capacity_ = kBig;
    ++count_;
    return;
  }
  make_room_for_one();
  // New entries take the highest slot, so this is nearly always an append.
  std::uint32_t* at = small_at(slot);
  std::copy_backward(at, members() + count_, members() + count_ + 1);
  *at = slot;
  ++count_;
}

void Posting::remove(std::uint32_t slot, std::uint32_t touch) {
  assert(count_ > 0);
  if (is_big()) {
    remove_dense(big_->by_space[0], slot);
    remove_dense(big_->by_space[1], touch);
    --count_;
    return;
  }
  std::uint32_t* at = small_at(slot);
  assert(at != members() + count_ && *at == slot);
  std::copy(at + 1, members() + count_, at);
  --count_;
}

void Posting::assign_small(std::span<const std::uint32_t> sorted) {
  assert(sorted.size() <= kPromoteAt && std::is_sorted(sorted.begin(), sorted.end()));
  const auto n = static_cast<std::uint32_t>(sorted.size());
  std::uint32_t* heap = n > kInline ? new std::uint32_t[n] : nullptr;  // first: on bad_alloc nothing has changed
  free_storage();
  if (heap != nullptr) {
    heap_ = heap;
    capacity_ = n;
  } else {
    capacity_ = 0;
  }
  std::copy(sorted.begin(), sorted.end(), members());
  count_ = n;
}

void Posting::assign_big(std::span<const std::uint32_t> slots, std::span<const std::uint32_t> touches) {
  assert(slots.size() == touches.size() && slots.size() > kPromoteAt);
  auto big = std::make_unique<DualBitmap>();
  // Sorted input: add_many appends container by container.
  big->by_space[0].addMany(slots.size(), slots.data());
  big->by_space[1].addMany(touches.size(), touches.data());
  densify(big->by_space[0]);
  densify(big->by_space[1]);
  free_storage();
  big_ = big.release();
  capacity_ = kBig;
  count_ = static_cast<std::uint32_t>(slots.size());
}

Bitmap renumbered_bitmap(const Bitmap& bitmap, std::span<const std::uint32_t> renumbered,
                         std::vector<std::uint32_t>& scratch) {
  scratch.resize(bitmap.cardinality());
  bitmap.toUint32Array(scratch.data());
  for (std::uint32_t& p : scratch) p = renumbered[p];
  Bitmap out;
  out.addMany(scratch.size(), scratch.data());  // sorted: appended container by container
  return out;
}

void Posting::renumber_touches(std::span<const std::uint32_t> renumbered, std::vector<std::uint32_t>& scratch) {
  if (is_big()) {
    big_->by_space[1] = renumbered_bitmap(big_->by_space[1], renumbered, scratch);
    densify(big_->by_space[1]);
  }
}

void Posting::move(Space space, std::uint32_t slot, std::uint32_t from, std::uint32_t to) {
  if (is_big()) {
    remove_dense(big_->by_space[static_cast<int>(space)], from);
    add_dense(big_->by_space[static_cast<int>(space)], to);
    return;
  }
  if (space == Space::kCreation) {
    std::uint32_t* at = small_at(slot);
    assert(at != members() + count_ && *at == slot);
    *at = to;
  }
}

void move_range(Bitmap& bitmap, std::uint32_t lo, std::span<const std::uint32_t> moved_to,
                std::vector<std::uint32_t>& scratch) {
  const std::uint64_t hi = std::uint64_t{lo} + moved_to.size();
  scratch.clear();
  roaring_uint32_iterator_t it;
  roaring_init_iterator(&bitmap.roaring, &it);
  if (!roaring_move_uint32_iterator_equalorlarger(&it, lo) || it.current_value >= hi) return;
  for (; it.has_value && it.current_value < hi; roaring_advance_uint32_iterator(&it)) {
    scratch.push_back(moved_to[it.current_value - lo]);
  }
  roaring_bitmap_remove_range(&bitmap.roaring, lo, hi);
  bitmap.addMany(scratch.size(), scratch.data());  // sorted: appended container by container
}

void Posting::move_range(Space space, std::uint32_t lo, std::span<const std::uint32_t> moved_to,
                         std::vector<std::uint32_t>& scratch) {
  const std::uint64_t hi = std::uint64_t{lo} + moved_to.size();
  if (is_big()) {
    Bitmap& positions = big_->by_space[static_cast<int>(space)];
    engine::move_range(positions, lo, moved_to, scratch);
    if (scratch.empty()) return;
    // The blocks the moved members landed in keep the dense policy.
    roaring_array_t& ra = positions.roaring.high_low_container;
    for (std::uint32_t key = scratch.front() >> 16; key <= (scratch.back() >> 16); ++key) {
      if (const std::int32_t i = ra_get_index(&ra, static_cast<std::uint16_t>(key)); i >= 0) make_dense(ra, i);
    }
    return;
  }
  if (space == Space::kCreation) {
    for (std::uint32_t* s = members(); s != members() + count_; ++s) {
      if (*s >= lo && *s < hi) *s = moved_to[*s - lo];
    }
  }
}

std::uint32_t Posting::last_slot() const {
  assert(count_ > 0);
  if (is_big()) return big_->in(Space::kCreation).maximum();
  return members()[count_ - 1];
}

std::size_t Posting::bytes() const {
  if (is_big()) return sizeof(*this) + sizeof(DualBitmap) + big_->bytes();
  return sizeof(*this) + (capacity_ > 0 ? capacity_ * sizeof(std::uint32_t) + 16 : 0);  // 16: malloc's own words
}

}  // namespace caserepo::engine
