#!/usr/bin/env bash
# The ingestion benchmark (docs/benchmarks.md "Scale-out"): one
# caserepo-server node ingesting a JetStream stream, with one nats-server and
# with three clustered (stream R=3), all on this machine's loopback, and
# with one nats-server without the node's change feed (ingestion alone).
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
# Ingestion alone: the same node without its change feed (no events published).
build/tests/caserepo-ingest-bench --commands "$commands" --replicas 1 --change-feed off | tee -a "$out"
python3 - "$out" bench/events/results.md <<'PY'
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
feed = [r for r in runs if r["change_feed"]]
one = next(r for r in feed if r["replicas"] == 1)
three = next(r for r in feed if r["replicas"] == 3)
alone = next(r for r in runs if not r["change_feed"])
lines = ["## Scale-out: ingestion from NATS JetStream (one node)", "",
         "`bench/events/run.sh` (caserepo-ingest-bench): a stream of %d commands (70%% creates, 25%% updates, "
         "5%% removes), published first; one `caserepo-server --fsync interval --ingest` node (RelWithDebInfo "
         "build) catches up from an empty directory, timed from its start to the consumer's ack floor reaching "
         "the last sequence (acks follow durability), three runs, median; the change-event stream is deleted "
         "before each run, so every run publishes new events as in production. Then creates are published one "
         "at a time (~1,000/s) and each is timed from just before the publish to the arrival of its change event "
         "(published once the write is durable and visible: an upper bound of publish-to-searchable). The last "
         "row is the same node with `--no-change-feed`: ingestion alone. nats-server, the node and the "
         "publisher share this machine's 2 cores." % one["commands"], "",
         "| NATS | stream replicas | change feed | ingestion, commands/s (runs) | median | publish → change event p50 | p99 |",
         "|---|---|---|---|---|---|---|"]
for r in runs:
    latency = ("%.2f ms | %.2f ms" % (r["publish_to_event_ms_p50"], r["publish_to_event_ms_p99"])
               if r["change_feed"] else "— | —")
    lines.append("| %s | %d | %s | %s | **%d** | %s |" % (
        "1 server" if r["replicas"] == 1 else "3 servers, clustered", r["replicas"],
        "on" if r["change_feed"] else "off",
        ", ".join(str(int(x)) for x in r["ingest_rates"]), r["ingest_rate_median"], latency))
def verdict(ok):
    return "met" if ok else "missed"
lines += ["", "| target (issue #12) | measured | |", "|---|---|---|",
          "| ingestion ≥ 100k commands/s per node, `--fsync interval` | %d/s without the change feed, %d/s with it "
          "(1 NATS server) | %s without the feed, %s with it |" % (
              alone["ingest_rate_median"], one["ingest_rate_median"],
              verdict(alone["ingest_rate_median"] >= 100000), verdict(one["ingest_rate_median"] >= 100000)),
          "| publish-to-searchable p99 ≤ 10 ms | %.2f ms (1 NATS server), %.2f ms (3, R=3) | %s |" % (
              one["publish_to_event_ms_p99"], three["publish_to_event_ms_p99"],
              "met" if one["publish_to_event_ms_p99"] <= 10 and three["publish_to_event_ms_p99"] <= 10 else
              ("met with 1 server, missed with 3" if one["publish_to_event_ms_p99"] <= 10 else "missed")),
          "| 3 nodes over P=6 partitions, router search latency, failover ≤ 2 s | in the cluster section below | — |",
          "", "How it runs: one thread fetches a batch from the pull consumer and parses its commands while a second "
          "applies (logs, makes durable, acks) the batch before it; the change feed publishes each write's event "
          "asynchronously once it is durable. What bounds the rate with the change feed (perf during catch-up): "
          "two processes on 2 cores — the node ~1.1 cores, nats-server ~0.6 (serving fetches and acks, storing "
          "every event) — and in the node no hot spot: malloc/free ~20% (the JSON DOM of each command, each "
          "event's body and NATS message), kernel wake-ups ~13% (the VM's paravirtual IRQ enable), command "
          "parsing, libnats' bookkeeping of each asynchronous publish and the feed's own map of unacked events. "
          "One NATS message per write with its own message id is the contract (docs/events.md), so events cannot "
          "be batched into fewer messages; what would move it: parse commands without a DOM into reused "
          "buffers, key the feed's unacked events by sequence instead of by id string, and give nats-server its "
          "own core."]
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
PY
echo "wrote bench/events/results.md"
