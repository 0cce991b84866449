#include "support/log_bytes.h"

#include "storage/log.h"
#include "storage/records.h"
#include "util/coding.h"
#include "util/crc32c.h"

namespace caserepo::testing {
namespace {

engine::Mutation create(std::uint64_t i, const std::string& description) {
  engine::ResolvedCreate c;
  c.request.caseId = "c" + std::to_string(i);
  c.request.caseType = "LOAN";
  c.request.clientId = "k" + std::to_string(i % 3);
  c.request.clientType = "PESEL";
  c.request.status = "OPEN";
  if (!description.empty()) c.request.statusDescription = description;
  c.stamp_ms = 1735689600000LL + static_cast<std::int64_t>(i);
  return c;
}

}  // namespace

void LogBytes::append(storage::RecordType type, const std::string& payload) {
  offsets.back() = bytes.size();
  bytes += storage::encode_record(type, next_seq++, payload);
  offsets.push_back(bytes.size());
}

void LogBytes::append_create(std::uint64_t i, const std::string& description) {
  append(storage::RecordType::kCreate, storage::encode_payload(create(i, description)));
}

LogBytes LogBytes::v2(std::uint64_t n, const std::string& description, std::uint64_t first_seq) {
  LogBytes log{storage::encode_log_header(first_seq), {storage::kLogHeaderSize}, first_seq};
  for (std::uint64_t i = 1; i <= n; ++i) log.append_create(i, description);
  return log;
}

LogBytes LogBytes::v1(std::uint64_t n, std::uint64_t first_seq) {
  std::string header(storage::kLogMagic);
  util::put_u32(header, 1);
  util::put_u64(header, first_seq);
  util::put_u32(header, util::crc32c(header));
  LogBytes log{header, {}, first_seq + n};
  for (std::uint64_t i = 1; i <= n; ++i) {
    const std::string payload = storage::encode_payload(create(i, ""));
    std::string rec(4, '\0');
    util::put_u32(rec, static_cast<std::uint32_t>(payload.size()));
    rec.push_back(static_cast<char>(storage::RecordType::kCreate));
    util::put_u64(rec, first_seq + i - 1);
    rec += payload;
    util::set_u32(rec, 0, util::crc32c(rec.data() + 4, rec.size() - 4));
    log.offsets.push_back(log.bytes.size());
    log.bytes += rec;
  }
  log.offsets.push_back(log.bytes.size());
  return log;
}

}  // namespace caserepo::testing
