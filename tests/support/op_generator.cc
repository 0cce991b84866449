#include "support/op_generator.h"

#include <array>

namespace caserepo::testing {
namespace {

constexpr std::array<const char*, 12> kCaseIds = {"case-0", "case-1", "case-2", "case-3", "case-4", "case-5",
                                                  "case-6", "case-7", "case-8", "case-9", "case-10", "case-11"};
constexpr std::array<const char*, 8> kBusinessKeys = {"bk-0", "bk-1", "bk-2", "bk-3", "bk-4", "bk-5", "bk-6", "bk-7"};
constexpr std::array<const char*, 4> kCaseTypes = {"LOAN", "CARD", "ACCOUNT", "MORTGAGE"};
constexpr std::array<const char*, 6> kClients = {"c0", "c1", "c2", "c3", "c4", "c5"};
constexpr std::array<const char*, 3> kClientTypes = {"PESEL", "NIP", "CIF"};
constexpr std::array<const char*, 5> kStatuses = {"NEW", "OPEN", "CLOSED", "REJECTED", "ESCALATED"};
constexpr std::array<const char*, 3> kSources = {"PORTAL", "MOBILE", "eximee"};
constexpr std::array<const char*, 4> kDescriptions = {"waiting", "Zażółć gęślą jaźń", "d2", "d3"};

}  // namespace

std::string OpGenerator::pick(std::span<const char* const> pool) {
  // Skewed towards the front of the pool: min of two uniform picks.
  const auto n = static_cast<std::uint32_t>(pool.size());
  return pool[std::min(c_.below(n), c_.below(n))];
}

// Usually the value; now and then a value the SPEC refuses.
std::optional<std::string> OpGenerator::maybe_bad(std::string value) {
  if (!c_.percent(2)) return value;
  switch (c_.below(5)) {
    case 0: return std::string();
    case 1: return std::string("bad\xff");
    case 2: return std::string("nul\0x", 5);
    case 3: return std::string(257, 'x');
    default: return std::string("\xed\xa0\x80");  // a UTF-16 surrogate
  }
}

std::string OpGenerator::case_id() {
  const auto known = h_.model().case_ids();
  if (!known.empty() && c_.percent(80)) return known[c_.below(static_cast<std::uint32_t>(known.size()))];
  return pick(kCaseIds);
}

CreateRequest OpGenerator::create_request() {
  CreateRequest r;
  std::optional<Entry> joined;
  if (c_.percent(40)) {
    r.caseId = c_.percent(50) ? case_id() : pick(kCaseIds);
    if (auto e = h_.model().get(*r.caseId); e.ok()) joined = *e;
  }
  if (c_.percent(40)) r.businessKey = pick(kBusinessKeys);
  r.caseType = pick(kCaseTypes);
  r.clientId = pick(kClients);
  if (joined && c_.percent(85)) {  // mostly a consistent follow-up, sometimes a Conflict
    r.caseType = joined->caseType;
    r.clientId = joined->clientId;
  }
  if (c_.percent(3)) r.caseType.reset();  // missing (or the application default)
  r.clientType = pick(kClientTypes);
  r.status = pick(kStatuses);
  if (c_.percent(70)) r.source = pick(kSources);
  if (c_.percent(30)) r.statusDescription = pick(kDescriptions);
  switch (c_.below(8)) {  // one field may turn bad
    case 0: r.clientId = *maybe_bad(r.clientId); break;
    case 1: r.status = *maybe_bad(r.status); break;
    case 2: if (r.businessKey) r.businessKey = maybe_bad(*r.businessKey); break;
    case 3: if (r.statusDescription) r.statusDescription = maybe_bad(*r.statusDescription); break;
    default: break;
  }
  return r;
}

Patch OpGenerator::patch() {
  Patch p;
  const std::uint32_t fields = c_.below(128);
  if (fields & 1) p.caseType = pick(kCaseTypes);
  if (fields & 2) p.clientId = pick(kClients);
  if (fields & 4) p.clientType = pick(kClientTypes);
  if (fields & 8) p.status = *maybe_bad(pick(kStatuses));
  if (fields & 16) p.businessKey = c_.percent(30) ? std::optional<std::string>() : pick(kBusinessKeys);
  if (fields & 32) p.statusDescription = c_.percent(30) ? std::optional<std::string>() : pick(kDescriptions);
  if (fields & 64) p.source = c_.percent(30) ? std::optional<std::string>() : pick(kSources);
  return p;
}

std::vector<std::string> OpGenerator::values(std::span<const char* const> pool, bool case_ids) {
  std::vector<std::string> out;
  const std::uint32_t n = 1 + (c_.percent(30) ? c_.below(3) : 0);
  for (std::uint32_t i = 0; i < n; ++i) {
    if (c_.percent(8)) {
      out.push_back("absent-value");
    } else {
      out.push_back(case_ids ? case_id() : pick(pool));
    }
  }
  if (c_.percent(1)) out.push_back(std::string("bad\xff"));
  return out;
}

DateRange OpGenerator::range(bool creation) {
  (void)creation;
  DateRange r;
  auto moment = [&] {
    return Timestamp(std::chrono::milliseconds(first_ms_ - 2 + c_.below(static_cast<std::uint32_t>(elapsed_ms_ + 5))));
  };
  const std::uint32_t sides = 1 + c_.below(3);
  if (sides & 1) r.from = moment();
  if (sides & 2) r.to = moment();
  if (r.from && r.to && *r.from > *r.to && c_.percent(90)) std::swap(r.from, r.to);
  return r;
}

Filter OpGenerator::filter(std::uint32_t mask) {
  Filter f;
  if (mask & 1) f.caseId = values(kCaseIds, true);
  if (mask & 2) f.businessKey = values(kBusinessKeys, false);
  if (mask & 4) f.caseType = values(kCaseTypes, false);
  if (mask & 8) f.clientId = values(kClients, false);
  if (mask & 16) f.clientType = values(kClientTypes, false);
  if (mask & 32) f.status = values(kStatuses, false);
  if (mask & 64) f.source = values(kSources, false);
  if (mask & 128) f.creationDate = range(true);
  if (mask & 256) f.updateDate = range(false);
  f.currentOnly = c_.percent(30);
  return f;
}

PageRequest OpGenerator::page() {
  PageRequest p;
  p.sort = static_cast<SortOrder>(c_.below(4));
  static constexpr std::uint32_t kSizes[] = {1, 2, 3, 7, 20, 50, 1000};
  p.size = kSizes[c_.below(7)];
  p.page = c_.percent(60) ? 0 : c_.below(6);
  if (c_.percent(1)) p.size = c_.percent(50) ? 0 : 1001;  // bad sizes
  return p;
}

std::string OpGenerator::step() {
  // Time moves by 0-3 ms (ties are common), and now and then backwards.
  const std::int64_t dt = c_.percent(2) ? -5 : static_cast<std::int64_t>(c_.below(4));
  h_.advance_clock(dt);
  elapsed_ms_ += dt > 0 ? dt : 0;
  const std::uint32_t op = c_.below(100);
  if (op < 55) return h_.create(create_request());
  if (op < 67) return h_.update(case_id(), patch());
  if (op < 71) return h_.remove(case_id());
  if (op < 76) return h_.get(case_id());
  if (op < 80) return h_.history(case_id());
  if (op == 99 && c_.percent(40)) return h_.reopen(c_.percent(50));  // with or without a checkpoint
  if (op >= 96) return h_.facets(filter(c_.below(512)), static_cast<FacetField>(c_.below(4)));
  return h_.search(filter(c_.below(512)), page(), static_cast<int>(c_.below(4)));
}

}  // namespace caserepo::testing
