#include "db/batch_resolver.h"

namespace caserepo::db {
namespace {

std::string not_found(const std::string& caseId) { return "no case '" + caseId + "'"; }

}  // namespace

BatchResolver::BatchResolver(const engine::Store& store, std::int64_t now_ms, CaseIdGenerator& ids, bool shared)
    : store_(store), stamp_ms_(store.next_stamp(now_ms)), ids_(ids), shared_(shared) {}

BatchResolver::Resolution BatchResolver::resolve(WriteRequest& request) {
  if (auto* c = std::get_if<CreateRequest>(&request)) return create(*c);
  if (auto* u = std::get_if<UpdateRequest>(&request)) return update(*u);
  return remove(std::get<RemoveRequest>(request));
}

BatchResolver::Resolution BatchResolver::create(CreateRequest& request) {
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
    do {
      request.caseId = ids_.next();
    } while (store_.case_entries(*request.caseId) != nullptr || case_written(*request.caseId));
  }
  wrote_case(*request.caseId);
  if (shared_ && request.businessKey) business_keys_.insert(*request.businessKey);
  return Resolution::resolved(engine::ResolvedCreate{std::move(request), stamp_ms_});
}

BatchResolver::Resolution BatchResolver::update(UpdateRequest& request) {
  if (case_written(request.caseId)) return Resolution::dependent();
  if (store_.case_entries(request.caseId) == nullptr) {
    return Resolution::refused(Error::NotFound(not_found(request.caseId)));
  }
  wrote_case(request.caseId);
  if (request.patch.businessKey) all_business_keys_ = true;
  return Resolution::resolved(engine::ResolvedUpdate{std::move(request.caseId), std::move(request.patch), stamp_ms_});
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
