// OpGenerator: turns a stream of choices into operations on a
// DifferentialHarness, with values from small pools so that cases,
// business keys and clients collide. The choices come from a seeded RNG
// (differential tests) or from fuzzer bytes (ops_differential).
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <string>

#include "support/differential_harness.h"

namespace caserepo::testing {

class ChoiceSource {
 public:
  virtual ~ChoiceSource() = default;
  // A number in [0, n); REQUIRES n > 0.
  virtual std::uint32_t below(std::uint32_t n) = 0;
  bool percent(std::uint32_t p) { return below(100) < p; }
};

class RandomChoices final : public ChoiceSource {
 public:
  explicit RandomChoices(std::uint64_t seed) : rng_(seed) {}
  std::uint32_t below(std::uint32_t n) override { return static_cast<std::uint32_t>(rng_() % n); }

 private:
  std::mt19937_64 rng_;
};

// Reads choices from bytes; once they run out every choice is 0.
class ByteChoices final : public ChoiceSource {
 public:
  explicit ByteChoices(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
  std::uint32_t below(std::uint32_t n) override {
    std::uint32_t v = 0;
    for (std::uint32_t span = 1; span < n && pos_ < bytes_.size(); span <<= 8) v = v << 8 | bytes_[pos_++];
    return v % n;
  }
  bool exhausted() const { return pos_ >= bytes_.size(); }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t pos_ = 0;
};

class OpGenerator {
 public:
  OpGenerator(ChoiceSource& choices, DifferentialHarness& harness) : c_(choices), h_(harness) {}

  // One random operation (write, read or search); "" when both agree.
  std::string step();

  // A filter using exactly the dimensions in `mask`: bits 0-6 the value
  // fields (caseId, businessKey, caseType, clientId, clientType, status,
  // source), bit 7 creationDate, bit 8 updateDate.
  Filter filter(std::uint32_t mask);
  PageRequest page();

  CreateRequest create_request();
  Patch patch();
  std::string case_id();  // a known case most of the time, sometimes not

 private:
  std::string pick(std::span<const char* const> pool);
  std::optional<std::string> maybe_bad(std::string value);
  std::vector<std::string> values(std::span<const char* const> pool, bool case_ids);
  DateRange range(bool creation);

  ChoiceSource& c_;
  DifferentialHarness& h_;
  std::int64_t first_ms_ = 1735689600000LL;
  std::int64_t elapsed_ms_ = 0;
};

}  // namespace caserepo::testing
