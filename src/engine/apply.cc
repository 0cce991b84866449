#include "engine/apply.h"

#include "engine/validation.h"

namespace caserepo::engine {
namespace {

std::optional<Error> check_stamp(const Store& store, std::int64_t stamp) {
  if (store.next_stamp(stamp) != stamp) return Error::InvalidArgument("timestamp goes backwards");
  return std::nullopt;
}

}  // namespace

std::optional<Error> check_form(const Mutation& m) {
  if (const auto* c = std::get_if<ResolvedCreate>(&m)) {
    if (!c->request.caseId) return Error::InvalidArgument("create record without caseId");
    return check_create(c->request);
  }
  if (const auto* u = std::get_if<ResolvedUpdate>(&m)) return check_patch(u->patch);
  return std::nullopt;
}

std::optional<Error> check_against(const Store& store, const Mutation& m) {
  if (const auto* c = std::get_if<ResolvedCreate>(&m)) {
    if (store.conflicts(*c->request.caseId, c->request.clientId, *c->request.caseType)) {
      return Error::Conflict("case '" + *c->request.caseId + "' belongs to another client or case type");
    }
    return check_stamp(store, c->stamp_ms);
  }
  if (const auto* u = std::get_if<ResolvedUpdate>(&m)) {
    if (store.case_entries(u->caseId) == nullptr) return Error::NotFound("no case '" + u->caseId + "'");
    return check_stamp(store, u->stamp_ms);
  }
  const auto& r = std::get<ResolvedRemove>(m);
  if (store.case_entries(r.caseId) == nullptr) return Error::NotFound("no case '" + r.caseId + "'");
  return std::nullopt;
}

std::uint32_t apply_mutation(Store& store, const Mutation& m) {
  if (const auto* c = std::get_if<ResolvedCreate>(&m)) return store.insert(c->request, c->stamp_ms);
  if (const auto* u = std::get_if<ResolvedUpdate>(&m)) {
    store.update(u->caseId, u->patch, u->stamp_ms);
    return *store.newest_slot(u->caseId);
  }
  store.remove(std::get<ResolvedRemove>(m).caseId);
  return kNoValue;
}

}  // namespace caserepo::engine
