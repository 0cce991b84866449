#include "json/wire.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace caserepo::json {
namespace {

Error invalid(std::string m) { return Error::InvalidArgument(std::move(m)); }

Result<std::string> text_field(const Json& v, const char* name) {
  if (!v.is_string()) return invalid(std::string("'") + name + "' must be a string");
  return v.get<std::string>();
}

Result<std::optional<std::string>> nullable_field(const Json& v, const char* name) {
  if (v.is_null()) return std::optional<std::string>();
  auto s = text_field(v, name);
  if (!s.ok()) return s.error();
  return std::optional<std::string>(std::move(*s));
}

// A search field: a string or an array of strings.
Result<std::vector<std::string>> values_field(const Json& v, const char* name) {
  std::vector<std::string> out;
  if (v.is_string()) {
    out.push_back(v.get<std::string>());
  } else if (v.is_array()) {
    for (const Json& item : v) {
      if (!item.is_string()) return invalid(std::string("'") + name + "' must hold strings");
      out.push_back(item.get<std::string>());
    }
  } else {
    return invalid(std::string("'") + name + "' must be a string or an array of strings");
  }
  return out;
}

Result<std::uint64_t> unsigned_field(const Json& v, const char* name) {
  if (!v.is_number_integer() || (v.is_number_integer() && !v.is_number_unsigned() && v.get<std::int64_t>() < 0)) {
    return invalid(std::string("'") + name + "' must be a non-negative integer");
  }
  return v.get<std::uint64_t>();
}

// Fixed-width unsigned decimal digits only: from_chars alone would accept a
// sign ("-1" as an hour).
template <class T>
bool read_int(std::string_view s, T& out) {
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

Result<Json> parse(std::string_view text, std::size_t max_bytes) {
  if (text.size() > max_bytes) return invalid("request is larger than " + std::to_string(max_bytes) + " bytes");
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return invalid("request is not valid JSON");
  return j;
}

Result<CreateRequest> parse_create(const Json& j) {
  if (!j.is_object()) return invalid("a create request must be a JSON object");
  CreateRequest r;
  bool has_client = false;
  for (const auto& [key, v] : j.items()) {
    if (key == "caseId" || key == "businessKey" || key == "caseType" || key == "statusDescription" || key == "source") {
      auto s = nullable_field(v, key.c_str());
      if (!s.ok()) return s.error();
      if (key == "caseId") r.caseId = *s;
      if (key == "businessKey") r.businessKey = *s;
      if (key == "caseType") r.caseType = *s;
      if (key == "statusDescription") r.statusDescription = *s;
      if (key == "source") r.source = *s;
    } else if (key == "clientId" || key == "client" || key == "clientType" || key == "status") {
      auto s = text_field(v, key.c_str());
      if (!s.ok()) return s.error();
      if (key == "clientId" || key == "client") {
        if (has_client) return invalid("'client' and 'clientId' both given");
        has_client = true;
        r.clientId = *s;
      }
      if (key == "clientType") r.clientType = *s;
      if (key == "status") r.status = *s;
    } else {
      return invalid("unknown field '" + key + "' in create request");
    }
  }
  if (!has_client) return invalid("'clientId' is required");
  if (!j.contains("clientType")) return invalid("'clientType' is required");
  if (!j.contains("status")) return invalid("'status' is required");
  return r;
}

Result<Patch> parse_patch(const Json& j) {
  if (!j.is_object()) return invalid("a patch must be a JSON object");
  Patch p;
  for (const auto& [key, v] : j.items()) {
    if (key == "caseType" || key == "clientId" || key == "client" || key == "clientType" || key == "status") {
      auto s = text_field(v, key.c_str());
      if (!s.ok()) return s.error();
      if (key == "caseType") p.caseType = *s;
      if (key == "clientId" || key == "client") {
        if (p.clientId) return invalid("'client' and 'clientId' both given");
        p.clientId = *s;
      }
      if (key == "clientType") p.clientType = *s;
      if (key == "status") p.status = *s;
    } else if (key == "businessKey" || key == "statusDescription" || key == "source") {
      auto s = nullable_field(v, key.c_str());
      if (!s.ok()) return s.error();
      NullableChange change = *s;
      if (key == "businessKey") p.businessKey = change;
      if (key == "statusDescription") p.statusDescription = change;
      if (key == "source") p.source = change;
    } else {
      return invalid("unknown field '" + key + "' in patch");
    }
  }
  return p;
}

Result<StreamCommand> parse_command(const Json& j) {
  if (!j.is_object()) return invalid("a command must be a JSON object");
  auto op = j.find("op");
  if (op == j.end() || !op->is_string()) return invalid("a command needs a string 'op'");
  StreamCommand c;
  std::vector<std::string_view> allowed;
  if (*op == "create") {
    c.kind = StreamCommand::Kind::kCreate;
    allowed = {"op", "request"};
    auto request = j.find("request");
    if (request == j.end()) return invalid("'create' needs a 'request'");
    auto r = parse_create(*request);
    if (!r.ok()) return r.error();
    c.create = std::move(*r);
  } else if (*op == "update" || *op == "remove") {
    c.kind = *op == "update" ? StreamCommand::Kind::kUpdate : StreamCommand::Kind::kRemove;
    allowed = {"op", "caseId"};
    auto id = j.find("caseId");
    if (id == j.end() || !id->is_string()) return invalid("'" + op->get<std::string>() + "' needs a string 'caseId'");
    c.caseId = id->get<std::string>();
    if (c.kind == StreamCommand::Kind::kUpdate) {
      allowed.push_back("patch");
      auto patch = j.find("patch");
      if (patch == j.end()) return invalid("'update' needs a 'patch'");
      auto p = parse_patch(*patch);
      if (!p.ok()) return p.error();
      c.patch = std::move(*p);
    }
  } else {
    return invalid("unknown op '" + op->get<std::string>() + "' (create, update or remove)");
  }
  for (const auto& [key, v] : j.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) return invalid("unknown field '" + key + "' in a command");
  }
  return c;
}

Result<SearchRequest> parse_search(const Json& j) {
  if (!j.is_object()) return invalid("a search request must be a JSON object");
  SearchRequest r;
  Filter& f = r.filter;
  for (const auto& [key, v] : j.items()) {
    std::vector<std::string>* values = key == "caseId"       ? &f.caseId
                                       : key == "businessKey" ? &f.businessKey
                                       : key == "caseType"    ? &f.caseType
                                       : key == "clientId" || key == "client" ? &f.clientId
                                       : key == "clientType"  ? &f.clientType
                                       : key == "status"      ? &f.status
                                       : key == "source"      ? &f.source
                                                              : nullptr;
    if (values) {
      auto parsed = values_field(v, key.c_str());
      if (!parsed.ok()) return parsed.error();
      values->insert(values->end(), parsed->begin(), parsed->end());
      continue;
    }
    std::optional<Timestamp>* date = key == "creationDateFrom" ? &f.creationDate.from
                                     : key == "creationDateTo" ? &f.creationDate.to
                                     : key == "updateDateFrom" ? &f.updateDate.from
                                     : key == "updateDateTo"   ? &f.updateDate.to
                                                               : nullptr;
    if (date) {
      if (!v.is_string()) return invalid("'" + key + "' must be an ISO-8601 date string");
      auto t = parse_timestamp(v.get<std::string>());
      if (!t.ok()) return invalid("'" + key + "': " + t.error().message());
      *date = *t;
    } else if (key == "currentOnly") {
      if (!v.is_boolean()) return invalid("'currentOnly' must be true or false");
      f.currentOnly = v.get<bool>();
    } else if (key == "page") {
      auto n = unsigned_field(v, "page");
      if (!n.ok()) return n.error();
      r.page.page = *n;
    } else if (key == "size") {
      auto n = unsigned_field(v, "size");
      if (!n.ok()) return n.error();
      if (*n < 1 || *n > kMaxPageSize) return invalid("'size' must be 1.." + std::to_string(kMaxPageSize));
      r.page.size = static_cast<std::uint32_t>(*n);
    } else if (key == "sort") {
      if (!v.is_string()) return invalid("'sort' must be a string");
      const std::string s = v.get<std::string>();
      if (s == "creationDate,desc") r.page.sort = SortOrder::kCreationDateDesc;
      else if (s == "creationDate,asc") r.page.sort = SortOrder::kCreationDateAsc;
      else if (s == "updateDate,desc") r.page.sort = SortOrder::kUpdateDateDesc;
      else if (s == "updateDate,asc") r.page.sort = SortOrder::kUpdateDateAsc;
      else return invalid("'sort' must be creationDate,desc|creationDate,asc|updateDate,desc|updateDate,asc");
    } else if (key == "pageToken") {
      if (!v.is_string()) return invalid("'pageToken' must be a string");
      r.page.token = v.get<std::string>();
      if (r.page.token.empty()) return invalid("'pageToken' is empty");
    } else {
      return invalid("unknown field '" + key + "' in search request");
    }
  }
  if (j.contains("page") && j.contains("pageToken")) return invalid("'page' and 'pageToken' cannot be combined");
  return r;
}

Result<Timestamp> parse_timestamp(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM|-HH:MM]
  int y, mo, d, h, mi, sec;
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':' ||
      !read_int(s.substr(0, 4), y) || !read_int(s.substr(5, 2), mo) || !read_int(s.substr(8, 2), d) ||
      !read_int(s.substr(11, 2), h) || !read_int(s.substr(14, 2), mi) || !read_int(s.substr(17, 2), sec)) {
    return invalid("not an ISO-8601 date-time: '" + std::string(s.substr(0, 40)) + "'");
  }
  const std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(mo)),
                                        std::chrono::day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 59 || y < 1) return invalid("date-time out of range: '" + std::string(s) + "'");
  std::size_t pos = 19;
  std::int64_t ms = 0;
  if (pos < s.size() && s[pos] == '.') {
    std::size_t digits = 0;
    ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 3) ms = ms * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0 || digits > 9) return invalid("bad fraction of a second in '" + std::string(s) + "'");
    for (std::size_t i = digits; i < 3; ++i) ms *= 10;
  }
  std::int64_t offset_minutes = 0;
  if (pos < s.size()) {
    if (s[pos] == 'Z' && pos + 1 == s.size()) {
      ++pos;
    } else if ((s[pos] == '+' || s[pos] == '-') && s.size() == pos + 6 && s[pos + 3] == ':') {
      int oh, om;
      if (!read_int(s.substr(pos + 1, 2), oh) || !read_int(s.substr(pos + 4, 2), om) || oh > 23 || om > 59) {
        return invalid("bad UTC offset in '" + std::string(s) + "'");
      }
      offset_minutes = (s[pos] == '-' ? -1 : 1) * (oh * 60 + om);
      pos = s.size();
    } else {
      return invalid("trailing characters in date-time '" + std::string(s) + "'");
    }
  }
  const auto days = std::chrono::sys_days(ymd);
  return Timestamp(std::chrono::duration_cast<std::chrono::milliseconds>(days.time_since_epoch()) +
                   std::chrono::hours(h) + std::chrono::minutes(mi) + std::chrono::seconds(sec) +
                   std::chrono::milliseconds(ms) - std::chrono::minutes(offset_minutes));
}

std::string format_timestamp(Timestamp t) {
  const auto days = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd{days};
  const std::int64_t ms = (t - days).count();
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), static_cast<long long>(ms / 3600000),
                static_cast<long long>(ms / 60000 % 60), static_cast<long long>(ms / 1000 % 60),
                static_cast<long long>(ms % 1000));
  return buf;
}

void append_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out.push_back(kHex[static_cast<unsigned char>(c) >> 4]);
          out.push_back(kHex[static_cast<unsigned char>(c) & 15]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

namespace {

template <class S>
void append_nullable(std::string& out, const std::optional<S>& s) {
  if (s) append_string(out, *s); else out += "null";
}

void append_timestamp(std::string& out, Timestamp t) {
  const auto days = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd{days};
  const int year = static_cast<int>(ymd.year());
  if (year < 1 || year > 9999) {  // outside what digits below write
    append_string(out, format_timestamp(t));
    return;
  }
  const std::int64_t ms = (t - days).count();
  char buf[26] = "\"0000-00-00T00:00:00.000Z";
  auto put = [&](int at, std::int64_t v, int width) {
    for (int i = width - 1; i >= 0; --i, v /= 10) buf[at + i] = static_cast<char>('0' + v % 10);
  };
  put(1, year, 4);
  put(6, static_cast<unsigned>(ymd.month()), 2);
  put(9, static_cast<unsigned>(ymd.day()), 2);
  put(12, ms / 3600000, 2);
  put(15, ms / 60000 % 60, 2);
  put(18, ms / 1000 % 60, 2);
  put(21, ms % 1000, 3);
  out.append(buf, 25);
  out.push_back('"');
}

template <class E>  // Entry or EntryView
void append_entry(std::string& out, const E& e) {
  out += "{\"caseId\":";
  append_string(out, e.caseId);
  out += ",\"businessKey\":";
  append_nullable(out, e.businessKey);
  out += ",\"caseType\":";
  append_string(out, e.caseType);
  out += ",\"clientId\":";
  append_string(out, e.clientId);
  out += ",\"clientType\":";
  append_string(out, e.clientType);
  out += ",\"status\":";
  append_string(out, e.status);
  out += ",\"statusDescription\":";
  append_nullable(out, e.statusDescription);
  out += ",\"source\":";
  append_nullable(out, e.source);
  out += ",\"creationDate\":";
  append_timestamp(out, e.creationDate);
  out += ",\"updateDate\":";
  append_timestamp(out, e.updateDate);
  out.push_back('}');
}

void append_entries(std::string& out, const std::vector<Entry>& entries) {
  out.push_back('[');
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) out.push_back(',');
    append_entry(out, entries[i]);
  }
  out.push_back(']');
}

}  // namespace

std::string dump(const Entry& e) {
  std::string out;
  out.reserve(320);
  append_entry(out, e);
  return out;
}

std::string dump(const EntryView& e) {
  std::string out;
  out.reserve(320);
  append_entry(out, e);
  return out;
}

std::string dump(const std::vector<Entry>& entries) {
  std::string out;
  out.reserve(320 * entries.size() + 2);
  append_entries(out, entries);
  return out;
}

std::string dump(const SearchResult& r) {
  std::string out;
  out.reserve(320 * r.content.size() + 160);
  out += "{\"content\":";
  append_entries(out, r.content);
  out += ",\"page\":" + std::to_string(r.page) + ",\"size\":" + std::to_string(r.size) +
         ",\"totalElements\":" + std::to_string(r.totalElements) + ",\"totalPages\":" + std::to_string(r.totalPages) +
         ",\"nextPageToken\":";
  if (r.nextPageToken) append_string(out, *r.nextPageToken); else out += "null";
  if (!r.entryTokens.empty()) {  // asked for by a cluster router only (cluster/partition_node.cc)
    out += ",\"entryTokens\":[";
    for (std::size_t i = 0; i < r.entryTokens.size(); ++i) {
      if (i > 0) out.push_back(',');
      append_string(out, r.entryTokens[i]);
    }
    out.push_back(']');
  }
  out.push_back('}');
  return out;
}

Json to_json(const Entry& e) {
  auto nullable = [](const std::optional<std::string>& s) { return s ? Json(*s) : Json(nullptr); };
  return Json{{"caseId", e.caseId},
              {"businessKey", nullable(e.businessKey)},
              {"caseType", e.caseType},
              {"clientId", e.clientId},
              {"clientType", e.clientType},
              {"status", e.status},
              {"statusDescription", nullable(e.statusDescription)},
              {"source", nullable(e.source)},
              {"creationDate", format_timestamp(e.creationDate)},
              {"updateDate", format_timestamp(e.updateDate)}};
}

Json to_json(const std::vector<Entry>& entries) {
  Json out = Json::array();
  for (const Entry& e : entries) out.push_back(to_json(e));
  return out;
}

std::string_view to_string(FacetField f) {
  switch (f) {
    case FacetField::kStatus: return "status";
    case FacetField::kCaseType: return "caseType";
    case FacetField::kClientType: return "clientType";
    case FacetField::kSource: return "source";
  }
  return "?";
}

Result<FacetRequest> parse_facets(const Json& j) {
  if (!j.is_object()) return invalid("a facet request must be a JSON object");
  FacetRequest r;
  bool has_field = false;
  for (const auto& [key, v] : j.items()) {
    if (key == "field") {
      if (!v.is_string()) return invalid("'field' must be a string");
      const std::string name = v.get<std::string>();
      bool known = false;
      for (FacetField f : {FacetField::kStatus, FacetField::kCaseType, FacetField::kClientType, FacetField::kSource}) {
        if (name == to_string(f)) {
          r.field = f;
          known = true;
        }
      }
      if (!known) return invalid("'field' must be status, caseType, clientType or source");
      has_field = true;
    } else if (key == "filter") {
      if (!v.is_object()) return invalid("'filter' must be a JSON object");
      for (const char* paging : {"page", "size", "sort", "pageToken"}) {
        if (v.contains(paging)) return invalid(std::string("'") + paging + "' has no meaning in a facet filter");
      }
      auto s = parse_search(v);
      if (!s.ok()) return s.error();
      r.filter = std::move(s->filter);
    } else {
      return invalid("unknown field '" + key + "' in facet request");
    }
  }
  if (!has_field) return invalid("'field' is required");
  return r;
}

Json to_json(FacetField field, const FacetResult& r) {
  Json counts = Json::object();
  for (const auto& [value, n] : r.counts) counts[value] = n;
  return Json{{"field", to_string(field)}, {"counts", std::move(counts)}, {"missing", r.missing},
              {"totalElements", r.totalElements}};
}

Json to_json(const SearchResult& r) {
  Json j{{"content", to_json(r.content)},
         {"page", r.page},
         {"size", r.size},
         {"totalElements", r.totalElements},
         {"totalPages", r.totalPages},
         {"nextPageToken", r.nextPageToken ? Json(*r.nextPageToken) : Json(nullptr)}};
  if (!r.entryTokens.empty()) j["entryTokens"] = r.entryTokens;
  return j;
}

Json to_json(const Stats& s) {
  Json j{{"entries", s.entries},       {"cases", s.cases},         {"distinctClients", s.distinctClients},
         {"creates", s.creates},       {"updates", s.updates},     {"removes", s.removes},
         {"searches", s.searches},     {"rebuilds", s.rebuilds},   {"compacting", s.compacting},
         {"postingBytes", s.postingBytes}};
  if (s.persistent) {
    j["readOnly"] = s.readOnly;
    j["lastSeq"] = s.lastSeq;
    j["syncedSeq"] = s.syncedSeq;
    j["syncs"] = s.syncs;
    j["logBytesSinceCheckpoint"] = s.logBytesSinceCheckpoint;
    j["checkpoints"] = s.checkpoints;
    j["recoveredSnapshotEntries"] = s.recoveredSnapshotEntries;
    j["replayedRecords"] = s.replayedRecords;
    j["tailBytesDropped"] = s.tailBytesDropped;
    j["tailRepair"] = s.tailRepair.empty() ? Json(nullptr) : Json(s.tailRepair);
    j["recordsDroppedAtOpen"] = s.recordsDroppedAtOpen;
  }
  return j;
}

Json to_json(const Error& e) { return Json{{"error", std::string(to_string(e.code()))}, {"message", e.message()}}; }

}  // namespace caserepo::json
