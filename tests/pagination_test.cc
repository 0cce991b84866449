// Pagination properties on generated data: offset pages tile the result,
// token walks visit every match once, and what a token promises while
// writes happen between pages (see docs/architecture.md, "Page tokens").
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "support/fixtures.h"
#include "workload/generator.h"

namespace caserepo::testing {
namespace {

constexpr SortOrder kSorts[] = {SortOrder::kCreationDateDesc, SortOrder::kCreationDateAsc,
                                SortOrder::kUpdateDateDesc, SortOrder::kUpdateDateAsc};

// Every entry gets a unique statusDescription, so entries can be told apart.
class PaginationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Options o;
    o.clock = clock_.function();
    repo_ = std::make_unique<Repository>(o);
    workload::Generator gen(kEntries, 5);
    for (int i = 0; i < kEntries; ++i) add(gen);
    for (int i = 0; i < 500; ++i) {  // some updates, so both orders differ
      Patch p;
      p.status = "IN_PROGRESS";
      auto all = repo_->search({}, PageRequest{SortOrder::kCreationDateAsc, static_cast<std::uint64_t>(i * 7 % 150), 20, ""});
      if (!all->content.empty()) {
        ASSERT_TRUE(repo_->update(all->content.front().caseId, p).ok());
      }
      clock_.advance(std::chrono::milliseconds(i % 3));
    }
  }

  void add(workload::Generator& gen) {
    CreateRequest r = gen.next();
    r.statusDescription = "n" + std::to_string(next_id_++);
    auto e = repo_->create(r);
    ASSERT_TRUE(e.ok());
    gen.created(*e);
    clock_.advance(std::chrono::milliseconds(next_id_ % 3));  // ties are common
  }

  static std::vector<Filter> filters() {
    std::vector<Filter> out(5);
    out[1].status = {"OPEN"};
    out[2].status = {"CLOSED", "OPEN"};
    out[2].source = {"PORTAL"};
    out[3].currentOnly = true;
    out[4].caseType = {"LOAN", "CARD"};
    out[4].creationDate.from = workload::kDefaultStart + std::chrono::milliseconds(2000);
    return out;
  }

  std::vector<std::string> walk_by_pages(const Filter& f, SortOrder sort, std::uint32_t size) {
    std::vector<std::string> ids;
    for (std::uint64_t page = 0;; ++page) {
      auto r = repo_->search(f, PageRequest{sort, page, size, ""});
      EXPECT_TRUE(r.ok());
      EXPECT_EQ(r->page, page);
      EXPECT_EQ(r->totalPages, (r->totalElements + size - 1) / size);
      for (const Entry& e : r->content) ids.push_back(*e.statusDescription);
      if (r->content.empty()) {
        EXPECT_EQ(ids.size(), r->totalElements);
        return ids;
      }
    }
  }

  std::vector<std::string> walk_by_tokens(const Filter& f, SortOrder sort, std::uint32_t size,
                                          const std::function<void()>& between = {}) {
    std::vector<std::string> ids;
    PageRequest p{sort, 0, size, ""};
    while (true) {
      auto r = repo_->search(f, p);
      EXPECT_TRUE(r.ok()) << r.error().to_string();
      for (const Entry& e : r->content) ids.push_back(*e.statusDescription);
      if (!r->nextPageToken) return ids;
      p.token = *r->nextPageToken;
      if (between) between();
    }
  }

  static constexpr int kEntries = 3000;
  workload::SimulatedClock clock_{workload::kDefaultStart};
  std::unique_ptr<Repository> repo_;
  int next_id_ = 0;
};

TEST_F(PaginationTest, OffsetPagesNeverOverlapOrSkip) {
  for (const Filter& f : filters()) {
    for (SortOrder sort : kSorts) {
      const auto whole = walk_by_pages(f, sort, 1000);
      ASSERT_FALSE(whole.empty());
      for (std::uint32_t size : {1u, 7u, 20u, 999u}) {
        if (size == 1 && whole.size() > 400) continue;  // keeps the test quick
        EXPECT_EQ(walk_by_pages(f, sort, size), whole) << "size " << size;
      }
    }
  }
}

TEST_F(PaginationTest, TokenWalksVisitEveryMatchOnceInOrder) {
  for (const Filter& f : filters()) {
    for (SortOrder sort : kSorts) {
      const auto whole = walk_by_pages(f, sort, 1000);
      for (std::uint32_t size : {3u, 20u, 1000u}) EXPECT_EQ(walk_by_tokens(f, sort, size), whole);
    }
  }
}

// PageRequest::entryTokens: the token after each entry of a page continues
// exactly where that entry left off, as a router that used only the first
// few entries of a partition's page does (cluster/cluster_router.cc).
TEST_F(PaginationTest, EachEntrysTokenContinuesRightAfterIt) {
  for (const Filter& f : filters()) {
    for (SortOrder sort : kSorts) {
      const auto whole = walk_by_pages(f, sort, 1000);
      for (const std::uint64_t page : {0u, 3u}) {
        PageRequest req{sort, page, 20, ""};
        req.entryTokens = true;
        auto r = repo_->search(f, req);
        ASSERT_TRUE(r.ok());
        ASSERT_EQ(r->entryTokens.size(), r->content.size());
        EXPECT_FALSE(repo_->search(f, PageRequest{sort, page, 20, ""})->entryTokens.size());  // only when asked
        if (!r->content.empty() && r->nextPageToken) {
          EXPECT_EQ(r->entryTokens.back(), *r->nextPageToken);
        }
        for (std::size_t i = 0; i < r->content.size(); ++i) {
          auto next = repo_->search(f, PageRequest{sort, 0, 5, r->entryTokens[i]});
          ASSERT_TRUE(next.ok()) << next.error().to_string();
          const std::size_t at = page * 20 + i + 1;  // where the entry after content[i] is in the whole walk
          std::vector<std::string> got, want;
          for (const Entry& e : next->content) got.push_back(*e.statusDescription);
          for (std::size_t k = at; k < std::min(at + 5, whole.size()); ++k) want.push_back(whole[k]);
          ASSERT_EQ(got, want) << "entry " << i << " of page " << page;
        }
      }
    }
  }
}

TEST_F(PaginationTest, APageBeyondTheEndIsEmptyButCountsEverything) {
  auto r = repo_->search({}, PageRequest{SortOrder::kCreationDateDesc, 1u << 30, 20, ""});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->content.empty());
  EXPECT_EQ(r->totalElements, static_cast<std::uint64_t>(kEntries));
  EXPECT_FALSE(r->nextPageToken.has_value());
}

// The promise (creationDate sorts, whose key never changes): a token walk
// returns every entry that matches for the whole walk exactly once, in order;
// entries created during the walk appear at most once (newest-first walks
// never reach them); removed entries may be missing.
TEST_F(PaginationTest, TokenWalkUnderWritesReturnsEverySurvivingEntryExactlyOnce) {
  workload::Generator gen(kEntries, 77);
  for (SortOrder sort : {SortOrder::kCreationDateDesc, SortOrder::kCreationDateAsc}) {
    Filter f;
    f.status = {"OPEN", "CLOSED", "NEW"};
    const auto before = walk_by_pages(f, sort, 1000);
    std::set<std::string> removed;
    int step = 0;
    const auto walked = walk_by_tokens(f, sort, 25, [&] {
      for (int i = 0; i < 5; ++i) add(gen);  // new entries, some joining old cases
      if (++step % 3 == 0) {                 // remove a case
        auto victim = repo_->search({}, PageRequest{SortOrder::kCreationDateAsc, static_cast<std::uint64_t>(step), 1, ""});
        const std::string caseId = victim->content.front().caseId;
        for (const Entry& e : *repo_->history(caseId)) removed.insert(*e.statusDescription);
        ASSERT_TRUE(repo_->remove(caseId).ok());
      }
      Patch p;  // an update changes no creationDate: no effect on the walk
      p.source = "BRANCH";
      auto any = repo_->search({}, PageRequest{SortOrder::kCreationDateDesc, static_cast<std::uint64_t>(step), 1, ""});
      ASSERT_TRUE(repo_->update(any->content.front().caseId, p).ok());
    });
    std::map<std::string, int> seen;
    for (const auto& id : walked) ++seen[id];
    for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id << " returned twice";
    for (const auto& id : before) {
      if (!removed.count(id)) {
        EXPECT_EQ(seen.count(id), 1u) << id << " was skipped";
      }
    }
    // In order: the walk is a subsequence of the final full order.
    const auto after = walk_by_pages(f, sort, 1000);
    std::size_t j = 0;
    for (const auto& id : walked) {
      if (removed.count(id)) continue;
      while (j < after.size() && after[j] != id) ++j;
      ASSERT_LT(j, after.size()) << id << " out of order";
    }
  }
}

}  // namespace
}  // namespace caserepo::testing
