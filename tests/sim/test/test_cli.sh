#!/usr/bin/env bash
# The command line contract: startup under 1 s with --port 0 --port-file,
# SIGTERM -> exit 0 with nothing left behind, --check, --log, and scenario
# errors with file:line:col.
set -uo pipefail
SIM_BIN=${1:-${SIM_BIN:-}}
# shellcheck source=tests/sim/test/lib.sh
. "$(dirname "$0")/lib.sh"

# Every shipped scenario is valid.
for f in "$SIM_SCENARIOS"/*.yaml; do
  check "scenario $(basename "$f") validates" "$SIM_BIN" --scenario "$f" --check --quiet
done

# Startup time, port file, serving, SIGTERM.
logdir=$(mktemp -d)
SIM_TMP_DIRS+=("$logdir")
t0=$(date +%s%N)
start_sim steady.yaml --log "$logdir/log.jsonl" || { not_ok "start steady"; finish; exit 1; }
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
echo "startup: ${ms} ms"
check "starts and writes its port in under 1 s (${ms} ms)" test "$ms" -lt 1000
check "port file holds a port" grep -Eq '^[0-9]+$' "$SIM_DIR/port"
code=$(sim_curl "$SIM_DIR/clock.json" "$SIM_URL/_sim/clock")
expect_eq "GET /_sim/clock answers" 200 "$code"
jcheck "clock starts at the scenario start" "$SIM_DIR/clock.json" 'J.now == "2026-11-27T10:00:00Z"'
curl -sS -o /dev/null -H "X-Octopus-ApiKey: $(sim_auth api_key)" "$SIM_URL/api/Spaces-1/machines?apikey=secret-in-query"
# /proc/net/tcp: local address 0100007F is 127.0.0.1, state 0A is LISTEN
listen=$(awk -v p="$(printf '%04X' "$SIM_PORT")" '$4 == "0A" && $2 ~ (":" p "$") {print $2}' /proc/net/tcp)
expect_eq "listens on 127.0.0.1 only" "0100007F:$(printf '%04X' "$SIM_PORT")" "$listen"
pid=$SIM_PID
dir=$SIM_DIR
stop_sim
expect_eq "SIGTERM exits 0" 0 "$SIM_EXIT"
check "no process left behind" bash -c "! kill -0 $pid 2>/dev/null"
check "port file removed on exit" test ! -e "$dir/port"
check "--log wrote JSON lines" test -s "$logdir/log.jsonl"
log_line=$(head -n 1 "$logdir/log.jsonl")
echo "$log_line" >"$dir/line.json"
jcheck "log line has seq, method, path, status, time_ms" "$dir/line.json" \
  'J.seq == 1 and J.method == "GET" and J.path == "/api/Spaces-1/machines" and J.status == 200 and type(J.time_ms) == "number"'
jcheck "log redacts an API key in the query" "$dir/line.json" 'J.query:find("secret") == nil'

# Shutdown does not wait for a request sleeping in injected latency.
start_sim steady.yaml
curl -sS -o /dev/null -X POST "$SIM_URL/_sim/faults" -d '[{"route":"octopus.root","latency_ms":60000}]'
curl -s -o /dev/null "$SIM_URL/api" &
hung=$!
sleep 0.2
t0=$(date +%s%N)
stop_sim
ms=$((($(date +%s%N) - t0) / 1000000))
expect_eq "SIGTERM with a request in a 60 s latency exits 0" 0 "$SIM_EXIT"
check "and promptly (${ms} ms)" test "$ms" -lt 2000
wait "$hung" 2>/dev/null

# SIGINT works as well.
start_sim steady.yaml
kill -INT "$SIM_PID"
pid=$SIM_PID
for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.01; done
wait "$pid"
expect_eq "SIGINT exits 0" 0 "$?"
SIM_PID=""

# Usage and scenario errors.
"$SIM_BIN" --bogus >/dev/null 2>&1
expect_eq "unknown option exits 2" 2 "$?"
"$SIM_BIN" >/dev/null 2>&1
expect_eq "missing --scenario exits 2" 2 "$?"
bad=$(mktemp -d)
SIM_TMP_DIRS+=("$bad")
cat >"$bad/typo.yaml" <<'YAML'
azure:
  subscriptions:
    - id: sub-1
      resource_groups:
        - name: rg
          scale_sets:
            - name: vmss
              capcity: 3
YAML
err=$("$SIM_BIN" --scenario "$bad/typo.yaml" --check 2>&1)
expect_eq "unknown key exits 3" 3 "$?"
check "unknown key error names file:line:col and the key" grep -q "typo.yaml:8:15: .*capcity: unknown key" <<<"$err"
printf 'timeline:\n  - at: 10\n    scale: {scale_set: nope, capacity: 2}\n' >"$bad/ref.yaml"
err=$("$SIM_BIN" --scenario "$bad/ref.yaml" --check 2>&1)
expect_eq "bad reference exits 3" 3 "$?"
check "bad reference is explained" grep -q "ref.yaml:3:.*no scale set named nope" <<<"$err"
printf 'a: [1, 2\n' >"$bad/syntax.yaml"
err=$("$SIM_BIN" --scenario "$bad/syntax.yaml" --check 2>&1)
expect_eq "YAML syntax error exits 3" 3 "$?"
check "YAML syntax error has a position" grep -q "syntax.yaml:[0-9]*:[0-9]*:" <<<"$err"
err=$("$SIM_BIN" --scenario "$bad/missing.yaml" --check 2>&1)
expect_eq "missing scenario exits 3" 3 "$?"

finish
