#include "db/batch_resolver.h"

namespace caserepo::db {
namespace {

std::string not_found(const std::string& caseId) { return "no case '" + caseId + "'"; }

}  // namespace

BatchResolver::BatchResolver(const engine::Store& store, std::int64_t now_ms, CaseIdGenerator& ids)
    : store_(store), stamp_ms_(store.next_stamp(now_ms)), ids_(ids) {}

BatchResolver::Resolution BatchResolver::resolve(const WriteRequest& request) {
  if (const auto* c = std::get_if<CreateRequest>(&request)) return create(*c);
  if (const auto* u = std::get_if<UpdateRequest>(&request)) return update(*u);
  return remove(std::get<RemoveRequest>(request));
}

BatchResolver::Resolution BatchResolver::create(CreateRequest request) {
  if (!request.caseId && request.businessKey && business_key_written(*request.businessKey)) return Resolution::dependent();
  if (auto joined = store_.joined_case(request)) {
    if (case_written(*joined)) return Resolution::dependent();
    if (store_.conflicts(*joined, request.clientId, *request.caseType)) {
      return Resolution::refused(Error::Conflict("case '" + *joined + "' belongs to another client or case type"));
    }
    request.caseId = std::move(joined);
  } else {
    do {
      request.caseId = ids_.next();
    } while (store_.case_entries(*request.caseId) != nullptr || case_written(*request.caseId));
  }
  cases_.insert(*request.caseId);
  if (request.businessKey) business_keys_.insert(*request.businessKey);
  return Resolution::resolved(engine::ResolvedCreate{std::move(request), stamp_ms_});
}

BatchResolver::Resolution BatchResolver::update(const UpdateRequest& request) {
  if (case_written(request.caseId)) return Resolution::dependent();
  if (store_.case_entries(request.caseId) == nullptr) {
    return Resolution::refused(Error::NotFound(not_found(request.caseId)));
  }
  cases_.insert(request.caseId);
  if (request.patch.businessKey) all_business_keys_ = true;
  return Resolution::resolved(engine::ResolvedUpdate{request.caseId, request.patch, stamp_ms_});
}

BatchResolver::Resolution BatchResolver::remove(const RemoveRequest& request) {
  if (case_written(request.caseId)) return Resolution::dependent();
  const engine::Posting* entries = store_.case_entries(request.caseId);
  if (entries == nullptr) return Resolution::refused(Error::NotFound(not_found(request.caseId)));
  cases_.insert(request.caseId);
  all_business_keys_ = true;  // the newest entry with one of the case's keys may now be another case's
  return Resolution::resolved(engine::ResolvedRemove{request.caseId}, entries->size());
}

}  // namespace caserepo::db
