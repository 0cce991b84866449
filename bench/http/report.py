#!/usr/bin/env python3
"""bench/http/run.sh's raw lines -> the "HTTP" section of docs/benchmarks.md
(bench/http/results.md): a table per workload, the ratios the targets ask
for, each marked met or missed. Usage: report.py RAW N SECONDS"""
import re
import sys

raw, n, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = {}
for line in open(raw):
    parts = line.split()
    name, c = parts[0], int(parts[1].split("=")[1])
    kv = dict(p.split("=", 1) for p in parts[2:])
    rate = float(kv.get("rps") or kv.get("tps") or 0)
    rows.setdefault(name, {})[c] = (rate, kv)

def peak(name):
    return max(rows.get(name, {0: (0, {})}).values(), key=lambda v: v[0])[0]

out = [f"## HTTP (caserepo-server under load, {n:,} entries)\n",
       f"`bench/http/run.sh {n} {seconds}`: wrk (2 threads, {seconds} s per cell, keep-alive) against caserepo-server "
       "(`--threads 2`, access log off) and nginx 1.22 serving a get's response as a static file; pgbench "
       "(prepared statements) against PostgreSQL 15 with the same data, an index per filter field, "
       "`shared_buffers=1GB`. Everything on this 2-core machine, loopback, the load generator included: a "
       "ceiling shared by all peers. Rates are requests (wrk) or transactions (pgbench) per second; a search "
       "transaction is the count and the first page, as the API answers both.\n",
       "| workload | system | 1 conn | 16 | 64 | 256 | p50 / p99 at 64 |", "|---|---|---:|---:|---:|---:|---|"]
labels = [("get", "caserepo-get", "caserepo"), ("get", "nginx-static", "nginx (static file)"),
          ("get", "postgres-get", "PostgreSQL"), ("search (2 common values, page 0)", "caserepo-search", "caserepo"),
          ("search (2 common values, page 0)", "postgres-search", "PostgreSQL"),
          ("create, fsync=always", "caserepo-create-always", "caserepo"),
          ("create, synchronous_commit=on", "postgres-create-sync-on", "PostgreSQL"),
          ("create, fsync=interval", "caserepo-create-interval", "caserepo"),
          ("create, synchronous_commit=off", "postgres-create-sync-off", "PostgreSQL")]
for workload, key, system in labels:
    cells = rows.get(key, {})
    lat = cells.get(64, (0, {}))[1]
    latency = f"{lat.get('p50', '–')} / {lat.get('p99', '–')}" if "p50" in lat else f"avg {lat.get('avg_latency', '–')}"
    out.append(f"| {workload} | {system} | " + " | ".join(f"{cells[c][0]:,.0f}" if c in cells else "–" for c in (1, 16, 64, 256)) +
               f" | {latency} |")
errors = [f"{k} c={c}: {v[1].get('non2xx')}" for k, cs in rows.items() for c, v in cs.items() if v[1].get("non2xx", "0") not in ("0", None)]
if errors:
    out.append("\nNon-2xx answers: " + "; ".join(errors))

out.append("\n### HTTP targets (peak rate against peak rate)\n")
out.append("| target | measured | met |")
out.append("|---|---|:-:|")
def target(name, a, b, want):
    ratio = peak(a) / peak(b) if peak(b) else 0
    out.append(f"| {name} | {ratio:.2f}× ({peak(a):,.0f} vs {peak(b):,.0f}/s) | {'yes' if ratio >= want else '**no**'} |")
target("get ≥ 0.6× nginx's requests/s", "caserepo-get", "nginx-static", 0.6)
target("search ≥ 20× PostgreSQL's transactions/s", "caserepo-search", "postgres-search", 20)
target("create, fsync=always ≥ 3× PostgreSQL with synchronous_commit=on", "caserepo-create-always", "postgres-create-sync-on", 3)
target("create, fsync=interval ≥ 3× PostgreSQL with synchronous_commit=off", "caserepo-create-interval", "postgres-create-sync-off", 3)
print("\n".join(out))
