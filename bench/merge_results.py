#!/usr/bin/env python3
"""Merges a partial caserepo-bench run into a full run's JSON: each benchmark
of UPDATE.json replaces the one of the same name in RESULTS.json (or is
added), and RESULTS.json's context records the re-run (its date and filter),
which report.py prints above the tables, so a page that mixes two runs says
so. Peers are re-run with caserepo in the same filter, so every ratio still
compares figures of one run. Usage: merge_results.py RESULTS.json UPDATE.json FILTER"""
import json
import sys


def main():
    results_path, update_path, pattern = sys.argv[1:4]
    with open(results_path) as f:
        results = json.load(f)
    with open(update_path) as f:
        update = json.load(f)
    fresh = {b["name"]: b for b in update["benchmarks"]}
    merged = [fresh.pop(b["name"], b) for b in results["benchmarks"]]
    merged.extend(fresh.values())  # benchmarks the full run did not have
    results["benchmarks"] = merged
    results["context"].setdefault("reruns", []).append({"date": update["context"].get("date"), "filter": pattern})
    with open(results_path, "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
