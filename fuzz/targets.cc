#include "targets.h"

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>

#include "engine/page_token.h"
#include "support/differential_harness.h"
#include "support/op_generator.h"

namespace caserepo::fuzz {
namespace {

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "caserepo fuzz: %s\n", what.c_str());
  std::abort();
}

}  // namespace

void ops_differential(const std::uint8_t* data, std::size_t size) {
  testing::ByteChoices choices({data, size});
  // The tuning is chosen by the input too: both plans, frequent compaction.
  engine::Tuning tuning;
  switch (choices.below(3)) {
    case 0: tuning = engine::Tuning{0, 4}; break;
    case 1: tuning = engine::Tuning{std::numeric_limits<std::uint64_t>::max(), 4}; break;
    default: tuning = engine::Tuning{8, 16}; break;
  }
  testing::DifferentialHarness harness(choices.percent(20) ? "lowcode-app" : "", tuning);
  testing::OpGenerator ops(choices, harness);
  for (int i = 0; i < 400 && !choices.exhausted(); ++i) {
    if (auto diff = ops.step(); !diff.empty()) fail("operation " + std::to_string(i) + ": " + diff);
    if (choices.percent(3)) harness.compact();
  }
  if (auto diff = harness.compare_everything(); !diff.empty()) fail("final state: " + diff);
}

void page_token(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return;
  const auto sort = static_cast<SortOrder>(data[0] % 4);
  const std::string token(reinterpret_cast<const char*>(data + 1), size - 1);
  Filter filter;
  filter.status = {"OPEN"};
  const std::uint64_t digest = engine::filter_digest(filter);
  auto key = engine::decode_page_token(token, sort, digest);
  if (!key.ok() && key.error().code() != ErrorCode::kInvalidArgument) fail("decode: " + key.error().to_string());
  if (key.ok() && engine::encode_page_token(sort, digest, *key) != token) fail("decode accepted a non-canonical token");
  // Any token through a real search: a page or InvalidArgument.
  Repository repo;
  for (int i = 0; i < 30; ++i) {
    CreateRequest r;
    r.caseType = "LOAN";
    r.clientId = "c" + std::to_string(i % 4);
    r.clientType = "PESEL";
    r.status = i % 3 ? "OPEN" : "NEW";
    if (!repo.create(r).ok()) fail("create");
  }
  PageRequest page;
  page.sort = sort;
  page.size = 7;
  page.token = token;
  auto result = repo.search(filter, page);
  if (!result.ok() && result.error().code() != ErrorCode::kInvalidArgument) fail("search: " + result.error().to_string());
  if (result.ok() && result->content.size() > 7) fail("page larger than its size");
}

}  // namespace caserepo::fuzz
