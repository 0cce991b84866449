#!/usr/bin/env bash
# A partitioned caserepo cluster on loopback (docs/scale-out.md): three
# clustered nats-server processes (JetStream, R=3), N caserepo nodes (each
# partition on two of them when N >= 2) and the router, which answers the
# same REST API as a single caserepo-server.
#
#   scripts/cluster.sh up DIR [--nodes N] [--partitions P]   start all; prints the router's "listening on HOST:PORT"
#   scripts/cluster.sh down DIR                              stop all (SIGTERM, then SIGKILL after 10 s)
#   scripts/cluster.sh kill DIR node|nats K                  SIGKILL one process (K from 1)
#   scripts/cluster.sh start DIR node|nats K                 start it again, as it was
#
# Data, logs and pids live under DIR; users in DIR/users (made with a demo
# writer "demo" / "demo-password" when missing; add more with
# `caserepo-server users add --users DIR/users`, then `kill -HUP` the router).
# Runs $CASEREPO_SERVER, or build/caserepo-server; $NATS_SERVER, or nats-server.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
server="${CASEREPO_SERVER:-$here/build/caserepo-server}"
nats="${NATS_SERVER:-$(command -v nats-server || echo /usr/sbin/nats-server)}"
stream=CASEREPO_CMDS

die() { echo "cluster.sh: $*" >&2; exit 1; }
usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Starts the process whose command line is in DIR/cmd/NAME, its output in DIR/logs/NAME.log.
launch() {
  local dir=$1 name=$2
  local -a cmd
  mapfile -t cmd <"$dir/cmd/$name"
  nohup "${cmd[@]}" >>"$dir/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$dir/pids/$name"
}

alive() { [ -f "$1/pids/$2" ] && kill -0 "$(cat "$1/pids/$2")" 2>/dev/null; }

# Waits for a caserepo-server's "listening on" line written after `from` bytes of its log.
wait_listening() {
  local dir=$1 name=$2 from=$3 deadline=$((SECONDS + 60))
  while [ $SECONDS -lt $deadline ]; do
    local line
    line=$(tail -c +"$((from + 1))" "$dir/logs/$name.log" 2>/dev/null | grep -m1 '^listening on ' || true)
    if [ -n "$line" ]; then echo "$line"; return 0; fi
    alive "$dir" "$name" || { tail -5 "$dir/logs/$name.log" >&2; die "$name exited"; }
    sleep 0.1
  done
  die "$name did not start within 60 s (see $dir/logs/$name.log)"
}

log_size() { stat -c %s "$1" 2>/dev/null || echo 0; }

# Whether the three nats-servers all wrote "Server is ready" after byte FROM_k
# of their logs (false as soon as one exits).
nats_ready() {
  local dir=$1 k deadline=$((SECONDS + 30))
  local -a from=("" "$2" "$3" "$4")
  while [ $SECONDS -lt $deadline ]; do
    local ready=0
    for k in 1 2 3; do
      alive "$dir" "nats-$k" || return 1
      tail -c +"$((from[k] + 1))" "$dir/logs/nats-$k.log" 2>/dev/null | grep -q 'Server is ready' && ready=$((ready + 1))
    done
    [ "$ready" = 3 ] && return 0
    sleep 0.1
  done
  return 1
}

start_caserepo() {  # DIR NAME: start, wait for "listening on", retry while JetStream elects its leaders
  local dir=$1 name=$2 attempt
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    local from
    from=$(log_size "$dir/logs/$name.log")
    launch "$dir" "$name"
    local deadline=$((SECONDS + 60))
    while [ $SECONDS -lt $deadline ]; do
      if tail -c +"$((from + 1))" "$dir/logs/$name.log" | grep -q '^listening on '; then
        wait_listening "$dir" "$name" "$from"
        return 0
      fi
      alive "$dir" "$name" || break
      sleep 0.1
    done
    alive "$dir" "$name" && die "$name did not start within 60 s (see $dir/logs/$name.log)"
    sleep 1  # NATS not ready yet (no JetStream leader): try again
  done
  tail -5 "$dir/logs/$name.log" >&2
  die "$name could not start (see $dir/logs/$name.log)"
}

cmd_up() {
  local dir=$1; shift
  local nodes=3 partitions=6
  while [ $# -gt 0 ]; do
    case $1 in
      --nodes) nodes=$2; shift 2 ;;
      --partitions) partitions=$2; shift 2 ;;
      *) die "unknown option $1" ;;
    esac
  done
  [ -x "$server" ] || die "no $server (build it: cmake --build build --target caserepo-server)"
  [ -x "$nats" ] || die "no nats-server (scripts/install-deps.sh installs it)"
  mkdir -p "$dir"/{cmd,logs,pids}
  dir=$(cd "$dir" && pwd)
  for f in "$dir"/pids/*; do
    [ -e "$f" ] && alive "$dir" "$(basename "$f")" && die "$dir already runs $(basename "$f"); cluster.sh down $dir first"
  done
  if [ ! -s "$dir/users" ]; then
    echo "demo-password" | "$server" users add --users "$dir/users" --name demo --role writer >/dev/null
  fi

  # free_port picks a port and lets it go, so another process can take it
  # before nats-server binds it (CI saw "bind: address already in use" on a
  # route port, and the stream could then find no peers). Each server says
  # "Server is ready" once bound; one that exits first makes all three start
  # again on new ports.
  local -a client cluster monitor log_from
  local urls="" attempt
  for attempt in 1 2 3 4 5; do
    for k in 1 2 3; do client[$k]=$(free_port); cluster[$k]=$(free_port); monitor[$k]=$(free_port); done
    urls=""
    : >"$dir/nats-monitor"
    for k in 1 2 3; do
      mkdir -p "$dir/nats$k"
      {
        echo "server_name: n$k"
        echo "listen: 127.0.0.1:${client[$k]}"
        echo "http: 127.0.0.1:${monitor[$k]}"
        echo "jetstream { store_dir: \"$dir/nats$k\" }"
        echo "cluster {"
        echo "  name: caserepo"
        echo "  listen: 127.0.0.1:${cluster[$k]}"
        echo "  routes: ["
        for j in 1 2 3; do [ "$j" != "$k" ] && echo "    nats-route://127.0.0.1:${cluster[$j]}"; done
        echo "  ]"
        echo "}"
      } >"$dir/nats$k.conf"
      printf '%s\n' "$nats" -c "$dir/nats$k.conf" >"$dir/cmd/nats-$k"
      log_from[$k]=$(log_size "$dir/logs/nats-$k.log")
      launch "$dir" "nats-$k"
      urls+="${urls:+,}nats://127.0.0.1:${client[$k]}"
      echo "http://127.0.0.1:${monitor[$k]}" >>"$dir/nats-monitor"  # /healthz: JetStream current (tests, operators)
    done
    if nats_ready "$dir" "${log_from[1]}" "${log_from[2]}" "${log_from[3]}"; then break; fi
    for k in 1 2 3; do cmd_kill "$dir" nats "$k"; done
    [ "$attempt" = 5 ] && die "nats-server could not start (see $dir/logs/nats-*.log)"
    echo "cluster.sh: a nats-server could not bind its ports; starting the three again on new ones" >&2
  done
  echo "$urls" >"$dir/nats-urls"

  # Node k serves partition p when p mod N = k-1, and, with N >= 2, the one before it too (a hot replica).
  for ((k = 1; k <= nodes; k++)); do
    local serve=""
    for ((p = 0; p < partitions; p++)); do
      local owner=$((p % nodes + 1)) replica=$(((p + 1) % nodes + 1))
      if [ "$owner" = "$k" ] || { [ "$nodes" -ge 2 ] && [ "$replica" = "$k" ]; }; then serve+="${serve:+,}$p"; fi
    done
    printf '%s\n' "$server" --data "$dir/node-$k" --users "$dir/users" --listen 127.0.0.1:0 --nats "$urls" \
      --nats-replicas 3 --partitions "$partitions" --serve "$serve" --node-id "node-$k" --stream "$stream" \
      --access-log off >"$dir/cmd/node-$k"
  done
  printf '%s\n' "$server" --router --users "$dir/users" --listen "127.0.0.1:${ROUTER_PORT:-0}" --nats "$urls" \
    --nats-replicas 3 --partitions "$partitions" --node-id router --stream "$stream" \
    --access-log off >"$dir/cmd/router"

  # The router makes the stream (R=3) once JetStream has a leader; then the nodes.
  start_caserepo "$dir" router >/dev/null
  for ((k = 1; k <= nodes; k++)); do start_caserepo "$dir" "node-$k" >/dev/null; done
  wait_listening "$dir" router 0 | tee "$dir/router-address"
}

cmd_down() {
  local dir=$1
  [ -d "$dir/pids" ] || die "$dir holds no cluster"
  local f
  for f in "$dir"/pids/router "$dir"/pids/node-* "$dir"/pids/nats-*; do
    [ -e "$f" ] && kill -TERM "$(cat "$f")" 2>/dev/null || true
  done
  local deadline=$((SECONDS + 10))
  for f in "$dir"/pids/*; do
    [ -e "$f" ] || continue
    while kill -0 "$(cat "$f")" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    kill -KILL "$(cat "$f")" 2>/dev/null || true
    rm -f "$f"
  done
}

cmd_kill() {
  local dir=$1 what=$2 k=$3
  [ -f "$dir/pids/$what-$k" ] || die "no $what $k in $dir"
  kill -KILL "$(cat "$dir/pids/$what-$k")" 2>/dev/null || true
  while alive "$dir" "$what-$k"; do sleep 0.05; done
}

cmd_start() {
  local dir=$1 what=$2 k=$3
  [ -f "$dir/cmd/$what-$k" ] || die "no $what $k in $dir"
  alive "$dir" "$what-$k" && die "$what $k already runs"
  if [ "$what" = node ]; then start_caserepo "$dir" "node-$k"; else launch "$dir" "nats-$k"; fi
}

[ $# -ge 2 ] || usage
action=$1 dir=$2; shift 2
case $action in
  up) cmd_up "$dir" "$@" ;;
  down) cmd_down "$dir" ;;
  kill) [ $# -eq 2 ] && [[ $1 == node || $1 == nats ]] || usage; cmd_kill "$dir" "$1" "$2" ;;
  start) [ $# -eq 2 ] && [[ $1 == node || $1 == nats ]] || usage; cmd_start "$dir" "$1" "$2" ;;
  *) usage ;;
esac
