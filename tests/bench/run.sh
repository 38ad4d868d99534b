#!/usr/bin/env bash
# octoscale benchmark (`make bench`): octoscale and a replay of the Octopus
# "Check VMSS Provision Status" step template's request pattern
# (tests/bench/baseline.c), both against octoscale-sim with injected
# latency, over tiers of 10, 100, 1,000 and 3,000 VMs, all with the default
# config; the 1,000 and 3,000 tiers again behind Octopus's default rate
# limit (200/min, burst 200); the ARM requests of `apply --wait` polls on
# 1,000 VMs; `plan --snapshot` of 10,000 VMs; `octoscale version` and
# `check`. Writes tests/bench/RESULTS.md (override with BENCH_RESULTS) and
# prints it.
#
#   bash tests/bench/run.sh BUILD_DIR
#
# Knobs (environment): BENCH_LATENCY_MS (20), BENCH_TIERS ("10 100 1000
# 3000"), BENCH_CONCURRENCY (the http.concurrency sweep at the largest
# tier, "8 16 32"), BENCH_RATE_TIERS (the rate-limited tiers, "1000
# 3000"), BENCH_BASELINE (1; 0 skips the baseline runs),
# BENCH_LITERAL_MIN_VMS (1000: the one-page baseline also runs where a
# scale set has more than 1,000 targets), BENCH_SNAPSHOT_SETS x
# BENCH_SNAPSHOT_VMS (10 x 1000), BENCH_MAX_SECONDS (900: later steps are
# skipped past it, and none runs past 60 s more), BENCH_RESULTS,
# BENCH_SAVE_RAW (a directory for the raw records).
#
# Only 127.0.0.1 is used; every process started here is stopped on exit.
# Not part of `make test`: benchmarks measure, tests check behaviour.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd) || exit 2
OSC="$BUILD/bin/octoscale"
SIM="$BUILD/bin/octoscale-sim"

: "${BENCH_LATENCY_MS:=20}"
: "${BENCH_TIERS:=10 100 1000 3000}"
: "${BENCH_CONCURRENCY:=8 16 32}"
: "${BENCH_RATE_TIERS:=1000 3000}"
: "${BENCH_BASELINE:=1}"
: "${BENCH_LITERAL_MIN_VMS:=1000}"
: "${BENCH_SNAPSHOT_SETS:=10}"
: "${BENCH_SNAPSHOT_VMS:=1000}"
: "${BENCH_MAX_SECONDS:=900}"
: "${BENCH_RESULTS:=$HERE/RESULTS.md}"

START=2026-11-27T10:00:00Z     # the scenarios' start: OCTOSCALE_NOW
ORPHANED=2026-11-27T09:00:00Z  # in the state file: past the 10m grace
# Every octoscale run uses the default config (octopus.requests_per_minute:
# auto): unpaced until the server answers 429.
DEFAULT_RATE=

for bin in "$OSC" "$SIM"; do
  [[ -x $bin ]] || { echo "bench: $bin is missing (build first)" >&2; exit 2; }
done
for tool in lua5.4 curl cc /usr/bin/time timeout; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is needed" >&2; exit 2; }
done
lua5.4 -e 'require "cjson"' 2>/dev/null || { echo "bench: lua5.4 cjson is needed" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/octoscale-bench.XXXXXX")
RESULTS="$WORK/results.txt"
: >"$RESULTS"
SIM_PIDS=()

stop_pid() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 500; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.01
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}

stop_sims() {
  local pid
  for pid in "${SIM_PIDS[@]}"; do stop_pid "$pid"; done
  SIM_PIDS=()
}

# The measured command runs in the background while the script waits for
# it: bash runs a trap only between foreground commands, so this is what
# lets an interrupt stop it at once. It is `timeout ...`, which passes the
# signal on to its process group.
CHILD=
run_child() {
  "$@" &
  CHILD=$!
  wait "$CHILD"
  local rc=$?
  CHILD=
  return $rc
}

cleanup() {
  local rc=$?
  if [[ -n $CHILD ]]; then
    kill -TERM "$CHILD" 2>/dev/null
    wait "$CHILD" 2>/dev/null
  fi
  stop_sims
  rm -rf "$WORK"
  return $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf 'bench: %s\n' "$*" >&2; }
# A hard deadline 60 s past BENCH_MAX_SECONDS: no step runs beyond it.
step_timeout() { # WANTED_SECONDS -> min(wanted, time left before the deadline)
  local left=$((BENCH_MAX_SECONDS + 60 - SECONDS))
  ((left < 5)) && left=5
  ((left < $1)) && echo "$left" || echo "$1"
}
record() { printf '%s\n' "$*" >>"$RESULTS"; }
over_time() {
  if ((SECONDS > BENCH_MAX_SECONDS)); then
    log "past BENCH_MAX_SECONDS=$BENCH_MAX_SECONDS: skipping $1"
    record "kind=skipped what=$1"
    return 0
  fi
  return 1
}

# start_sim NAME SCENARIO: sets <NAME>_URL (http://127.0.0.1:PORT).
start_sim() {
  local name=$1 scenario=$2 i pid
  rm -f "$WORK/$name.port"
  "$SIM" --scenario "$scenario" --port 0 --port-file "$WORK/$name.port" --quiet \
    2>"$WORK/$name.stderr" &
  pid=$!
  SIM_PIDS+=("$pid")
  for ((i = 0; i < 1000; i++)); do
    [[ -s $WORK/$name.port ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.01
  done
  if [[ ! -s $WORK/$name.port ]]; then
    log "octoscale-sim ($name) did not start:"
    cat "$WORK/$name.stderr" >&2
    return 1
  fi
  printf -v "${name}_URL" 'http://127.0.0.1:%s' "$(<"$WORK/$name.port")"
}

jfield() { # FILE LUA-EXPR over J
  lua5.4 - "$1" "$2" <<'LUA'
local f = assert(io.open(arg[1], "rb"))
J = require("cjson").decode(f:read("a"))
f:close()
print((assert(load("return " .. arg[2], "expr", "t", setmetatable({ J = J }, { __index = _G })))()))
LUA
}

# Two simulators per run: Azure (ARM + Entra) from one, Octopus from the
# other, both loaded from the same scenario (deterministic). Real Azure and
# Octopus do not share a server lock, and octoscale keeps per-host limits.
start_pair() {
  start_sim AZ "$1" && start_sim OC "$1" || return 1
  curl -sS --max-time 10 -o "$WORK/auth.json" "$AZ_URL/_sim" || return 1
  curl -sS --max-time 10 -o "$WORK/auth-oc.json" "$OC_URL/_sim" || return 1
  TENANT=$(jfield "$WORK/auth.json" J.auth.tenant)
  CLIENT_ID=$(jfield "$WORK/auth.json" J.auth.client_id)
  CLIENT_SECRET=$(jfield "$WORK/auth.json" J.auth.client_secret)
  API_KEY=$(jfield "$WORK/auth-oc.json" J.auth.api_key)
}

fetch_logs() { # PREFIX
  curl -sS --max-time 30 -o "$WORK/$1-az.json" "$AZ_URL/_sim/requests" &&
    curl -sS --max-time 30 -o "$WORK/$1-oc.json" "$OC_URL/_sim/requests" &&
    lua5.4 "$HERE/logstat.lua" "$WORK/$1-az.json" "$WORK/$1-oc.json"
}

scenario_for() { # NAME -> path (with BENCH_LATENCY_MS applied)
  local src="$HERE/scenarios/$1.yaml" out="$WORK/$1.yaml"
  sed "s/^latency_ms: .*/latency_ms: $BENCH_LATENCY_MS/" "$src" >"$out"
  printf '%s' "$out"
}

# Scale sets of a tier: "entry:vmss:role ..."
sets_for() {
  if [[ $1 == 3000 ]]; then
    echo "web:vmss-web:web-server api:vmss-api:api-server worker:vmss-worker:worker"
  else
    echo "web:vmss-web:web-server"
  fi
}

# The default policy, with max_delete 100 % so every orphan may go.
POLICY="$WORK/policy.lua"
if [[ -f $REPO/policies/default.lua ]]; then
  sed 's/max_delete = "50%"/max_delete = "100%"/' "$REPO/policies/default.lua" >"$POLICY"
  grep -q 'max_delete = "100%"' "$POLICY" || echo 'error("bench: cannot set max_delete in the default policy")' >"$POLICY"
else
  echo 'return { max_delete = "100%" }' >"$POLICY"
fi

write_config() { # FILE SETS CONCURRENCY(or "") REQUESTS_PER_MINUTE(or "")
  local file=$1 sets=$2 conc=$3 rpm=$4 s entry vmss role
  {
    echo "octopus:"
    echo "  url: $OC_URL"
    echo "  api_key: $API_KEY"
    echo "  space: Default"
    [[ -n $rpm ]] && echo "  requests_per_minute: $rpm"
    echo "azure:"
    echo "  subscription: 00000000-0000-4000-8000-000000000001"
    echo "  tenant: $TENANT"
    echo "  auth: client_secret"
    echo "  client_id: $CLIENT_ID"
    echo "  client_secret: $CLIENT_SECRET"
    echo "  endpoints:"
    echo "    login: $AZ_URL"
    echo "    management: $AZ_URL"
    echo "    imds: $AZ_URL"
    if [[ -n $conc ]]; then
      echo "http:"
      echo "  concurrency: $conc"
    fi
    echo "state: $WORK/state.json"
    echo "policy: $POLICY"
    echo "scale_sets:"
    for s in $sets; do
      IFS=: read -r entry vmss role <<<"$s"
      echo "  - name: $entry"
      echo "    resource_group: rg-bench"
      echo "    vmss: $vmss"
      echo "    environment: Production"
      echo "    roles: [$role]"
    done
  } >"$file"
}

orphan_state() { # SETS
  local s entry vmss role maps=()
  for s in $1; do
    IFS=: read -r entry vmss role <<<"$s"
    maps+=("$vmss=$entry")
  done
  curl -sS --max-time 30 -o "$WORK/sim-state.json" "$OC_URL/_sim/state" &&
    lua5.4 "$HERE/orphan_state.lua" "$WORK/sim-state.json" "$WORK/state.json" \
      "$ORPHANED" "${maps[@]}" 2>/dev/null
}

# time_file -> "wall user sys maxrss_kb"
read_time() { tail -n 1 "$1"; }

# run_octoscale KIND TIER SCENARIO SETS CONCURRENCY REQUESTS_PER_MINUTE [COMMAND]
run_octoscale() {
  local kind=$1 tier=$2 scenario=$3 sets=$4 conc=$5 rpm=$6 cmd=${7:-apply} rc t stats deleted
  start_pair "$scenario" || { stop_sims; record "kind=$kind tier=$tier error=sim"; return 1; }
  write_config "$WORK/octoscale.yaml" "$sets" "$conc" "$rpm"
  rm -f "$WORK/state.json"
  orphan_state "$sets" || { stop_sims; record "kind=$kind tier=$tier error=state"; return 1; }
  local envs=(env -u OCTOSCALE_OCTOPUS_RATE OCTOSCALE_NOW=$START)
  run_child timeout -s KILL "$(step_timeout "${OSC_TIMEOUT:-180}")" /usr/bin/time -o "$WORK/time" -f "%e %U %S %M" \
    "${envs[@]}" "$OSC" -c "$WORK/octoscale.yaml" --format json "$cmd" ${OSC_ARGS:-} \
    >"$WORK/osc.json" 2>"$WORK/osc.stderr"
  rc=$?
  t=$(read_time "$WORK/time")
  stats=$(fetch_logs "osc-$kind-$tier-$conc")
  stop_sims
  deleted=$(jfield "$WORK/osc.json" '(function() local n = 0 for _, s in ipairs(J.scale_sets or {}) do for _, a in ipairs(s.actions or {}) do if a.action == "delete" and a.done == true then n = n + 1 end end end return n end)()' 2>/dev/null)
  if [[ $rc != 0 && ! ($cmd == plan && $rc == 2) ]]; then
    log "octoscale $kind tier $tier exited $rc: $(head -c 400 "$WORK/osc.stderr")"
  fi
  read -r wall user sys rss <<<"$t"
  record "kind=$kind tier=$tier concurrency=${conc:-8} rc=$rc wall=$wall user=$user sys=$sys rss_kb=$rss deleted_done=${deleted:-0} $stats"
  log "octoscale $kind tier=$tier concurrency=${conc:-8}: exit $rc, ${wall}s wall, $(awk "BEGIN{print $user+$sys}")s CPU, ${rss} KB, ${deleted:-0} deleted"
  return 0
}

# run_baseline KIND TIER SCENARIO SETS PAGES
run_baseline() {
  local kind=$1 tier=$2 scenario=$3 sets=$4 pages=$5 rc t stats s entry vmss role specs=()
  start_pair "$scenario" || { stop_sims; record "kind=$kind tier=$tier error=sim"; return 1; }
  for s in $sets; do
    IFS=: read -r entry vmss role <<<"$s"
    specs+=("rg-bench/$vmss/$role")
  done
  run_child timeout -s KILL "$(step_timeout 400)" /usr/bin/time -o "$WORK/time" -f "%e %U %S %M" \
    "$WORK/baseline" --azure "$AZ_URL" --octopus "$OC_URL" --tenant "$TENANT" \
    --client-id "$CLIENT_ID" --client-secret "$CLIENT_SECRET" --api-key "$API_KEY" \
    --subscription 00000000-0000-4000-8000-000000000001 --pages "$pages" "${specs[@]}" \
    >"$WORK/base.out" 2>"$WORK/base.stderr"
  rc=$?
  t=$(read_time "$WORK/time")
  stats=$(fetch_logs "base-$kind-$tier")
  stop_sims
  read -r wall user sys rss <<<"$t"
  local summary
  summary=$(grep -E '^result=' "$WORK/base.out" | tail -n 1 | sed 's/^result=/result=/; s/ azure_requests=[0-9]*//; s/ octopus_requests=[0-9]*//; s/ machine_pages=[0-9]*//')
  record "kind=$kind tier=$tier pages=$pages rc=$rc wall=$wall user=$user sys=$sys rss_kb=$rss $stats $summary"
  log "baseline $kind ($pages page(s)) tier=$tier: exit $rc, ${wall}s wall; $summary"
  return 0
}

log "work dir $WORK; latency ${BENCH_LATENCY_MS} ms"
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I"$REPO" \
  "$HERE/baseline.c" "$REPO/core/osc_rawjson.c" "$REPO/core/osc_buf.c" \
  "$REPO/core/osc_error.c" "$REPO/core/osc_text.c" -lcurl -o "$WORK/baseline" || { log "cannot build the baseline"; exit 1; }

# ---- machine -------------------------------------------------------------------
{
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$REPO" diff --quiet HEAD 2>/dev/null || echo '+uncommitted')"
  echo "nproc=$(nproc)"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
  echo "mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "kernel=$(uname -sr)"
  echo "load=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "curl=$(curl-config --version 2>/dev/null || echo unknown)"
  echo "latency_ms=$BENCH_LATENCY_MS"
} >"$WORK/machine.txt"

# ---- octoscale over the tiers -------------------------------------------------------
# The quick, target-bearing steps first; the slow sequential baselines last,
# so a tight time budget skips baselines, not targets.
largest=
for tier in $BENCH_TIERS; do
  largest=$tier
  over_time "tier $tier" && continue
  run_octoscale tier "$tier" "$(scenario_for "tier-$tier")" "$(sets_for "$tier")" "" "$DEFAULT_RATE"
done

if [[ -n $largest ]]; then
  scen=$(scenario_for "tier-$largest")
  sets=$(sets_for "$largest")
  # the read phase alone (plan) at the largest tier
  over_time "plan $largest" || run_octoscale plan "$largest" "$scen" "$sets" "" "$DEFAULT_RATE" plan
  # http.concurrency sweep
  for c in $BENCH_CONCURRENCY; do
    over_time "concurrency $c" && continue
    run_octoscale sweep "$largest" "$scen" "$sets" "$c" "$DEFAULT_RATE"
  done
fi

# ---- rate-limited tiers ----------------------------------------------------------------
# The tier's scenario behind Octopus 2026.3's default policy: a token
# bucket of 200 a minute, burst 200, on every Octopus route (429 with
# Retry-After past it). octoscale with the default config.
rate_scenario() { # TIER -> path
  local out="$WORK/rate-$1.yaml"
  cat "$(scenario_for "tier-$1")" - >"$out" <<'YAML'

faults:
  - name: octopus-rate-limit
    route: "octopus.*"
    rate_limit: {per_minute: 200, burst: 200}
YAML
  printf '%s' "$out"
}
for tier in $BENCH_RATE_TIERS; do
  over_time "rate-limited tier $tier" && continue
  OSC_TIMEOUT=600 run_octoscale rate "$tier" "$(rate_scenario "$tier")" "$(sets_for "$tier")" "" "$DEFAULT_RATE"
done
first_rate=${BENCH_RATE_TIERS%% *}
if [[ -n $first_rate && $BENCH_BASELINE == 1 ]] && ! over_time "rate-limited baseline"; then
  run_baseline baseline-rate "$first_rate" "$(rate_scenario "$first_rate")" "$(sets_for "$first_rate")" all
fi

# ---- apply --wait: ARM requests per poll ------------------------------------------------------
# 1,000 VMs, 2 more Creating (for 10 simulated minutes: the clock stands
# still), --wait=BENCH_WAIT_SECONDS with 1 s polls: every poll sees nothing
# change.
: "${BENCH_WAIT_SECONDS:=8}"
if ! over_time "wait polls"; then
  if start_pair "$(scenario_for wait-1000)" &&
    curl -sS --max-time 10 -o /dev/null -X POST -d '{"scale":{"scale_set":"vmss-web","capacity":1002}}' "$AZ_URL/_sim/actions" &&
    curl -sS --max-time 10 -o /dev/null -X POST "$AZ_URL/_sim/clock/advance?seconds=1"; then
    write_config "$WORK/octoscale.yaml" "web:vmss-web:web-server" "" "$DEFAULT_RATE"
    curl -sS --max-time 10 -o /dev/null -X POST "$AZ_URL/_sim/requests/reset"
    curl -sS --max-time 10 -o /dev/null -X POST "$OC_URL/_sim/requests/reset"
    run_child timeout -s KILL "$(step_timeout 120)" /usr/bin/time -o "$WORK/time" -f "%e %U %S %M" \
      env -u OCTOSCALE_OCTOPUS_RATE "$OSC" -c "$WORK/octoscale.yaml" apply \
      --wait="${BENCH_WAIT_SECONDS}s" --poll-interval 1s >"$WORK/wait.out" 2>"$WORK/wait.stderr"
    rc=$?
    read -r wall user sys rss <<<"$(read_time "$WORK/time")"
    stats=$(fetch_logs wait)
    record "kind=wait tier=1000 rc=$rc wall=$wall user=$user sys=$sys rss_kb=$rss wait_s=$BENCH_WAIT_SECONDS $stats"
    log "wait: exit $rc, ${wall}s wall; $stats"
  else
    record "kind=wait tier=1000 error=sim"
  fi
  stop_sims
fi

# ---- plan --snapshot of 10,000 VMs ----------------------------------------------------
snapshot_runs() { # KIND POLICY RUNS
  local kind=$1 policy=$2 runs=$3 i rc wall user sys rss deletes
  sed "s#^policy: .*#policy: $policy#" "$WORK/snap/octoscale.yaml" >"$WORK/snap/$kind.yaml"
  for ((i = 1; i <= runs; i++)); do
    run_child timeout -s KILL "$(step_timeout 60)" /usr/bin/time -o "$WORK/time" -f "%e %U %S %M" \
      env OCTOSCALE_NOW=$START "$OSC" -c "$WORK/snap/$kind.yaml" plan \
      --snapshot "$WORK/snap/snapshot.json" >"$WORK/snap/plan.out" 2>"$WORK/snap/plan.err"
    rc=$?
    read -r wall user sys rss <<<"$(read_time "$WORK/time")"
    deletes=$(grep -c '^  delete ' "$WORK/snap/plan.out")
    record "kind=$kind run=$i rc=$rc wall=$wall user=$user sys=$sys rss_kb=$rss vms=$snap_vms targets=$snap_targets bytes=$snap_bytes deletes=$deletes"
  done
}
if ! over_time "snapshot plan"; then
  mkdir -p "$WORK/snap"
  snap_policy="$REPO/policies/default.lua"
  echo 'return {}' >"$WORK/empty-policy.lua"
  [[ -f $snap_policy ]] || snap_policy="$WORK/empty-policy.lua"
  read -r snap_vms snap_targets < <(lua5.4 "$HERE/make_snapshot.lua" \
    "$REPO/tests/fixtures/snapshots/scale-in.json" "$WORK/snap" \
    "$BENCH_SNAPSHOT_SETS" "$BENCH_SNAPSHOT_VMS" "$snap_policy")
  snap_bytes=$(stat -c %s "$WORK/snap/snapshot.json")
  snapshot_runs snapshot "$snap_policy" 5
  # the same with `return {}`: the difference is the Lua hooks' cost
  snapshot_runs snapshot-empty "$WORK/empty-policy.lua" 3
  log "snapshot plan: $snap_vms VMs, $snap_targets targets, $snap_bytes bytes"
fi

# ---- octoscale version ----------------------------------------------------------------
# 200 runs each (tests/bench/spawntime.c: posix_spawn, no shell in the
# loop) of: octoscale version; an empty program linked with libcurl (the
# dynamic-loading floor of any libcurl client here); /bin/true.
if ! over_time "version"; then
  printf 'int main(void) { return 0; }\n' >"$WORK/floor.c"
  if cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L "$HERE/spawntime.c" -o "$WORK/spawntime"; then
    floor=
    if cc -O2 "$WORK/floor.c" -o "$WORK/curl-floor" -Wl,--no-as-needed -lcurl 2>/dev/null; then
      floor=$("$WORK/spawntime" 200 "$WORK/curl-floor" | sed 's/_ns=/_floor_ns=/g')
    fi
    true_t=$("$WORK/spawntime" 200 /bin/true | sed 's/_ns=/_true_ns=/g')
    version_t=$("$WORK/spawntime" 200 "$OSC" version)
    check_t=$("$WORK/spawntime" 200 "$OSC" -c "$REPO/examples/octoscale.yaml" check | sed 's/_ns=/_check_ns=/g')
    /usr/bin/time -o "$WORK/time" -f "%e %U %S %M" "$OSC" version >/dev/null 2>&1
    read -r wall user sys rss <<<"$(read_time "$WORK/time")"
    record "kind=version runs=200 $version_t $check_t $floor $true_t rss_kb=$rss"
  fi
fi

# ---- the baselines (sequential: the slow part) ------------------------------------------
if [[ $BENCH_BASELINE == 1 ]]; then
  for tier in $BENCH_TIERS; do
    scen=$(scenario_for "tier-$tier")
    sets=$(sets_for "$tier")
    # one page of take=1000 is exactly the template when every scale set
    # has at most 1,000 targets; past that it misses targets (reported)
    if ((tier / $(wc -w <<<"$sets") >= BENCH_LITERAL_MIN_VMS)); then
      over_time "baseline (one page) tier $tier" || run_baseline baseline-literal "$tier" "$scen" "$sets" one
    fi
    over_time "baseline (all pages) tier $tier" || run_baseline baseline "$tier" "$scen" "$sets" all
  done
fi

# ---- report ------------------------------------------------------------------------------
lua5.4 "$HERE/report.lua" "$WORK/machine.txt" "$RESULTS" "$HERE/notes.md" >"$WORK/RESULTS.md"
status=$?
cp "$WORK/RESULTS.md" "$BENCH_RESULTS"
if [[ -n ${BENCH_SAVE_RAW:-} ]]; then # the records, to re-render with report.lua
  mkdir -p "$BENCH_SAVE_RAW" && cp "$WORK/machine.txt" "$RESULTS" "$BENCH_SAVE_RAW/"
fi
cat "$WORK/RESULTS.md"
log "wrote $BENCH_RESULTS in ${SECONDS}s"
# report.lua exits 1 when a target was missed
exit $status
