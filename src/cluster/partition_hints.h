// PartitionHints: the router's memory of which partition holds a caseId, so
// that a get, history, update or remove of a case it has seen asks one
// partition instead of all of them.
//
// A hint is only ever a guess: the router acts on a partition's own 200 for
// the exact caseId, and on anything else (404, an error, no hint) asks every
// partition as before (no answer at all: Unavailable, as asking every
// partition would end). So a wrong hint costs one request and changes no
// answer — a case removed and created again in another client's partition
// behind this router's back (another producer on the stream), two caseIds
// whose hashes collide, a slot overwritten by another case.
//
// A fixed table of 64-bit words indexed by the caseId's hash, each holding
// the hash's upper 48 bits and the partition + 1 (0: empty): bounded memory
// (8 bytes a slot), no lock (a word is read and written whole), the newest
// case wins a slot.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

namespace caserepo::cluster {

class PartitionHints {
 public:
  // `slots` is rounded up to a power of two. REQUIRES: partitions < 65,535.
  explicit PartitionHints(std::size_t slots = std::size_t{1} << 20) {
    std::size_t n = 1;
    while (n < slots) n <<= 1;
    mask_ = n - 1;
    words_ = std::make_unique<std::atomic<std::uint64_t>[]>(n);
    for (std::size_t i = 0; i < n; ++i) words_[i].store(0, std::memory_order_relaxed);
  }

  std::optional<unsigned> find(std::string_view case_id) const {
    const std::uint64_t h = hash(case_id);
    const std::uint64_t w = words_[h & mask_].load(std::memory_order_relaxed);
    if (w == 0 || (w >> 16) != (h >> 16)) return std::nullopt;
    return static_cast<unsigned>((w & 0xFFFF) - 1);
  }

  void remember(std::string_view case_id, unsigned partition) {
    const std::uint64_t h = hash(case_id);
    words_[h & mask_].store(((h >> 16) << 16) | (partition + 1), std::memory_order_relaxed);
  }

  // Only this caseId's hint: a slot another case took since stays.
  void forget(std::string_view case_id) {
    const std::uint64_t h = hash(case_id);
    std::uint64_t w = words_[h & mask_].load(std::memory_order_relaxed);
    if (w != 0 && (w >> 16) == (h >> 16)) words_[h & mask_].compare_exchange_strong(w, 0, std::memory_order_relaxed);
  }

 private:
  // libstdc++'s std::hash of a string_view is a 64-bit murmur hash: its low
  // bits index, its upper 48 tell caseIds of a slot apart.
  static std::uint64_t hash(std::string_view s) { return std::hash<std::string_view>{}(s); }

  std::size_t mask_ = 0;
  std::unique_ptr<std::atomic<std::uint64_t>[]> words_;
};

}  // namespace caserepo::cluster
