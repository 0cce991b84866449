// Inputs and output of search().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "caserepo/entry.h"

namespace caserepo {

// [from, to): `from` inclusive, `to` exclusive; either side may be open.
struct DateRange {
  std::optional<Timestamp> from;
  std::optional<Timestamp> to;

  bool empty_filter() const noexcept { return !from && !to; }
};

// Different fields combine with AND; the values of one field with OR.
// An empty vector means "any value". The empty Filter matches everything.
struct Filter {
  std::vector<std::string> caseId;
  std::vector<std::string> businessKey;
  std::vector<std::string> caseType;
  std::vector<std::string> clientId;
  std::vector<std::string> clientType;
  std::vector<std::string> status;
  std::vector<std::string> source;
  DateRange creationDate;
  DateRange updateDate;
  bool currentOnly = false;  // only each case's newest entry
};

// Ties break by entry order, so every order is total. Stored in page tokens:
// never renumber.
enum class SortOrder : std::uint8_t {
  kCreationDateDesc = 0,  // default: newest first
  kCreationDateAsc = 1,
  kUpdateDateDesc = 2,
  kUpdateDateAsc = 3,
};

inline constexpr std::uint32_t kDefaultPageSize = 20;
inline constexpr std::uint32_t kMaxPageSize = 1000;

// Either an offset page (`page`, 0-based) or a continuation `token` from a
// previous result (then `page` must stay 0). Tokens are keyset cursors: see
// docs/architecture.md for what they promise under concurrent writes.
struct PageRequest {
  SortOrder sort = SortOrder::kCreationDateDesc;
  std::uint64_t page = 0;
  std::uint32_t size = kDefaultPageSize;  // 1..kMaxPageSize
  std::string token;
  // Also return, per entry, the token of the page that starts right after
  // it (SearchResult::entryTokens): a caller that uses only the first k
  // entries of a page continues after them without another search.
  bool entryTokens = false;
};

struct SearchResult {
  std::vector<Entry> content;
  std::uint64_t page = 0;  // for a token page: matches before it / size
  std::uint32_t size = 0;
  std::uint64_t totalElements = 0;  // exact
  std::uint64_t totalPages = 0;
  std::optional<std::string> nextPageToken;  // absent when no match follows
  // With PageRequest::entryTokens, one per entry of `content`: the token of
  // the page after that entry (the last one's as nextPageToken, even when
  // no match follows). Empty otherwise.
  std::vector<std::string> entryTokens;
};

// The fields facets() counts by: the few-valued ones. Never renumber.
enum class FacetField : std::uint8_t { kStatus = 0, kCaseType = 1, kClientType = 2, kSource = 3 };

// For the entries matching a filter, how many hold each value of a field.
struct FacetResult {
  // Values that occur, by count descending (ties: by value); counts are exact.
  std::vector<std::pair<std::string, std::uint64_t>> counts;
  std::uint64_t missing = 0;        // matches with no value (source is nullable)
  std::uint64_t totalElements = 0;  // = the search's totalElements = sum(counts) + missing
};

}  // namespace caserepo
