#include "engine/page_token.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "util/crc32c.h"

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

void put_u64(unsigned char* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
std::uint64_t get_u64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= std::uint64_t{p[i]} << (8 * i);
  return v;
}
std::uint32_t get_u32(const unsigned char* p) { return static_cast<std::uint32_t>(get_u64(p) & 0xFFFFFFFFu); }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

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
  std::array<unsigned char, kTokenBytes + 4> raw{};  // +4: get_u32 reads 8 bytes
  raw[0] = kTokenVersion;
  raw[1] = static_cast<unsigned char>(sort);
  put_u64(&raw[2], digest);
  put_u64(&raw[10], key);
  const std::uint32_t crc = util::crc32c(raw.data(), 18);
  for (int i = 0; i < 4; ++i) raw[18 + i] = static_cast<unsigned char>(crc >> (8 * i));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  token.reserve(2 * kTokenBytes);
  for (std::size_t i = 0; i < kTokenBytes; ++i) {
    token.push_back(kHex[raw[i] >> 4]);
    token.push_back(kHex[raw[i] & 15]);
  }
  return token;
}

Result<std::uint64_t> decode_page_token(std::string_view token, SortOrder sort, std::uint64_t digest) {
  if (token.size() != 2 * kTokenBytes) return Error::InvalidArgument("page token is malformed");
  std::array<unsigned char, kTokenBytes + 4> raw{};
  for (std::size_t i = 0; i < kTokenBytes; ++i) {
    const int hi = hex_value(token[2 * i]);
    const int lo = hex_value(token[2 * i + 1]);
    if (hi < 0 || lo < 0) return Error::InvalidArgument("page token is malformed");
    raw[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  if (get_u32(&raw[18]) != util::crc32c(raw.data(), 18)) {
    return Error::InvalidArgument("page token is damaged");
  }
  if (raw[0] != kTokenVersion) return Error::InvalidArgument("page token is of an unknown version");
  if (raw[1] != static_cast<unsigned char>(sort) || get_u64(&raw[2]) != digest) {
    return Error::InvalidArgument("page token belongs to another filter or sort");
  }
  return get_u64(&raw[10]);
}

}  // namespace caserepo::engine
