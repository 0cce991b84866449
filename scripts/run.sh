#!/usr/bin/env bash
# Installs what is missing, builds caserepo and runs the main job: the
# `caserepo` CLI on the default data directory ./caserepo-data — fill it to
# 200,000 realistic entries, search, checkpoint, then open it again in a new
# process (a restart) and search again, and verify every file.
# (build/caserepo-demo is the in-memory timing demo.)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j "$(nproc)" --target caserepo-cli caserepo-demo

cli() { build/caserepo --data "${CASEREPO_DATA:-./caserepo-data}" "$@"; }
query='{"status":"OPEN","caseType":"LOAN","currentOnly":true,"size":2}'

entries=$(cli stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"])')
if [ "$entries" -lt 200000 ]; then
  echo "== generate $((200000 - entries)) entries"
  time cli generate $((200000 - entries))
fi
echo "== search $query"
cli search "$query"
echo "== checkpoint"
cli checkpoint
echo "== restart: a new process opens the directory (snapshot + log replay)"
cli stats
echo "== the same search after the restart"
cli search "$query"
echo "== verify"
cli verify
