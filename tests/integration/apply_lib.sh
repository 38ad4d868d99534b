# shellcheck shell=bash
# Helpers for the `apply` integration cases (tests/integration/apply_*.sh):
# octoscale apply against octoscale-sim, asserting on exit codes, outputs,
# the state file and, above all, the simulator's request log (which DELETE
# and PUT really happened). Source it from a case as
#
#   source "$(dirname "$0")/apply_lib.sh" "$1"      # $1: the build dir
#
# It sources tests/sim/test/lib.sh (start_sim, stop_sim, sim_advance, jget,
# ok/not_ok/finish; its EXIT trap stops the simulator and removes every temp
# dir) and adds:
#
#   a_start SCENARIO [SIM ARGS...]   start_sim; SCENARIO is a file name under
#                          tests/sim/scenarios/ or a path
#   a_config FILE [POLICY_LUA]       a config pointing every endpoint at the
#                          simulator; the policy file is written next to it;
#                          ENTRIES (YAML list of scale_sets), HTTP_YAML and
#                          OCTOPUS_YAML (more octopus: keys, indented)
#                          override; the state file is $A_WORK/state.json
#                          unless STATE is set
#   a_now [OFFSET_SECONDS]  RFC 3339 time of the simulator's clock + offset
#   a_osc ARGS...           runs octoscale; sets RC, OUT, ERR (files) and
#                          ELAPSED_MS; OCTOSCALE_NOW comes from NOW when set
#   a_log FILE [QUERY]      GET /_sim/requests[?QUERY] into FILE
#   a_reset_log             POST /_sim/requests/reset
#   a_clock_driver STEP EVERY COUNT  advance the simulator's clock by STEP
#                           seconds every EVERY real seconds, COUNT times, in
#                           the background (A_CLOCK_PID; killed on exit)
#   a_sim_state FILE        GET /_sim/state into FILE
#   a_action JSON           POST /_sim/actions (fails the case on non-200)
#   a_faults JSON           POST /_sim/faults (replaces every rule)
#   a_writes FILE           prints "METHOD route id" for every DELETE or PUT
#                           in the request log FILE, sorted
#   a_deleted_ids FILE      the machine ids DELETEd (status 2xx), sorted,
#                           comma-separated
#   a_ids_where FILE EXPR   machine ids (a_names_where: names) from a
#                           /_sim/state FILE whose
#                           machine m satisfies the Lua EXPR, sorted, comma-
#                           separated (e.g. 'not m.vm.exists')
#   a_eval FILE EXPR        prints a Lua expression over the JSON in FILE (J)
#   a_check DESC FILE EXPR  passes when the Lua expression is true
#   a_decode_outputs FILE   decodes every ##octopus[setVariable ...] line of
#                           FILE into "name=value" lines (base64, UTF-8);
#                           a_decode_outputs_sorted sorts each value's
#                           comma-separated items (compare as sets)
#   a_output FILE NAME      one decoded output's value
#   Lua helpers for EXPRs: count, find, where, n(route[, method]), writes(),
#   split(csv), join(list) (sorted, comma-joined), has(csv, x), same(a, b)
#   (equal as sets), keys(map)
#   expect_rc DESC CODE     compares with the last a_osc run
#   expect_in / expect_not_in DESC FILE TEXT (fixed string)
#
# JSON is read with lua5.4 + lua-cjson; no jq or python.

A_INT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
A_REPO=$(cd "$A_INT_DIR/../.." && pwd)
A_BUILD=${1:-${BUILD:-}}
if [[ -z $A_BUILD || ! -x $A_BUILD/bin/octoscale || ! -x $A_BUILD/bin/octoscale-sim ]]; then
  echo "usage: bash $0 BUILD_DIR (with bin/octoscale and bin/octoscale-sim)" >&2
  exit 2
fi
A_BUILD=$(cd "$A_BUILD" && pwd)
OCTOSCALE="$A_BUILD/bin/octoscale"
SIM_BIN="$A_BUILD/bin/octoscale-sim"
export SIM_BIN
# shellcheck source=../sim/test/lib.sh
source "$A_REPO/tests/sim/test/lib.sh"

A_WORK=$(mktemp -d "${TMPDIR:-/tmp}/octoscale-apply.XXXXXX")
SIM_TMP_DIRS+=("$A_WORK")
# Ambient settings must not leak into a case.
unset OCTOSCALE_CONFIG OCTOSCALE_NOW AZURE_FEDERATED_TOKEN_FILE IDENTITY_ENDPOINT \
  IDENTITY_HEADER AZURE_CLIENT_ID AZURE_TENANT_ID AZURE_CLIENT_SECRET \
  OCTOPUS_URL OCTOPUS_API_KEY

# Background jobs a case starts (clock drivers, a slow apply) are killed on
# exit, before the simulator is stopped.
A_BG_PIDS=()
_a_cleanup() {
  local rc=$? p
  for p in "${A_BG_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  for p in "${A_BG_PIDS[@]}"; do wait "$p" 2>/dev/null; done
  (exit $rc)
  _sim_cleanup
}
trap _a_cleanup EXIT

a_start() {
  local s=$1
  shift
  start_sim "$s" --quiet "$@"
}

A_DEFAULT_ENTRIES="  - name: web-prod
    resource_group: rg-web
    vmss: vmss-web
    environment: Production
    roles: [web-server]"

a_config() {
  local file=$1 policy=${2:-'return { grace = { orphan = "10m" } }'}
  local dir
  dir=$(dirname "$file")
  mkdir -p "$dir"
  printf '%s\n' "$policy" >"${file%.yaml}.policy.lua"
  cat >"$file" <<EOF
octopus:
  url: $SIM_URL
  api_key: $(sim_auth api_key)
  space: Default
${OCTOPUS_YAML:-}
azure:
  subscription: 00000000-0000-4000-8000-000000000001
  tenant: $(sim_auth tenant)
  auth: client_secret
  client_id: $(sim_auth client_id)
  client_secret: $(sim_auth client_secret)
  endpoints:
    login: $SIM_URL
    management: $SIM_URL
    imds: $SIM_URL
${HTTP_YAML:-}
state: ${STATE:-$A_WORK/state.json}
policy: $(basename "${file%.yaml}.policy.lua")
scale_sets:
${ENTRIES:-$A_DEFAULT_ENTRIES}
EOF
}

a_now() {
  local unix
  unix=$(curl -sS --max-time 10 "$SIM_URL/_sim/clock" | lua5.4 -e \
    'local cjson = require "cjson"; print(math.tointeger(cjson.decode(io.read("a")).unix))')
  date -u -d "@$((unix + ${1:-0}))" +%Y-%m-%dT%H:%M:%SZ
}

A_N=0
a_osc() {
  OUT="$A_WORK/out.$((++A_N))"
  ERR="$A_WORK/err.$A_N"
  local t0 t1
  t0=$(date +%s%3N)
  if [[ -n ${NOW:-} ]]; then
    OCTOSCALE_NOW=$NOW "$OCTOSCALE" "$@" >"$OUT" 2>"$ERR" </dev/null
  else
    "$OCTOSCALE" "$@" >"$OUT" 2>"$ERR" </dev/null
  fi
  RC=$?
  t1=$(date +%s%3N)
  ELAPSED_MS=$((t1 - t0))
  return 0
}

# a_clock_driver STEP_SECONDS EVERY_SECONDS COUNT: advances the simulator's
# clock in the background (while an apply polls); sets A_CLOCK_PID.
a_clock_driver() {
  local step=$1 every=$2 n=$3 url=$SIM_URL
  (
    for ((i = 0; i < n; i++)); do
      sleep "$every"
      curl -sS --max-time 5 -o /dev/null -X POST "$url/_sim/clock/advance?seconds=$step" || exit 0
    done
  ) &
  A_CLOCK_PID=$!
  A_BG_PIDS+=("$A_CLOCK_PID")
}

a_reset_log() {
  curl -sS --max-time 30 -o /dev/null -X POST "$SIM_URL/_sim/requests/reset"
}

a_log() {
  curl -sS --max-time 30 -o "$1" "$SIM_URL/_sim/requests${2:+?$2}"
}

a_sim_state() {
  curl -sS --max-time 30 -o "$1" "$SIM_URL/_sim/state"
}

_a_post() {
  local what=$1 url=$2 body=$3 code
  code=$(curl -sS --max-time 30 -o "$A_WORK/post.out" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/json' --data-binary "$body" "$url")
  if [[ $code != 200 ]]; then
    not_ok "$what: HTTP $code: $(cat "$A_WORK/post.out")"
    return 1
  fi
}
a_action() { _a_post "POST /_sim/actions $1" "$SIM_URL/_sim/actions" "$1"; }
a_faults() { _a_post "POST /_sim/faults $1" "$SIM_URL/_sim/faults" "$1"; }

A_LUA_HELPERS='
local cjson = require "cjson"
local function count(t) local k = 0 for _ in pairs(t or {}) do k = k + 1 end return k end
local function find(list, field, value) for _, x in ipairs(list or {}) do if x[field] == value then return x end end return nil end
local function where(fn) local out = {} for _, r in ipairs(J) do if fn(r) then out[#out + 1] = r end end return out end
local function n(route, method) local k = 0 for _, r in ipairs(J) do if r.route == route and (not method or r.method == method) then k = k + 1 end end return k end
local function writes() return where(function(r) return (r.method == "DELETE" or r.method == "PUT" or r.method == "PATCH") and r.route ~= "entra.token" end) end
local function last_seg(p) return (p:match("([^/]+)$")) end
local function sorted(t) table.sort(t) return t end
local function join(t) return table.concat(sorted(t), ",") end
local function keys(t) local o = {} for k in pairs(t or {}) do o[#o + 1] = k end return sorted(o) end
local function split(s) local o = {} for x in tostring(s or ""):gmatch("[^,]+") do o[#o + 1] = x end return o end
local function has(csv, x) for _, v in ipairs(split(csv)) do if v == x then return true end end return false end
local function same(a, b) return join(split(a)) == join(split(b)) end
'

_a_lua() {
  local file=$1 body=$2
  lua5.4 - "$file" <<EOF
local f = assert(io.open(arg[1], "rb"))
local text = f:read("a")
f:close()
$A_LUA_HELPERS
J = cjson.decode(text)
$body
EOF
}

a_eval() {
  _a_lua "$1" "print(($2))"
}

a_check() {
  local desc=$1 file=$2 expr=$3 out
  if out=$(_a_lua "$file" "if not ($expr) then io.stderr:write('expression is false\n') os.exit(1) end" 2>&1); then
    ok "$desc"
  else
    not_ok "$desc: $out"
  fi
}

a_writes() {
  a_eval "$1" '(function() local o = {} for _, r in ipairs(writes()) do o[#o + 1] = r.method .. " " .. r.route .. " " .. last_seg(r.path) .. " " .. tostring(math.tointeger(r.status) or r.status) end table.sort(o) return table.concat(o, "\n") end)()'
}

a_deleted_ids() {
  a_eval "$1" '(function() local o = {} for _, r in ipairs(J) do if r.route == "octopus.machine_delete" and r.status // 100 == 2 then o[#o + 1] = last_seg(r.path) end end return join(o) end)()'
}

a_ids_where() {
  a_eval "$1" "(function() local o = {} for _, m in ipairs(J.machines) do if ($2) then o[#o + 1] = m.id end end return join(o) end)()"
}

a_names_where() {
  a_eval "$1" "(function() local o = {} for _, m in ipairs(J.machines) do if ($2) then o[#o + 1] = m.name end end return join(o) end)()"
}

# Every setVariable line, decoded, as name=value (in output order).
a_decode_outputs() {
  local line name value
  while IFS= read -r line; do
    [[ $line =~ ^##octopus\[setVariable\ name=\'([A-Za-z0-9+/=]*)\'\ value=\'([A-Za-z0-9+/=]*)\'\]$ ]] || continue
    name=$(printf '%s' "${BASH_REMATCH[1]}" | base64 -d)
    value=$(printf '%s' "${BASH_REMATCH[2]}" | base64 -d)
    printf '%s=%s\n' "$name" "$value"
  done <"$1"
}

# The same, with every comma-separated value sorted (to compare as sets).
a_decode_outputs_sorted() {
  local line
  a_decode_outputs "$1" | while IFS= read -r line; do
    printf '%s=%s\n' "${line%%=*}" "$(printf '%s' "${line#*=}" | tr ',' '\n' | LC_ALL=C sort | paste -sd, -)"
  done
}

# The value of one decoded output (empty when absent).
a_output() {
  a_decode_outputs "$1" | sed -n "s/^$(printf '%s' "$2" | sed 's/[.[\*^$/]/\\&/g')=//p" | head -1
}

expect_rc() {
  if [[ $RC == "$2" ]]; then
    ok "$1 (exit $RC)"
  else
    not_ok "$1: exit $RC, expected $2; stderr: $(head -c 800 "$ERR")"
  fi
}
expect_in() {
  if grep -qF -- "$3" "$2"; then ok "$1"; else not_ok "$1: '$3' not in: $(head -c 800 "$2")"; fi
}
expect_not_in() {
  if grep -qF -- "$3" "$2"; then not_ok "$1: found '$3' in: $(grep -F -- "$3" "$2" | head -3)"; else ok "$1"; fi
}
