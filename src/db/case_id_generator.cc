#include "db/case_id_generator.h"

#include <sys/random.h>

#include <array>
#include <boost/uuid/name_generator_sha1.hpp>
#include <boost/uuid/string_generator.hpp>
#include <boost/uuid/uuid.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <cstdint>

#include "util/uuid_text.h"

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
  // 122 random bits in the RFC 4122 version 4 layout, as Boost.Uuid has it.
  boost::uuids::uuid u{};
  for (int half = 0; half < 2; ++half) {
    const std::uint64_t r = (*engine_)();
    for (int i = 0; i < 8; ++i) u.data[8 * half + i] = static_cast<std::uint8_t>(r >> (8 * i));
  }
  u.data[6] = static_cast<std::uint8_t>((u.data[6] & 0x0F) | 0x40);  // version 4
  u.data[8] = static_cast<std::uint8_t>((u.data[8] & 0x3F) | 0x80);  // variant 10
  // 8-4-4-4-12 lowercase hex, as boost::uuids::to_string writes it, in one buffer.
  std::string out(util::kUuidChars, '-');
  util::format_uuid(u.data, /*upper=*/false, out.data());
  return out;
}

std::string CaseIdGenerator::for_stream(std::uint64_t position, unsigned attempt) {
  // The namespace of caserepo's stream-derived caseIds (a fixed, random UUID).
  static const boost::uuids::uuid kNamespace = boost::uuids::string_generator()("6f1c8a52-3b0e-4d8e-9f47-0a5c2e9d71b3");
  std::string name = "stream-position:" + std::to_string(position);
  if (attempt > 0) name += ":" + std::to_string(attempt);
  return boost::uuids::to_string(boost::uuids::name_generator_sha1(kNamespace)(name));
}

}  // namespace caserepo::db
