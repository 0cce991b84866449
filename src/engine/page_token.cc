#include "engine/page_token.h"

#include <algorithm>
#include <vector>

#include "util/coding.h"
#include "util/crc32c.h"
#include "util/hex.h"

namespace caserepo::engine {
namespace {

constexpr std::uint8_t kTokenVersion = 1;
constexpr std::size_t kTokenBytes = 1 + 1 + 8 + 8 + 4;
static_assert(kTokenBytes == 22, "token layout changed: bump kTokenVersion");

class Fnv1a64 {
 public:
  void bytes(const void* data, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < n; ++i) h_ = (h_ ^ p[i]) * 0x100000001b3ULL;
  }
  void u64(std::uint64_t v) { bytes(&v, sizeof v); }
  void text(std::string_view s) {
    u64(s.size());
    bytes(s.data(), s.size());
  }
  std::uint64_t value() const { return h_; }

 private:
  std::uint64_t h_ = 0xcbf29ce484222325ULL;
};

}  // namespace

std::uint64_t filter_digest(const Filter& f) {
  Fnv1a64 h;
  for (const auto* values : {&f.caseId, &f.businessKey, &f.caseType, &f.clientId, &f.clientType, &f.status,
                             &f.source}) {
    std::vector<std::string_view> set(values->begin(), values->end());
    std::sort(set.begin(), set.end());
    set.erase(std::unique(set.begin(), set.end()), set.end());
    h.u64(set.size());
    for (std::string_view v : set) h.text(v);
  }
  for (const auto* range : {&f.creationDate, &f.updateDate}) {
    for (const auto& bound : {range->from, range->to}) {
      h.u64(bound ? 1 : 0);
      h.u64(bound ? static_cast<std::uint64_t>(bound->time_since_epoch().count()) : 0);
    }
  }
  h.u64(f.currentOnly ? 1 : 0);
  return h.value();
}

std::string encode_page_token(SortOrder sort, std::uint64_t digest, std::uint64_t key) {
  std::string raw;
  raw.reserve(kTokenBytes);
  raw.push_back(static_cast<char>(kTokenVersion));
  raw.push_back(static_cast<char>(sort));
  util::put_u64(raw, digest);
  util::put_u64(raw, key);
  util::put_u32(raw, util::crc32c(raw));
  return util::to_hex(raw);
}

Result<std::uint64_t> decode_page_token(std::string_view token, SortOrder sort, std::uint64_t digest) {
  const auto raw = util::from_hex(token);
  if (!raw || raw->size() != kTokenBytes) return Error::InvalidArgument("page token is malformed");
  const char* p = raw->data();
  if (util::get_u32(p + 18) != util::crc32c(p, 18)) return Error::InvalidArgument("page token is damaged");
  if (static_cast<std::uint8_t>(p[0]) != kTokenVersion) return Error::InvalidArgument("page token is of an unknown version");
  if (static_cast<std::uint8_t>(p[1]) != static_cast<std::uint8_t>(sort) || util::get_u64(p + 2) != digest) {
    return Error::InvalidArgument("page token belongs to another filter or sort");
  }
  return util::get_u64(p + 10);
}

}  // namespace caserepo::engine
