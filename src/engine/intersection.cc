#include "engine/intersection.h"

#include <algorithm>
#include <array>
#include <bit>
#include <iterator>
#include <new>
#include <optional>
#include <utility>
#include <vector>

#include <immintrin.h>
#include <roaring/containers/containers.h>

#include "util/cpu_features.h"

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

  // All 65,536 members: nothing to an AND but itself (a date range's
  // bitmap, built by addRange, is full runs but for its two ends).
  bool full() const {
    if (type == RUN_CONTAINER_TYPE_CODE) return run_container_is_full(static_cast<const run_container_t*>(data));
    return type == BITSET_CONTAINER_TYPE_CODE && static_cast<const bitset_container_t*>(data)->cardinality == 65536;
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

// gallop's mirror: the last index i in [0, from] with !after(a[i]) (-1 if
// none), for a predicate true on a suffix, galloping down from `from`.
template <class T, class After>
std::int32_t gallop_down(const T* a, std::int32_t from, After after) {
  if (from < 0 || !after(a[from])) return from;
  std::int32_t hi = from;  // after(a[hi])
  std::int32_t step = 1;
  while (step <= hi && after(a[hi - step])) {
    hi -= step;
    step *= 2;
  }
  const std::int32_t lo = step <= hi ? hi - step : -1;  // !after(a[lo]), or before the start
  const T* first_after = std::partition_point(a + lo + 1, a + hi, [&](const T& x) { return !after(x); });
  return static_cast<std::int32_t>(first_after - a) - 1;
}

// Membership tests of values in one direction against one container, each
// resuming at `at`, where the previous one stopped (first_position: where
// the first one starts). Used in ascending order by the multi-way count,
// and in the walk's order by MonotoneProbe.
template <bool kDescending>
std::int32_t first_position(const Container& c) {
  if (!kDescending) return 0;
  if (c.type == ARRAY_CONTAINER_TYPE_CODE) return static_cast<const array_container_t*>(c.data)->cardinality - 1;
  if (c.type == RUN_CONTAINER_TYPE_CODE) return static_cast<const run_container_t*>(c.data)->n_runs - 1;
  return 0;
}
// REQUIRES: v not below (ascending) or above (descending) the previous test's.
template <bool kDescending>
bool contains_from(const Container& c, std::uint16_t v, std::int32_t& at) {
  switch (c.type) {
    case BITSET_CONTAINER_TYPE_CODE:
      return c.contains(v);
    case ARRAY_CONTAINER_TYPE_CODE: {
      const auto* a = static_cast<const array_container_t*>(c.data);
      if (kDescending) {
        at = gallop_down(a->array, at, [v](std::uint16_t x) { return x > v; });
        return at >= 0 && a->array[at] == v;
      }
      at = gallop(a->array, at, a->cardinality, [v](std::uint16_t x) { return x < v; });
      return at < a->cardinality && a->array[at] == v;
    }
    default: {
      const auto* r = static_cast<const run_container_t*>(c.data);
      if (kDescending) {
        // The last run starting at or before v.
        at = gallop_down(r->runs, at, [v](const rle16_t& run) { return run.value > v; });
        if (at < 0) return false;
      } else {
        // The first run starting after v; the one before it may hold v.
        const std::int32_t after = gallop(r->runs, at, r->n_runs, [v](const rle16_t& run) { return run.value <= v; });
        if (after == 0) return false;
        at = after - 1;
      }
      return v <= static_cast<std::uint32_t>(r->runs[at].value) + r->runs[at].length;
    }
  }
}

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

// |c[0] ∩ ... ∩ c[n-1]| for bitset containers; with kStore, the AND itself
// into out[0, 1024) as well.
template <bool kStore>
[[gnu::always_inline]] inline std::uint64_t bitsets_and_body(std::span<const Container> c, std::uint64_t* out) {
  std::uint64_t n = 0;
  for (std::uint32_t w = 0; w < 1024; ++w) {
    std::uint64_t word = ~std::uint64_t{0};
    for (const Container& x : c) word &= static_cast<const bitset_container_t*>(x.data)->array[w];
    if constexpr (kStore) out[w] = word;
    n += static_cast<std::uint64_t>(std::popcount(word));
  }
  return n;
}
// The build targets baseline x86-64, which has no popcnt instruction: there
// std::popcount is a call to libgcc's __popcountdi2 per word, half the time
// of a three- or four-term search of common values. So the loop is built
// again for CPUs with popcnt, and with AVX-512's vector popcount (eight
// words a step), and the CPU picks (util/cpu_features.h).
template <bool kStore>
__attribute__((target("popcnt"))) std::uint64_t bitsets_and_popcnt(std::span<const Container> c, std::uint64_t* out) {
  return bitsets_and_body<kStore>(c, out);
}
// The sum of a vector's eight 64-bit lanes (not _mm512_reduce_add_epi64:
// GCC 12's header for it warns of an uninitialised variable).
__attribute__((target("avx512f"))) std::uint64_t sum_lanes(__m512i v) {
  alignas(64) std::uint64_t lanes[8];
  _mm512_store_si512(lanes, v);
  std::uint64_t n = 0;
  for (std::uint64_t x : lanes) n += x;
  return n;
}
template <bool kStore>
__attribute__((target("avx512f,avx512vpopcntdq"))) std::uint64_t bitsets_and_avx512(std::span<const Container> c,
                                                                                     std::uint64_t* out) {
  __m512i counts = _mm512_setzero_si512();
  for (std::uint32_t w = 0; w < 1024; w += 8) {
    __m512i word = _mm512_loadu_si512(static_cast<const bitset_container_t*>(c[0].data)->array + w);
    for (std::size_t i = 1; i < c.size(); ++i) {
      word = _mm512_and_si512(word, _mm512_loadu_si512(static_cast<const bitset_container_t*>(c[i].data)->array + w));
    }
    if constexpr (kStore) _mm512_storeu_si512(out + w, word);
    counts = _mm512_add_epi64(counts, _mm512_popcnt_epi64(word));
  }
  return sum_lanes(counts);
}
template <bool kStore>
std::uint64_t bitsets_and(std::span<const Container> c, std::uint64_t* out) {
  if (util::has_avx512_popcount()) return bitsets_and_avx512<kStore>(c, out);
  return util::has_popcnt() ? bitsets_and_popcnt<kStore>(c, out) : bitsets_and_body<kStore>(c, out);
}
std::uint64_t bitsets_and_cardinality(std::span<const Container> c) { return bitsets_and<false>(c, nullptr); }

// The positions of the set bits of words[0, 1024), ascending, into out.
[[gnu::always_inline]] inline void list_bits_of(const std::uint64_t* words, std::uint32_t w, std::uint16_t*& out) {
  for (std::uint64_t bits = words[w]; bits != 0; bits &= bits - 1) {
    *out++ = static_cast<std::uint16_t>(w * 64 + static_cast<std::uint32_t>(std::countr_zero(bits)));
  }
}
void list_bits_scalar(const std::uint64_t* words, std::uint16_t* out) {
  for (std::uint32_t w = 0; w < 1024; ++w) list_bits_of(words, w, out);
}
// A search's AND of bitsets is mostly zero words (a few hundred members in
// 65,536 bits): eight words tested at a step, only the nonzero ones listed.
// Word by word, the listing was most of a three-term search's AND.
__attribute__((target("avx512f"))) void list_bits_avx512(const std::uint64_t* words, std::uint16_t* out) {
  for (std::uint32_t w = 0; w < 1024; w += 8) {
    const __m512i block = _mm512_loadu_si512(words + w);
    for (unsigned nonzero = _mm512_test_epi64_mask(block, block); nonzero != 0; nonzero &= nonzero - 1) {
      list_bits_of(words, w + static_cast<std::uint32_t>(std::countr_zero(nonzero)), out);
    }
  }
}
void list_bits(const std::uint64_t* words, std::uint16_t* out) {
  if (util::has_avx512_popcount()) list_bits_avx512(words, out); else list_bits_scalar(words, out);
}

// |a ∩ b| for an array and a bitset: one bit test per member, four
// counters so consecutive tests do not wait on one another.
std::uint64_t array_bitset_cardinality(const array_container_t& a, const bitset_container_t& b) {
  const std::uint16_t* v = a.array;
  const std::uint64_t* words = b.array;
  const std::int32_t n = a.cardinality;
  std::uint64_t c0 = 0, c1 = 0, c2 = 0, c3 = 0;
  std::int32_t i = 0;
  for (; i + 4 <= n; i += 4) {
    c0 += (words[v[i] >> 6] >> (v[i] & 63)) & 1;
    c1 += (words[v[i + 1] >> 6] >> (v[i + 1] & 63)) & 1;
    c2 += (words[v[i + 2] >> 6] >> (v[i + 2] & 63)) & 1;
    c3 += (words[v[i + 3] >> 6] >> (v[i + 3] & 63)) & 1;
  }
  for (; i < n; ++i) c0 += (words[v[i] >> 6] >> (v[i] & 63)) & 1;
  return c0 + c1 + c2 + c3;
}

// |a ∩ b| for two arrays: a merge, or, when one is far smaller, its
// members galloped through the other.
std::uint64_t arrays_cardinality(const array_container_t& a, const array_container_t& b) {
  const array_container_t* small = &a;
  const array_container_t* large = &b;
  if (small->cardinality > large->cardinality) std::swap(small, large);
  std::uint64_t n = 0;
  if (std::int64_t{small->cardinality} * 32 < large->cardinality) {
    std::int32_t at = 0;
    for (std::int32_t i = 0; i < small->cardinality && at < large->cardinality; ++i) {
      const std::uint16_t v = small->array[i];
      at = gallop(large->array, at, large->cardinality, [v](std::uint16_t x) { return x < v; });
      n += at < large->cardinality && large->array[at] == v;
    }
    return n;
  }
  const std::uint16_t* x = small->array;
  const std::uint16_t* x_end = x + small->cardinality;
  const std::uint16_t* y = large->array;
  const std::uint16_t* y_end = y + large->cardinality;
  while (x != x_end && y != y_end) {
    const std::uint16_t u = *x, v = *y;
    n += u == v;
    x += u <= v;
    y += v <= u;
  }
  return n;
}

// |r ∩ b| for a run container and a bitset: the bits set within each run,
// a word at a time.
[[gnu::always_inline]] inline std::uint64_t run_bitset_cardinality_body(const run_container_t& r, const bitset_container_t& b) {
  std::uint64_t n = 0;
  for (std::int32_t i = 0; i < r.n_runs; ++i) {
    const std::uint32_t first = r.runs[i].value;
    const std::uint32_t last = first + r.runs[i].length;  // inclusive, ≤ 65535
    const std::uint32_t w0 = first >> 6, w1 = last >> 6;
    const std::uint64_t head = ~std::uint64_t{0} << (first & 63);
    const std::uint64_t tail = ~std::uint64_t{0} >> (63 - (last & 63));
    if (w0 == w1) {
      n += static_cast<std::uint64_t>(std::popcount(b.array[w0] & head & tail));
      continue;
    }
    n += static_cast<std::uint64_t>(std::popcount(b.array[w0] & head));
    for (std::uint32_t w = w0 + 1; w < w1; ++w) n += static_cast<std::uint64_t>(std::popcount(b.array[w]));
    n += static_cast<std::uint64_t>(std::popcount(b.array[w1] & tail));
  }
  return n;
}
__attribute__((target("popcnt"))) std::uint64_t run_bitset_cardinality_popcnt(const run_container_t& r,
                                                                              const bitset_container_t& b) {
  return run_bitset_cardinality_body(r, b);
}
std::uint64_t run_bitset_cardinality(const run_container_t& r, const bitset_container_t& b) {
  return util::has_popcnt() ? run_bitset_cardinality_popcnt(r, b) : run_bitset_cardinality_body(r, b);
}

// |a ∩ b| for two run containers: the overlaps of their intervals, a merge.
std::uint64_t runs_cardinality(const run_container_t& a, const run_container_t& b) {
  std::uint64_t n = 0;
  std::int32_t i = 0, j = 0;
  while (i < a.n_runs && j < b.n_runs) {
    const std::uint32_t a_first = a.runs[i].value, a_last = a_first + a.runs[i].length;
    const std::uint32_t b_first = b.runs[j].value, b_last = b_first + b.runs[j].length;
    const std::uint32_t first = std::max(a_first, b_first), last = std::min(a_last, b_last);
    if (first <= last) n += last - first + 1;
    if (a_last < b_last) {
      ++i;
    } else {
      ++j;
    }
  }
  return n;
}

// |x ∩ y| for the two containers of one key, when one of the pairs above
// fits; nullopt sends the pair to the general probe.
std::optional<std::uint64_t> pair_cardinality(const Container& x, const Container& y) {
  const auto bitset = [](const Container& c) { return static_cast<const bitset_container_t*>(c.data); };
  const auto array = [](const Container& c) { return static_cast<const array_container_t*>(c.data); };
  const auto run = [](const Container& c) { return static_cast<const run_container_t*>(c.data); };
  for (const auto& [a, b] : {std::pair{x, y}, std::pair{y, x}}) {
    if (b.type != BITSET_CONTAINER_TYPE_CODE) continue;
    if (a.type == ARRAY_CONTAINER_TYPE_CODE) return array_bitset_cardinality(*array(a), *bitset(b));
    if (a.type == RUN_CONTAINER_TYPE_CODE) return run_bitset_cardinality(*run(a), *bitset(b));
  }
  if (x.type == RUN_CONTAINER_TYPE_CODE && y.type == RUN_CONTAINER_TYPE_CODE) return runs_cardinality(*run(x), *run(y));
  if (x.type == ARRAY_CONTAINER_TYPE_CODE && y.type == ARRAY_CONTAINER_TYPE_CODE) return arrays_cardinality(*array(x), *array(y));
  return std::nullopt;
}

bool is_bitset(const Container& x) { return x.type == BITSET_CONTAINER_TYPE_CODE; }

// The containers of one key less the full ones (their AND is the rest's),
// one of them kept when all are full.
std::span<const Container> without_full(std::span<const Container> c, std::vector<Container>& kept) {
  if (std::none_of(c.begin(), c.end(), [](const Container& x) { return x.full(); })) return c;
  kept.clear();
  std::copy_if(c.begin(), c.end(), std::back_inserter(kept), [](const Container& x) { return !x.full(); });
  if (kept.empty()) kept.push_back(c[0]);
  return kept;
}

// |c[0] ∩ ... ∩ c[n-1]| for the containers of one key.
std::uint64_t and_cardinality(std::span<const Container> all) {
  std::vector<Container> kept;
  const std::span<const Container> c = without_full(all, kept);
  if (c.size() == 1) return c[0].cardinality();
  if (std::all_of(c.begin(), c.end(), is_bitset)) return bitsets_and_cardinality(c);
  if (c.size() == 2) {
    if (auto n = pair_cardinality(c[0], c[1])) return *n;
  }
  // Bitsets and one run container (a date range's end): the bitsets' AND,
  // then its bits within the runs. Probing each member of the smallest
  // container instead cost ~0.4 ms for two common values and a 30-day
  // creation window at 1M (the 512-subset sweep, SearchSubsets).
  if (std::count_if(c.begin(), c.end(), is_bitset) + 1 == static_cast<std::ptrdiff_t>(c.size())) {
    const auto run = std::find_if_not(c.begin(), c.end(), is_bitset);
    if (run->type == RUN_CONTAINER_TYPE_CODE) {
      std::vector<Container> bitsets;
      std::copy_if(c.begin(), c.end(), std::back_inserter(bitsets), is_bitset);
      alignas(64) std::uint64_t words[1024];
      bitsets_and<true>(bitsets, words);
      bitset_container_t anded{0, words};
      return run_bitset_cardinality(*static_cast<const run_container_t*>(run->data), anded);
    }
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
  std::vector<std::int32_t> at(c.size(), 0);  // each container's probe position
  std::uint64_t n = 0;
  c[smallest].for_each([&](std::uint16_t v) {  // ascending
    for (std::size_t i = 0; i < c.size(); ++i) {
      if (i != smallest && !contains_from<false>(c[i], v, at[i])) return;
    }
    ++n;
  });
  return n;
}

// Calls f(key, containers) for each container key present in every bitmap,
// with that key's container of each. Driven by the bitmap with the fewest
// containers; each other's keys are found with a cursor (keys are sorted).
template <class F>
void for_each_common_key(std::span<const Bitmap* const> bitmaps, F&& f) {
  std::vector<const roaring_array_t*> ra;
  for (const Bitmap* b : bitmaps) ra.push_back(&b->roaring.high_low_container);
  std::sort(ra.begin(), ra.end(), [](const roaring_array_t* a, const roaring_array_t* b) { return a->size < b->size; });
  std::vector<std::int32_t> cursor(ra.size(), 0);
  std::vector<Container> containers(ra.size());
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
    if (everywhere) f(key, std::span<const Container>(containers));
  }
}

}  // namespace

MonotoneProbe::MonotoneProbe(const Bitmap& bitmap, bool descending)
    : ra_(bitmap.roaring.high_low_container), descending_(descending), index_(descending ? ra_.size - 1 : 0) {}

void MonotoneProbe::load(std::int32_t index) {
  const Container c = container_at(ra_, index);
  data_ = c.data;
  type_ = c.type;
  loaded_ = index;
  at_ = descending_ ? first_position<true>(c) : first_position<false>(c);
}

bool MonotoneProbe::contains(std::uint32_t v) {
  const auto key = static_cast<std::uint16_t>(v >> 16);
  if (descending_) {
    index_ = gallop_down(ra_.keys, index_, [key](std::uint16_t k) { return k > key; });
    if (index_ < 0 || ra_.keys[index_] != key) return false;
  } else {
    index_ = gallop(ra_.keys, index_, ra_.size, [key](std::uint16_t k) { return k < key; });
    if (index_ >= ra_.size || ra_.keys[index_] != key) return false;
  }
  if (loaded_ != index_) load(index_);
  const Container c{data_, type_};
  const auto low = static_cast<std::uint16_t>(v);
  return descending_ ? contains_from<true>(c, low, at_) : contains_from<false>(c, low, at_);
}

std::uint64_t and_cardinality(std::span<const Bitmap* const> bitmaps) {
  if (bitmaps.size() == 1) return bitmaps[0]->cardinality();
  std::uint64_t total = 0;
  for_each_common_key(bitmaps, [&](std::uint16_t, std::span<const Container> c) { total += and_cardinality(c); });
  return total;
}

Bitmap intersection(std::span<const Bitmap* const> bitmaps) {
  if (bitmaps.size() == 1) return *bitmaps[0];
  Bitmap out;
  roaring_array_t& result = out.roaring.high_low_container;
  std::vector<Container> kept;
  for_each_common_key(bitmaps, [&](std::uint16_t key, std::span<const Container> all) {
    const std::span<const Container> containers = without_full(all, kept);
    void* c = nullptr;
    std::uint8_t type = 0;
    if (containers.size() == 1) {
      c = container_clone(containers[0].data, containers[0].type);
      type = containers[0].type;
      if (c == nullptr) throw std::bad_alloc();
    } else if (std::all_of(containers.begin(), containers.end(), is_bitset)) {
      alignas(64) std::uint64_t words[1024];
      const std::uint64_t n = bitsets_and<true>(containers, words);
      if (n > DEFAULT_MAX_SIZE) {  // as CRoaring's own AND: a bitset above 4096 members, an array up to it
        bitset_container_t* bitset = bitset_container_create();
        if (bitset == nullptr) throw std::bad_alloc();
        std::copy(std::begin(words), std::end(words), bitset->array);
        bitset->cardinality = static_cast<std::int32_t>(n);
        c = bitset;
        type = BITSET_CONTAINER_TYPE_CODE;
      } else if (n > 0) {
        array_container_t* array = array_container_create_given_capacity(static_cast<std::int32_t>(n));
        if (array == nullptr) throw std::bad_alloc();
        list_bits(words, array->array);
        array->cardinality = static_cast<std::int32_t>(n);
        c = array;
        type = ARRAY_CONTAINER_TYPE_CODE;
      }
    } else {
      // CRoaring's pairwise container AND for the rest (arrays and runs).
      c = container_and(containers[0].data, containers[0].type, containers[1].data, containers[1].type, &type);
      for (std::size_t k = 2; k < containers.size() && c != nullptr && container_nonzero_cardinality(c, type); ++k) {
        std::uint8_t next_type = 0;
        void* next = container_and(c, type, containers[k].data, containers[k].type, &next_type);
        container_free(c, type);
        c = next;
        type = next_type;
      }
      if (c == nullptr) throw std::bad_alloc();
      if (!container_nonzero_cardinality(c, type)) {
        container_free(c, type);
        c = nullptr;
      }
    }
    if (c != nullptr) ra_append(&result, key, c, type);
  });
  return out;
}

std::vector<std::uint32_t> gather(const Bitmap& members, std::span<const std::uint32_t> column) {
  std::vector<std::uint32_t> out(members.cardinality());
  std::uint32_t* next = out.data();
  const roaring_array_t& ra = members.roaring.high_low_container;
  for (std::int32_t i = 0; i < ra.size; ++i) {
    const std::uint32_t base = static_cast<std::uint32_t>(ra.keys[i]) << 16;
    const Container c = container_at(ra, i);
    if (c.type == RUN_CONTAINER_TYPE_CODE) {
      const auto* r = static_cast<const run_container_t*>(c.data);
      for (std::int32_t k = 0; k < r->n_runs; ++k) {
        const std::span<const std::uint32_t> run = column.subspan(base + r->runs[k].value, r->runs[k].length + 1u);
        next = std::copy(run.begin(), run.end(), next);
      }
    } else {
      c.for_each([&](std::uint16_t v) { *next++ = column[base + v]; });
    }
  }
  return out;
}

}  // namespace caserepo::engine
