#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for
# SECONDS (default 60) on a scratch copy of its committed corpus.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# A crash leaves crash-* in the current directory: see docs/fuzzing.md.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(ops_differential page_token log_reader log_evidence snapshot_loader manifest json_request http_request)

scripts/install-deps.sh
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DCASEREPO_BUILD_FUZZ=ON -DCASEREPO_BUILD_TESTS=OFF -DCASEREPO_BUILD_BENCH=OFF -DCASEREPO_BUILD_TOOLS=OFF -DCASEREPO_BUILD_SERVER=OFF \
  -DCASEREPO_SANITIZE=address,undefined,fuzzer-no-link
cmake --build build-fuzz -j "$(nproc)"

for t in "${targets[@]}"; do
  work=$(mktemp -d)
  [ -d "fuzz/corpus/$t" ] && cp -r "fuzz/corpus/$t/." "$work/"
  dict=()
  [ -f "fuzz/$t.dict" ] && dict=(-dict="fuzz/$t.dict")
  echo "=== fuzz_$t for ${seconds}s ==="
  status=0
  "build-fuzz/fuzz/fuzz_$t" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=1024 \
    -max_len=4096 -print_final_stats=1 "${dict[@]}" "$work" > "$work.log" 2>&1 || status=$?
  grep -E "^(Done|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY|caserepo fuzz)" "$work.log" || true
  [ "$status" -ne 0 ] && tail -40 "$work.log"
  rm -f "$work.log"
  rm -rf "$work"
  if [ "$status" -ne 0 ]; then echo "fuzz_$t FAILED (exit $status)"; exit 1; fi
done
