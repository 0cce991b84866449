// Posting: the set of entries that hold one value of one field, kept in both
// orders the engine sorts by.
//
// Every entry has two positions: its slot (creation order, fixed for its
// life) and its touch position (update order, renewed by every write that
// sets its updateDate). A small posting is a sorted vector of its slots
// alone (a member's touch position is the Store's slot_touch_ column, read
// when a search needs the update order: a few lookups for a few members);
// past kPromoteAt members it becomes two Roaring bitmaps, one per order, so
// that AND/OR, exact counts and rank/select run on compressed bitmaps.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include <roaring/roaring.hh>

namespace caserepo::engine {

// CRoaring's C++ bitmap (a global class in the packaged 0.2.x).
using Bitmap = ::Roaring;

// The two position spaces. kCreation positions are slots; kUpdate positions
// are touch positions.
enum class Space : std::uint8_t { kCreation = 0, kUpdate = 1 };

// Calls f(position) for each member of `bitmap`, in increasing order.
template <class F>
void for_each_position(const Bitmap& bitmap, F&& f) {
  roaring_uint32_iterator_t it;
  roaring_init_iterator(&bitmap.roaring, &it);
  while (it.has_value) {
    f(it.current_value);
    roaring_advance_uint32_iterator(&it);
  }
}

// `bitmap` with each member p replaced by renumbered[p]. REQUIRES:
// renumbered increasing over the members. `scratch`: reused buffer.
Bitmap renumbered_bitmap(const Bitmap& bitmap, std::span<const std::uint32_t> renumbered,
                         std::vector<std::uint32_t>& scratch);

// Incremental compaction (Store::compact_step): each member p of `bitmap`
// in [lo, lo + moved_to.size()) becomes moved_to[p - lo]. REQUIRES:
// moved_to increasing over the members, and no member in [moved_to's
// least, lo). `scratch`: reused buffer, left holding the new positions.
void move_range(Bitmap& bitmap, std::uint32_t lo, std::span<const std::uint32_t> moved_to,
                std::vector<std::uint32_t>& scratch);

// A set of entries as one bitmap per space.
struct DualBitmap {
  Bitmap by_space[2];

  const Bitmap& in(Space s) const { return by_space[static_cast<int>(s)]; }
  void add(std::uint32_t slot, std::uint32_t touch) {
    by_space[0].add(slot);
    by_space[1].add(touch);
  }
  void remove(std::uint32_t slot, std::uint32_t touch) {
    by_space[0].remove(slot);
    by_space[1].remove(touch);
  }
  std::size_t bytes() const { return by_space[0].getSizeInBytes(false) + by_space[1].getSizeInBytes(false); }
};

class Posting {
 public:
  static constexpr std::size_t kPromoteAt = 64;

  // CRoaring keeps a container (the members of one 65,536-position block) as
  // a sorted array up to 4,096 members and as a bitset above. Counting an
  // array's members in another set tests them one at a time: at 1M entries
  // the twenty caseType values have ~900–3,300 members per block each, and
  // a facet count or a two-term total spent most of its time there (~3 µs a
  // block of 3,300 against ~0.1 µs for two bitsets, estimated from the
  // facet's profile, not timed per block). So a posting keeps a
  // block as a bitset from kDenseAt members, and lets CRoaring make it an
  // array again only when it falls below kSparseAt (not at once: a block at
  // the boundary would convert on every write). A bitset (8 KiB) is four
  // times an array's bytes at kDenseAt; at 1M generated entries the
  // postings grew from 66.6 to 68.5 bytes per entry.
  static constexpr std::int32_t kDenseAt = 1024;
  static constexpr std::int32_t kSparseAt = 512;

  // Slots a posting keeps in itself before it allocates.
  static constexpr std::uint32_t kInline = 4;

  Posting() noexcept : inline_{} {}
  Posting(Posting&& other) noexcept : inline_{}, count_(other.count_), capacity_(other.capacity_) {
    steal(other);
  }
  Posting& operator=(Posting&& other) noexcept {
    if (this != &other) {
      free_storage();
      count_ = other.count_;
      capacity_ = other.capacity_;
      steal(other);
    }
    return *this;
  }
  Posting(const Posting&) = delete;
  Posting& operator=(const Posting&) = delete;
  ~Posting() { free_storage(); }

  std::size_t size() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }
  bool is_big() const noexcept { return capacity_ == kBig; }

  // `touch_of[s]`: slot s's touch position (Store::touches()), read for the
  // members already here when the posting becomes bitmaps.
  void add(std::uint32_t slot, std::uint32_t touch, std::span<const std::uint32_t> touch_of);
  void remove(std::uint32_t slot, std::uint32_t touch);

  // Bulk building (restore, compaction), replacing any members.
  // REQUIRES: slots sorted, at most kPromoteAt of them.
  void assign_small(std::span<const std::uint32_t> slots);
  // REQUIRES: slots and touches each sorted, of one size above kPromoteAt.
  void assign_big(std::span<const std::uint32_t> slots, std::span<const std::uint32_t> touches);

  // Compaction of the update order alone: touch position t becomes
  // renumbered[t] (a small posting keeps no touches: nothing to do).
  // REQUIRES: renumbered increasing over every member's touch position (so
  // each order stays sorted). `scratch`: reused buffer.
  void renumber_touches(std::span<const std::uint32_t> renumbered, std::vector<std::uint32_t>& scratch);
  // Incremental compaction: the member at `slot` moves from position
  // `from` down to `to` in `space` (in kCreation, slot == from).
  // REQUIRES: no member between them (so each order stays sorted).
  void move(Space space, std::uint32_t slot, std::uint32_t from, std::uint32_t to);
  // The same for every member in a range of positions (engine::move_range).
  void move_range(Space space, std::uint32_t lo, std::span<const std::uint32_t> moved_to,
                  std::vector<std::uint32_t>& scratch);

  // REQUIRES: !empty(). The newest member (highest slot).
  std::uint32_t last_slot() const;

  // REQUIRES: is_big()
  const Bitmap& bitmap(Space s) const { return big_->in(s); }
  // REQUIRES: !is_big(). Sorted.
  std::span<const std::uint32_t> small_slots() const noexcept { return {members(), count_}; }

  // Calls f(slot) in increasing slot order.
  template <class F>
  void for_each_slot(F&& f) const {
    if (is_big()) {
      for_each_position(big_->in(Space::kCreation), f);
    } else {
      for (const std::uint32_t slot : small_slots()) f(slot);
    }
  }

  std::size_t bytes() const;

 private:
  // Where the members are. A Posting sits inside every dictionary value, and
  // most values (a case's entries, a client's, a business key's) have one to
  // four members, so it is 24 bytes and keeps up to four slots in itself
  // (no allocation, and no cache miss more on get()):
  //   capacity_ == 0     up to kInline slots in inline_, sorted
  //   capacity_ == kBig  big_: two bitmaps (past kPromoteAt members)
  //   otherwise          heap_: room for capacity_ slots, sorted
  // (boost::container::small_vector<Member, 2>, used before, keeps a
  // pointer and 64-bit size and capacity words beside its inline members,
  // and Boost 1.74 has no option to narrow them: 56 bytes with the bitmap
  // pointer and the count, where this takes 24. Keeping each member's touch
  // beside its slot, as before stop 39, halved what fits in it.)
  static constexpr std::uint32_t kBig = ~std::uint32_t{0};

  std::uint32_t* members() noexcept { return capacity_ == 0 ? inline_ : heap_; }
  const std::uint32_t* members() const noexcept { return capacity_ == 0 ? inline_ : heap_; }
  // The first member at or above `slot`. REQUIRES: !is_big().
  std::uint32_t* small_at(std::uint32_t slot) noexcept { return std::lower_bound(members(), members() + count_, slot); }
  // Takes other's storage (count_ and capacity_ already copied); other is left empty.
  void steal(Posting& other) noexcept {
    if (capacity_ == 0) {
      std::copy(other.inline_, other.inline_ + kInline, inline_);
    } else if (capacity_ == kBig) {
      big_ = other.big_;
    } else {
      heap_ = other.heap_;
    }
    other.count_ = 0;
    other.capacity_ = 0;
  }
  void free_storage() noexcept {
    if (capacity_ == kBig) {
      delete big_;
    } else if (capacity_ > 0) {
      delete[] heap_;
    }
  }
  // Gives the small members room for one more. REQUIRES: !is_big(), count_ < kPromoteAt.
  void make_room_for_one();

  union {
    std::uint32_t inline_[kInline];
    std::uint32_t* heap_;
    DualBitmap* big_;
  };
  std::uint32_t count_ = 0;
  std::uint32_t capacity_ = 0;
};
static_assert(sizeof(Posting) == 24);

}  // namespace caserepo::engine
