#include "db/case_id_generator.h"

#include <sys/random.h>

#include <array>
#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <cstdint>

namespace caserepo::db {
namespace {

// The engine's whole state (312 64-bit words) from the OS, in one call.
std::mt19937_64 seeded_engine() {
  std::array<std::uint32_t, 2 * std::mt19937_64::state_size> words{};
  auto* p = reinterpret_cast<char*>(words.data());
  std::size_t done = 0;
  while (done < sizeof words) {
    const ssize_t n = ::getrandom(p + done, sizeof words - done, 0);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  if (done < sizeof words) {  // no getrandom: the C++ library's entropy source
    std::random_device device;
    for (auto& w : words) w = device();
  }
  std::seed_seq seq(words.begin(), words.end());
  return std::mt19937_64(seq);
}

}  // namespace

std::string CaseIdGenerator::next() {
  if (!engine_) engine_ = seeded_engine();
  boost::uuids::basic_random_generator<std::mt19937_64> generator(&*engine_);
  return boost::uuids::to_string(generator());
}

}  // namespace caserepo::db
