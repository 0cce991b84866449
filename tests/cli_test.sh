#!/usr/bin/env bash
# The caserepo command-line tool end to end: JSON in and out, exit codes,
# errors on stderr, apply's one-line-per-line contract, restart, verify.
#   cli_test.sh PATH/TO/caserepo
set -u
cli=$(realpath "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
failures=0
passes=0

check() {  # check NAME EXPECTED_EXIT EXPECTED_STDOUT_SUBSTRING -- command...
  local name="$1" want_rc="$2" want_out="$3"
  shift 4
  local out rc
  out=$("$@" 2>"$work/stderr")
  rc=$?
  if [ "$rc" != "$want_rc" ] || [[ "$out$(cat "$work/stderr")" != *"$want_out"* ]]; then
    echo "FAIL: $name: exit $rc (want $want_rc), output: $out $(cat "$work/stderr")"
    failures=$((failures + 1))
  else
    passes=$((passes + 1))
  fi
}

check "create" 0 '"status":"OPEN"' -- "$cli" create '{"caseType":"LOAN","client":"123","clientType":"PESEL","status":"OPEN","caseId":"c1","businessKey":"BK-1"}'
check "create joins by businessKey" 0 '"caseId":"c1"' -- "$cli" create '{"caseType":"LOAN","clientId":"123","clientType":"PESEL","status":"CLOSED","businessKey":"BK-1"}'
check "get" 0 '"status":"CLOSED"' -- "$cli" get c1
check "history" 0 '"status":"OPEN"' -- "$cli" history c1
check "search" 0 '"totalElements":2' -- "$cli" search '{"caseId":"c1","sort":"creationDate,asc"}'
check "update" 0 '"statusDescription":"done"' -- "$cli" update c1 '{"statusDescription":"done","source":null}'
check "unknown field" 2 '"error":"InvalidArgument"' -- "$cli" create '{"caseType":"LOAN","clientId":"1","clientType":"P","status":"S","x":1}'
check "bad JSON" 2 '"error":"InvalidArgument"' -- "$cli" search '{"status":'
check "page and token" 2 'cannot be combined' -- "$cli" search '{"page":1,"pageToken":"00"}'
check "not found" 3 '"error":"NotFound"' -- "$cli" get nope
check "conflict" 4 '"error":"Conflict"' -- "$cli" create '{"caseId":"c1","caseType":"CARD","clientId":"123","clientType":"PESEL","status":"OPEN"}'
check "usage" 1 'usage' -- "$cli" frobnicate
check "low-code defaults" 0 '"source":"eximee"' -- "$cli" --app mortgage-app create '{"clientId":"9","clientType":"PESEL","status":"NEW"}'
check "generate" 0 '"generated":500' -- "$cli" generate 500
check "checkpoint" 0 '"seq"' -- "$cli" checkpoint
check "restart keeps everything" 0 '"entries":503' -- "$cli" stats
check "verify" 0 'verify: ok' -- "$cli" verify
progress=$("$cli" generate 100 2>&1 >/dev/null)
if [ -n "$progress" ]; then
  echo "FAIL: progress printed on a stderr that is not a terminal: $progress"
  failures=$((failures + 1))
else
  passes=$((passes + 1))
fi

apply_out=$(printf '%s\n' \
  '{"op":"create","request":{"caseType":"CARD","clientId":"9","clientType":"NIP","status":"NEW","caseId":"a1"}}' \
  'garbage' \
  '{"op":"get","caseId":"a1"}' \
  '{"op":"remove","caseId":"a1"}' \
  '{"op":"history","caseId":"a1"}' | "$cli" --fsync always apply)
lines=$(printf '%s\n' "$apply_out" | wc -l)
if [ "$lines" != 5 ] || [[ "$apply_out" != *'{"ok":{"removed":1}}'* ]] || [[ "$apply_out" != *'"error":"NotFound"'* ]]; then
  echo "FAIL: apply: $apply_out"
  failures=$((failures + 1))
else
  passes=$((passes + 1))
fi

# A damaged log: verify and open both say Corruption (exit 5).
seg=$(ls caserepo-data/log-*.log | tail -1)
"$cli" create '{"caseType":"LOAN","clientId":"1","clientType":"P","status":"A","caseId":"z1"}' >/dev/null
"$cli" create '{"caseType":"LOAN","clientId":"1","clientType":"P","status":"B","caseId":"z2"}' >/dev/null
printf '\xff' | dd of="$seg" bs=1 seek=40 conv=notrunc 2>/dev/null
check "verify finds damage" 5 'DAMAGED' -- "$cli" verify
check "open refuses damage" 5 '"error":"Corruption"' -- "$cli" get c1

# The report behind the evidence rule: 100 fsynced creates, one byte of the
# 51st record's length changed. Open refuses naming file and offset; repair
# keeps the 50 intact records, reports the 50 dropped (seq 51..100) and keeps
# the cut bytes in a file beside the data.
rm -rf hundred
for i in $(seq 1 100); do
  printf '{"op":"create","request":{"caseType":"LOAN","clientId":"k%d","clientType":"PESEL","status":"NEW","caseId":"h%d"}}\n' $((i % 7)) "$i"
done | "$cli" --data hundred --fsync always apply >/dev/null
seg=$(ls hundred/log-*.log)
# Record n (1-based) starts at 24 + sum of the sizes before it; find it by
# walking the length fields (u32 at +4, header 21 bytes).
off=24
for _ in $(seq 1 50); do
  len=$(od -An -tu4 -j $((off + 4)) -N4 "$seg" | tr -d ' ')
  off=$((off + 21 + len))
done
size_before=$(stat -c %s "$seg")
printf '\x40' | dd of="$seg" bs=1 seek=$((off + 5)) conv=notrunc 2>/dev/null
check "damaged length: open refuses, naming file and offset" 5 "log-00000000000000000001.log at offset $off" -- "$cli" --data hundred stats
check "damaged length: verify says what repair would drop" 5 "drop 50 log record(s) (seq 51..100)" -- "$cli" --data hundred verify
check "repair reports the 50 dropped" 0 '"recordsDropped":50' -- "$cli" --data hundred repair
check "repaired directory opens with the 50 intact" 0 '"entries":50' -- "$cli" --data hundred stats
check "the 50th is there" 0 '"caseId":"h50"' -- "$cli" --data hundred get h50
check "the 51st is not" 3 '"error":"NotFound"' -- "$cli" --data hundred get h51
kept=$(ls hundred/*.damaged-at-$off 2>/dev/null)
if [ -z "$kept" ] || [ $(( $(stat -c %s "$kept") + off )) -ne "$size_before" ]; then
  echo "FAIL: the cut bytes are not beside the data: $(ls hundred)"
  failures=$((failures + 1))
else
  passes=$((passes + 1))
fi

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
