#include "engine/planner.h"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <vector>

#include "engine/intersection.h"
#include "engine/page_token.h"
#include "engine/rank_select.h"

namespace caserepo::engine {
namespace {


// [lo, hi) of positions.
struct PositionRange {
  std::uint32_t lo = 0;
  std::uint32_t hi = 0;
  std::uint64_t size() const { return hi - lo; }
};

// [from, to) of milliseconds; inactive when the filter has no such range.
struct MillisRange {
  bool active = false;
  std::int64_t from = std::numeric_limits<std::int64_t>::min();
  std::int64_t to = std::numeric_limits<std::int64_t>::max();
  bool contains(std::int64_t ms) const { return ms >= from && ms < to; }
};

// One filter field: the postings of its values that exist (OR'ed).
struct Term {
  Field field;
  std::vector<const Posting*> postings;
  std::vector<std::uint32_t> codes;  // sorted
  std::uint64_t estimate = 0;        // exact: an entry has one value per field

  bool accepts(std::uint32_t code) const {
    return codes.size() == 1 ? codes[0] == code : std::binary_search(codes.begin(), codes.end(), code);
  }
};

struct Query {
  Space space = Space::kCreation;
  bool descending = true;
  bool nothing = false;  // provably no match
  bool current_only = false;
  std::vector<Term> terms;  // by increasing estimate
  MillisRange creation, update;
  PositionRange slots, touches;  // positions allowed by the date ranges
};

std::int64_t millis(Timestamp t) { return t.time_since_epoch().count(); }

// First index in [0, n) whose key is >= `value` (keys ascending).
template <class KeyAt>
std::uint32_t first_at_least(std::uint32_t n, std::int64_t value, KeyAt key_at) {
  std::uint32_t lo = 0, hi = n;
  while (lo < hi) {
    const std::uint32_t mid = lo + (hi - lo) / 2;
    if (key_at(mid) < value) lo = mid + 1; else hi = mid;
  }
  return lo;
}

template <class KeyAt>
PositionRange positions_of(const MillisRange& r, std::uint32_t n, KeyAt key_at) {
  PositionRange p{0, n};
  if (r.from != std::numeric_limits<std::int64_t>::min()) p.lo = first_at_least(n, r.from, key_at);
  if (r.to != std::numeric_limits<std::int64_t>::max()) p.hi = first_at_least(n, r.to, key_at);
  if (p.hi < p.lo) p.hi = p.lo;
  return p;
}

MillisRange millis_of(const DateRange& d) {
  MillisRange r;
  r.active = !d.empty_filter();
  if (d.from) r.from = millis(*d.from);
  if (d.to) r.to = millis(*d.to);
  return r;
}

Query resolve(const Store& store, const Filter& filter, SortOrder sort) {
  Query q;
  q.space = (sort == SortOrder::kUpdateDateDesc || sort == SortOrder::kUpdateDateAsc) ? Space::kUpdate
                                                                                     : Space::kCreation;
  q.descending = (sort == SortOrder::kCreationDateDesc || sort == SortOrder::kUpdateDateDesc);
  q.current_only = filter.currentOnly;

  const std::pair<Field, const std::vector<std::string>*> fields[] = {
      {Field::kCaseId, &filter.caseId},         {Field::kBusinessKey, &filter.businessKey},
      {Field::kCaseType, &filter.caseType},     {Field::kClientId, &filter.clientId},
      {Field::kClientType, &filter.clientType}, {Field::kStatus, &filter.status},
      {Field::kSource, &filter.source}};
  for (const auto& [field, values] : fields) {
    if (values->empty()) continue;
    Term t{field, {}, {}, 0};
    const auto& dict = store.dictionary(field);
    for (const std::string& text : *values) {
      const auto* v = dict.find(text);
      if (v == nullptr || std::find(t.codes.begin(), t.codes.end(), v->code) != t.codes.end()) continue;
      t.postings.push_back(&v->payload);
      t.codes.push_back(v->code);
      t.estimate += v->payload.size();
    }
    if (t.postings.empty()) q.nothing = true;
    std::sort(t.codes.begin(), t.codes.end());
    q.terms.push_back(std::move(t));
  }
  std::sort(q.terms.begin(), q.terms.end(), [](const Term& a, const Term& b) { return a.estimate < b.estimate; });

  q.creation = millis_of(filter.creationDate);
  q.update = millis_of(filter.updateDate);
  q.slots = positions_of(q.creation, store.slot_count(),
                         [&](std::uint32_t s) { return store.ms_at(Space::kCreation, s); });
  q.touches = positions_of(q.update, store.touch_count(), [&](std::uint32_t t) { return store.ms_at(Space::kUpdate, t); });
  if (q.slots.size() == 0 || q.touches.size() == 0) q.nothing = true;
  return q;
}

// The matches of a query: positions in the query's space, sorted, exact.
class MatchSet {
 public:
  MatchSet() = default;
  // `count`: the bitmap's cardinality when the caller knows it.
  static MatchSet borrowing(const Bitmap& b, std::optional<std::uint64_t> count = std::nullopt) {
    MatchSet m;
    m.bitmap_ = &b;
    m.count_ = count;
    return m;
  }
  static MatchSet owning(Bitmap b) {
    MatchSet m;
    m.owned_ = std::make_unique<Bitmap>(std::move(b));
    m.bitmap_ = m.owned_.get();
    return m;
  }
  static MatchSet of_sorted(std::vector<std::uint32_t> v) {
    MatchSet m;
    m.sorted_ = std::move(v);
    return m;
  }
  // The intersection of `operands`, not materialised: counted without
  // building it (and_cardinality, intersection.h), paged by walking the
  // smallest operand from the wanted end and testing membership in the
  // others. Materialising an intersection of common values (CRoaring
  // extracting set bits into containers, once per AND) cost most of a
  // search; a first page needs a few dozen membership tests. `scratch`
  // keeps alive the bitmaps built for the query that operands point into.
  // `bounds`: the positions the operands' date range allows (one operand
  // is that range), where the walk starts and ends: a 30-day creation
  // window walked from the newest entry passed every member of the
  // smallest operand outside it (~1 ms at 1M for a common clientId).
  static MatchSet lazy_and(std::deque<Bitmap> scratch, std::vector<const Bitmap*> operands, std::uint64_t skip_limit,
                           std::uint64_t walk_limit, std::optional<PositionRange> bounds) {
    MatchSet m;
    m.bounds_ = bounds;
    m.scratch_ = std::move(scratch);  // a deque's move keeps its elements in place
    auto smallest = std::min_element(operands.begin(), operands.end(),
                                     [](const Bitmap* a, const Bitmap* b) { return a->cardinality() < b->cardinality(); });
    m.bitmap_ = *smallest;
    operands.erase(smallest);
    m.filters_ = std::move(operands);
    m.skip_limit_ = skip_limit;
    m.walk_limit_ = walk_limit;
    return m;
  }

  // The members as one bitmap (materialising a lazy intersection), or
  // nullptr for a sorted vector (see sorted()).
  const Bitmap* as_bitmap() const {
    if (!filters_.empty()) {
      if (!materialised_) materialised_ = std::make_unique<Bitmap>(materialise());
      return materialised_.get();
    }
    return bitmap_;
  }
  const std::vector<std::uint32_t>& sorted() const { return sorted_; }

  std::uint64_t count() const {
    if (!count_) {
      count_ = !filters_.empty() ? and_cardinality(operands(bitmap_)) : bitmap_ ? bitmap_->cardinality() : sorted_.size();
    }
    return *count_;
  }

  // Number of members < pos.
  std::uint64_t count_below(std::uint32_t pos) const {
    if (!filters_.empty()) {
      if (pos == 0) return 0;
      Bitmap below = *bitmap_;
      roaring_bitmap_remove_range(&below.roaring, pos, std::uint64_t{1} << 32);
      return and_cardinality(operands(&below));
    }
    if (bitmap_) return pos == 0 ? 0 : rank(*bitmap_, pos - 1);
    return std::lower_bound(sorted_.begin(), sorted_.end(), pos) - sorted_.begin();
  }

  // Members [offset, offset + n) of the ascending or descending order.
  // `start`, when the caller has it, is where that member lies: the first
  // position to consider (ascending), or one past it (descending).
  std::vector<std::uint32_t> slice(std::uint64_t offset, std::uint32_t n, bool descending,
                                   std::optional<std::uint32_t> start = std::nullopt) const {
    std::vector<std::uint32_t> out;
    const std::uint64_t total = count();
    if (offset >= total) return out;
    if (!filters_.empty()) {
      // The walk tests about (matches wanted) × |smallest| / total members;
      // a sparse intersection (48 matches in a 10k-member operand) would
      // walk thousands. Past either limit the ANDs are materialised.
      const std::uint64_t wanted = (start ? 0 : offset) + n;
      double walked = static_cast<double>(wanted) * static_cast<double>(bitmap_->cardinality()) / static_cast<double>(total);
      if (walked > static_cast<double>(walk_limit_) && bounds_) {  // the walk stays within them
        walked = static_cast<double>(wanted) *
                 static_cast<double>(roaring_bitmap_range_cardinality(&bitmap_->roaring, bounds_->lo, bounds_->hi)) /
                 static_cast<double>(total);
      }
      if ((!start && offset > skip_limit_) || walked > static_cast<double>(walk_limit_)) {
        MatchSet materialised = owning(materialise());
        return materialised.slice(offset, n, descending);
      }
      return walk(offset, n, descending, start);
    }
    const std::uint64_t take = std::min<std::uint64_t>(n, total - offset);
    out.reserve(take);
    if (!bitmap_) {
      for (std::uint64_t i = 0; i < take; ++i) {
        out.push_back(descending ? sorted_[total - 1 - offset - i] : sorted_[offset + i]);
      }
      return out;
    }
    const std::uint64_t first_rank = descending ? total - 1 - offset : offset;
    const std::uint32_t first = select(*bitmap_, first_rank).value_or(0);  // first_rank < total: always there
    roaring_uint32_iterator_t it;
    roaring_init_iterator(&bitmap_->roaring, &it);
    roaring_move_uint32_iterator_equalorlarger(&it, first);
    while (it.has_value && out.size() < take) {
      out.push_back(it.current_value);
      if (descending) roaring_previous_uint32_iterator(&it); else roaring_advance_uint32_iterator(&it);
    }
    return out;
  }

 private:
  // `first` and the filters: every operand of a lazy intersection.
  std::vector<const Bitmap*> operands(const Bitmap* first) const {
    std::vector<const Bitmap*> all{first};
    all.insert(all.end(), filters_.begin(), filters_.end());
    return all;
  }
  Bitmap materialise() const { return intersection(operands(bitmap_)); }

  // Lazy intersection: walk bitmap_ within bounds_ from one end (or from
  // `start`), keep the members every filter has, skip `offset` of them
  // (none when starting at `start`).
  std::vector<std::uint32_t> walk(std::uint64_t offset, std::uint32_t n, bool descending,
                                  std::optional<std::uint32_t> start) const {
    std::vector<std::uint32_t> out;
    roaring_uint32_iterator_t it;
    const PositionRange within = bounds_.value_or(PositionRange{0, std::numeric_limits<std::uint32_t>::max()});
    if (descending) {
      roaring_init_iterator_last(&bitmap_->roaring, &it);
      if (start || bounds_) {
        roaring_uint32_iterator_t at;
        roaring_init_iterator(&bitmap_->roaring, &at);
        // First member >= from, then one back; none >= from: the last one.
        if (roaring_move_uint32_iterator_equalorlarger(&at, std::min(start.value_or(within.hi), within.hi))) {
          it = at;
          roaring_previous_uint32_iterator(&it);
        }
      }
    } else {
      roaring_init_iterator(&bitmap_->roaring, &it);
      if (start || bounds_) roaring_move_uint32_iterator_equalorlarger(&it, std::max(start.value_or(within.lo), within.lo));
    }
    // The walk's positions only go one way: each filter's test resumes where the last one stopped.
    std::vector<MonotoneProbe> filters;
    filters.reserve(filters_.size());
    for (const Bitmap* f : filters_) filters.emplace_back(*f, descending);
    auto in_filters = [&](std::uint32_t pos) {
      return std::all_of(filters.begin(), filters.end(), [pos](MonotoneProbe& f) { return f.contains(pos); });
    };
    std::uint64_t skip = start ? 0 : offset;
    while (it.has_value && out.size() < n) {
      if (descending ? it.current_value < within.lo : it.current_value >= within.hi) break;
      if (in_filters(it.current_value)) {
        if (skip > 0) {
          --skip;
        } else {
          out.push_back(it.current_value);
        }
      }
      if (descending) roaring_previous_uint32_iterator(&it); else roaring_advance_uint32_iterator(&it);
    }
    return out;
  }

  std::deque<Bitmap> scratch_;  // bitmaps built for the query that bitmap_/filters_ may point into
  std::unique_ptr<Bitmap> owned_;
  const Bitmap* bitmap_ = nullptr;
  std::vector<const Bitmap*> filters_;  // a lazy intersection: bitmap_ ∩ all of them
  std::uint64_t skip_limit_ = 0;
  std::uint64_t walk_limit_ = 0;
  std::optional<PositionRange> bounds_;  // of a lazy intersection with a date range: no member outside
  std::vector<std::uint32_t> sorted_;
  mutable std::optional<std::uint64_t> count_;  // cardinality is O(containers): once
  mutable std::unique_ptr<Bitmap> materialised_;  // as_bitmap() of a lazy intersection
};

std::uint32_t position_of(const Store& store, std::uint32_t slot, Space space) {
  return space == Space::kCreation ? slot : store.touch_of(slot);
}
std::uint32_t slot_of(const Store& store, std::uint32_t pos, Space space) {
  return space == Space::kCreation ? pos : store.slot_at_touch(pos);
}

// Probe plan: walk the driver's entries, test the rest on each entry.
MatchSet probe(const Store& store, const Query& q, int driver) {
  std::vector<std::uint32_t> out;
  auto visit = [&](std::uint32_t slot) {
    const EntryRecord& r = store.record(slot);
    if (!r.live()) return;
    for (const Term& t : q.terms) {
      if (!t.accepts(r.code(t.field))) return;
    }
    if (!q.creation.contains(r.creation_ms) || !q.update.contains(r.update_ms)) return;
    if (q.current_only && !store.is_current(slot)) return;
    out.push_back(position_of(store, slot, q.space));
  };
  if (driver == 0) {
    for (const Posting* p : q.terms[0].postings) p->for_each_slot(visit);
  } else if (driver == 1) {
    for (std::uint32_t s = q.slots.lo; s < q.slots.hi; ++s) visit(s);
  } else {
    for (std::uint32_t t = q.touches.lo; t < q.touches.hi; ++t) {
      const std::uint32_t slot = store.slot_at_touch(t);
      if (slot != kTombstone) visit(slot);
    }
  }
  if (!std::is_sorted(out.begin(), out.end())) std::sort(out.begin(), out.end());
  return MatchSet::of_sorted(std::move(out));
}

// The members of `matches` (positions of the space other than `to`) as
// positions of `to`, those in `own` kept, sorted.
std::vector<std::uint32_t> mapped_into(const Store& store, Space to, const Bitmap& matches, PositionRange own) {
  if (own.hi <= own.lo) return {};
  // A run of matches is a contiguous copy of the mapping column (listing
  // them first and looking each one up was ~1.5 ns a match: 120 µs for a
  // 30-day creation window's 82k under an update-date sort).
  std::vector<std::uint32_t> kept = gather(matches, to == Space::kCreation ? store.slots_by_touch() : store.touches());
  const std::uint32_t space = to == Space::kCreation ? store.slot_count() : store.touch_count();  // of `to`
  bool sorted = true;
  if (own.lo == 0 && own.hi >= space) {
    // All kept: only the order to check, without a branch (the loop vectorises).
    bool descent = false;
    for (std::size_t i = 1; i < kept.size(); ++i) descent |= kept[i] < kept[i - 1];
    sorted = !descent;
  } else {
    // Each position is written at kept[n], behind or at the one just read;
    // n moves on only if it is kept.
    std::size_t n = 0;
    std::uint32_t last = 0;
    for (const std::uint32_t pos : kept) {
      const bool keep = pos - own.lo < own.hi - own.lo;  // own.lo <= pos < own.hi
      kept[n] = pos;
      n += keep;
      sorted &= !keep || pos >= last;
      last = keep ? pos : last;
    }
    kept.resize(n);
  }
  // Often already in order (entries not updated since created): no sort.
  if (!sorted) std::sort(kept.begin(), kept.end());
  return kept;
}

// The members of `touches` (touch positions) whose slot is in `slots`, in
// touch order.
std::vector<std::uint32_t> touches_with_slot_in(const Store& store, const Bitmap& touches, PositionRange slots) {
  std::vector<std::uint32_t> kept(touches.cardinality());
  touches.toUint32Array(kept.data());
  std::size_t n = 0;
  for (const std::uint32_t t : kept) {
    const std::uint32_t slot = store.slot_at_touch(t);
    if (slot >= slots.lo && slot < slots.hi) kept[n++] = t;
  }
  kept.resize(n);
  return kept;
}

// Bitmap plan: AND the terms (smallest first), the current set and the ranges.
MatchSet intersect(const Store& store, const Query& q) {
  std::deque<Bitmap> scratch;  // bitmaps built here; stable addresses
  auto term_bitmap = [&](const Term& t, Space space) -> const Bitmap& {
    if (t.postings.size() == 1 && t.postings[0]->is_big()) return t.postings[0]->bitmap(space);
    std::vector<const Bitmap*> bigs;
    std::vector<std::uint32_t> smalls;
    for (const Posting* p : t.postings) {
      if (p->is_big()) {
        bigs.push_back(&p->bitmap(space));
      } else {
        for (const std::uint32_t slot : p->small_slots()) {
          smalls.push_back(space == Space::kCreation ? slot : store.touch_of(slot));
        }
      }
    }
    Bitmap& u = scratch.emplace_back(bigs.empty() ? Bitmap() : Bitmap::fastunion(bigs.size(), bigs.data()));
    std::sort(smalls.begin(), smalls.end());
    u.addMany(smalls.size(), smalls.data());
    return u;
  };
  auto range_bitmap = [&](PositionRange r) -> const Bitmap& {
    Bitmap& b = scratch.emplace_back();
    b.addRange(r.lo, r.hi);
    return b;
  };
  // Every bitmap to AND in `space`, smallest term first, with that space's
  // date range (an interval of its positions).
  auto operands_in = [&](Space space) {
    std::vector<const Bitmap*> operands;
    for (const Term& t : q.terms) operands.push_back(&term_bitmap(t, space));
    if (q.current_only) operands.push_back(&store.current().in(space));
    // Position ranges include holes: with nothing else to AND, start from the live set.
    if (operands.empty()) operands.push_back(&store.live().in(space));
    if (space == Space::kCreation && q.creation.active) operands.push_back(&range_bitmap(q.slots));
    if (space == Space::kUpdate && q.update.active) operands.push_back(&range_bitmap(q.touches));
    return operands;
  };

  const bool own_creation = q.space == Space::kCreation;
  if (own_creation ? q.update.active : q.creation.active) {
    // The other space's date range is no interval of this space's
    // positions, but it is one of its own: AND there, where the range is a
    // bitmap like the terms, then map the matches over and sort them. (It
    // used to AND here and read each match's record to test its date, or
    // map the whole range over: a cache miss per candidate, ~0.4 ms at 1M
    // for a common caseType and clientId with a 7-day update window.)
    const std::vector<const Bitmap*> others = operands_in(own_creation ? Space::kUpdate : Space::kCreation);
    if (!own_creation && q.update.active) {
      // An update-date sort with both windows. The update window's
      // entries, each slot tested against the creation window, come out in
      // this space's order; the creation window's, mapped over, need a
      // sort: unless the update window's entries are many more, take them.
      const std::vector<const Bitmap*> mine = operands_in(Space::kUpdate);
      if (and_cardinality(mine) <= 4 * and_cardinality(others)) {
        return MatchSet::of_sorted(touches_with_slot_in(store, intersection(mine), q.slots));
      }
    }
    // The whole space unless the query's own range is active.
    const PositionRange own = own_creation ? q.slots : q.touches;
    return MatchSet::of_sorted(mapped_into(store, q.space, intersection(others), own));
  }

  std::vector<const Bitmap*> operands = operands_in(q.space);
  if (operands.size() >= 2 && store.tuning().lazy_skip_limit > 0) {
    // With a small operand, CRoaring's pairwise ANDs are cheap (each result
    // is no bigger than it) and the multi-way count's probing is not:
    // materialise all but the last AND, as for two terms.
    const auto smallest = std::min_element(operands.begin(), operands.end(), [](const Bitmap* a, const Bitmap* b) {
      return a->cardinality() < b->cardinality();
    });
    if (operands.size() > 2 && (*smallest)->cardinality() < store.tuning().lazy_all_min) {
      std::iter_swap(operands.begin(), smallest);
      const Bitmap* last = operands.back();
      operands.pop_back();
      const Bitmap* base = operands.size() == 1 ? operands[0] : &scratch.emplace_back(intersection(operands));
      operands = {base, last};
    }
    return MatchSet::lazy_and(std::move(scratch), std::move(operands), store.tuning().lazy_skip_limit,
                              store.tuning().lazy_walk_limit,
                              (own_creation ? q.creation.active : q.update.active)
                                  ? std::optional(own_creation ? q.slots : q.touches)
                                  : std::nullopt);
  }
  if (operands.size() > 1) return MatchSet::owning(intersection(operands));  // in one pass: no intermediate AND
  const Bitmap* acc = operands[0];
  // A single bitmap built here must outlive `scratch`; a store bitmap is borrowed.
  for (Bitmap& b : scratch) {
    if (&b == acc) return MatchSet::owning(std::move(b));
  }
  // One term of one value, or the live/current set: counts are known.
  if (q.terms.size() == 1 && q.terms[0].postings.size() == 1 && !q.current_only) {
    return MatchSet::borrowing(*acc, q.terms[0].estimate);
  }
  if (q.terms.empty() && !q.current_only) return MatchSet::borrowing(*acc, store.entry_count());
  if (q.terms.empty()) return MatchSet::borrowing(*acc, store.case_count());
  return MatchSet::borrowing(*acc);
}

MatchSet find_matches(const Store& store, const Query& q) {
  if (q.nothing) return MatchSet::of_sorted({});
  // Driver: 0 = smallest term, 1 = creation slot range, 2 = update touch range.
  int driver = -1;
  std::uint64_t best = std::numeric_limits<std::uint64_t>::max();
  if (!q.terms.empty()) {
    driver = 0;
    best = q.terms[0].estimate;
  }
  if (q.creation.active && q.slots.size() < best) {
    driver = 1;
    best = q.slots.size();
  }
  if (q.update.active && q.touches.size() < best) {
    driver = 2;
    best = q.touches.size();
  }
  if (driver >= 0 && best <= store.tuning().probe_limit) return probe(store, q, driver);
  return intersect(store, q);
}

// The sort key a token records: persistent across compactions.
std::uint64_t key_of(const Store& store, std::uint32_t slot, Space space) {
  const EntryRecord& r = store.record(slot);
  return space == Space::kCreation ? r.seq : r.touch_seq;
}

// Where a token's page starts: the offset of its first match, and the
// boundary position (descending: matches below it; ascending: from it on).
struct Resume {
  std::uint64_t offset;
  std::uint32_t start;
};
Resume resume_after(const Store& store, const Query& q, const MatchSet& m, std::uint64_t key) {
  // Keys ascend with positions in both spaces, holes and tombstones included (Store::key_at).
  auto first_above = [&](bool inclusive) {
    const std::uint32_t n = q.space == Space::kCreation ? store.slot_count() : store.touch_count();
    std::uint32_t lo = 0, hi = n;
    while (lo < hi) {
      const std::uint32_t mid = lo + (hi - lo) / 2;
      const std::uint64_t k = store.key_at(q.space, mid);
      if (inclusive ? k < key : k <= key) lo = mid + 1; else hi = mid;
    }
    return lo;
  };
  if (q.descending) {
    const std::uint32_t start = first_above(/*inclusive=*/true);
    return {m.count() - m.count_below(start), start};
  }
  const std::uint32_t start = first_above(/*inclusive=*/false);
  return {m.count_below(start), start};
}

}  // namespace

Result<SearchResult> run_search(const Store& store, const Filter& filter, const PageRequest& page) {
  const Query q = resolve(store, filter, page.sort);
  const MatchSet matches = find_matches(store, q);

  SearchResult result;
  result.size = page.size;
  result.totalElements = matches.count();
  result.totalPages = (result.totalElements + page.size - 1) / page.size;

  std::optional<std::uint64_t> digest;
  std::uint64_t offset = page.page * page.size;
  std::optional<std::uint32_t> start;
  if (!page.token.empty()) {
    digest = filter_digest(filter);
    auto key = decode_page_token(page.token, page.sort, *digest);
    if (!key.ok()) return key.error();
    const Resume resume = resume_after(store, q, matches, *key);
    offset = resume.offset;
    start = resume.start;
  }
  result.page = offset / page.size;

  const std::vector<std::uint32_t> positions = matches.slice(offset, page.size, q.descending, start);
  const bool more = !positions.empty() && offset + positions.size() < result.totalElements;
  if ((page.entryTokens || more) && !digest) digest = filter_digest(filter);
  // The token of the page after the entry in `slot`.
  auto token_after = [&](std::uint32_t slot) { return encode_page_token(page.sort, *digest, key_of(store, slot, q.space)); };
  result.content.reserve(positions.size());
  if (page.entryTokens) result.entryTokens.reserve(positions.size());
  for (std::uint32_t pos : positions) {
    const std::uint32_t slot = slot_of(store, pos, q.space);
    result.content.push_back(store.materialize(slot));
    if (page.entryTokens) result.entryTokens.push_back(token_after(slot));
  }
  if (more) {
    result.nextPageToken =
        page.entryTokens ? result.entryTokens.back() : token_after(slot_of(store, positions.back(), q.space));
  }
  return result;
}

FacetResult run_facets(const Store& store, const Filter& filter, Field field) {
  const Query q = resolve(store, filter, SortOrder::kCreationDateAsc);  // slots: every posting has them
  const MatchSet matches = find_matches(store, q);
  FacetResult result;
  result.totalElements = matches.count();
  const auto& dict = store.dictionary(field);
  std::vector<std::pair<std::uint32_t, std::uint64_t>> by_code;  // (code, count)
  // Few matches: read each one's code. Tallying costs a record read per
  // match; intersecting a posting costs about its containers, per value.
  const Bitmap* bitmap = matches.as_bitmap();
  if (bitmap == nullptr || result.totalElements < store.tuning().facet_tally_limit) {
    std::vector<std::uint64_t> tally;
    auto count_slot = [&](std::uint32_t slot) {
      const std::uint32_t code = store.record(slot).code(field);
      if (code == kNoValue) return;
      if (code >= tally.size()) tally.resize(code + 1, 0);
      ++tally[code];
    };
    if (bitmap) {
      for_each_position(*bitmap, count_slot);
    } else {
      for (std::uint32_t slot : matches.sorted()) count_slot(slot);
    }
    for (std::uint32_t code = 0; code < tally.size(); ++code) {
      if (tally[code] > 0) by_code.emplace_back(code, tally[code]);
    }
  } else {
    // A field every entry has a value of (not businessKey or source): the
    // matches' counts sum to the total, so the value with the largest
    // posting, the costliest AND, is counted as what the others leave
    // (Facets/caseType/status+clientType=high at 1M, median of 8 runs:
    // 144 -> 138 µs; the rarer values' arrays are most of the rest).
    const bool every_entry_has_one = field != Field::kBusinessKey && field != Field::kSource;
    std::optional<std::uint32_t> largest;  // its code
    if (every_entry_has_one) {
      std::uint64_t most = 0;
      dict.for_each([&](const auto& v) {
        if (v.payload.size() > most) {
          most = v.payload.size();
          largest = v.code;
        }
      });
    }
    std::uint64_t others = 0;
    dict.for_each([&](const auto& v) {
      if (v.code == largest) return;
      std::uint64_t n = 0;
      if (v.payload.is_big()) {
        const Bitmap* pair[] = {bitmap, &v.payload.bitmap(Space::kCreation)};
        n = and_cardinality(pair);
      } else {
        for (const std::uint32_t slot : v.payload.small_slots()) n += bitmap->contains(slot);
      }
      others += n;
      if (n > 0) by_code.emplace_back(v.code, n);
    });
    if (largest && result.totalElements > others) by_code.emplace_back(*largest, result.totalElements - others);
  }
  std::uint64_t counted = 0;
  for (const auto& [code, n] : by_code) {
    TextScratch scratch;
    result.counts.emplace_back(dict.at(code).text.view(scratch), n);
    counted += n;
  }
  result.missing = result.totalElements - counted;
  std::sort(result.counts.begin(), result.counts.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  return result;
}

}  // namespace caserepo::engine
