// Search planning and execution: where a query becomes a page.
//
// 1. Resolve: each filter field's values become their Postings (a value no
//    entry has contributes nothing; a field none of whose values exist makes
//    the result empty at once); date ranges become position ranges by
//    binary search (creation dates are monotonic in slot order, update dates
//    in touch order).
// 2. Choose the space: creationDate sorts work on slots, updateDate sorts on
//    touch positions; every Posting holds both.
// 3. Choose the driver: the smallest of the terms and the date ranges.
//    - Probe plan (driver <= Tuning::probe_limit): walk the driver's few entries and
//      test every other condition on the entry itself.
//    - Bitmap plan: intersect the terms' bitmaps (smallest first) with the
//      current set and the date ranges.
//    Either way the matches are a sorted set with an exact count.
// 4. Page: offset pages by rank/select; tokens are turned into an offset by
//    ranking their key's position.
#pragma once

#include "caserepo/error.h"
#include "caserepo/query.h"
#include "engine/store.h"

namespace caserepo::engine {

// REQUIRES: filter and page passed check_filter/check_page.
Result<SearchResult> run_search(const Store& store, const Filter& filter, const PageRequest& page);

// The matches of `filter` counted per value of `field`: a small match set
// is tallied entry by entry; a large one is intersected with each value's
// posting bitmap by cardinality only. REQUIRES: filter passed check_filter.
FacetResult run_facets(const Store& store, const Filter& filter, Field field);

}  // namespace caserepo::engine
