// Table-driven bad input: every rule of the SPEC's error section gives a
// typed error, and the repository is exactly as it was before the call.
#include <gtest/gtest.h>

#include <functional>

#include "support/fixtures.h"

namespace caserepo::testing {
namespace {

struct BadCall {
  const char* rule;
  ErrorCode expected;
  // Makes the call on a repository holding the seeded case "case-1".
  std::function<std::optional<Error>(Repository&)> call;
};

template <class T>
std::optional<Error> error_of(const Result<T>& r) {
  return r.ok() ? std::nullopt : std::optional<Error>(r.error());
}

CreateRequest valid() {
  CreateRequest r = request("12345678901", "LOAN", "OPEN");
  r.businessKey = "BK-1";
  return r;
}

std::optional<Error> create_with(Repository& repo, std::function<void(CreateRequest&)> change) {
  CreateRequest r = valid();
  change(r);
  return error_of(repo.create(r));
}

std::optional<Error> update_with(Repository& repo, std::function<void(Patch&)> change) {
  Patch p;
  change(p);
  return error_of(repo.update("case-1", p));
}

std::optional<Error> search_with(Repository& repo, std::function<void(Filter&, PageRequest&)> change) {
  Filter f;
  PageRequest p;
  change(f, p);
  return error_of(repo.search(f, p));
}

// A token of the seeded repository for `filter`/`sort`, altered by `change`.
std::string token(Repository& repo, const Filter& filter, SortOrder sort) {
  PageRequest p;
  p.sort = sort;
  p.size = 1;
  return *repo.search(filter, p)->nextPageToken;
}

const std::string k257(257, 'a');
const std::string k4097(4097, 'a');

std::vector<BadCall> bad_calls() {
  using E = ErrorCode;
  Timestamp t0 = Timestamp(std::chrono::milliseconds(1735689600000LL));
  return {
      {"create: caseType missing", E::kInvalidArgument, [](Repository& r) { return create_with(r, [](auto& q) { q.caseType.reset(); }); }},
      {"create: clientId empty", E::kInvalidArgument, [](Repository& r) { return create_with(r, [](auto& q) { q.clientId = ""; }); }},
      {"create: clientType empty", E::kInvalidArgument, [](Repository& r) { return create_with(r, [](auto& q) { q.clientType = ""; }); }},
      {"create: status empty", E::kInvalidArgument, [](Repository& r) { return create_with(r, [](auto& q) { q.status = ""; }); }},
      {"create: caseType empty", E::kInvalidArgument, [](Repository& r) { return create_with(r, [](auto& q) { q.caseType = ""; }); }},
      {"create: caseId empty", E::kInvalidArgument, [](Repository& r) { return create_with(r, [](auto& q) { q.caseId = ""; }); }},
      {"create: businessKey empty", E::kInvalidArgument, [](Repository& r) { return create_with(r, [](auto& q) { q.businessKey = ""; }); }},
      {"create: source empty", E::kInvalidArgument, [](Repository& r) { return create_with(r, [](auto& q) { q.source = ""; }); }},
      {"create: statusDescription empty", E::kInvalidArgument, [](Repository& r) { return create_with(r, [](auto& q) { q.statusDescription = ""; }); }},
      {"create: clientId over 256 bytes", E::kInvalidArgument, [](Repository& r) { return create_with(r, [](auto& q) { q.clientId = k257; }); }},
      {"create: caseId over 256 bytes", E::kInvalidArgument, [](Repository& r) { return create_with(r, [](auto& q) { q.caseId = k257; }); }},
      {"create: statusDescription over 4096 bytes", E::kInvalidArgument, [](Repository& r) { return create_with(r, [](auto& q) { q.statusDescription = k4097; }); }},
      {"create: invalid UTF-8 (lone continuation)", E::kInvalidArgument, [](Repository& r) { return create_with(r, [](auto& q) { q.status = "OP\x80"; }); }},
      {"create: invalid UTF-8 (overlong)", E::kInvalidArgument, [](Repository& r) { return create_with(r, [](auto& q) { q.status = "\xc0\xaf"; }); }},
      {"create: invalid UTF-8 (surrogate)", E::kInvalidArgument, [](Repository& r) { return create_with(r, [](auto& q) { q.status = "\xed\xa0\x80"; }); }},
      {"create: invalid UTF-8 (truncated)", E::kInvalidArgument, [](Repository& r) { return create_with(r, [](auto& q) { q.status = "\xe2\x82"; }); }},
      {"create: invalid UTF-8 (above U+10FFFF)", E::kInvalidArgument, [](Repository& r) { return create_with(r, [](auto& q) { q.status = "\xf4\x90\x80\x80"; }); }},
      {"create: NUL in a field", E::kInvalidArgument, [](Repository& r) { return create_with(r, [](auto& q) { q.clientId = std::string("12\0 34", 5); }); }},
      {"create: joins a case of another client", E::kConflict, [](Repository& r) { return create_with(r, [](auto& q) { q.caseId = "case-1"; q.clientId = "other"; }); }},
      {"create: joins a case of another type", E::kConflict, [](Repository& r) { return create_with(r, [](auto& q) { q.caseId = "case-1"; q.caseType = "CARD"; }); }},
      {"create: business key joins a case of another client", E::kConflict, [](Repository& r) { return create_with(r, [](auto& q) { q.clientId = "other"; }); }},
      {"update: empty patch", E::kInvalidArgument, [](Repository& r) { return update_with(r, [](auto&) {}); }},
      {"update: status empty", E::kInvalidArgument, [](Repository& r) { return update_with(r, [](auto& p) { p.status = ""; }); }},
      {"update: clientId over 256 bytes", E::kInvalidArgument, [](Repository& r) { return update_with(r, [](auto& p) { p.clientId = k257; }); }},
      {"update: statusDescription over 4096 bytes", E::kInvalidArgument, [](Repository& r) { return update_with(r, [](auto& p) { p.statusDescription = k4097; }); }},
      {"update: businessKey invalid UTF-8", E::kInvalidArgument, [](Repository& r) { return update_with(r, [](auto& p) { p.businessKey = "\xff"; }); }},
      {"update: one good field, one bad", E::kInvalidArgument, [](Repository& r) { return update_with(r, [](auto& p) { p.status = "CLOSED"; p.source = ""; }); }},
      {"update: unknown case", E::kNotFound, [](Repository& r) { Patch p; p.status = "X"; return error_of(r.update("nope", p)); }},
      {"remove: unknown case", E::kNotFound, [](Repository& r) { return error_of(r.remove("nope")); }},
      {"get: unknown case", E::kNotFound, [](Repository& r) { return error_of(r.get("nope")); }},
      {"history: unknown case", E::kNotFound, [](Repository& r) { return error_of(r.history("nope")); }},
      {"search: size 0", E::kInvalidArgument, [](Repository& r) { return search_with(r, [](auto&, auto& p) { p.size = 0; }); }},
      {"search: size 1001", E::kInvalidArgument, [](Repository& r) { return search_with(r, [](auto&, auto& p) { p.size = 1001; }); }},
      {"search: page beyond 2^32", E::kInvalidArgument, [](Repository& r) { return search_with(r, [](auto&, auto& p) { p.page = std::uint64_t{1} << 40; }); }},
      {"search: unknown sort", E::kInvalidArgument, [](Repository& r) { return search_with(r, [](auto&, auto& p) { p.sort = static_cast<SortOrder>(9); }); }},
      {"search: inverted creationDate range", E::kInvalidArgument, [t0](Repository& r) { return search_with(r, [t0](auto& f, auto&) { f.creationDate.from = t0 + std::chrono::milliseconds(1); f.creationDate.to = t0; }); }},
      {"search: inverted updateDate range", E::kInvalidArgument, [t0](Repository& r) { return search_with(r, [t0](auto& f, auto&) { f.updateDate.from = t0 + std::chrono::milliseconds(1); f.updateDate.to = t0; }); }},
      {"search: empty filter value", E::kInvalidArgument, [](Repository& r) { return search_with(r, [](auto& f, auto&) { f.status = {"OPEN", ""}; }); }},
      {"search: filter value over 256 bytes", E::kInvalidArgument, [](Repository& r) { return search_with(r, [](auto& f, auto&) { f.clientId = {k257}; }); }},
      {"search: filter value invalid UTF-8", E::kInvalidArgument, [](Repository& r) { return search_with(r, [](auto& f, auto&) { f.caseType = {"\xff"}; }); }},
      {"search: too many filter values", E::kInvalidArgument, [](Repository& r) { return search_with(r, [](auto& f, auto&) { f.caseId.assign(1025, "x"); }); }},
      {"search: token with a page number", E::kInvalidArgument, [](Repository& r) { std::string t = token(r, {}, SortOrder::kCreationDateDesc); return search_with(r, [&](auto&, auto& p) { p.token = t; p.page = 1; }); }},
      {"search: token with one character changed", E::kInvalidArgument, [](Repository& r) { std::string t = token(r, {}, SortOrder::kCreationDateDesc); t[20] = t[20] == '0' ? '1' : '0'; return search_with(r, [&](auto&, auto& p) { p.token = t; }); }},
      {"search: token truncated", E::kInvalidArgument, [](Repository& r) { std::string t = token(r, {}, SortOrder::kCreationDateDesc); t.pop_back(); return search_with(r, [&](auto&, auto& p) { p.token = t; }); }},
      {"search: token not hex", E::kInvalidArgument, [](Repository& r) { std::string t(44, 'z'); return search_with(r, [&](auto&, auto& p) { p.token = t; }); }},
      {"search: token of another filter", E::kInvalidArgument, [](Repository& r) { std::string t = token(r, {}, SortOrder::kCreationDateDesc); return search_with(r, [&](auto& f, auto& p) { f.status = {"OPEN"}; p.token = t; }); }},
      {"search: token of another sort", E::kInvalidArgument, [](Repository& r) { std::string t = token(r, {}, SortOrder::kCreationDateDesc); return search_with(r, [&](auto&, auto& p) { p.sort = SortOrder::kUpdateDateDesc; p.token = t; }); }},
  };
}

class ValidationTest : public ::testing::TestWithParam<BadCall> {};

TEST_P(ValidationTest, IsRefusedWithATypedErrorAndChangesNothing) {
  ManualClock clock;
  Options options;
  options.clock = clock.function();
  Repository repo(options);
  CreateRequest seed = valid();
  seed.caseId = "case-1";
  ASSERT_TRUE(repo.create(seed).ok());
  seed.caseId = "case-2";
  seed.businessKey.reset();
  ASSERT_TRUE(repo.create(seed).ok());
  clock.advance(5);
  const std::vector<Entry> before = all_entries(repo);
  const Stats stats_before = repo.stats();

  std::optional<Error> error = GetParam().call(repo);

  ASSERT_TRUE(error.has_value()) << GetParam().rule << " was accepted";
  EXPECT_EQ(error->code(), GetParam().expected) << error->to_string();
  EXPECT_FALSE(error->message().empty());
  EXPECT_EQ(all_entries(repo), before);
  EXPECT_EQ(repo.stats().entries, stats_before.entries);
  EXPECT_EQ(repo.stats().cases, stats_before.cases);
}

INSTANTIATE_TEST_SUITE_P(Spec, ValidationTest, ::testing::ValuesIn(bad_calls()), [](const auto& info) {
  std::string name;
  for (char c : std::string(info.param.rule)) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return name;
});

TEST(ValidationLimitsTest, ValuesExactlyAtTheLimitsAreAccepted) {
  Repository repo;
  CreateRequest r = valid();
  r.clientId = std::string(256, 'a');
  r.statusDescription = std::string(4096, 'd');
  r.status = "Zażółć 🙂";
  EXPECT_TRUE(repo.create(r).ok());
  Filter f;
  f.caseId.assign(1024, "x");
  EXPECT_TRUE(repo.search(f).ok());
  PageRequest p;
  p.size = 1000;
  EXPECT_TRUE(repo.search({}, p).ok());
}

TEST(ValidationLimitsTest, AnEmptyDateRangeIsValidAndMatchesNothing) {
  Repository repo;
  ASSERT_TRUE(repo.create(valid()).ok());
  Filter f;
  f.creationDate.from = f.creationDate.to = Timestamp(std::chrono::milliseconds(5));
  auto r = repo.search(f);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->totalElements, 0u);
}

}  // namespace
}  // namespace caserepo::testing
