// The engine against the brute-force ReferenceModel: random operations,
// every combination of filter dimensions, token walks with writes between
// pages. Each runs with three tunings so that the probe plan, the bitmap
// plan and index compaction are all exercised on small data.
#include <gtest/gtest.h>

#include <limits>

#include "support/differential_harness.h"
#include "support/op_generator.h"

namespace caserepo::testing {
namespace {

struct Config {
  const char* name;
  engine::Tuning tuning;
};

const Config kConfigs[] = {
    {"DefaultTuning", engine::Tuning{}},
    {"BitmapPlanOnly", engine::Tuning{0, 16, 1000, 0}},  // facets by posting intersection too
    {"ProbePlanOnly", engine::Tuning{std::numeric_limits<std::uint64_t>::max(), 16}},
    {"BitmapPlanMaterialised", engine::Tuning{0, 16, 0, 0}},
    {"BitmapPlanLazyShortSkips", engine::Tuning{0, 16, 3}},
    {"BitmapPlanLazyShortWalks", engine::Tuning{0, 16, 1000, 4096, 8}},  // sparse ANDs materialised
    {"BitmapPlanAllLazy", engine::Tuning{0, 16, 1000, 4096, 4096, 0}},    // every AND lazy, however small
    // Compaction a few positions per write (the tests also start it, in
    // both orders): reads and token walks between the steps, by the bitmap
    // plan (which reads every set a step moves an entry in).
    // Dictionaries grow a slot per intern (both tables read meanwhile), or at once.
    {"CompactedInSteps",
     engine::Tuning{.probe_limit = 0, .min_waste_for_rebuild = 16, .compaction_step = 5, .rehash_step = 1}},
    {"CompactedInStepsEntryByEntry",
     engine::Tuning{
         .probe_limit = 0, .min_waste_for_rebuild = 16, .compaction_step = 5, .compaction_bulk_values = 0, .rehash_step = 1}},
    {"CompactedAtOnce", engine::Tuning{.min_waste_for_rebuild = 16, .compaction_step = 0, .rehash_step = 0}},
};

void PrintTo(const Config& c, std::ostream* os) { *os << c.name; }

class DifferentialTest : public ::testing::TestWithParam<Config> {};

TEST_P(DifferentialTest, RandomOperationsMatchTheModel) {
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    DifferentialHarness harness({}, GetParam().tuning);
    RandomChoices choices(seed);
    OpGenerator ops(choices, harness);
    for (int i = 0; i < 2500; ++i) {
      ASSERT_EQ(ops.step(), "") << "seed " << seed << ", operation " << i;
      if (i % 100 == 50) harness.compact_in_steps();  // both orders: slots and update order
      if (i % 700 == 699) {
        harness.compact(/*update_order_only=*/i % 1400 == 1399);
        ASSERT_EQ(harness.compare_everything(), "") << "after compaction, seed " << seed;
      }
    }
    ASSERT_EQ(harness.compare_everything(), "") << "seed " << seed;
  }
}

TEST_P(DifferentialTest, EveryCombinationOfFilterFieldsMatchesTheModel) {
  DifferentialHarness harness({}, GetParam().tuning);
  RandomChoices choices(99);
  OpGenerator ops(choices, harness);
  for (int i = 0; i < 1500; ++i) ASSERT_EQ(ops.step(), "");
  ASSERT_GT(harness.model().size(), 300u);

  // 7 value fields + 2 date ranges: all 512 subsets, currentOnly on and off,
  // all four sorts; the first page, a later page and a token walk each.
  for (std::uint32_t mask = 0; mask < 512; ++mask) {
    for (bool current_only : {false, true}) {
      for (int sort = 0; sort < 4; ++sort) {
        Filter f = ops.filter(mask);
        f.currentOnly = current_only;
        PageRequest page;
        page.sort = static_cast<SortOrder>(sort);
        page.size = 1 + choices.below(12);
        ASSERT_EQ(harness.search(f, page, 3), "") << "mask " << mask << " currentOnly " << current_only;
        page.page = 1 + choices.below(4);
        ASSERT_EQ(harness.search(f, page, 0), "") << "mask " << mask << " currentOnly " << current_only;
      }
      Filter f = ops.filter(mask);
      f.currentOnly = current_only;
      for (int field = 0; field < 4; ++field) {
        ASSERT_EQ(harness.facets(f, static_cast<FacetField>(field)), "") << "mask " << mask << " currentOnly " << current_only;
      }
    }
  }
}

// An update-date sort with a narrow creation window and an update window
// open at its start: the update window's entries are many more, so the
// creation window's matches are mapped into update order and only those in
// the update window kept. Every end of the update window is tried, from
// before the first touch to after the last: updates leave holes in the
// update order, so some ends fall between the count of slots and the count
// of touch positions.
TEST_P(DifferentialTest, CreationWindowMappedIntoAnUpdateWindowOpenAtItsStart) {
  DifferentialHarness harness({}, GetParam().tuning);
  constexpr int kCases = 60;
  auto id = [](int i) { return "case-" + std::to_string(i); };
  for (int i = 0; i < kCases; ++i) {
    harness.advance_clock(10);
    CreateRequest r;
    r.caseId = id(i);
    r.caseType = "LOAN";
    r.clientId = "client-1";
    r.clientType = "RETAIL";
    r.status = "OPEN";
    ASSERT_EQ(harness.create(r), "");
  }
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < kCases; i += 1 + round) {
      harness.advance_clock(10);
      Patch p;
      p.status = round % 2 == 0 ? "PENDING" : "CLOSED";
      ASSERT_EQ(harness.update(id(i * 7 % kCases), p), "");  // out of creation order
    }
  }
  auto created = [&](int i) { return harness.repo().get(id(i))->creationDate; };
  const Timestamp first = created(0);
  Filter f;
  f.creationDate.from = created(5);
  f.creationDate.to = created(9);
  for (int step = 0; step < (kCases + 110) + 2; ++step) {  // a step per write, and past the last
    const Timestamp to = first + std::chrono::milliseconds(10 * step - 5);
    f.updateDate.to = to;
    for (SortOrder sort : {SortOrder::kUpdateDateDesc, SortOrder::kUpdateDateAsc}) {
      PageRequest page;
      page.sort = sort;
      page.size = 2;
      ASSERT_EQ(harness.search(f, page, 3), "") << "update window to step " << step;
    }
  }
}

TEST_P(DifferentialTest, TokenWalksWithWritesBetweenPagesMatchTheModel) {
  DifferentialHarness harness({}, GetParam().tuning);
  RandomChoices choices(7);
  OpGenerator ops(choices, harness);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(ops.step(), "");
  for (int walk_no = 0; walk_no < 60; ++walk_no) {
    DifferentialHarness::Walk walk;
    walk.filter = ops.filter(choices.below(512) & choices.below(512));  // fewer dimensions: longer walks
    walk.page.sort = static_cast<SortOrder>(choices.below(4));
    walk.page.size = 1 + choices.below(25);
    if (walk_no % 4 == 0) harness.compact_in_steps();
    ASSERT_EQ(harness.start(walk), "");
    while (!walk.done) {
      for (int w = choices.below(3); w > 0; --w) ASSERT_EQ(ops.step(), "");
      ASSERT_EQ(harness.next(walk), "") << "walk " << walk_no;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Tunings, DifferentialTest, ::testing::ValuesIn(kConfigs),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace caserepo::testing
