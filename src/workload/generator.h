// Realistic case data, seeded and reproducible: shared by the demo, the
// benchmarks and the tests.
//
// Distributions (SPEC "Reference values"): clients Zipf(1.0) over a
// population of entries/3; case types Zipf(1.0) over 20; statuses skewed
// (two hold 60% of entries, two are rare); 4 client types; 5 sources;
// 1-4 status entries per case (2.5 on average), the later ones arriving
// while other cases are being created; creation dates spread evenly over
// the simulated period.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "caserepo/repository.h"

namespace caserepo::workload {

inline constexpr std::array<std::string_view, 20> kCaseTypes = {
    "LOAN",        "ACCOUNT",       "CARD",           "MORTGAGE",     "COMPLAINT",    "INSURANCE",     "DEPOSIT",
    "LEASING",     "INVESTMENT",    "TRANSFER",       "KYC_REVIEW",   "ADDRESS_CHANGE", "CARD_BLOCK",  "OVERDRAFT",
    "CHARGEBACK",  "BENEFICIARY",   "STANDING_ORDER", "DIRECT_DEBIT", "CREDIT_LIMIT", "ACCOUNT_CLOSURE"};
// With their share of entries, most common first.
inline constexpr std::array<std::pair<std::string_view, double>, 9> kStatuses = {{{"CLOSED", 0.34},
                                                                                 {"OPEN", 0.26},
                                                                                 {"IN_PROGRESS", 0.15},
                                                                                 {"NEW", 0.10},
                                                                                 {"WAITING_FOR_CLIENT", 0.08},
                                                                                 {"APPROVED", 0.04},
                                                                                 {"REJECTED", 0.025},
                                                                                 {"ESCALATED", 0.004},
                                                                                 {"FRAUD_REVIEW", 0.001}}};
inline constexpr std::array<std::pair<std::string_view, double>, 4> kClientTypes = {
    {{"PESEL", 0.70}, {"NIP", 0.15}, {"REGON", 0.10}, {"CIF", 0.05}}};
inline constexpr std::array<std::pair<std::string_view, double>, 5> kSources = {
    {{"PORTAL", 0.35}, {"MOBILE", 0.30}, {"BRANCH", 0.15}, {"CALL_CENTER", 0.12}, {"eximee", 0.08}}};

// A clock the caller moves: the repository stamps entries with its time.
class SimulatedClock {
 public:
  explicit SimulatedClock(Timestamp start) : ms_(std::make_shared<std::atomic<std::int64_t>>(start.time_since_epoch().count())) {}
  Timestamp now() const { return Timestamp(std::chrono::milliseconds(ms_->load())); }
  void advance(std::chrono::milliseconds d) { ms_->fetch_add(d.count()); }
  std::function<Timestamp()> function() const {
    return [ms = ms_] { return Timestamp(std::chrono::milliseconds(ms->load())); };
  }

 private:
  std::shared_ptr<std::atomic<std::int64_t>> ms_;
};

// Samples 0..n-1 with P(k) proportional to 1/(k+1)^s.
class Zipf {
 public:
  Zipf(std::uint64_t n, double s);
  std::uint64_t operator()(std::mt19937_64& rng) const;

 private:
  std::vector<double> cdf_;
};

// 2025-01-01T00:00:00Z, where generated data starts by default.
inline constexpr Timestamp kDefaultStart = Timestamp(std::chrono::milliseconds(1735689600000LL));

// kStandard: the distributions above. kHighCardinality: the same shapes
// with far more distinct values, as a bank's real data has — most clients
// have one case (80% of new cases open a new client), 90% of cases have a
// businessKey, and a third of entries carry a description of their own.
enum class Profile { kStandard, kHighCardinality };

class Generator {
 public:
  // `entries`: how many entries the data set will hold (sizes the client population).
  explicit Generator(std::uint64_t entries, std::uint64_t seed = 42, Profile profile = Profile::kStandard);

  // The next create: a follow-up status of a case made earlier (with its
  // caseId) or the first entry of a new case (caseId absent).
  CreateRequest next();
  // Tells the generator the caseId the repository gave a new case.
  void created(const Entry& entry);

  std::string client(std::uint64_t index) const;
  std::string random_client() { return client(clients_(rng_)); }
  std::string_view random_case_type() { return kCaseTypes[case_types_(rng_)]; }
  std::string_view random_status();
  std::mt19937_64& rng() { return rng_; }

 private:
  struct PendingCase {
    std::string caseId;  // empty until created() names it
    std::string clientId, clientType, caseType;
    std::optional<std::string> businessKey;
    int remaining = 0;
  };
  template <std::size_t N>
  std::string_view weighted(const std::array<std::pair<std::string_view, double>, N>& table);

  std::mt19937_64 rng_;
  std::uint64_t seed_;  // in business keys, so generators of other seeds never collide
  Profile profile_;
  std::uint64_t next_new_client_;  // kHighCardinality's new clients: numbered after Zipf's population
  std::uint64_t next_description_ = 1;
  Zipf clients_;
  Zipf case_types_;
  std::uint64_t next_business_key_ = 1;
  std::vector<PendingCase> open_;  // cases with follow-ups still to come
  std::optional<PendingCase> awaiting_id_;
};

// Fills `repo` with `entries` generated entries, moving `clock` evenly over
// `period`. Returns the caseIds of the cases made, in creation order.
std::vector<std::string> fill(Repository& repo, SimulatedClock& clock, std::uint64_t entries,
                              std::uint64_t seed = 42,
                              std::chrono::milliseconds period = std::chrono::hours(24 * 365),
                              Profile profile = Profile::kStandard);

}  // namespace caserepo::workload
