#include "workload/generator.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace caserepo::workload {
namespace {

constexpr std::array<std::string_view, 8> kDescriptions = {
    "Waiting for documents",  "Verified by agent",      "Client called the hotline",
    "Scoring in progress",    "Sent to back office",    "Signature missing",
    "Decision delivered by SMS", "Escalated to supervisor"};

}  // namespace

Zipf::Zipf(std::uint64_t n, double s) : cdf_(std::max<std::uint64_t>(n, 1)) {
  double sum = 0;
  for (std::size_t k = 0; k < cdf_.size(); ++k) {
    sum += 1.0 / std::pow(static_cast<double>(k + 1), s);
    cdf_[k] = sum;
  }
  for (double& c : cdf_) c /= sum;
}

std::uint64_t Zipf::operator()(std::mt19937_64& rng) const {
  const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  const auto it = std::lower_bound(cdf_.begin(), cdf_.end(), u);
  return std::min<std::uint64_t>(it - cdf_.begin(), cdf_.size() - 1);
}

Generator::Generator(std::uint64_t entries, std::uint64_t seed, Profile profile)
    : rng_(seed),
      seed_(seed),
      profile_(profile),
      next_new_client_(std::max<std::uint64_t>(entries / 3, 1)),
      clients_(next_new_client_, 1.0),
      case_types_(kCaseTypes.size(), 1.0) {}

template <std::size_t N>
std::string_view Generator::weighted(const std::array<std::pair<std::string_view, double>, N>& table) {
  double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  for (const auto& [value, share] : table) {
    if (u < share) return value;
    u -= share;
  }
  return table.front().first;
}

std::string_view Generator::random_status() { return weighted(kStatuses); }

std::string Generator::client(std::uint64_t index) const {
  // 11 digits, like a PESEL; a fixed permutation so rank and id are unrelated.
  const std::uint64_t id = 10000000000ULL + (index * 2654435761ULL) % 89999999999ULL;
  return std::to_string(id);
}

CreateRequest Generator::next() {
  if (awaiting_id_) throw std::logic_error("Generator::created() was not called after a new case");
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  CreateRequest r;
  r.status = std::string(random_status());
  r.source = std::string(weighted(kSources));
  const bool high = profile_ == Profile::kHighCardinality;
  if (high && unit(rng_) < 1.0 / 3) {
    // Its own text: a common phrase with this entry's reference.
    r.statusDescription = std::string(kDescriptions[rng_() % kDescriptions.size()]) + " (ref. " + std::to_string(seed_) +
                          "/" + std::to_string(next_description_++) + ")";
  } else if (unit(rng_) < 0.3) {
    r.statusDescription = std::string(kDescriptions[rng_() % kDescriptions.size()]);
  }

  // 1-4 entries a case, 2.5 on average: 60% of creates are follow-ups.
  if (!open_.empty() && unit(rng_) < 0.6) {
    const std::size_t i = rng_() % open_.size();
    PendingCase& c = open_[i];
    r.caseId = c.caseId;
    r.clientId = c.clientId;
    r.clientType = c.clientType;
    r.caseType = c.caseType;
    r.businessKey = c.businessKey;
    if (--c.remaining == 0) {
      std::swap(open_[i], open_.back());
      open_.pop_back();
    }
    return r;
  }
  const std::uint64_t client_index = high && unit(rng_) < 0.8 ? next_new_client_++ : clients_(rng_);
  PendingCase c;
  c.clientId = client(client_index);
  // A client's identifier type is a property of the client.
  std::mt19937_64 client_rng(client_index);
  std::uniform_real_distribution<double> client_unit(0.0, 1.0);
  double u = client_unit(client_rng);
  c.clientType = std::string(kClientTypes.back().first);
  for (const auto& [type, share] : kClientTypes) {
    if (u < share) {
      c.clientType = std::string(type);
      break;
    }
    u -= share;
  }
  c.caseType = std::string(random_case_type());
  if (unit(rng_) < (high ? 0.9 : 0.5)) c.businessKey = "BK-" + std::to_string(seed_) + "-" + std::to_string(next_business_key_++);
  c.remaining = static_cast<int>(rng_() % 4);  // 0-3 follow-ups
  r.clientId = c.clientId;
  r.clientType = c.clientType;
  r.caseType = c.caseType;
  r.businessKey = c.businessKey;
  awaiting_id_ = std::move(c);
  return r;
}

void Generator::created(const Entry& entry) {
  if (!awaiting_id_) return;  // a follow-up: nothing to record
  awaiting_id_->caseId = entry.caseId;
  if (awaiting_id_->remaining > 0) open_.push_back(std::move(*awaiting_id_));
  awaiting_id_.reset();
}

std::vector<std::string> fill(Repository& repo, SimulatedClock& clock, std::uint64_t entries, std::uint64_t seed,
                              std::chrono::milliseconds period, Profile profile) {
  Generator gen(entries, seed, profile);
  std::vector<std::string> cases;
  const auto step = std::chrono::milliseconds(std::max<std::int64_t>(period.count() / std::max<std::uint64_t>(entries, 1), 1));
  for (std::uint64_t i = 0; i < entries; ++i) {
    CreateRequest r = gen.next();
    const bool new_case = !r.caseId;
    auto e = repo.create(r);
    if (!e.ok()) throw std::runtime_error("fill: " + e.error().to_string());
    gen.created(*e);
    if (new_case) cases.push_back(e->caseId);
    clock.advance(step);
  }
  return cases;
}

}  // namespace caserepo::workload
