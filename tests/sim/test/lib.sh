# shellcheck shell=bash
# Helpers for tests that run octoscale-sim: source this file, then
#
#   start_sim SCENARIO [extra octoscale-sim args...]
#       starts the simulator on a free port and exports SIM_PORT, SIM_URL,
#       SIM_PID, SIM_DIR (a private temp dir), SIM_STDERR. Fails (returns 1)
#       when the port file does not appear within SIM_START_TIMEOUT (5 s).
#   stop_sim
#       SIGTERM, waits up to 5 s (then SIGKILL), sets SIM_EXIT to the exit
#       status and returns it; a non-zero status (a sanitizer report, say)
#       is printed with the simulator's stderr and makes finish() fail.
#       Called automatically on EXIT.
#   sim_auth FIELD        credentials the scenario expects (tenant,
#                         client_id, client_secret, federated_assertion,
#                         identity_header, api_key), from GET /_sim
#   sim_token             an ARM bearer token (Entra client-secret flow)
#   sim_curl OUT ARGS...  curl -sS into file OUT; prints the HTTP status
#   sim_advance SECONDS   POST /_sim/clock/advance
#   jget FILE EXPR        prints a Lua expression over the JSON in FILE
#                         (bound to J), e.g. jget out.json 'J.value[1].name'
#
# SIM_BIN names the binary (default: $1 of the test, else
# build/bin/octoscale-sim under the repository). Only 127.0.0.1 is used.

SIM_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SIM_REPO=$(cd "$SIM_LIB_DIR/../../.." && pwd)
SIM_SCENARIOS="$SIM_REPO/tests/sim/scenarios"
# The shared fixtures, as copied into the repository (tests/fixtures/api).
SIM_FIXTURES="$SIM_REPO/tests/fixtures/api"
: "${SIM_BIN:=$SIM_REPO/build/bin/octoscale-sim}"
: "${SIM_START_TIMEOUT:=5}"
SIM_PID=""
SIM_TMP_DIRS=()
SIM_BAD_EXITS=()

_sim_cleanup() {
  local rc=$?
  if [[ -n $SIM_PID ]]; then stop_sim >/dev/null 2>&1 || true; fi
  local d
  for d in "${SIM_TMP_DIRS[@]}"; do rm -rf "$d"; done
  return $rc
}
trap _sim_cleanup EXIT
trap 'exit 130' INT TERM

start_sim() {
  local scenario=$1
  shift
  [[ -f $scenario ]] || scenario="$SIM_SCENARIOS/$scenario"
  if [[ -n $SIM_PID ]]; then
    echo "start_sim: a simulator is already running (pid $SIM_PID)" >&2
    return 1
  fi
  SIM_DIR=$(mktemp -d "${TMPDIR:-/tmp}/octoscale-sim.XXXXXX")
  SIM_TMP_DIRS+=("$SIM_DIR")
  SIM_STDERR="$SIM_DIR/stderr"
  "$SIM_BIN" --scenario "$scenario" --port 0 --port-file "$SIM_DIR/port" "$@" \
    2>"$SIM_STDERR" &
  SIM_PID=$!
  local deadline=$((SECONDS + SIM_START_TIMEOUT + 1)) i=0
  while [[ ! -s $SIM_DIR/port ]]; do
    if ! kill -0 "$SIM_PID" 2>/dev/null; then
      wait "$SIM_PID" 2>/dev/null
      echo "start_sim: octoscale-sim exited early (status $?):" >&2
      cat "$SIM_STDERR" >&2
      SIM_PID=""
      return 1
    fi
    if ((++i > SIM_START_TIMEOUT * 100)) || ((SECONDS > deadline)); then
      echo "start_sim: no port file after ${SIM_START_TIMEOUT}s" >&2
      stop_sim
      return 1
    fi
    sleep 0.01
  done
  SIM_PORT=$(<"$SIM_DIR/port")
  SIM_URL="http://127.0.0.1:$SIM_PORT"
  export SIM_PORT SIM_URL SIM_PID SIM_DIR SIM_STDERR
}

stop_sim() {
  SIM_EXIT=""
  [[ -n $SIM_PID ]] || return 0
  local pid=$SIM_PID i
  SIM_PID=""
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 500; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.01
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "stop_sim: pid $pid ignored SIGTERM for 5 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null
  SIM_EXIT=$?
  if [[ $SIM_EXIT -ne 0 ]]; then
    # e.g. a sanitizer report at exit: make it visible and fail finish()
    SIM_BAD_EXITS+=("$pid:$SIM_EXIT")
    echo "stop_sim: octoscale-sim (pid $pid) exited with status $SIM_EXIT; its stderr:" >&2
    tail -n 40 "$SIM_STDERR" >&2
  fi
  return "$SIM_EXIT"
}

sim_curl() {
  local out=$1
  shift
  curl -sS --max-time 30 -o "$out" -w '%{http_code}' "$@"
}

jget() {
  lua5.4 "$SIM_LIB_DIR/json_assert.lua" eval "$1" "$2"
}

sim_auth() {
  local f="$SIM_DIR/auth.json"
  [[ -s $f ]] || curl -sS -o "$f" "$SIM_URL/_sim"
  jget "$f" "J.auth.$1"
}

sim_token() {
  local f="$SIM_DIR/token.json"
  curl -sS -o "$f" -X POST "$SIM_URL/$(sim_auth tenant)/oauth2/v2.0/token" \
    --data-urlencode grant_type=client_credentials \
    --data-urlencode "client_id=$(sim_auth client_id)" \
    --data-urlencode "client_secret=$(sim_auth client_secret)" \
    --data-urlencode scope=https://management.azure.com/.default
  jget "$f" J.access_token
}

sim_advance() {
  curl -sS -o /dev/null -X POST "$SIM_URL/_sim/clock/advance?seconds=$1"
}

# ---- a tiny test harness -------------------------------------------------
T_PASS=0
T_FAIL=0
ok() {
  T_PASS=$((T_PASS + 1))
  echo "ok   $*"
}
not_ok() {
  T_FAIL=$((T_FAIL + 1))
  echo "FAIL $*"
}
# check DESCRIPTION COMMAND...: passes when the command succeeds
check() {
  local what=$1
  shift
  local out
  if out=$("$@" 2>&1); then ok "$what"; else not_ok "$what${out:+: $out}"; fi
}
# expect_eq DESCRIPTION EXPECTED ACTUAL
expect_eq() {
  if [[ $2 == "$3" ]]; then ok "$1"; else not_ok "$1: expected '$2', got '$3'"; fi
}
# jcheck DESCRIPTION FILE LUA-BOOLEAN-EXPR
jcheck() {
  local out
  if out=$(lua5.4 "$SIM_LIB_DIR/json_assert.lua" check "$2" "$3" 2>&1); then
    ok "$1"
  else
    not_ok "$1: $out"
  fi
}
# keys DESCRIPTION FIXTURE FIXTURE-PATH FILE PATH [OPTIONAL,KEYS]: every key
# of the fixture object is in ours (keys the real API omits when empty may
# be listed as optional)
keys() {
  local out
  if out=$(lua5.4 "$SIM_LIB_DIR/json_assert.lua" keys "$2" "$3" "$4" "$5" "${6:-}" 2>&1); then
    ok "$1"
  else
    not_ok "$1: $out"
  fi
}
# The fixtures ship with the repository: their absence is a failure, never
# a silent skip of the shape checks.
have_fixtures() {
  if [[ -d $SIM_FIXTURES/azure && -d $SIM_FIXTURES/octopus ]]; then return 0; fi
  not_ok "fixtures not found at $SIM_FIXTURES"
  return 1
}
finish() {
  if [[ -n $SIM_PID ]]; then stop_sim >/dev/null; fi
  local e
  for e in "${SIM_BAD_EXITS[@]}"; do not_ok "octoscale-sim pid:status $e did not exit 0"; done
  SIM_BAD_EXITS=()
  echo "$T_PASS passed, $T_FAIL failed"
  [[ $T_FAIL -eq 0 ]]
}
