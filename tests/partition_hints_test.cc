// PartitionHints (src/cluster/partition_hints.h): the router's bounded memory
// of the partition each case was found in. A hint is a guess the router
// checks, but a wrong one costs a request: a caseId must find its own hint,
// never another case's, and forgetting one case must leave the others.
#include "cluster/partition_hints.h"

#include <gtest/gtest.h>

#include <string>

namespace caserepo::cluster {
namespace {

TEST(PartitionHintsTest, RemembersReplacesAndForgets) {
  PartitionHints hints;
  EXPECT_EQ(hints.find("case-1"), std::nullopt);
  hints.remember("case-1", 3);
  EXPECT_EQ(hints.find("case-1"), 3u);
  hints.remember("case-1", 0);  // created again in another client's partition
  EXPECT_EQ(hints.find("case-1"), 0u);
  hints.remember("case-2", 1023);  // --partitions takes up to 1024
  EXPECT_EQ(hints.find("case-2"), 1023u);
  hints.forget("case-1");
  EXPECT_EQ(hints.find("case-1"), std::nullopt);
  EXPECT_EQ(hints.find("case-2"), 1023u);
  hints.forget("no-such-case");
  EXPECT_EQ(hints.find("case-2"), 1023u);
}

TEST(PartitionHintsTest, ACaseNeverGetsAnotherCasesHint) {
  PartitionHints hints(/*slots=*/1);  // every case in one slot: each remember replaces the last
  for (int i = 0; i < 1000; ++i) {
    const std::string id = "case-" + std::to_string(i);
    hints.remember(id, static_cast<unsigned>(i % 7));
    ASSERT_EQ(hints.find(id), static_cast<unsigned>(i % 7)) << id;
    if (i > 0) {
      ASSERT_EQ(hints.find("case-" + std::to_string(i - 1)), std::nullopt) << id;
    }
  }
  hints.forget("case-998");  // not the case that holds the slot: it stays
  EXPECT_EQ(hints.find("case-999"), 999u % 7);
}

TEST(PartitionHintsTest, ATableOfManySlotsKeepsMostCases) {
  PartitionHints hints(std::size_t{1} << 16);
  constexpr int kCases = 4096;  // 1/16 full: a case loses its slot to a later one now and then
  for (int i = 0; i < kCases; ++i) hints.remember("case-" + std::to_string(i), static_cast<unsigned>(i % 6));
  int found = 0;
  for (int i = 0; i < kCases; ++i) {
    const auto p = hints.find("case-" + std::to_string(i));
    if (!p) continue;
    ASSERT_EQ(*p, static_cast<unsigned>(i % 6)) << i;
    ++found;
  }
  EXPECT_GT(found, kCases * 9 / 10);  // ~97% expected (e^-1/16)
}

}  // namespace
}  // namespace caserepo::cluster
