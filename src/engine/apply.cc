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

KeyTags key_tags(const Mutation& m) {
  KeyTags keys;
  auto add = [&](Field f, std::string_view text) {
    keys.fields[keys.count] = f;
    keys.tags[keys.count++] = Store::FieldDictionary::tag_of(text);
  };
  add(Field::kCaseId, case_of(m));
  if (const auto* c = std::get_if<ResolvedCreate>(&m)) {
    add(Field::kClientId, c->request.clientId);
    if (c->request.businessKey) add(Field::kBusinessKey, *c->request.businessKey);
  }
  return keys;
}

void prefetch_slots(const Store& store, const KeyTags& keys) {
  for (std::uint8_t i = 0; i < keys.count; ++i) store.dictionary(keys.fields[i]).prefetch_slot(keys.tags[i]);
}

void prefetch_values(const Store& store, const KeyTags& keys) {
  for (std::uint8_t i = 0; i < keys.count; ++i) {
    store.dictionary(keys.fields[i]).prefetch_value(keys.tags[i], [&](std::uint32_t slot) {
      if (slot < store.slot_count()) store.prefetch(slot);  // the caseId's hint: its newest entry
    });
  }
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
