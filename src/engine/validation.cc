#include "engine/validation.h"

#include <string>

#include "util/utf8.h"

namespace caserepo::engine {
namespace {

std::string quoted(std::string_view field) { return "'" + std::string(field) + "'"; }

std::optional<Error> check_optional(std::string_view field, const std::optional<std::string>& value,
                                    std::size_t max_bytes) {
  return value ? check_text(field, *value, max_bytes) : std::nullopt;
}

std::optional<Error> check_change(std::string_view field, const NullableChange& change, std::size_t max_bytes) {
  return change ? check_optional(field, *change, max_bytes) : std::nullopt;
}

std::optional<Error> check_values(std::string_view field, const std::vector<std::string>& values) {
  if (values.size() > kMaxFilterValues) {
    return Error::InvalidArgument("filter " + quoted(field) + " lists " + std::to_string(values.size()) +
                                  " values; at most " + std::to_string(kMaxFilterValues));
  }
  for (const std::string& v : values) {
    if (auto e = check_text(field, v, kMaxFieldBytes)) return e;
  }
  return std::nullopt;
}

std::optional<Error> check_range(std::string_view field, const DateRange& range) {
  if (range.from && range.to && *range.from > *range.to) {
    return Error::InvalidArgument("date range " + quoted(field) + " is inverted: from is after to");
  }
  return std::nullopt;
}

}  // namespace

std::optional<Error> check_text(std::string_view field, std::string_view value, std::size_t max_bytes) {
  if (value.empty()) return Error::InvalidArgument(quoted(field) + " is empty");
  if (value.size() > max_bytes) {
    return Error::InvalidArgument(quoted(field) + " has " + std::to_string(value.size()) + " bytes; at most " +
                                  std::to_string(max_bytes));
  }
  if (value.find('\0') != std::string_view::npos) return Error::InvalidArgument(quoted(field) + " contains NUL");
  if (!util::is_valid_utf8(value)) return Error::InvalidArgument(quoted(field) + " is not valid UTF-8");
  return std::nullopt;
}

std::optional<Error> check_create(const CreateRequest& r) {
  if (!r.caseType) return Error::InvalidArgument("'caseType' is required");
  if (auto e = check_optional("caseId", r.caseId, kMaxFieldBytes)) return e;
  if (auto e = check_optional("businessKey", r.businessKey, kMaxFieldBytes)) return e;
  if (auto e = check_text("caseType", *r.caseType, kMaxFieldBytes)) return e;
  if (auto e = check_text("clientId", r.clientId, kMaxFieldBytes)) return e;
  if (auto e = check_text("clientType", r.clientType, kMaxFieldBytes)) return e;
  if (auto e = check_text("status", r.status, kMaxFieldBytes)) return e;
  if (auto e = check_optional("statusDescription", r.statusDescription, kMaxDescriptionBytes)) return e;
  if (auto e = check_optional("source", r.source, kMaxFieldBytes)) return e;
  return std::nullopt;
}

std::optional<Error> check_patch(const Patch& p) {
  if (p.empty()) return Error::InvalidArgument("the patch changes no field");
  if (auto e = check_optional("caseType", p.caseType, kMaxFieldBytes)) return e;
  if (auto e = check_optional("clientId", p.clientId, kMaxFieldBytes)) return e;
  if (auto e = check_optional("clientType", p.clientType, kMaxFieldBytes)) return e;
  if (auto e = check_optional("status", p.status, kMaxFieldBytes)) return e;
  if (auto e = check_change("businessKey", p.businessKey, kMaxFieldBytes)) return e;
  if (auto e = check_change("statusDescription", p.statusDescription, kMaxDescriptionBytes)) return e;
  if (auto e = check_change("source", p.source, kMaxFieldBytes)) return e;
  return std::nullopt;
}

std::optional<Error> check_filter(const Filter& f) {
  if (auto e = check_values("caseId", f.caseId)) return e;
  if (auto e = check_values("businessKey", f.businessKey)) return e;
  if (auto e = check_values("caseType", f.caseType)) return e;
  if (auto e = check_values("clientId", f.clientId)) return e;
  if (auto e = check_values("clientType", f.clientType)) return e;
  if (auto e = check_values("status", f.status)) return e;
  if (auto e = check_values("source", f.source)) return e;
  if (auto e = check_range("creationDate", f.creationDate)) return e;
  if (auto e = check_range("updateDate", f.updateDate)) return e;
  return std::nullopt;
}

std::optional<Error> check_page(const PageRequest& p) {
  if (p.size < 1 || p.size > kMaxPageSize) {
    return Error::InvalidArgument("page size " + std::to_string(p.size) + " is outside 1.." +
                                  std::to_string(kMaxPageSize));
  }
  if (p.page >= kMaxPage) return Error::InvalidArgument("page " + std::to_string(p.page) + " is too large");
  if (!p.token.empty() && p.page != 0) {
    return Error::InvalidArgument("a page token cannot be combined with a page number");
  }
  if (static_cast<std::uint8_t>(p.sort) > static_cast<std::uint8_t>(SortOrder::kUpdateDateAsc)) {
    return Error::InvalidArgument("unknown sort order");
  }
  return std::nullopt;
}

}  // namespace caserepo::engine
