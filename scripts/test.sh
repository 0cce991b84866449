#!/usr/bin/env bash
# Installs what is missing, builds caserepo and runs every test.
#
#   scripts/test.sh                     # g++ RelWithDebInfo build, all tests
#   scripts/test.sh --sanitize thread   # clang + ThreadSanitizer build
#   scripts/test.sh --sanitize address,undefined
#
# Build trees: build/ (default) and build-<sanitizer>/.
set -euo pipefail
cd "$(dirname "$0")/.."

sanitize=""
tests_regex=""
while [ $# -gt 0 ]; do
  case "$1" in
    --sanitize) sanitize="$2"; shift 2 ;;
    --tests) tests_regex="$2"; shift 2 ;;
    *) echo "usage: $0 [--sanitize LIST] [--tests REGEX]" >&2; exit 1 ;;
  esac
done

scripts/install-deps.sh

jobs=$(nproc)
if [ -z "$sanitize" ]; then
  build=build
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCASEREPO_WERROR=ON
else
  build="build-${sanitize//,/-}"
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCASEREPO_WERROR=ON \
    -DCMAKE_CXX_COMPILER=clang++ -DCASEREPO_SANITIZE="$sanitize" -DCASEREPO_BUILD_BENCH=OFF
fi
cmake --build "$build" -j "$jobs"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
ctest_args=(--test-dir "$build" --output-on-failure -j "$jobs")
[ -n "$tests_regex" ] && ctest_args+=(-R "$tests_regex")
ctest "${ctest_args[@]}"
