// caserepo-demo: embeds the library, fills it with realistic entries and
// runs a dozen representative searches, printing results and timings.
//
//   caserepo-demo [ENTRIES]        (default 200000)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "caserepo/caserepo.h"
#include "workload/generator.h"

namespace {

using Clock = std::chrono::steady_clock;
using caserepo::Filter;
using caserepo::PageRequest;
using caserepo::SortOrder;

double micros_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}

std::string date(caserepo::Timestamp t) {
  const auto days = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd{days};
  const auto ms = (t - days).count();
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long long>(ms / 3600000), static_cast<long long>(ms / 60000 % 60),
                static_cast<long long>(ms / 1000 % 60), static_cast<long long>(ms % 1000));
  return buf;
}

struct Example {
  const char* what;
  Filter filter;
  PageRequest page;
};

}  // namespace

int main(int argc, char** argv) {
  const std::uint64_t entries = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200000;
  caserepo::workload::SimulatedClock clock(caserepo::workload::kDefaultStart);
  caserepo::Options options;
  options.clock = clock.function();
  caserepo::Repository repo(options);

  auto t0 = Clock::now();
  const std::vector<std::string> cases = caserepo::workload::fill(repo, clock, entries);
  const double fill_us = micros_since(t0);
  const caserepo::Stats stats = repo.stats();
  std::printf("caserepo demo: %llu entries in %llu cases (%llu clients) created in %.0f ms (%.2f us/create)\n\n",
              static_cast<unsigned long long>(stats.entries), static_cast<unsigned long long>(stats.cases),
              static_cast<unsigned long long>(stats.distinctClients), fill_us / 1000, fill_us / entries);

  caserepo::workload::Generator gen(entries);
  const std::string top_client = gen.client(0);
  const std::string some_client = gen.client(1000);
  const auto start = caserepo::workload::kDefaultStart;
  const auto march = start + std::chrono::days(59);
  const auto april = start + std::chrono::days(90);

  std::vector<Example> examples;
  examples.push_back({"everything, newest first", {}, {}});
  {
    Filter f; f.status = {"OPEN"};
    examples.push_back({"status=OPEN", f, {}});
  }
  {
    Filter f; f.status = {"OPEN"}; f.caseType = {"LOAN"};
    examples.push_back({"status=OPEN AND caseType=LOAN", f, {}});
  }
  {
    Filter f; f.status = {"CLOSED"}; f.source = {"PORTAL"}; f.clientType = {"PESEL"};
    examples.push_back({"status=CLOSED AND source=PORTAL AND clientType=PESEL", f, {}});
  }
  {
    Filter f; f.clientId = {top_client};
    examples.push_back({"the busiest client's entries", f, {}});
  }
  {
    Filter f; f.clientId = {top_client}; f.currentOnly = true;
    examples.push_back({"the busiest client's cases, current status only", f, {}});
  }
  {
    Filter f; f.clientId = {some_client};
    examples.push_back({"an ordinary client's entries", f, {}});
  }
  {
    Filter f; f.status = {"ESCALATED", "FRAUD_REVIEW"};
    examples.push_back({"status in (ESCALATED, FRAUD_REVIEW)", f, {}});
  }
  {
    Filter f; f.caseType = {"MORTGAGE"}; f.creationDate.from = march; f.creationDate.to = april;
    examples.push_back({"caseType=MORTGAGE created in March", f, {}});
  }
  {
    Filter f; f.status = {"WAITING_FOR_CLIENT"}; f.currentOnly = true;
    PageRequest p; p.sort = SortOrder::kUpdateDateAsc;
    examples.push_back({"cases waiting for the client, longest waiting first", f, p});
  }
  {
    Filter f; f.status = {"OPEN"};
    PageRequest p; p.page = 2000;
    examples.push_back({"status=OPEN, page 2000", f, p});
  }
  {
    Filter f; f.caseId = {cases.at(cases.size() / 2)};
    PageRequest p; p.sort = SortOrder::kCreationDateAsc;
    examples.push_back({"one case's history by search", f, p});
  }

  for (const Example& ex : examples) {
    auto t = Clock::now();
    auto result = repo.search(ex.filter, ex.page);
    const double us = micros_since(t);
    if (!result.ok()) {
      std::printf("%-55s ERROR %s\n", ex.what, result.error().to_string().c_str());
      return 1;
    }
    std::printf("%-55s %8llu matches  %8.1f us", ex.what, static_cast<unsigned long long>(result->totalElements), us);
    if (!result->content.empty()) {
      const caserepo::Entry& e = result->content.front();
      std::printf("  first: %s %s %s %s %s", e.caseId.c_str(), e.caseType.c_str(), e.clientId.c_str(),
                  e.status.c_str(), date(e.creationDate).c_str());
    }
    std::printf("\n");
  }

  // A continuation-token walk over a mid-sized result.
  Filter walk;
  walk.status = {"APPROVED"};
  walk.caseType = {"CARD"};
  PageRequest page;
  page.size = 100;
  std::uint64_t seen = 0, pages = 0;
  auto t = Clock::now();
  while (true) {
    auto r = repo.search(walk, page);
    if (!r.ok()) return 1;
    seen += r->content.size();
    ++pages;
    if (!r->nextPageToken) break;
    page.token = *r->nextPageToken;
  }
  std::printf("\ntoken walk over status=APPROVED AND caseType=CARD: %llu entries in %llu pages, %.1f us/page\n",
              static_cast<unsigned long long>(seen), static_cast<unsigned long long>(pages), micros_since(t) / pages);

  t = Clock::now();
  auto got = repo.get(cases.front());
  std::printf("get(%s): %s in %.2f us\n", cases.front().c_str(), got.ok() ? got->status.c_str() : "?", micros_since(t));
  std::printf("posting lists and bitmaps: %.1f bytes per entry\n",
              static_cast<double>(repo.stats().postingBytes) / stats.entries);
  return 0;
}
