// Peer: one system under benchmark. caserepo, SQLite :memory: (with the
// equivalent indexes, prepared statements) and a plain vector scan all
// answer the same operations on the same generated data.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "caserepo/caserepo.h"

namespace caserepo::bench {

struct PeerPage {
  std::uint64_t total = 0;
  std::vector<Entry> content;
  std::string next;  // continuation token; empty when none
};

class Peer {
 public:
  virtual ~Peer() = default;
  virtual std::string name() const = 0;

  virtual std::optional<Entry> get(const std::string& caseId) = 0;
  // get() without copying the strings out: the bytes of the entry's fields
  // (reading each), or 0 when there is no such case.
  virtual std::size_t get_in_place(const std::string& caseId) {
    auto e = get(caseId);
    return e ? e->caseId.size() : 0;
  }
  virtual std::size_t history(const std::string& caseId) = 0;
  // history() without copying the strings out: the bytes of every entry's
  // fields (reading each), or 0 for an unknown case.
  virtual std::size_t history_in_place(const std::string& caseId) { return history(caseId); }
  // page.token is this peer's own token from a previous page.
  virtual PeerPage search(const Filter& filter, const PageRequest& page) = 0;
  virtual void create(const CreateRequest& request, Timestamp now) = 0;
  virtual void update(const std::string& caseId, const Patch& patch, Timestamp now) = 0;
  virtual std::uint64_t remove(const std::string& caseId) = 0;
  // Matches per value of `field` (facets); the scan peer has none.
  virtual std::vector<std::pair<std::string, std::uint64_t>> facets(const Filter&, FacetField) { return {}; }

  // Bytes this peer's data structures hold, by its own count.
  virtual std::uint64_t counted_bytes() const = 0;
};

// The peers are loaded with `entries` (creation order, as exported from a
// caserepo filled by the workload generator).
std::unique_ptr<Peer> make_caserepo_peer(std::unique_ptr<Repository> filled);
// Every entry of `repo` in creation order: what the other peers load.
std::vector<Entry> export_entries(const Repository& repo);
std::unique_ptr<Peer> make_sqlite_peer(const std::vector<Entry>& entries, bool analyze);
std::unique_ptr<Peer> make_scan_peer(const std::vector<Entry>& entries);

// SQLite in a file, in WAL mode, with `synchronous` NORMAL (fsync at
// checkpoints: like fsync=interval) or FULL (every commit: like always).
struct SqliteFile {
  std::string path;
  std::string synchronous;
};
std::unique_ptr<Peer> make_sqlite_file_peer(const std::vector<Entry>& entries, const SqliteFile& file);

}  // namespace caserepo::bench
