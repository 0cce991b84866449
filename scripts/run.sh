#!/usr/bin/env bash
# Installs what is missing, builds caserepo and runs the main job: the demo
# that fills a repository with realistic entries and runs representative
# searches. Extra arguments go to the demo (e.g. the number of entries).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j "$(nproc)" --target caserepo-demo
exec build/caserepo-demo "$@"
