#include "engine/intersection.h"

#include <algorithm>
#include <array>
#include <bit>
#include <vector>

#include <roaring/containers/containers.h>

namespace caserepo::engine {
namespace {

// One container of one bitmap, unwrapped from a copy-on-write share.
struct Container {
  const void* data;
  std::uint8_t type;

  std::uint32_t cardinality() const {
    switch (type) {
      case BITSET_CONTAINER_TYPE_CODE: return static_cast<std::uint32_t>(static_cast<const bitset_container_t*>(data)->cardinality);
      case ARRAY_CONTAINER_TYPE_CODE: return static_cast<std::uint32_t>(static_cast<const array_container_t*>(data)->cardinality);
      default: {
        const auto* r = static_cast<const run_container_t*>(data);
        std::uint32_t n = 0;
        for (std::int32_t i = 0; i < r->n_runs; ++i) n += r->runs[i].length + 1u;
        return n;
      }
    }
  }

  bool contains(std::uint16_t v) const {
    switch (type) {
      case BITSET_CONTAINER_TYPE_CODE:
        return (static_cast<const bitset_container_t*>(data)->array[v >> 6] >> (v & 63)) & 1;
      case ARRAY_CONTAINER_TYPE_CODE: {
        const auto* a = static_cast<const array_container_t*>(data);
        return std::binary_search(a->array, a->array + a->cardinality, v);
      }
      default: {
        const auto* r = static_cast<const run_container_t*>(data);
        // The last run starting at or before v.
        const rle16_t* begin = r->runs;
        const rle16_t* end = begin + r->n_runs;
        const rle16_t* it = std::upper_bound(begin, end, v, [](std::uint16_t x, const rle16_t& run) { return x < run.value; });
        if (it == begin) return false;
        --it;
        return v <= static_cast<std::uint32_t>(it->value) + it->length;
      }
    }
  }

  // Calls f(v) for every member, ascending.
  template <class F>
  void for_each(F&& f) const {
    switch (type) {
      case BITSET_CONTAINER_TYPE_CODE: {
        const std::uint64_t* words = static_cast<const bitset_container_t*>(data)->array;
        for (std::uint32_t w = 0; w < 1024; ++w) {
          for (std::uint64_t bits = words[w]; bits != 0; bits &= bits - 1) {
            f(static_cast<std::uint16_t>(w * 64 + static_cast<std::uint32_t>(std::countr_zero(bits))));
          }
        }
        return;
      }
      case ARRAY_CONTAINER_TYPE_CODE: {
        const auto* a = static_cast<const array_container_t*>(data);
        for (std::int32_t i = 0; i < a->cardinality; ++i) f(a->array[i]);
        return;
      }
      default: {
        const auto* r = static_cast<const run_container_t*>(data);
        for (std::int32_t i = 0; i < r->n_runs; ++i) {
          for (std::uint32_t v = r->runs[i].value; v <= static_cast<std::uint32_t>(r->runs[i].value) + r->runs[i].length; ++v) {
            f(static_cast<std::uint16_t>(v));
          }
        }
      }
    }
  }
};

// The first index i in [from, n) with !before(a[i]) (n if none), for a
// predicate true on a prefix: galloping from `from` (1, 2, 4, ... ahead),
// then a binary search of the last step. Probes in ascending order each
// resume where the previous one stopped: O(log gap) each, never more than
// a merge over the whole container.
template <class T, class Before>
std::int32_t gallop(const T* a, std::int32_t from, std::int32_t n, Before before) {
  if (from >= n || !before(a[from])) return from;
  std::int32_t lo = from;  // before(a[lo])
  std::int32_t step = 1;
  while (step < n - lo && before(a[lo + step])) {
    lo += step;
    step *= 2;
  }
  const std::int32_t hi = step < n - lo ? lo + step : n;  // !before(a[hi]), or the end
  return static_cast<std::int32_t>(std::partition_point(a + lo + 1, a + hi, before) - a);
}

// Membership tests of ascending values against one container.
class AscendingProbe {
 public:
  explicit AscendingProbe(const Container& c) : c_(c) {}

  // REQUIRES: v not below the previous call's.
  bool contains(std::uint16_t v) {
    switch (c_.type) {
      case BITSET_CONTAINER_TYPE_CODE:
        return c_.contains(v);
      case ARRAY_CONTAINER_TYPE_CODE: {
        const auto* a = static_cast<const array_container_t*>(c_.data);
        at_ = gallop(a->array, at_, a->cardinality, [v](std::uint16_t x) { return x < v; });
        return at_ < a->cardinality && a->array[at_] == v;
      }
      default: {
        const auto* r = static_cast<const run_container_t*>(c_.data);
        // The first run starting after v; the one before it may hold v.
        const std::int32_t after = gallop(r->runs, at_, r->n_runs, [v](const rle16_t& run) { return run.value <= v; });
        if (after == 0) return false;
        at_ = after - 1;
        return v <= static_cast<std::uint32_t>(r->runs[at_].value) + r->runs[at_].length;
      }
    }
  }

 private:
  const Container& c_;
  std::int32_t at_ = 0;
};

Container container_at(const roaring_array_t& ra, std::int32_t i) {
  const void* data = ra.containers[i];
  std::uint8_t type = ra.typecodes[i];
  if (type == SHARED_CONTAINER_TYPE_CODE) {
    const auto* shared = static_cast<const shared_container_t*>(data);
    data = shared->container;
    type = shared->typecode;
  }
  return {data, type};
}

// |c[0] ∩ ... ∩ c[n-1]| for bitset containers.
[[gnu::always_inline]] inline std::uint64_t bitsets_and_cardinality_body(std::span<const Container> c) {
  std::uint64_t n = 0;
  for (std::uint32_t w = 0; w < 1024; ++w) {
    std::uint64_t word = ~std::uint64_t{0};
    for (const Container& x : c) word &= static_cast<const bitset_container_t*>(x.data)->array[w];
    n += static_cast<std::uint64_t>(std::popcount(word));
  }
  return n;
}
// The build targets baseline x86-64, which has no popcnt instruction: there
// std::popcount is a call to libgcc's __popcountdi2 per word, half the time
// of a three- or four-term search of common values. So the loop is built
// twice and the CPU picks. (Not with target_clones: its ifunc resolver runs
// before ThreadSanitizer's runtime is up and crashes TSan builds.)
__attribute__((target("popcnt"))) std::uint64_t bitsets_and_cardinality_popcnt(std::span<const Container> c) {
  return bitsets_and_cardinality_body(c);
}
std::uint64_t bitsets_and_cardinality(std::span<const Container> c) {
  static const bool has_popcnt = __builtin_cpu_supports("popcnt");
  return has_popcnt ? bitsets_and_cardinality_popcnt(c) : bitsets_and_cardinality_body(c);
}

// |c[0] ∩ ... ∩ c[n-1]| for the containers of one key.
std::uint64_t and_cardinality(std::span<const Container> c) {
  if (std::all_of(c.begin(), c.end(), [](const Container& x) { return x.type == BITSET_CONTAINER_TYPE_CODE; })) {
    return bitsets_and_cardinality(c);
  }
  // Probe the members of the smallest container against the others.
  std::size_t smallest = 0;
  std::uint32_t least = c[0].cardinality();
  for (std::size_t i = 1; i < c.size(); ++i) {
    const std::uint32_t n = c[i].cardinality();
    if (n < least) {
      least = n;
      smallest = i;
    }
  }
  std::vector<AscendingProbe> probes;
  probes.reserve(c.size());
  for (const Container& x : c) probes.emplace_back(x);
  std::uint64_t n = 0;
  c[smallest].for_each([&](std::uint16_t v) {  // ascending
    for (std::size_t i = 0; i < c.size(); ++i) {
      if (i != smallest && !probes[i].contains(v)) return;
    }
    ++n;
  });
  return n;
}

}  // namespace

std::uint64_t and_cardinality(std::span<const Bitmap* const> bitmaps) {
  if (bitmaps.size() == 1) return bitmaps[0]->cardinality();
  if (bitmaps.size() == 2) return bitmaps[0]->and_cardinality(*bitmaps[1]);
  // Drive by the bitmap with the fewest containers; find each of its keys in
  // the others with a cursor each (keys are sorted).
  std::vector<const roaring_array_t*> ra;
  for (const Bitmap* b : bitmaps) ra.push_back(&b->roaring.high_low_container);
  std::sort(ra.begin(), ra.end(), [](const roaring_array_t* a, const roaring_array_t* b) { return a->size < b->size; });
  std::vector<std::int32_t> cursor(ra.size(), 0);
  std::vector<Container> containers(ra.size());
  std::uint64_t total = 0;
  for (std::int32_t i = 0; i < ra[0]->size; ++i) {
    const std::uint16_t key = ra[0]->keys[i];
    containers[0] = container_at(*ra[0], i);
    bool everywhere = true;
    for (std::size_t b = 1; b < ra.size() && everywhere; ++b) {
      const roaring_array_t& r = *ra[b];
      std::int32_t& at = cursor[b];
      at = static_cast<std::int32_t>(std::lower_bound(r.keys + at, r.keys + r.size, key) - r.keys);
      everywhere = at < r.size && r.keys[at] == key;
      if (everywhere) containers[b] = container_at(r, at);
    }
    if (everywhere) total += and_cardinality(std::span<const Container>(containers));
  }
  return total;
}

}  // namespace caserepo::engine
