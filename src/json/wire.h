// The SPEC's JSON wire format (CLI now, REST service later): requests in,
// entries, pages and errors out. Every malformed input is InvalidArgument.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "caserepo/caserepo.h"

namespace caserepo::json {

using Json = nlohmann::ordered_json;  // keeps the data model's field order in output

// Parses text as one JSON value; InvalidArgument on a syntax error or when
// the text is larger than `max_bytes`.
Result<Json> parse(std::string_view text, std::size_t max_bytes = 1 << 20);

Result<CreateRequest> parse_create(const Json& j);
Result<Patch> parse_patch(const Json& j);

// A write command, as a stream message carries it (docs/events.md) and the
// CLI's `apply` reads it: {"op":"create","request":{...}},
// {"op":"update","caseId":"...","patch":{...}}, {"op":"remove","caseId":"..."}.
// Position and time are the stream's, not the message's: left 0.
Result<StreamCommand> parse_command(const Json& j);

struct SearchRequest {
  Filter filter;
  PageRequest page;
};
Result<SearchRequest> parse_search(const Json& j);

// A facet request: {"field":"status","filter":{...a search request without
// page, size, sort or pageToken...}}.
struct FacetRequest {
  FacetField field = FacetField::kStatus;
  Filter filter;
};
Result<FacetRequest> parse_facets(const Json& j);
std::string_view to_string(FacetField f);

// ISO-8601 UTC with milliseconds; on input the fraction and the offset are
// optional (no offset = UTC).
Result<Timestamp> parse_timestamp(std::string_view text);
std::string format_timestamp(Timestamp t);

Json to_json(const Entry& e);
Json to_json(const std::vector<Entry>& entries);
Json to_json(const SearchResult& r);
Json to_json(const Stats& s);
Json to_json(const Error& e);  // {"error":"NotFound","message":"..."}
// {"field":"status","counts":{"OPEN":123,...},"missing":0,"totalElements":N}
Json to_json(FacetField field, const FacetResult& r);

// The service's hot responses written straight into text: the same bytes as
// to_json(x).dump(), without building a JSON value (whose allocations were
// most of a search's cost over HTTP).
std::string dump(const Entry& e);
std::string dump(const EntryView& e);
std::string dump(const std::vector<Entry>& entries);
std::string dump(const SearchResult& r);
// A JSON string literal of `s` appended to `out`, escaped as dump() does
// (UTF-8 kept as it is: pass valid UTF-8).
void append_string(std::string& out, std::string_view s);

}  // namespace caserepo::json
