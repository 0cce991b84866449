// How a partitioned cluster names things (docs/scale-out.md): which
// partition a case belongs to, the subject its commands go to, and the
// subjects on which the nodes answer the router.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace caserepo::cluster {

// A case belongs to one client, so partitioning by clientId keeps every
// entry of a case (and every case of a client) in one partition. FNV-1a:
// stable across builds and platforms, which std::hash is not.
inline unsigned partition_of(std::string_view clientId, unsigned partitions) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const unsigned char c : clientId) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return static_cast<unsigned>(h % partitions);
}

// The stream's subjects: caserepo.cmds.<STREAM>.<p>.
inline std::string command_subjects(const std::string& stream) { return "caserepo.cmds." + stream + ".*"; }
inline std::string command_subject(const std::string& stream, unsigned p) {
  return "caserepo.cmds." + stream + "." + std::to_string(p);
}

// The nodes serving partition p answer requests on caserepo.part.<STREAM>.<p>.<op>,
// one of them per request (a queue group): ops get, history, search, facets
// (the API's bodies), searchtokens (a search answered with each entry's page
// token too), wait (a position: the outcome of that command), ping.
inline std::string request_subject(const std::string& stream, unsigned p, std::string_view op) {
  return "caserepo.part." + stream + "." + std::to_string(p) + "." + std::string(op);
}
inline std::string queue_group(const std::string& stream, unsigned p) {
  return "caserepo-" + stream + "-p" + std::to_string(p);
}

}  // namespace caserepo::cluster
