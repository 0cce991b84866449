#!/usr/bin/env bash
# The ingestion benchmark (docs/benchmarks.md "Scale-out"): one
# caserepo-server node ingesting a JetStream stream, with one nats-server and
# with three clustered (stream R=3), all on this machine's loopback.
# caserepo-ingest-bench starts every process itself and stops it by pid;
# results go to bench/events/results.md (bench/report.py puts it into
# docs/benchmarks.md).
#
#   bench/events/run.sh [COMMANDS=200000] [LATENCY_OPS=2000]
set -euo pipefail
cd "$(dirname "$0")/../.."
commands="${1:-200000}"
latency_ops="${2:-2000}"
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target caserepo-ingest-bench caserepo-server
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for replicas in 1 3; do
  build/tests/caserepo-ingest-bench --commands "$commands" --latency-ops "$latency_ops" --replicas "$replicas" | tee -a "$out"
done
python3 - "$out" bench/events/results.md <<'PY'
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
one = next(r for r in runs if r["replicas"] == 1)
lines = ["## Scale-out: ingestion from NATS JetStream (one node)", "",
         "`bench/events/run.sh` (caserepo-ingest-bench): a stream of %d commands (70%% creates, 25%% updates, "
         "5%% removes), published first; one `caserepo-server --fsync interval --ingest` node (RelWithDebInfo "
         "build) catches up from an empty directory, timed from its start to the consumer's ack floor reaching "
         "the last sequence (acks follow durability), three runs, median. Then creates are published one at a "
         "time (~1,000/s) and each is timed from just before the publish to the arrival of its change event "
         "(published once the write is durable and visible: an upper bound of publish-to-searchable). "
         "nats-server, the node and the publisher share this machine's 2 cores." % one["commands"], "",
         "| NATS | stream replicas | ingestion, commands/s (runs) | median | publish → change event p50 | p99 |",
         "|---|---|---|---|---|---|"]
for r in runs:
    lines.append("| %s | %d | %s | **%d** | %.2f ms | %.2f ms |" % (
        "1 server" if r["replicas"] == 1 else "3 servers, clustered", r["replicas"],
        ", ".join(str(int(x)) for x in r["ingest_rates"]), r["ingest_rate_median"],
        r["publish_to_event_ms_p50"], r["publish_to_event_ms_p99"]))
lines += ["", "| target (issue #12) | measured | |", "|---|---|---|",
          "| ingestion ≥ 100k commands/s per node, `--fsync interval` | %d/s (1 NATS server) | missed |" % one["ingest_rate_median"],
          "| publish-to-searchable p99 ≤ 10 ms | %.2f ms (1 NATS server), %.2f ms (3, R=3) | %s |" % (
              one["publish_to_event_ms_p99"], runs[-1]["publish_to_event_ms_p99"],
              "met" if one["publish_to_event_ms_p99"] <= 10 and runs[-1]["publish_to_event_ms_p99"] <= 10 else
              ("met with 1 server, missed with 3" if one["publish_to_event_ms_p99"] <= 10 else "missed")),
          "| 3 nodes over P=6 partitions, router search latency, failover ≤ 2 s | in the cluster section below | — |",
          "", "What bounds the rate (perf on the node during catch-up): no hot spot — kernel wake-ups and context "
          "switches ~23% (fetch, commit and publisher threads hand work to each other; the VM's paravirtual IRQ "
          "enable), malloc/free ~17% (the JSON DOM of each command, per-event strings and NATS messages), "
          "command parsing (nlohmann) ~5%, the store's own work ~10%; and nats-server takes its share of the 2 "
          "cores (three of them with R=3). What would move it: parse commands without a DOM into reused buffers, "
          "parse on a second thread while the previous batch commits, and batch the change events into fewer "
          "NATS messages."]
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
PY
echo "wrote bench/events/results.md"
