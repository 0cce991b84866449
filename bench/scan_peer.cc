// The plain vector scan: every operation walks all rows. The floor any
// index has to beat.
#include <algorithm>
#include <stdexcept>

#include "peer.h"

namespace caserepo::bench {
namespace {

struct Row {
  Entry e;
  std::uint64_t seq;
  std::uint64_t touch;
  bool current;
};

bool in(const std::vector<std::string>& accepted, const std::string& v) {
  return accepted.empty() || std::find(accepted.begin(), accepted.end(), v) != accepted.end();
}
bool in(const std::vector<std::string>& accepted, const std::optional<std::string>& v) {
  return accepted.empty() || (v && std::find(accepted.begin(), accepted.end(), *v) != accepted.end());
}
bool in_range(const DateRange& r, Timestamp t) { return (!r.from || t >= *r.from) && (!r.to || t < *r.to); }

std::size_t text_bytes(const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; }
std::size_t text_bytes(const std::optional<std::string>& s) { return s ? text_bytes(*s) : 0; }

class ScanPeer final : public Peer {
 public:
  explicit ScanPeer(const std::vector<Entry>& entries) {
    rows_.reserve(entries.size());
    std::uint64_t seq = 0;
    for (const Entry& e : entries) rows_.push_back(Row{e, ++seq, seq, false});
    // The newest entry of each case is current.
    std::vector<std::size_t> order(rows_.size());
    for (std::size_t i = 0; i < rows_.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return rows_[a].e.caseId < rows_[b].e.caseId; });
    for (std::size_t i = 0; i < order.size(); ++i) {
      if (i + 1 == order.size() || rows_[order[i + 1]].e.caseId != rows_[order[i]].e.caseId) rows_[order[i]].current = true;
    }
    next_seq_ = seq + 1;
  }
  std::string name() const override { return "scan"; }

  std::optional<Entry> get(const std::string& caseId) override {
    for (auto it = rows_.rbegin(); it != rows_.rend(); ++it) {
      if (it->e.caseId == caseId) return it->e;
    }
    return std::nullopt;
  }
  std::size_t history(const std::string& caseId) override {
    std::vector<Entry> out;
    for (const Row& r : rows_) {
      if (r.e.caseId == caseId) out.push_back(r.e);
    }
    return out.size();
  }

  PeerPage search(const Filter& f, const PageRequest& page) override {
    const bool by_update = page.sort == SortOrder::kUpdateDateDesc || page.sort == SortOrder::kUpdateDateAsc;
    const bool desc = page.sort == SortOrder::kCreationDateDesc || page.sort == SortOrder::kUpdateDateDesc;
    const std::uint64_t after = page.token.empty() ? 0 : std::stoull(page.token);
    std::vector<const Row*> hits;
    std::uint64_t total = 0;
    for (const Row& r : rows_) {
      const Entry& e = r.e;
      if (!(in(f.caseId, e.caseId) && in(f.businessKey, e.businessKey) && in(f.caseType, e.caseType) &&
            in(f.clientId, e.clientId) && in(f.clientType, e.clientType) && in(f.status, e.status) &&
            in(f.source, e.source) && in_range(f.creationDate, e.creationDate) && in_range(f.updateDate, e.updateDate) &&
            (!f.currentOnly || r.current))) {
        continue;
      }
      ++total;
      const std::uint64_t key = by_update ? r.touch : r.seq;
      if (!page.token.empty() && (desc ? key >= after : key <= after)) continue;
      hits.push_back(&r);
    }
    auto before = [&](const Row* a, const Row* b) {
      const auto ka = by_update ? a->touch : a->seq;
      const auto kb = by_update ? b->touch : b->seq;
      return desc ? ka > kb : ka < kb;
    };
    const std::uint64_t skip = page.token.empty() ? page.page * page.size : 0;
    PeerPage out;
    out.total = total;
    if (skip >= hits.size()) return out;
    const std::size_t end = static_cast<std::size_t>(std::min<std::uint64_t>(hits.size(), skip + page.size));
    std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(end), hits.end(), before);
    for (std::size_t i = static_cast<std::size_t>(skip); i < end; ++i) out.content.push_back(hits[i]->e);
    if (end < hits.size()) out.next = std::to_string(by_update ? hits[end - 1]->touch : hits[end - 1]->seq);
    return out;
  }

  void create(const CreateRequest& r, Timestamp now) override {
    std::string caseId = r.caseId.value_or("scan-" + std::to_string(next_seq_));
    for (Row& row : rows_) {
      if (row.e.caseId == caseId && row.current) row.current = false;
    }
    Entry e{caseId, r.businessKey, *r.caseType, r.clientId, r.clientType, r.status, r.statusDescription, r.source, now, now};
    rows_.push_back(Row{std::move(e), next_seq_, next_touch_++, true});
    ++next_seq_;
  }
  void update(const std::string& caseId, const Patch& p, Timestamp now) override {
    for (Row& row : rows_) {
      if (row.e.caseId != caseId) continue;
      if (p.status) row.e.status = *p.status;
      row.e.updateDate = now;
      row.touch = next_touch_++;
    }
  }
  std::uint64_t remove(const std::string& caseId) override {
    return std::erase_if(rows_, [&](const Row& r) { return r.e.caseId == caseId; });
  }
  std::uint64_t counted_bytes() const override {
    std::uint64_t total = rows_.capacity() * sizeof(Row);
    for (const Row& r : rows_) {
      const Entry& e = r.e;
      total += text_bytes(e.caseId) + text_bytes(e.businessKey) + text_bytes(e.caseType) + text_bytes(e.clientId) +
               text_bytes(e.clientType) + text_bytes(e.status) + text_bytes(e.statusDescription) + text_bytes(e.source);
    }
    return total;
  }

 private:
  std::vector<Row> rows_;
  std::uint64_t next_seq_ = 1;
  std::uint64_t next_touch_ = 1ULL << 40;
};

}  // namespace

std::unique_ptr<Peer> make_scan_peer(const std::vector<Entry>& entries) { return std::make_unique<ScanPeer>(entries); }

}  // namespace caserepo::bench
