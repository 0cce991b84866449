#!/usr/bin/env bash
# The cluster benchmark (docs/benchmarks.md "Scale-out", docs/scale-out.md):
# three clustered nats-server (R=3), three caserepo nodes over P=6
# partitions, the router and a single server on the same stream, all on this
# machine's loopback. caserepo-cluster-bench starts every process itself and
# stops it by pid; results go to bench/cluster/results.md (bench/report.py
# puts it into docs/benchmarks.md).
#
#   bench/cluster/run.sh [COMMANDS=100000] [OPS=1000]
set -euo pipefail
cd "$(dirname "$0")/../.."
commands="${1:-100000}"
ops="${2:-1000}"
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target caserepo-cluster-bench caserepo-server
out=$(mktemp)
trap 'rm -f "$out"' EXIT
build/tests/caserepo-cluster-bench --commands "$commands" --ops "$ops" | tee "$out"
python3 - "$out" bench/cluster/results.md <<'PY'
import json, sys
r = json.loads([l for l in open(sys.argv[1]) if l.startswith("{")][-1])
ms = lambda us: "%.2f ms" % (us / 1000.0)
lines = ["## Scale-out: the partitioned cluster (3 nodes, P=%d)" % r["partitions"], "",
         "`bench/cluster/run.sh` (caserepo-cluster-bench): three clustered nats-server (stream R=3), %d caserepo "
         "nodes over P=%d partitions, the router, and a single server ingesting the same stream — every process "
         "on this machine's 2 cores. %d commands (70%% creates, 25%% updates, 5%% removes) are published first; "
         "ingestion is timed from the nodes' start until every partition consumer has nothing pending or "
         "unacknowledged (`--fsync interval`). Latencies: %d sequential keep-alive requests each (creates: a "
         "quarter of that), same data on both sides." % (r["nodes"], r["partitions"], r["commands"], r["ops"]), "",
         "| ingestion | commands/s |", "|---|---|",
         "| one single server, the whole stream (no change feed) | **%d** |" % r["single_rate"],
         "| 3 nodes, each partition on one node, no change feed | **%d** |" % r["cluster_rate_one_copy_no_feed"],
         "| 3 nodes, each partition on one node, publishing the change feed | **%d** |" % r["cluster_rate_one_copy"],
         "| 3 nodes, each partition on two (hot replica; every command applied twice, its event published twice) | **%d** |" % r["cluster_rate_two_copies"],
         "", "| request | router p50 | router p99 | single server p50 | single server p99 | router / single (p50) |",
         "|---|---|---|---|---|---|"]
for op, what in (("get", "get by caseId, first read (the router asks every partition)"),
                 ("get_seen", "get by caseId, the same cases again (the router asks the partition it found each in)"),
                 ("search", "search, page of 20 (4 filters in turn)"),
                 ("create", "create (router: through the stream, answered once applied)")):
    a, b = r["router_%s_us_p50" % op], r["single_%s_us_p50" % op]
    lines.append("| %s | %s | %s | %s | %s | %.0f× |" % (what, ms(a), ms(r["router_%s_us_p99" % op]), ms(b),
                                                         ms(r["single_%s_us_p99" % op]), a / b if b else 0))
lines += ["", "Failover: one case of every partition read through the router in a loop while node 1 is killed "
          "(SIGKILL): the longest time a partition went without an answer was **%d ms** (%d failed reads); its "
          "partitions' hot replicas answer, the requests the dead node held are sent again after 1.5 s. Node 1 "
          "restarted on its data and was listening again in %.2f s." % (
              r["failover_longest_gap_ms"], r["failover_failed_reads"], r["restart_to_listening_s"]),
          "", "| target (issue #12) | measured | |", "|---|---|---|",
          "| ingestion ≥ 100k commands/s per node, `--fsync interval` | %d/s single server; %d/s for 3 nodes (one copy; %d/s publishing the change feed) | missed |" % (
              r["single_rate"], r["cluster_rate_one_copy_no_feed"], r["cluster_rate_one_copy"]),
          "| publish-to-searchable p99 ≤ 10 ms | %s (router create, answered once applied) | %s |" % (
              ms(r["router_create_us_p99"]), "met" if r["router_create_us_p99"] <= 10000 else "missed"),
          "| failover ≤ 2 s | %d ms (hot replica) | %s |" % (
              r["failover_longest_gap_ms"], "met" if r["failover_longest_gap_ms"] <= 2000 else "missed"),
          "", "What bounds these: seven server processes (three nats-server, three nodes, the router) and the "
          "single server share 2 cores, so every request hop is a context switch, and every change event is one "
          "more message on an R=3 stream that the same three nats-server processes replicate; a router get is a round of "
          "six requests (one per partition) through NATS unless the router has seen the case (then one: it remembers "
          "the partition each create, get, update or remove found a case in, src/cluster/partition_hints.h), a search "
          "one round (each partition answers with every entry's own page token, so the router's page token needs no "
          "second round) plus merging JSON. What would move them: a caseId→partition index for cases the router "
          "has not seen, fewer hops (the router inside a node), more cores."]
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
PY
echo "wrote bench/cluster/results.md"
