#!/usr/bin/env bash
# Runs the benchmark suite in its documented configuration and regenerates
# docs/benchmarks.md from the JSON it writes.
#
#   bench/run.sh                  # N = 100k and 1M (about 20 minutes on 2 cores)
#   bench/run.sh --10m            # N = 10M: memory, the search table, get, pages, restart,
#                                 # compaction (~14 GiB, about 40 minutes) -> docs/benchmarks-10m.md
#   bench/run.sh --update REGEX   # re-runs the benchmarks matching REGEX (N = 100k and 1M) and
#                                 # merges them into the last full run's JSON (bench/merge_results.py)
#   bench/run.sh --sizes=2000 --benchmark_min_time=0.001   # a smoke run
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DCASEREPO_BUILD_TESTS=OFF -DCASEREPO_BUILD_TOOLS=OFF -DCASEREPO_BUILD_SERVER=OFF
cmake --build build-bench -j "$(nproc)" --target caserepo-bench
mkdir -p bench/results
if [[ "${1:-}" == "--10m" ]]; then
  shift
  out=bench/results/benchmarks-10m.json
  doc=docs/benchmarks-10m.md
  set -- --sizes=10000000 \
    '--benchmark_filter=^(Memory/N=|Search/|Get/|GetInPlace/|FirstPage/|DeepPage/|Compaction/|Persist/CheckpointAndReopen/)' "$@"
  alone=--alone
elif [[ "${1:-}" == "--update" ]]; then
  filter=$2
  shift 2
  build-bench/bench/caserepo-bench --benchmark_min_time=0.2 "--benchmark_filter=$filter" "$@" \
    --benchmark_out=bench/results/update.json --benchmark_out_format=json
  python3 bench/merge_results.py bench/results/benchmarks.json bench/results/update.json "$filter"
  python3 bench/report.py bench/results/benchmarks.json docs/benchmarks.md
  echo "merged into bench/results/benchmarks.json; wrote docs/benchmarks.md"
  exit 0
else
  out=bench/results/benchmarks.json
  doc=docs/benchmarks.md
  alone=
fi
build-bench/bench/caserepo-bench --benchmark_min_time=0.2 "$@" \
  --benchmark_out="$out" --benchmark_out_format=json
python3 bench/report.py "$out" "$doc" $alone
echo "wrote $doc from $out"
