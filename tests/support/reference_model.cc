#include "support/reference_model.h"

#include <algorithm>
#include <map>
#include <set>

namespace caserepo::testing {
namespace {

// The SPEC's text rules, written independently of the engine's validation:
// UTF-8 by the table of well-formed byte sequences (Unicode 15, table 3-7).
bool valid_utf8(const std::string& s) {
  auto byte = [&](std::size_t i) { return i < s.size() ? static_cast<unsigned char>(s[i]) : 0x100; };
  auto between = [](unsigned v, unsigned lo, unsigned hi) { return v >= lo && v <= hi; };
  std::size_t i = 0;
  while (i < s.size()) {
    const unsigned b0 = byte(i), b1 = byte(i + 1), b2 = byte(i + 2), b3 = byte(i + 3);
    if (b0 <= 0x7F) {
      i += 1;
    } else if (between(b0, 0xC2, 0xDF) && between(b1, 0x80, 0xBF)) {
      i += 2;
    } else if (((b0 == 0xE0 && between(b1, 0xA0, 0xBF)) || (between(b0, 0xE1, 0xEC) && between(b1, 0x80, 0xBF)) ||
                (b0 == 0xED && between(b1, 0x80, 0x9F)) || (between(b0, 0xEE, 0xEF) && between(b1, 0x80, 0xBF))) &&
               between(b2, 0x80, 0xBF)) {
      i += 3;
    } else if (((b0 == 0xF0 && between(b1, 0x90, 0xBF)) || (between(b0, 0xF1, 0xF3) && between(b1, 0x80, 0xBF)) ||
                (b0 == 0xF4 && between(b1, 0x80, 0x8F))) &&
               between(b2, 0x80, 0xBF) && between(b3, 0x80, 0xBF)) {
      i += 4;
    } else {
      return false;
    }
  }
  return true;
}

bool valid_text(const std::string& s, std::size_t max) {
  return !s.empty() && s.size() <= max && s.find('\0') == std::string::npos && valid_utf8(s);
}
bool valid_text(const std::optional<std::string>& s, std::size_t max) { return !s || valid_text(*s, max); }
bool valid_change(const NullableChange& c, std::size_t max) { return !c || valid_text(*c, max); }

Error invalid() { return Error::InvalidArgument("model: invalid"); }

bool in(const std::vector<std::string>& accepted, const std::optional<std::string>& value) {
  if (accepted.empty()) return true;
  return value && std::find(accepted.begin(), accepted.end(), *value) != accepted.end();
}

bool in_range(const DateRange& r, Timestamp t) { return (!r.from || t >= *r.from) && (!r.to || t < *r.to); }

}  // namespace

std::int64_t ReferenceModel::stamp(Timestamp now) {
  std::int64_t ms = now.time_since_epoch().count();
  if (last_stamp_ && *last_stamp_ > ms) ms = *last_stamp_;
  last_stamp_ = ms;
  return ms;
}

Result<Entry> ReferenceModel::create(CreateRequest r, Timestamp now, const std::string& generated_id) {
  if (!app_.empty()) {
    if (!r.caseType) r.caseType = app_;
    if (!r.source) r.source = "eximee";
  }
  if (!r.caseType) return invalid();
  for (const auto* s : {&r.clientId, &r.clientType, &r.status, &*r.caseType}) {
    if (!valid_text(*s, 256)) return invalid();
  }
  if (!valid_text(r.caseId, 256) || !valid_text(r.businessKey, 256) || !valid_text(r.source, 256) ||
      !valid_text(r.statusDescription, 4096)) {
    return invalid();
  }
  std::string caseId;
  if (r.caseId) {
    caseId = *r.caseId;
  } else if (r.businessKey) {
    const Row* newest = nullptr;
    for (const Row& row : entries_) {
      if (row.e.businessKey == r.businessKey) newest = &row;
    }
    caseId = newest ? newest->e.caseId : generated_id;
  } else {
    caseId = generated_id;
  }
  const Row* current = nullptr;
  for (const Row& row : entries_) {
    if (row.e.caseId == caseId) current = &row;
  }
  if (current && (current->e.clientId != r.clientId || current->e.caseType != *r.caseType)) {
    return Error::Conflict("model: conflict");
  }
  const std::int64_t ms = stamp(now);
  Entry e;
  e.caseId = caseId;
  e.businessKey = r.businessKey;
  e.caseType = *r.caseType;
  e.clientId = r.clientId;
  e.clientType = r.clientType;
  e.status = r.status;
  e.statusDescription = r.statusDescription;
  e.source = r.source;
  e.creationDate = e.updateDate = Timestamp(std::chrono::milliseconds(ms));
  entries_.push_back(Row{e, next_seq_++, next_touch_++});
  return e;
}

Result<Entry> ReferenceModel::update(const std::string& caseId, const Patch& p, Timestamp now) {
  if (p.empty()) return invalid();
  for (const auto* s : {&p.caseType, &p.clientId, &p.clientType, &p.status}) {
    if (!valid_text(*s, 256)) return invalid();
  }
  if (!valid_change(p.businessKey, 256) || !valid_change(p.source, 256) || !valid_change(p.statusDescription, 4096)) {
    return invalid();
  }
  if (!get(caseId).ok()) return Error::NotFound("model: not found");
  const std::int64_t ms = stamp(now);
  Entry last;
  for (Row& row : entries_) {
    if (row.e.caseId != caseId) continue;
    if (p.caseType) row.e.caseType = *p.caseType;
    if (p.clientId) row.e.clientId = *p.clientId;
    if (p.clientType) row.e.clientType = *p.clientType;
    if (p.status) row.e.status = *p.status;
    if (p.businessKey) row.e.businessKey = *p.businessKey;
    if (p.statusDescription) row.e.statusDescription = *p.statusDescription;
    if (p.source) row.e.source = *p.source;
    row.e.updateDate = Timestamp(std::chrono::milliseconds(ms));
    row.touch_seq = next_touch_++;
    last = row.e;
  }
  return last;
}

Result<std::uint64_t> ReferenceModel::remove(const std::string& caseId) {
  const auto before = entries_.size();
  std::erase_if(entries_, [&](const Row& row) { return row.e.caseId == caseId; });
  if (before == entries_.size()) return Error::NotFound("model: not found");
  return static_cast<std::uint64_t>(before - entries_.size());
}

Result<Entry> ReferenceModel::get(const std::string& caseId) const {
  const Row* current = nullptr;
  for (const Row& row : entries_) {
    if (row.e.caseId == caseId) current = &row;
  }
  if (!current) return Error::NotFound("model: not found");
  return current->e;
}

Result<std::vector<Entry>> ReferenceModel::history(const std::string& caseId) const {
  std::vector<Entry> out;
  for (const Row& row : entries_) {
    if (row.e.caseId == caseId) out.push_back(row.e);
  }
  if (out.empty()) return Error::NotFound("model: not found");
  return out;
}

bool ReferenceModel::matches(const Row& row, const Filter& f, const std::map<std::string, std::uint64_t>& newest) const {
  const Entry& e = row.e;
  return in(f.caseId, e.caseId) && in(f.businessKey, e.businessKey) && in(f.caseType, e.caseType) &&
         in(f.clientId, e.clientId) && in(f.clientType, e.clientType) && in(f.status, e.status) &&
         in(f.source, e.source) && in_range(f.creationDate, e.creationDate) && in_range(f.updateDate, e.updateDate) &&
         (!f.currentOnly || newest.at(e.caseId) == row.seq);
}

std::uint64_t ReferenceModel::key(const Row& row, SortOrder sort) {
  return (sort == SortOrder::kCreationDateAsc || sort == SortOrder::kCreationDateDesc) ? row.seq : row.touch_seq;
}

std::vector<const ReferenceModel::Row*> ReferenceModel::ordered(const Filter& filter, SortOrder sort) const {
  std::map<std::string, std::uint64_t> newest;  // caseId -> seq of its current entry
  for (const Row& row : entries_) newest[row.e.caseId] = row.seq;
  std::vector<const Row*> out;
  for (const Row& row : entries_) {
    if (matches(row, filter, newest)) out.push_back(&row);
  }
  const bool by_update = sort == SortOrder::kUpdateDateAsc || sort == SortOrder::kUpdateDateDesc;
  const bool desc = sort == SortOrder::kCreationDateDesc || sort == SortOrder::kUpdateDateDesc;
  std::sort(out.begin(), out.end(), [&](const Row* a, const Row* b) {
    const auto ka = by_update ? std::pair(a->e.updateDate, a->touch_seq) : std::pair(a->e.creationDate, a->seq);
    const auto kb = by_update ? std::pair(b->e.updateDate, b->touch_seq) : std::pair(b->e.creationDate, b->seq);
    return desc ? kb < ka : ka < kb;
  });
  return out;
}

Result<ReferenceModel::Page> ReferenceModel::search(const Filter& filter, SortOrder sort, std::uint64_t page,
                                                    std::uint32_t size) const {
  for (const auto* values : {&filter.caseId, &filter.businessKey, &filter.caseType, &filter.clientId,
                             &filter.clientType, &filter.status, &filter.source}) {
    if (values->size() > 1024) return invalid();
    for (const auto& v : *values) {
      if (!valid_text(v, 256)) return invalid();
    }
  }
  for (const auto* r : {&filter.creationDate, &filter.updateDate}) {
    if (r->from && r->to && *r->from > *r->to) return invalid();
  }
  if (size < 1 || size > 1000) return invalid();
  if (page >= (std::uint64_t{1} << 32)) return invalid();
  const auto all = ordered(filter, sort);
  Page p;
  p.total = all.size();
  p.offset = page * size;
  for (std::uint64_t i = p.offset; i < all.size() && i < p.offset + size; ++i) {
    p.content.push_back(all[i]->e);
    p.last = key(*all[i], sort);
  }
  p.more = !p.content.empty() && p.offset + p.content.size() < all.size();
  return p;
}

ReferenceModel::Page ReferenceModel::search_after(const Filter& filter, SortOrder sort, std::uint64_t after,
                                                  std::uint32_t size) const {
  const auto all = ordered(filter, sort);
  const bool desc = sort == SortOrder::kCreationDateDesc || sort == SortOrder::kUpdateDateDesc;
  Page p;
  p.total = all.size();
  std::uint64_t i = 0;
  while (i < all.size() && (desc ? key(*all[i], sort) >= after : key(*all[i], sort) <= after)) ++i;
  p.offset = i;
  for (; i < all.size() && p.content.size() < size; ++i) {
    p.content.push_back(all[i]->e);
    p.last = key(*all[i], sort);
  }
  p.more = !p.content.empty() && p.offset + p.content.size() < all.size();
  return p;
}

std::vector<std::string> ReferenceModel::case_ids() const {
  std::set<std::string> ids;
  for (const Row& row : entries_) ids.insert(row.e.caseId);
  return {ids.begin(), ids.end()};
}

FacetResult ReferenceModel::facets(const Filter& filter, FacetField field) const {
  std::map<std::string, std::uint64_t> counts;
  FacetResult r;
  for (const Row* row : ordered(filter, SortOrder::kCreationDateAsc)) {
    ++r.totalElements;
    const Entry& e = row->e;
    const std::optional<std::string> value = field == FacetField::kStatus     ? std::optional(e.status)
                                             : field == FacetField::kCaseType ? std::optional(e.caseType)
                                             : field == FacetField::kClientType ? std::optional(e.clientType)
                                                                                : e.source;
    if (value) {
      ++counts[*value];
    } else {
      ++r.missing;
    }
  }
  r.counts.assign(counts.begin(), counts.end());
  std::sort(r.counts.begin(), r.counts.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  return r;
}

}  // namespace caserepo::testing
