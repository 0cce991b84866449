#!/usr/bin/env bash
# Installs what is missing, builds caserepo-server, and serves ./caserepo-data
# on http://127.0.0.1:8080 with sample data and two demo users:
#   demo / demo-password  (writer)      viewer / viewer-password  (reader)
# Prints curl lines to try, then runs in the foreground (Ctrl-C stops it cleanly).
#   CASEREPO_DATA=DIR  CASEREPO_LISTEN=HOST:PORT  to change where.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target caserepo-server caserepo-cli

data="${CASEREPO_DATA:-./caserepo-data}"
listen="${CASEREPO_LISTEN:-127.0.0.1:8080}"
users="$data.users"
mkdir -p "$(dirname "$data")"
if [ ! -s "$users" ]; then
  echo "demo-password" | build/caserepo-server users add --users "$users" --name demo --role writer >/dev/null
  echo "viewer-password" | build/caserepo-server users add --users "$users" --name viewer --role reader >/dev/null
fi
entries=$(build/caserepo --data "$data" stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"])')
if [ "$entries" -lt 10000 ]; then
  build/caserepo --data "$data" generate $((10000 - entries)) >/dev/null
fi
case_id=$(build/caserepo --data "$data" search '{"size":1}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["content"][0]["caseId"])')
base="http://$listen/api/case-repository"
cat <<TXT
caserepo-server on $data (users in $users). Try, in another terminal:

  curl -u demo:demo-password '$base/v1?caseId=$case_id'
  curl -u demo:demo-password '$base/v1/search?status=OPEN&caseType=LOAN&currentOnly=true&size=3'
  curl -u demo:demo-password -H 'Content-Type: application/json' \\
       -d '{"caseType":"LOAN","client":"12345678901","clientType":"PESEL","status":"OPEN"}' $base/v1
  curl -u viewer:viewer-password -X DELETE '$base/v1?caseId=$case_id'     # 403: a reader
  curl http://$listen/metrics

TXT
exec build/caserepo-server --data "$data" --users "$users" --listen "$listen"
