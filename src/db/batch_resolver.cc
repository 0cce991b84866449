#include "db/batch_resolver.h"

#include <algorithm>
#include <limits>

namespace caserepo::db {
namespace {

std::string not_found(const std::string& caseId) { return "no case '" + caseId + "'"; }

}  // namespace

BatchResolver::BatchResolver(const engine::Store& store, std::int64_t now_ms, CaseIdGenerator& ids, bool shared)
    : store_(store), now_ms_(now_ms), stamp_ms_(store.next_stamp(std::numeric_limits<std::int64_t>::min())),
      ids_(ids), shared_(shared) {}

BatchResolver::Resolution BatchResolver::resolve(WriteRequest& request, const StreamOrigin& origin) {
  // The stamp it would get; taken (stamp_ms_ moved on) only when it resolves.
  const std::int64_t stamp = std::max(stamp_ms_, origin.position > 0 ? origin.time_ms : now_ms_);
  Resolution r = std::holds_alternative<CreateRequest>(request)   ? create(std::get<CreateRequest>(request), stamp, origin.position)
                 : std::holds_alternative<UpdateRequest>(request) ? update(std::get<UpdateRequest>(request), stamp)
                                                                  : remove(std::get<RemoveRequest>(request));
  if (r.kind == Resolution::kResolved && r.mutation.index() != 2) stamp_ms_ = stamp;
  return r;
}

BatchResolver::Resolution BatchResolver::create(CreateRequest& request, std::int64_t stamp, std::uint64_t position) {
  if (!request.caseId && request.businessKey && business_key_written(*request.businessKey)) return Resolution::dependent();
  // The case it joins: its own caseId, else the case of its businessKey.
  std::optional<std::string> by_key;
  if (!request.caseId) by_key = store_.joined_case(request);
  const std::string* joined = request.caseId ? &*request.caseId : by_key ? &*by_key : nullptr;
  if (joined) {
    if (case_written(*joined)) return Resolution::dependent();
    if (store_.conflicts(*joined, request.clientId, *request.caseType)) {
      return Resolution::refused(Error::Conflict("case '" + *joined + "' belongs to another client or case type"));
    }
    if (by_key) request.caseId = std::move(by_key);
  } else {
    unsigned attempt = 0;
    do {
      request.caseId = position > 0 ? CaseIdGenerator::for_stream(position, attempt++) : ids_.next();
    } while (store_.case_entries(*request.caseId) != nullptr || case_written(*request.caseId));
  }
  wrote_case(*request.caseId);
  if (shared_ && request.businessKey) business_keys_.insert(*request.businessKey);
  return Resolution::resolved(engine::ResolvedCreate{std::move(request), stamp});
}

BatchResolver::Resolution BatchResolver::update(UpdateRequest& request, std::int64_t stamp) {
  if (case_written(request.caseId)) return Resolution::dependent();
  if (store_.case_entries(request.caseId) == nullptr) {
    return Resolution::refused(Error::NotFound(not_found(request.caseId)));
  }
  wrote_case(request.caseId);
  if (request.patch.businessKey) all_business_keys_ = true;
  return Resolution::resolved(engine::ResolvedUpdate{std::move(request.caseId), std::move(request.patch), stamp});
}

BatchResolver::Resolution BatchResolver::remove(RemoveRequest& request) {
  if (case_written(request.caseId)) return Resolution::dependent();
  const engine::Posting* entries = store_.case_entries(request.caseId);
  if (entries == nullptr) return Resolution::refused(Error::NotFound(not_found(request.caseId)));
  wrote_case(request.caseId);
  all_business_keys_ = true;  // the newest entry with one of the case's keys may now be another case's
  return Resolution::resolved(engine::ResolvedRemove{std::move(request.caseId)}, entries->size());
}

}  // namespace caserepo::db
