#!/usr/bin/env bash
# The HTTP load benchmark (docs/benchmarks.md "HTTP"): caserepo-server under
# wrk, against nginx serving a static file of a get's size (the ceiling for
# HTTP on this machine) and PostgreSQL 15 holding the same data with an
# index per filter field, driven by pgbench with the same queries as prepared
# statements. Every peer is started here — own data directory under a
# temporary directory, loopback only, stopped by pid — and results go to
# bench/http/results.md (bench/report.py puts it into docs/benchmarks.md).
#
#   bench/http/run.sh [N=1000000] [SECONDS=10]
set -euo pipefail
cd "$(dirname "$0")/../.."
n="${1:-1000000}"
seconds="${2:-10}"
connections=(${CONNECTIONS:-1 16 64 256})
root=$(pwd)
scripts/install-deps.sh --bench
cmake -S . -B build-bench-http -G Ninja -DCMAKE_BUILD_TYPE=Release -DCASEREPO_BUILD_TESTS=OFF -DCASEREPO_BUILD_BENCH=OFF >/dev/null
cmake --build build-bench-http -j "$(nproc)" --target caserepo-server caserepo-cli
server_bin=$root/build-bench-http/caserepo-server
cli=$root/build-bench-http/caserepo

work=$(mktemp -d /tmp/caserepo-http-bench.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "${pg_ctl:-}" ] && runuser -u postgres -- "$pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
results=bench/http/results.md
raw=$work/raw.txt
: > "$raw"

echo "== data: $n entries"
python3 bench/http/make_data.py "$n" "$work/data"
cases=$(cat "$work/data/cases")

# --- caserepo-server ----------------------------------------------------------
echo "b3nch-secret" | "$server_bin" users add --users "$work/users" --name bench --role writer >/dev/null
auth="Basic $(printf 'bench:b3nch-secret' | base64)"
start_server() {  # FSYNC
  local port
  port=$(free_port)
  "$server_bin" --data "$work/caserepo" --users "$work/users" --listen "127.0.0.1:$port" --fsync "$1" \
    --access-log off --threads 2 > "$work/server.out" 2> "$work/server.err" &
  server_pid=$!
  pids+=("$server_pid")
  for _ in $(seq 100); do grep -q listening "$work/server.out" 2>/dev/null && break; sleep 0.1; done
  server_url="http://127.0.0.1:$port"
}
stop_server() { kill "$server_pid"; wait "$server_pid" || true; }
"$cli" --data "$work/caserepo" --fsync none apply < "$work/data/creates.jsonl" > /dev/null
"$cli" --data "$work/caserepo" checkpoint > /dev/null

# wrk: requests/s and latency percentiles
run_wrk() {  # NAME URL SCRIPT CONNECTIONS
  local out
  out=$(CASES=$cases AUTH=$auth wrk -t"$(( $4 < 2 ? 1 : 2 ))" -c"$4" -d"${seconds}s" --latency -s "bench/http/$3" "$2" 2>&1) || true
  local rps p50 p99 non2xx
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $5}')
  echo "$1 c=$4 rps=$rps p50=$p50 p99=$p99 non2xx=${non2xx:-0}" | tee -a "$raw"
}

start_server interval
curl -sf -u bench:b3nch-secret "$server_url/api/case-repository/v1?caseId=case-1" > "$work/entry.json"
for c in "${connections[@]}"; do run_wrk caserepo-get "$server_url" get.lua "$c"; done
for c in "${connections[@]}"; do run_wrk caserepo-search "$server_url" search.lua "$c"; done
for c in "${connections[@]}"; do run_wrk caserepo-create-interval "$server_url" create.lua "$c"; done
stop_server
start_server always
for c in "${connections[@]}"; do run_wrk caserepo-create-always "$server_url" create.lua "$c"; done
stop_server

# --- nginx: the same bytes as a static file -------------------------------------
mkdir -p "$work/nginx/html" "$work/nginx/tmp"
cp "$work/entry.json" "$work/nginx/html/entry.json"
nginx_port=$(free_port)
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx/tmp; proxy_temp_path $work/nginx/tmp; fastcgi_temp_path $work/nginx/tmp;
  uwsgi_temp_path $work/nginx/tmp; scgi_temp_path $work/nginx/tmp;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$nginx_port; root $work/nginx/html; default_type application/json; }
}
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx"
sleep 0.5
nginx_pid=$(cat "$work/nginx/nginx.pid")
pids+=("$nginx_pid")
for c in "${connections[@]}"; do run_wrk nginx-static "http://127.0.0.1:$nginx_port" static.lua "$c"; done
kill "$nginx_pid"

# --- PostgreSQL 15 + pgbench ------------------------------------------------------
pgbin=/usr/lib/postgresql/15/bin
pg_ctl=$pgbin/pg_ctl
pg_port=$(free_port)
mkdir -p "$work/pg" "$work/pgsock" "$work/pglog"
chown postgres "$work/pg" "$work/pgsock" "$work/pglog"
runuser -u postgres -- "$pgbin/initdb" -D "$work/pg" -A trust -U postgres >/dev/null
runuser -u postgres -- "$pg_ctl" -D "$work/pg" -l "$work/pglog/pg.log" -w \
  -o "-p $pg_port -k $work/pgsock -c listen_addresses=127.0.0.1 -c shared_buffers=1GB -c max_connections=300" start >/dev/null
psql() { runuser -u postgres -- /usr/bin/psql -q -h "$work/pgsock" -p "$pg_port" -U postgres "$@"; }
chmod 644 "$work/data/entries.csv"
psql -c "CREATE TABLE entries (seq bigserial PRIMARY KEY, case_id text, business_key text, case_type text, client_id text,
  client_type text, status text, status_description text, source text, creation_date timestamptz, update_date timestamptz,
  is_current boolean)"
psql -c "\\copy entries (seq, case_id, business_key, case_type, client_id, client_type, status, status_description, source, creation_date, update_date, is_current) FROM '$work/data/entries.csv' WITH (FORMAT csv, NULL '')"
psql -c "SELECT setval('entries_seq_seq', (SELECT max(seq) FROM entries))" >/dev/null
for col in case_id business_key case_type client_id client_type status source creation_date update_date; do
  psql -c "CREATE INDEX ON entries ($col)"
done
psql -c "CREATE INDEX ON entries (case_id, seq)" -c "CREATE INDEX ON entries (status, case_type, creation_date, seq)" -c "ANALYZE entries"
run_pgbench() {  # NAME SCRIPT CLIENTS [SET...]
  local name=$1 script=$2 c=$3
  shift 3
  local out
  out=$(runuser -u postgres -- "$pgbin/pgbench" -h "$work/pgsock" -p "$pg_port" -U postgres -n -M prepared -c "$c" \
        -j "$(( c < 2 ? 1 : 2 ))" -T "$seconds" -D cases="$cases" "$@" -f "$root/bench/http/$script" -r postgres 2>&1) || true
  local tps lat
  tps=$(echo "$out" | awk -F'= ' '/^tps/ {split($2, a, " "); print a[1]}')
  lat=$(echo "$out" | awk -F'= ' '/^latency average/ {print $2}')
  echo "$name c=$c tps=$tps avg_latency=${lat// /}" | tee -a "$raw"
}
for c in "${connections[@]}"; do run_pgbench postgres-get pg_get.sql "$c"; done
for c in "${connections[@]}"; do run_pgbench postgres-search pg_search.sql "$c"; done
psql -c "ALTER SYSTEM SET synchronous_commit = on" -c "SELECT pg_reload_conf()" >/dev/null
for c in "${connections[@]}"; do run_pgbench postgres-create-sync-on pg_create.sql "$c"; done
psql -c "ALTER SYSTEM SET synchronous_commit = off" -c "SELECT pg_reload_conf()" >/dev/null
for c in "${connections[@]}"; do run_pgbench postgres-create-sync-off pg_create.sql "$c"; done

python3 bench/http/report.py "$raw" "$n" "$seconds" > "$results"
echo "wrote $results"
