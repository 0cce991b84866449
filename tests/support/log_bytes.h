// Log segment bytes for tests: n creates of cases c1..cn, framed as the
// current writer does (v2) or as the first format did (v1, still read).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storage/format.h"

namespace caserepo::testing {

struct LogBytes {
  std::string bytes;
  std::vector<std::uint64_t> offsets;  // of each record, then the end of the file
  std::uint64_t next_seq = 1;

  // Appends a v2 record with the next seq: create of case c<i>, or any payload.
  void append_create(std::uint64_t i, const std::string& description = "");
  void append(storage::RecordType type, const std::string& payload);

  // `description`: each create's statusDescription (long ones span pages).
  static LogBytes v2(std::uint64_t n, const std::string& description = "", std::uint64_t first_seq = 1);
  static LogBytes v1(std::uint64_t n, std::uint64_t first_seq = 1);
};

}  // namespace caserepo::testing
