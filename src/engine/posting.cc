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

void Posting::add(std::uint32_t slot, std::uint32_t touch) {
  ++count_;
  if (big_) {
    add_dense(big_->by_space[0], slot);
    add_dense(big_->by_space[1], touch);
    return;
  }
  // New entries take the highest slot, so this is nearly always a push_back.
  auto at = small_at(slot);
  small_.insert(at, Member{slot, touch});
  if (small_.size() > kPromoteAt) {
    big_ = std::make_unique<DualBitmap>();
    for (const Member& m : small_) big_->add(m.slot, m.touch);  // 65 members: no container is dense
    // No runOptimize: values interleave, so runs would be short and many,
    // and cardinality/select on run containers cost O(runs).
    decltype(small_)().swap(small_);
  }
}

void Posting::remove(std::uint32_t slot, std::uint32_t touch) {
  assert(count_ > 0);
  --count_;
  if (big_) {
    remove_dense(big_->by_space[0], slot);
    remove_dense(big_->by_space[1], touch);
    return;
  }
  auto at = small_at(slot);
  assert(at != small_.end() && at->slot == slot);
  small_.erase(at);
}

void Posting::assign_small(std::span<const Member> members) {
  assert(members.size() <= kPromoteAt);
  big_.reset();
  small_.assign(members.begin(), members.end());
  count_ = static_cast<std::uint32_t>(members.size());
}

void Posting::assign_big(std::span<const std::uint32_t> slots, std::span<const std::uint32_t> touches) {
  assert(slots.size() == touches.size() && slots.size() > kPromoteAt);
  decltype(small_)().swap(small_);
  big_ = std::make_unique<DualBitmap>();
  // Sorted input: add_many appends container by container.
  big_->by_space[0].addMany(slots.size(), slots.data());
  big_->by_space[1].addMany(touches.size(), touches.data());
  densify(big_->by_space[0]);
  densify(big_->by_space[1]);
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
  if (big_) {
    big_->by_space[1] = renumbered_bitmap(big_->by_space[1], renumbered, scratch);
    densify(big_->by_space[1]);
    return;
  }
  for (Member& m : small_) m.touch = renumbered[m.touch];
}

void Posting::move(Space space, std::uint32_t slot, std::uint32_t from, std::uint32_t to) {
  if (big_) {
    remove_dense(big_->by_space[static_cast<int>(space)], from);
    add_dense(big_->by_space[static_cast<int>(space)], to);
    return;
  }
  auto at = small_at(slot);
  assert(at != small_.end() && at->slot == slot);
  if (space == Space::kCreation) {
    at->slot = to;
  } else {
    assert(at->touch == from);
    at->touch = to;
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
  if (big_) {
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
  for (Member& m : small_) {
    std::uint32_t& p = space == Space::kCreation ? m.slot : m.touch;
    if (p >= lo && p < hi) p = moved_to[p - lo];
  }
}

std::uint32_t Posting::last_slot() const {
  assert(count_ > 0);
  if (big_) return big_->in(Space::kCreation).maximum();
  return small_.back().slot;
}

std::size_t Posting::bytes() const {
  const std::size_t heap = small_.capacity() > 2 ? small_.capacity() * sizeof(Member) + 16 : 0;
  return sizeof(*this) + heap + (big_ ? sizeof(DualBitmap) + big_->bytes() : 0);
}

}  // namespace caserepo::engine
