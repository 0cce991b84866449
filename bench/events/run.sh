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
         "publisher share this machine's 2 cores; CPU per command is the user + system time (/proc) the node "
         "and the nats-server processes used during a catch-up, divided by its commands (median of the three)."
         % one["commands"], "",
         "| NATS | stream replicas | change feed | ingestion, commands/s (runs) | median "
         "| CPU per command: node / nats-server | publish → change event p50 | p99 |",
         "|---|---|---|---|---|---|---|---|"]
for r in runs:
    latency = ("%.2f ms | %.2f ms" % (r["publish_to_event_ms_p50"], r["publish_to_event_ms_p99"])
               if r["change_feed"] else "— | —")
    lines.append("| %s | %d | %s | %s | **%d** | %.1f µs / %.1f µs | %s |" % (
        "1 server" if r["replicas"] == 1 else "3 servers, clustered", r["replicas"],
        "on" if r["change_feed"] else "off",
        ", ".join(str(int(x)) for x in r["ingest_rates"]), r["ingest_rate_median"],
        r["node_cpu_us_per_command"], r["nats_cpu_us_per_command"], latency))
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
          "asynchronously once it is durable."]
# What bounds the rate with the change feed, from the CPU columns of the two one-server rows.
node_event = one["node_cpu_us_per_command"] - alone["node_cpu_us_per_command"]
nats_event = one["nats_cpu_us_per_command"] - alone["nats_cpu_us_per_command"]
total = one["node_cpu_us_per_command"] + one["nats_cpu_us_per_command"]
lines += ["", "What bounds the rate with the change feed: CPU. The node and nats-server share 2 cores and together "
          "use %.1f µs of CPU per command with the feed, %.1f µs without it: each change event costs nats-server "
          "%.1f µs (receiving, de-duplicating by message id, storing and acknowledging it) and the node %.1f µs "
          "(the event's JSON, the NATS message and its header, the asynchronous publish and its acknowledgement). "
          "At %.1f µs per command two fully busy cores ingest at most %.0fk commands/s (measured: %.0fk); 100k/s "
          "needs at most 20 µs, that is the node's share of each event down from %.1f µs to %.1f µs with nats-server's "
          "unchanged (and less, as the cores are never fully busy: measured %.0f%% of the ceiling). One NATS message "
          "per write with its own message id is the contract (docs/events.md), so events cannot be batched into "
          "fewer messages. With three clustered nats-servers (R=3) on the same 2 cores the servers' replication "
          "takes %.1f µs per command: at most %.0fk/s, measured %.0fk." % (
              total, alone["node_cpu_us_per_command"] + alone["nats_cpu_us_per_command"], nats_event, node_event,
              total, 2e6 / total / 1000, one["ingest_rate_median"] / 1000, node_event, node_event - (total - 20),
              100 * one["ingest_rate_median"] / (2e6 / total), three["nats_cpu_us_per_command"],
              2e6 / (three["node_cpu_us_per_command"] + three["nats_cpu_us_per_command"]) / 1000,
              three["ingest_rate_median"] / 1000)]
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
PY
echo "wrote bench/events/results.md"
