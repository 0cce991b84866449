#!/usr/bin/env bash
# Runs the benchmark suite in its documented configuration and regenerates
# docs/benchmarks.md from the JSON it writes.
#
#   bench/run.sh                  # N = 100k and 1M (about 15 minutes on 2 cores)
#   bench/run.sh --sizes=10000000 # the 10M data set (needs ~12 GiB, long)
#   bench/run.sh --sizes=2000 --benchmark_min_time=0.001   # a smoke run
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DCASEREPO_BUILD_TESTS=OFF -DCASEREPO_BUILD_TOOLS=OFF -DCASEREPO_BUILD_SERVER=OFF
cmake --build build-bench -j "$(nproc)" --target caserepo-bench
mkdir -p bench/results
out=bench/results/benchmarks.json
build-bench/bench/caserepo-bench --benchmark_min_time=0.2 "$@" \
  --benchmark_out="$out" --benchmark_out_format=json
python3 bench/report.py "$out" docs/benchmarks.md
echo "wrote docs/benchmarks.md from $out"
