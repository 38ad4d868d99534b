#!/usr/bin/env bash
# `make demo`: octoscale against octoscale-sim, narrated. Steady state, a
# scale-out by 3 with overprovisioning, a scale-in by 2, and an Azure outage.
# The simulator runs 10x faster than real time; "later" runs set
# OCTOSCALE_NOW. Everything it starts is stopped on exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
bin="$build/bin/octoscale"
sim="$build/bin/octoscale-sim"
work=$(mktemp -d "${TMPDIR:-/tmp}/octoscale-demo.XXXXXX")
sim_pid=""

cleanup() {
  if [[ -n $sim_pid ]]; then
    kill "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bold=$'\033[1m' dim=$'\033[2m' off=$'\033[0m'
[[ -t 1 ]] || { bold="" dim="" off=""; }
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$off"; }
note() { printf '%s%s%s\n' "$dim" "$*" "$off"; }

# octoscale EXPECTED_EXIT ARGS...: runs it with the demo config, shows the
# command and its exit code, and remembers a surprise (the demo then fails,
# so `make demo` doubles as an end-to-end check).
surprises=0
octoscale() {
  local want=$1 code=0
  shift
  printf '%s$ octoscale %s%s\n' "$bold" "$*" "$off"
  "$bin" -c "$work/octoscale.yaml" "$@" || code=$?
  note "(exit $code)"
  if [[ $code != "$want" ]]; then
    echo "demo: expected exit $want from 'octoscale $*', got $code" >&2
    surprises=$((surprises + 1))
  fi
  return 0
}

sim_post() { curl -sS -o /dev/null -X POST "http://127.0.0.1:$port$1" ${2:+-d "$2"}; }
count_requests() {
  curl -sS "http://127.0.0.1:$port/_sim/requests?method=$1" |
    lua5.4 -e 'print(#require("cjson").decode(io.read("a")))'
}
later() { date -u -d "@$(($(date +%s) + $1))" +%Y-%m-%dT%H:%M:%SZ; }

# --- start the simulator -----------------------------------------------------
start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
sed "s/^start: START/start: $start/" "$root/examples/demo/scenario.yaml" >"$work/scenario.yaml"
"$sim" --scenario "$work/scenario.yaml" --port 0 --port-file "$work/port" \
  --speed 10 --quiet &
sim_pid=$!
for _ in $(seq 50); do [[ -s $work/port ]] && break; sleep 0.1; done
[[ -s $work/port ]] || { echo "demo: the simulator did not start" >&2; exit 1; }
port=$(cat "$work/port")

# The credentials the simulator expects, into a config of the real shape.
curl -sS "http://127.0.0.1:$port/_sim" | lua5.4 -e '
  local a = require("cjson").decode(io.read("a")).auth
  print(a.tenant, a.client_id, a.client_secret, a.api_key)' |
  { read -r tenant client_id secret api_key
    cat >"$work/octoscale.yaml" <<YAML
octopus:
  url: http://127.0.0.1:$port
  api_key: \${DEMO_OCTOPUS_API_KEY}
  space: Default
azure:
  subscription: 00000000-0000-4000-8000-00000000de00
  auth: client_secret
  tenant: $tenant
  client_id: $client_id
  client_secret: \${DEMO_AZURE_CLIENT_SECRET}
  endpoints: {login: "http://127.0.0.1:$port", management: "http://127.0.0.1:$port"}
http: {max_attempts: 3, max_retry_time: 5s}
state: $work/state.json
policy: $root/examples/demo/policy.lua
scale_sets:
  - name: shop-prod
    resource_group: rg-shop
    vmss: vmss-shop
    environment: Production
    roles: [web-server, vmss-shop]
YAML
    printf '%s\n%s\n' "$api_key" "$secret" >"$work/secrets"; }
DEMO_OCTOPUS_API_KEY=$(sed -n 1p "$work/secrets")
DEMO_AZURE_CLIENT_SECRET=$(sed -n 2p "$work/secrets")
export DEMO_OCTOPUS_API_KEY DEMO_AZURE_CLIENT_SECRET
note "octoscale-sim on 127.0.0.1:$port (10x speed); config $work/octoscale.yaml"

# --- 1. steady state -----------------------------------------------------------
say "1. Steady state: 5 VMs, 5 registered targets (plus 2 that are not ours)"
octoscale 0 plan
octoscale 0 apply --only-new

# --- 2. scale-out by 3 -----------------------------------------------------------
say "2. Scale-out to 8: Azure overprovisions (creates 2 extra VMs, deletes them later)"
sim_post /_sim/actions '[{"scale": {"scale_set": "vmss-shop", "capacity": 8}}]'
note "octoscale waits until no VM is Creating, Tentacles have registered and the"
note "scale set is no longer Updating, then outputs only the new targets:"
octoscale 0 apply --wait=2m --poll-interval 1s --only-new

# --- 3. scale-in by 2 ------------------------------------------------------------
say "3. Scale-in to 6: two VMs go away; their targets become orphans"
sim_post /_sim/actions '[{"scale": {"scale_set": "vmss-shop", "capacity": 6}}]'
sleep 3
octoscale 0 apply
say "   ...11 minutes later, the orphan grace (10m) has passed"
OCTOSCALE_NOW=$(later 660) octoscale 0 apply

# --- 4. Azure outage -------------------------------------------------------------
say "4. Scale-in to 5, then the Azure VM list starts failing (HTTP 503)"
sim_post /_sim/actions '[{"scale": {"scale_set": "vmss-shop", "capacity": 5}}]'
sleep 3
OCTOSCALE_NOW=$(later 720) octoscale 0 apply
deletes_before=$(count_requests DELETE)
sim_post /_sim/faults '[{"name": "outage", "route": "arm.vm_list", "status": 503}]'
note "30 minutes later the orphan is past its grace, but the VM list cannot be read:"
OCTOSCALE_NOW=$(later 1800) octoscale 4 apply
deletes_after=$(count_requests DELETE)
note "DELETE requests during the outage: $((deletes_after - deletes_before)) (a safety stop deletes nothing)"
if [[ $deletes_after != "$deletes_before" ]]; then
  echo "demo: DELETE requests were sent during the outage" >&2
  surprises=$((surprises + 1))
fi
deleted=$(count_requests DELETE)
if [[ $deleted != 4 ]]; then
  echo "demo: expected 4 deletions in all (2 overprovisioned, 2 scaled in), saw $deleted" >&2
  surprises=$((surprises + 1))
fi

if [[ $surprises -gt 0 ]]; then
  echo "demo: $surprises step(s) did not go as narrated" >&2
  exit 1
fi
say "Done. Next: make test, and README.md for configuration and policies."
