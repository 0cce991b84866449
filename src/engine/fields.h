// The seven filterable string fields and how an entry stores them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace caserepo::engine {

// Each filterable field is dictionary-encoded: an entry holds one 32-bit code
// per field. Order matters only inside one process.
enum class Field : std::uint8_t {
  kCaseId,
  kBusinessKey,  // nullable
  kCaseType,
  kClientId,
  kClientType,
  kStatus,
  kSource,  // nullable
};
inline constexpr std::size_t kFieldCount = 7;
inline constexpr std::array<Field, kFieldCount> kAllFields = {
    Field::kCaseId,     Field::kBusinessKey, Field::kCaseType, Field::kClientId,
    Field::kClientType, Field::kStatus,      Field::kSource};

constexpr std::size_t index_of(Field f) noexcept { return static_cast<std::size_t>(f); }

// The field's name in the SPEC's data model.
constexpr const char* field_name(Field f) noexcept {
  constexpr const char* kNames[kFieldCount] = {"caseId", "businessKey", "caseType", "clientId",
                                               "clientType", "status",  "source"};
  return kNames[index_of(f)];
}

// Code of a null field (businessKey, source, statusDescription).
inline constexpr std::uint32_t kNoValue = std::numeric_limits<std::uint32_t>::max();

using FieldCodes = std::array<std::uint32_t, kFieldCount>;

}  // namespace caserepo::engine
