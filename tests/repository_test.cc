// The SPEC's rules for the five operations, one behaviour per test.
#include <gtest/gtest.h>

#include <algorithm>
#include <unordered_set>

#include <regex>

#include "db/repository_internal.h"
#include "support/fixtures.h"

namespace caserepo::testing {
namespace {

class RepositoryTest : public ::testing::Test {
 protected:
  RepositoryTest() : repo_(make_options()) {}
  Options make_options() {
    Options o;
    o.clock = clock_.function();
    return o;
  }
  Entry create(const CreateRequest& r) {
    auto e = repo_.create(r);
    EXPECT_TRUE(e.ok()) << (e.ok() ? "" : e.error().to_string());
    clock_.advance(1000);
    return e.ok() ? *e : Entry{};
  }

  ManualClock clock_;
  Repository repo_;
};

TEST_F(RepositoryTest, CreateWithoutCaseIdMakesANewCaseWithAGeneratedUuid) {
  const Entry a = create(request("c1", "LOAN", "NEW"));
  const Entry b = create(request("c1", "LOAN", "NEW"));
  EXPECT_TRUE(std::regex_match(a.caseId, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
      << a.caseId;
  EXPECT_NE(a.caseId, b.caseId);
  EXPECT_EQ(repo_.stats().cases, 2u);
}

// Generated ids come from a generator seeded with its whole state from the
// OS. Seeded from one 32-bit number, 200,000 repositories would (with 99%
// probability) contain two that generate the same first caseId.
TEST(CaseIdTest, GeneratedIdsAreVersion4UuidsDistinctAcrossRepositories) {
  std::unordered_set<std::string> ids;
  constexpr int kRepositories = 200000;
  for (int i = 0; i < kRepositories; ++i) {
    Repository repo;
    auto e = repo.create(request("k", "LOAN", "NEW"));
    ASSERT_TRUE(e.ok());
    const std::string& id = e->caseId;
    ASSERT_EQ(id.size(), 36u);
    ASSERT_EQ(id[14], '4') << id;                                     // version 4
    ASSERT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b') << id;  // RFC 4122 variant
    ASSERT_TRUE(ids.insert(id).second) << "two repositories generated " << id;
  }
}

TEST_F(RepositoryTest, VisitReadsTheCurrentEntryAndTheHistoryInPlace) {
  CreateRequest r = request("k1", "LOAN", "NEW");
  r.caseId = "v1";
  r.businessKey = "BK-V";
  ASSERT_TRUE(repo_.create(r).ok());
  r.status = "OPEN";
  r.statusDescription = "second";
  ASSERT_TRUE(repo_.create(r).ok());
  std::vector<Entry> seen;
  ASSERT_TRUE(repo_.visit("v1", [&](const EntryView& v) { seen.push_back(v.to_entry()); }).ok());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], *repo_.get("v1"));
  EXPECT_EQ(seen[0].statusDescription, "second");
  seen.clear();
  ASSERT_TRUE(repo_.visit_history("v1", [&](const EntryView& v) { seen.push_back(v.to_entry()); }).ok());
  EXPECT_EQ(seen, *repo_.history("v1"));
  auto missing = repo_.visit("nope", [&](const EntryView&) { ADD_FAILURE() << "visited a missing case"; });
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
}

// caseIds, clientIds and businessKeys that are UUIDs are kept as 16 bytes
// (engine/value_text.h) and read back exactly as written: the same digits in
// lowercase and in uppercase are two different cases, a mixed-case one is
// kept as text, and every read path (get, history, visits, search by each
// key, a join by businessKey) gives back the written text.
TEST_F(RepositoryTest, UuidKeysReadBackExactlyInEveryLetterCase) {
  const std::string lower = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
  const std::string upper = "0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D";
  const std::string mixed = "0a1b2c3d-4E5F-4a6b-8c7d-9e0f1a2b3c4d";
  const std::string client = "FFFFFFFF-0000-4000-A000-123456789ABC";
  for (const std::string& id : {lower, upper, mixed, std::string("case-1")}) {
    CreateRequest r = request(client, "LOAN", "NEW");
    r.caseId = id;
    r.businessKey = "bk-" + id;
    create(r);
    r.status = "OPEN";
    create(r);
  }
  CreateRequest join = request(client, "LOAN", "DONE");
  join.businessKey = "bk-" + upper;  // joins the uppercase case, not the lowercase one
  EXPECT_EQ(create(join).caseId, upper);
  for (const std::string& id : {lower, upper, mixed, std::string("case-1")}) {
    auto e = repo_.get(id);
    ASSERT_TRUE(e.ok()) << id;
    EXPECT_EQ(e->caseId, id);
    EXPECT_EQ(e->clientId, client);
    EXPECT_EQ(e->businessKey, "bk-" + id);
    auto h = repo_.history(id);
    ASSERT_TRUE(h.ok());
    ASSERT_EQ(h->size(), id == upper ? 3u : 2u) << id;
    std::vector<Entry> visited;
    ASSERT_TRUE(repo_.visit_history(id, [&](const EntryView& v) { visited.push_back(v.to_entry()); }).ok());
    EXPECT_EQ(visited, *h);
    for (const Entry& x : *h) EXPECT_EQ(x.caseId, id);
    Filter f;
    f.caseId = {id};
    auto found = repo_.search(f, PageRequest{});
    ASSERT_TRUE(found.ok());
    EXPECT_EQ(found->totalElements, h->size()) << id;
  }
  EXPECT_FALSE(repo_.get("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4e").ok());  // one digit off
  EXPECT_FALSE(repo_.get("0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4d").ok());  // one letter's case off
  Filter by_client;
  by_client.clientId = {client};
  auto all = repo_.search(by_client, PageRequest{});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->totalElements, 9u);
  by_client.clientId = {"ffffffff-0000-4000-a000-123456789abc"};  // another client
  EXPECT_EQ(repo_.search(by_client, PageRequest{})->totalElements, 0u);
}

TEST_F(RepositoryTest, CreateStampsBothDatesWithTheClock) {
  const Entry e = create(request("c1", "LOAN", "NEW"));
  EXPECT_EQ(e.creationDate.time_since_epoch().count(), 1735689600000LL);
  EXPECT_EQ(e.updateDate, e.creationDate);
}

TEST_F(RepositoryTest, CreateWithCaseIdOfAnExistingCaseAddsItsNewCurrentStatus) {
  const Entry first = create(request("c1", "LOAN", "NEW"));
  CreateRequest next = request("c1", "LOAN", "OPEN");
  next.caseId = first.caseId;
  create(next);
  auto current = repo_.get(first.caseId);
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(current->status, "OPEN");
  auto history = repo_.history(first.caseId);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].status, "NEW");
  EXPECT_EQ((*history)[1].status, "OPEN");
}

TEST_F(RepositoryTest, CreateWithAnUnknownCaseIdMakesACaseWithThatId) {
  CreateRequest r = request("c1", "LOAN", "NEW");
  r.caseId = "my-own-id";
  EXPECT_EQ(create(r).caseId, "my-own-id");
}

TEST_F(RepositoryTest, CreateWithTheBusinessKeyOfACaseJoinsIt) {
  CreateRequest r = request("c1", "LOAN", "NEW");
  r.businessKey = "BK-1";
  const Entry first = create(r);
  r.status = "OPEN";
  const Entry second = create(r);
  EXPECT_EQ(second.caseId, first.caseId);
  EXPECT_EQ(repo_.history(first.caseId)->size(), 2u);
}

TEST_F(RepositoryTest, CaseIdWinsOverBusinessKey) {
  CreateRequest a = request("c1", "LOAN", "NEW");
  a.businessKey = "BK-1";
  const Entry first = create(a);
  CreateRequest b = request("c1", "LOAN", "NEW");
  b.caseId = "other";
  b.businessKey = "BK-1";
  EXPECT_EQ(create(b).caseId, "other");
  EXPECT_EQ(repo_.history(first.caseId)->size(), 1u);
}

TEST_F(RepositoryTest, JoiningACaseOfAnotherClientOrTypeIsAConflictAndChangesNothing) {
  const Entry first = create(request("c1", "LOAN", "NEW"));
  for (auto [client, type] : {std::pair{"c2", "LOAN"}, std::pair{"c1", "CARD"}}) {
    CreateRequest r = request(client, type, "OPEN");
    r.caseId = first.caseId;
    auto e = repo_.create(r);
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(e.error().code(), ErrorCode::kConflict);
  }
  EXPECT_EQ(all_entries(repo_), std::vector<Entry>{first});
}

TEST_F(RepositoryTest, ApplicationNameFillsCaseTypeAndSource) {
  Options o = make_options();
  o.applicationName = "mortgage-app";
  Repository lowcode(o);
  CreateRequest r;
  r.clientId = "c1";
  r.clientType = "PESEL";
  r.status = "NEW";
  auto e = lowcode.create(r);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->caseType, "mortgage-app");
  EXPECT_EQ(e->source, "eximee");
  r.caseType = "LOAN";
  r.source = "PORTAL";
  e = lowcode.create(r);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->caseType, "LOAN");
  EXPECT_EQ(e->source, "PORTAL");
}

TEST_F(RepositoryTest, WithoutApplicationNameCaseTypeIsRequiredAndSourceStaysNull) {
  CreateRequest r = request("c1", "LOAN", "NEW");
  EXPECT_EQ(create(r).source, std::nullopt);
  r.caseType.reset();
  auto e = repo_.create(r);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(RepositoryTest, UpdateChangesEveryEntryOfTheCaseAndItsUpdateDate) {
  const Entry first = create(request("c1", "LOAN", "NEW"));
  CreateRequest next = request("c1", "LOAN", "OPEN");
  next.caseId = first.caseId;
  create(next);
  Patch p;
  p.status = "CLOSED";
  p.statusDescription = "done";
  auto updated = repo_.update(first.caseId, p);
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->status, "CLOSED");
  for (const Entry& e : *repo_.history(first.caseId)) {
    EXPECT_EQ(e.status, "CLOSED");
    EXPECT_EQ(e.statusDescription, "done");
    EXPECT_EQ(e.updateDate.time_since_epoch().count(), 1735689600000LL + 2000);
    EXPECT_LT(e.creationDate, e.updateDate);
  }
}

TEST_F(RepositoryTest, UpdateCanSetNullableFieldsToNull) {
  CreateRequest r = request("c1", "LOAN", "NEW");
  r.businessKey = "BK";
  r.source = "PORTAL";
  r.statusDescription = "x";
  const Entry e = create(r);
  Patch p;
  p.businessKey.emplace();
  p.source.emplace();
  p.statusDescription.emplace();
  auto u = repo_.update(e.caseId, p);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->businessKey, std::nullopt);
  EXPECT_EQ(u->source, std::nullopt);
  EXPECT_EQ(u->statusDescription, std::nullopt);
  Filter f;
  f.businessKey = {"BK"};
  EXPECT_EQ(repo_.search(f)->totalElements, 0u);
}

TEST_F(RepositoryTest, UpdateOfAnUnknownCaseIsNotFound) {
  Patch p;
  p.status = "X";
  EXPECT_EQ(repo_.update("nope", p).error().code(), ErrorCode::kNotFound);
}

TEST_F(RepositoryTest, RemoveDeletesEveryEntryOfTheCase) {
  const Entry first = create(request("c1", "LOAN", "NEW"));
  CreateRequest next = request("c1", "LOAN", "OPEN");
  next.caseId = first.caseId;
  create(next);
  const Entry other = create(request("c2", "CARD", "NEW"));
  auto removed = repo_.remove(first.caseId);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 2u);
  EXPECT_EQ(repo_.get(first.caseId).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(repo_.history(first.caseId).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(repo_.remove(first.caseId).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(all_entries(repo_), std::vector<Entry>{other});
}

TEST_F(RepositoryTest, AClockThatStepsBackNeverReordersEntries) {
  const Entry a = create(request("c1", "LOAN", "NEW"));
  clock_.advance(-60000);
  const Entry b = create(request("c1", "LOAN", "NEW"));
  EXPECT_EQ(b.creationDate, a.creationDate);
  auto newest = repo_.search({});
  ASSERT_TRUE(newest.ok());
  EXPECT_EQ(newest->content.front().caseId, b.caseId);  // ties break by entry order
}

TEST_F(RepositoryTest, CurrentOnlyReturnsEachCasesNewestEntry) {
  const Entry first = create(request("c1", "LOAN", "NEW"));
  CreateRequest next = request("c1", "LOAN", "OPEN");
  next.caseId = first.caseId;
  create(next);
  create(request("c2", "LOAN", "NEW"));
  Filter f;
  f.currentOnly = true;
  f.status = {"NEW"};
  auto r = repo_.search(f);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->totalElements, 1u);
  EXPECT_EQ(r->content[0].clientId, "c2");
}

TEST_F(RepositoryTest, UpdateDateSortPutsTheLastUpdatedCaseFirst) {
  const Entry a = create(request("c1", "LOAN", "NEW"));
  const Entry b = create(request("c2", "LOAN", "NEW"));
  Patch p;
  p.status = "OPEN";
  ASSERT_TRUE(repo_.update(a.caseId, p).ok());
  PageRequest page;
  page.sort = SortOrder::kUpdateDateDesc;
  auto r = repo_.search({}, page);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->content.size(), 2u);
  EXPECT_EQ(r->content[0].caseId, a.caseId);
  EXPECT_EQ(r->content[1].caseId, b.caseId);
}

TEST_F(RepositoryTest, CompactionRunsByItselfAndKeepsResultsAndTokens) {
  RepositoryInternal::store(repo_).tuning().min_waste_for_rebuild = 4;
  std::vector<std::string> ids;
  for (int i = 0; i < 50; ++i) ids.push_back(create(request("c" + std::to_string(i % 3), "LOAN", "NEW")).caseId);
  PageRequest page;
  page.size = 7;
  auto first = repo_.search({}, page);
  ASSERT_TRUE(first.ok());
  const std::vector<Entry> before = all_entries(repo_);
  for (int i = 0; i < 60; ++i) {  // 60 tombstones outnumber 50 live entries
    Patch p;
    p.status = "OPEN";
    ASSERT_TRUE(repo_.update(ids[i % 30], p).ok());
  }
  // Updates made the waste: the update order was renumbered, the slots kept.
  // Update 52 found 51 tombstones (> 50 live) and compacted before taking its
  // position: 50 positions, then one for each of updates 52..60.
  const auto& store = RepositoryInternal::store(repo_);
  EXPECT_EQ(repo_.stats().rebuilds, 1u);
  EXPECT_EQ(store.slot_count(), 50u);
  EXPECT_EQ(store.touch_count(), 59u);
  page.token = *first->nextPageToken;
  auto second = repo_.search({}, page);
  ASSERT_TRUE(second.ok());
  const std::vector<Entry> after = all_entries(repo_);
  ASSERT_EQ(after.size(), 50u);
  // Newest first: entries 43..37 of creation order.
  for (std::size_t i = 0; i < second->content.size(); ++i) {
    EXPECT_EQ(second->content[i].caseId, after[after.size() - 8 - i].caseId);
  }
}

// Once updates made the waste, each write compacts the update order a few
// positions further; reads between the steps see every entry in update
// order, a date range of updates finds exactly its entries, and the last
// step leaves one position per live entry.
TEST_F(RepositoryTest, CompactionOfTheUpdateOrderRunsAStepPerWrite) {
  auto& store = RepositoryInternal::store(repo_);
  store.tuning().min_waste_for_rebuild = 4;
  store.tuning().compaction_step = 7;
  std::vector<std::string> by_update;  // caseIds, least recently written first
  for (int i = 0; i < 50; ++i) by_update.push_back(create(request("c" + std::to_string(i % 3), "LOAN", "NEW")).caseId);
  auto check = [&](int k) {
    PageRequest page;
    page.sort = SortOrder::kUpdateDateAsc;
    page.size = kMaxPageSize;
    auto all = repo_.search({}, page);
    ASSERT_TRUE(all.ok());
    ASSERT_EQ(all->content.size(), by_update.size()) << "after update " << k;
    for (std::size_t i = 0; i < by_update.size(); ++i) ASSERT_EQ(all->content[i].caseId, by_update[i]) << k;
    // The ten most recently written: updateDate at or after the tenth's.
    Filter recent;
    recent.updateDate.from = all->content[by_update.size() - 10].updateDate;
    page.sort = SortOrder::kUpdateDateDesc;
    page.size = 4;
    std::vector<std::string> walked;
    for (auto r = repo_.search(recent, page);; r = repo_.search(recent, page)) {
      ASSERT_TRUE(r.ok());
      ASSERT_EQ(r->totalElements, 10u) << "after update " << k;
      for (const Entry& e : r->content) walked.push_back(e.caseId);
      if (!r->nextPageToken) break;
      page.token = *r->nextPageToken;
    }
    ASSERT_TRUE(std::equal(walked.begin(), walked.end(), by_update.rbegin(), by_update.rbegin() + 10)) << k;
  };
  for (int k = 1; k <= 68; ++k) {
    // Before the compaction, old and recent cases; during it, the most
    // recent one, whose position is in the part not walked yet (a case
    // written again after its move leaves a tombstone in the compacted
    // part: the differential tests cover that against the model).
    const std::string id = k < 52 ? by_update[(k * 17) % 50] : by_update.back();
    Patch p;
    p.status = k % 2 ? "OPEN" : "IN_PROGRESS";
    by_update.erase(std::find(by_update.begin(), by_update.end(), id));
    by_update.push_back(id);
    ASSERT_TRUE(repo_.update(id, p).ok());
    clock_.advance(1000);
    // Update 52 finds 51 tombstones (> 50 live) and starts; each write then
    // walks 7 of the 101 positions plus one appended per write: update 68
    // walks the last ones.
    EXPECT_EQ(repo_.stats().compacting, k >= 52 && k < 68) << "after update " << k;
    EXPECT_EQ(repo_.stats().rebuilds, k < 68 ? 0u : 1u) << "after update " << k;
    check(k);
    if (HasFatalFailure()) return;
  }
  EXPECT_EQ(store.touch_count(), 51u);  // 50 compacted, then update 68's own position
}

// Removes leave holes in the slots: each write then moves the live entries
// of the next few slots down. Between the steps every case reads its newest
// entry, its history and its place in creation order, and a range of
// creation dates finds exactly its entries.
TEST_F(RepositoryTest, CompactionOfTheSlotsRunsAStepPerWrite) {
  auto& store = RepositoryInternal::store(repo_);
  store.tuning().min_waste_for_rebuild = 4;
  store.tuning().compaction_step = 7;
  std::vector<std::string> ids;
  for (int i = 0; i < 50; ++i) {
    CreateRequest r = request("c" + std::to_string((i - i % 5 / 4) % 3), "LOAN", "NEW");
    if (i % 5 == 4) r.caseId = ids.back();  // some cases of two entries (the same client)
    ids.push_back(create(r).caseId);
  }
  std::vector<Entry> expected;  // oldest first
  for (const Entry& e : all_entries(repo_)) {
    if (std::find(ids.begin(), ids.begin() + 30, e.caseId) == ids.begin() + 30) expected.push_back(e);
  }
  for (int i = 0; i < 30; ++i) {
    if (i % 5 != 4) {
      ASSERT_TRUE(repo_.remove(ids[i]).ok());  // 30 entries of 24 cases
    }
  }
  auto check = [&](int k) {
    ASSERT_EQ(all_entries(repo_), expected) << "after create " << k;
    PageRequest by_update;  // nothing updated: the same order
    by_update.sort = SortOrder::kUpdateDateAsc;
    by_update.size = kMaxPageSize;
    auto updated = repo_.search({}, by_update);
    ASSERT_TRUE(updated.ok());
    ASSERT_EQ(updated->content, expected) << "after create " << k;
    for (const Entry& e : expected) {
      auto got = repo_.get(e.caseId);
      ASSERT_TRUE(got.ok()) << k;
      auto history = repo_.history(e.caseId);
      ASSERT_TRUE(history.ok()) << k;
      ASSERT_EQ(*got, history->back()) << k;
    }
    // Created at or after the tenth newest entry: the ten newest, newest first.
    Filter recent;
    recent.creationDate.from = expected[expected.size() - 10].creationDate;
    PageRequest page;
    page.size = 3;
    std::vector<Entry> walked;
    for (auto r = repo_.search(recent, page);; r = repo_.search(recent, page)) {
      ASSERT_TRUE(r.ok());
      ASSERT_EQ(r->totalElements, 10u) << "after create " << k;
      walked.insert(walked.end(), r->content.begin(), r->content.end());
      if (!r->nextPageToken) break;
      page.token = *r->nextPageToken;
    }
    ASSERT_TRUE(std::equal(walked.begin(), walked.end(), expected.rbegin(), expected.rbegin() + 10)) << k;
  };
  for (int k = 1; k <= 9; ++k) {
    CreateRequest r = request("c1", "LOAN", "OPEN");
    if (k % 2 == 0) r.caseId = expected.back().caseId;  // a second entry: the case's newest moves on
    expected.push_back(create(r));
    // Create 1 finds 30 holes (> 20 live) in both orders and starts; each
    // write walks 7 of the 50 positions plus one appended per write:
    // create 9 walks the last ones.
    EXPECT_EQ(repo_.stats().compacting, k < 9) << "after create " << k;
    EXPECT_EQ(repo_.stats().rebuilds, k < 9 ? 0u : 2u) << "after create " << k;
    check(k);
    if (HasFatalFailure()) return;
  }
  EXPECT_EQ(store.slot_count(), 29u);  // 28 compacted, then create 9's own slot
  EXPECT_EQ(store.touch_count(), 29u);
}

// A compaction started with nothing to walk ends on the next write, before
// the write takes its own position.
TEST_F(RepositoryTest, CompactionOfAnEmptyStoreEndsOnTheNextWrite) {
  RepositoryInternal::store(repo_).begin_compaction();
  EXPECT_TRUE(repo_.stats().compacting);
  const Entry e = create(request("c1", "LOAN", "NEW"));
  EXPECT_FALSE(repo_.stats().compacting);
  EXPECT_EQ(repo_.stats().rebuilds, 2u);  // both orders
  EXPECT_EQ(all_entries(repo_), std::vector<Entry>{e});
  EXPECT_EQ(*repo_.get(e.caseId), e);
}

TEST_F(RepositoryTest, CompactionAfterRemovesRenumbersSlotsAndKeepsResults) {
  RepositoryInternal::store(repo_).tuning().min_waste_for_rebuild = 4;
  std::vector<std::string> ids;
  for (int i = 0; i < 50; ++i) ids.push_back(create(request("c" + std::to_string(i % 3), "LOAN", "NEW")).caseId);
  std::vector<Entry> expected;
  for (const Entry& e : all_entries(repo_)) {
    if (std::find(ids.begin() + 30, ids.end(), e.caseId) != ids.end()) expected.push_back(e);
  }
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(repo_.remove(ids[i]).ok());  // 30 holes outnumber 20 live entries
  EXPECT_EQ(repo_.stats().rebuilds, 0u);  // the next write compacts
  expected.push_back(create(request("c1", "LOAN", "NEW")));
  // Both orders, in one step each: the removes left holes in the slots and
  // tombstones in the update order.
  EXPECT_EQ(repo_.stats().rebuilds, 2u);
  EXPECT_EQ(RepositoryInternal::store(repo_).slot_count(), 21u);
  EXPECT_EQ(RepositoryInternal::store(repo_).touch_count(), 21u);
  EXPECT_EQ(all_entries(repo_), expected);
  Filter f;
  f.clientId = {"c1"};
  auto r = repo_.search(f, {});
  ASSERT_TRUE(r.ok());
  std::vector<Entry> c1;
  for (const Entry& e : expected) {
    if (e.clientId == "c1") c1.insert(c1.begin(), e);  // newest first
  }
  EXPECT_EQ(r->content, c1);
}

// Compaction moves the records down in place; when few are left it gives
// the room of the rest back, and every case still reads its newest entry.
TEST_F(RepositoryTest, CompactionAfterMostRemovesGivesTheRoomBack) {
  RepositoryInternal::store(repo_).tuning().min_waste_for_rebuild = 4;
  std::vector<std::string> ids;
  for (int i = 0; i < 400; ++i) ids.push_back(create(request("c" + std::to_string(i % 7), "LOAN", "NEW")).caseId);
  CreateRequest second = request("c0", "LOAN", "OPEN");  // 399 % 7 == 0
  second.caseId = ids[399];
  create(second);  // a case of two entries among the survivors
  for (int i = 0; i < 390; ++i) ASSERT_TRUE(repo_.remove(ids[i]).ok());
  const auto& store = RepositoryInternal::store(repo_);
  const std::size_t before = store.memory_bytes();
  EXPECT_EQ(repo_.stats().rebuilds, 0u);
  create(request("c1", "LOAN", "NEW"));  // compacts both orders first
  EXPECT_EQ(repo_.stats().rebuilds, 2u);
  EXPECT_EQ(store.slot_count(), 12u);
  EXPECT_LT(store.memory_bytes() + 300 * sizeof(engine::EntryRecord), before);
  const std::vector<Entry> all = all_entries(repo_);
  ASSERT_EQ(all.size(), 12u);
  for (int i = 390; i < 400; ++i) {
    auto got = repo_.get(ids[i]);
    ASSERT_TRUE(got.ok()) << ids[i];
    auto history = repo_.history(ids[i]);
    ASSERT_TRUE(history.ok());
    EXPECT_EQ(*got, history->back());
    EXPECT_EQ(history->size(), i == 399 ? 2u : 1u);
    EXPECT_EQ(got->status, i == 399 ? "OPEN" : "NEW");
  }
}

TEST_F(RepositoryTest, StatsCountEntriesCasesAndOperations) {
  const Entry a = create(request("c1", "LOAN", "NEW"));
  CreateRequest next = request("c1", "LOAN", "OPEN");
  next.caseId = a.caseId;
  create(next);
  create(request("c2", "LOAN", "NEW"));
  ASSERT_TRUE(repo_.remove(a.caseId).ok());
  const Stats s = repo_.stats();
  EXPECT_EQ(s.entries, 1u);
  EXPECT_EQ(s.cases, 1u);
  EXPECT_EQ(s.distinctClients, 1u);
  EXPECT_EQ(s.creates, 3u);
  EXPECT_EQ(s.removes, 1u);
  EXPECT_EQ(s.postingBytes, 0u);  // the walk over every value only when asked for
  EXPECT_GT(repo_.stats(/*memory=*/true).postingBytes, 0u);
}

}  // namespace
}  // namespace caserepo::testing
