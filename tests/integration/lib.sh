# shellcheck shell=bash
# Helpers for the integration cases (tests/integration/t_*.sh): octoscale
# against octoscale-sim, asserting on exit codes, output and the
# simulator's request log. Source after setting BUILD (the build dir).
#
#   start_sim SCENARIO        (tests/sim/test/lib.sh; our scenarios live in
#                              tests/integration/scenarios/)
#   write_config FILE [ENTRY_YAML]   a config pointing every endpoint at the
#                              simulator; credentials from the scenario;
#                              overrides: AUTH, SECRET, API_KEY, HTTP_YAML,
#                              ENTRIES (the scale_sets list, YAML)
#   osc ARGS...               runs octoscale; sets RC, OUT (stdout file),
#                              ERR (stderr file), ELAPSED_MS
#   fetch_log FILE            the simulator's request log (JSON array)
#   routes FILE               "route count" lines, sorted
#   count_route FILE ROUTE    how many requests had that route
#   lcheck DESC FILE EXPR     jcheck with extra helpers (see LUA_HELPERS)

INT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$INT_DIR/../.." && pwd)
: "${BUILD:?BUILD must name the build directory}"
OCTOSCALE="$BUILD/bin/octoscale"
SIM_BIN="$BUILD/bin/octoscale-sim"
export SIM_BIN
# shellcheck source=../sim/test/lib.sh
source "$REPO/tests/sim/test/lib.sh"
SIM_SCENARIOS_INT="$INT_DIR/scenarios"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/octoscale-int.XXXXXX")
SIM_TMP_DIRS+=("$WORK")
# No ambient credentials may leak into a case.
unset OCTOSCALE_CONFIG AZURE_FEDERATED_TOKEN_FILE IDENTITY_ENDPOINT \
  IDENTITY_HEADER AZURE_CLIENT_ID AZURE_TENANT_ID AZURE_CLIENT_SECRET \
  OCTOPUS_URL OCTOPUS_API_KEY OCTOSCALE_OCTOPUS_OUTPUT OCTOSCALE_NOW

start_int_sim() {
  local s=$1
  shift
  [[ -f $SIM_SCENARIOS_INT/$s ]] && s="$SIM_SCENARIOS_INT/$s"
  start_sim "$s" "$@"
}

# A trivial policy (all defaults) so cases do not depend on shipped ones.
mkdir -p "$WORK/policies"
echo 'return {}' >"$WORK/policies/default.lua"

write_config() {
  local file=$1
  local entries=${ENTRIES:-"  - name: web-prod
    resource_group: rg-web
    vmss: vmss-web
    environment: Production
    roles: [web-server]"}
  cat >"$file" <<EOF
octopus:
  url: $SIM_URL
  api_key: ${API_KEY:-$(sim_auth api_key)}
  space: Default
azure:
  subscription: 00000000-0000-4000-8000-000000000001
  tenant: $(sim_auth tenant)
  auth: ${AUTH:-client_secret}
  client_id: $(sim_auth client_id)
${SECRET_LINE-  client_secret: ${SECRET:-$(sim_auth client_secret)}}
  endpoints:
    login: $SIM_URL
    management: $SIM_URL
    imds: $SIM_URL
${HTTP_YAML:-}
state: $WORK/state-$(basename "$file" .yaml).json
policy: $WORK/policies/default.lua
scale_sets:
$entries
EOF
}

osc() {
  OUT="$WORK/out.$((++OSC_N))"
  ERR="$WORK/err.$OSC_N"
  local t0 t1
  t0=$(date +%s%3N)
  "$OCTOSCALE" "$@" >"$OUT" 2>"$ERR"
  RC=$?
  t1=$(date +%s%3N)
  ELAPSED_MS=$((t1 - t0))
  return 0
}
OSC_N=0

fetch_log() {
  curl -sS --max-time 30 -o "$1" "$SIM_URL/_sim/requests"
}

reset_log() {
  curl -sS --max-time 30 -o /dev/null -X POST "$SIM_URL/_sim/requests/reset"
}

LUA_HELPERS='
local function count(t) local k = 0 for _ in pairs(t or {}) do k = k + 1 end return k end
local function all(list, fn) for _, x in ipairs(list or {}) do if not fn(x) then return false end end return true end
local function find(list, field, value) for _, x in ipairs(list or {}) do if x[field] == value then return x end end return nil end
local function n(route) local k = 0 for _, r in ipairs(J) do if r.route == route then k = k + 1 end end return k end
local function where(fn) local out = {} for _, r in ipairs(J) do if fn(r) then out[#out + 1] = r end end return out end
'

# lcheck DESCRIPTION FILE LUA-BOOLEAN-EXPR (J = the JSON; n(route),
# where(fn) for request logs)
lcheck() {
  local desc=$1 file=$2 expr=$3 out
  if out=$(lua5.4 - "$file" <<EOF 2>&1
local cjson = require "cjson"
local f = assert(io.open(arg[1], "rb"))
J = cjson.decode(f:read("a"))
f:close()
$LUA_HELPERS
local ok = ($expr)
if not ok then io.stderr:write("expression is false\n") os.exit(1) end
EOF
  ); then
    ok "$desc"
  else
    not_ok "$desc: $out"
  fi
}

# leval FILE LUA-EXPR: prints the value
leval() {
  lua5.4 - "$1" <<EOF
local cjson = require "cjson"
local f = assert(io.open(arg[1], "rb"))
J = cjson.decode(f:read("a"))
f:close()
$LUA_HELPERS
print(($2))
EOF
}

count_route() {
  leval "$1" "n('$2')"
}

routes() {
  leval "$1" "(function() local c = {} for _, r in ipairs(J) do c[r.route] = (c[r.route] or 0) + 1 end local k = {} for r, v in pairs(c) do k[#k + 1] = r .. ' ' .. v end table.sort(k) return table.concat(k, ', ') end)()"
}

# expect_rc DESCRIPTION EXPECTED: compares with the last osc run
expect_rc() {
  if [[ $RC == "$2" ]]; then
    ok "$1 (exit $RC)"
  else
    not_ok "$1: exit $RC, expected $2; stderr: $(head -c 600 "$ERR")"
  fi
}

# grep_file DESCRIPTION FILE PATTERN (fixed string)
expect_in() {
  if grep -qF -- "$3" "$2"; then ok "$1"; else not_ok "$1: '$3' not in $(head -c 600 "$2")"; fi
}
expect_not_in() {
  if grep -qF -- "$3" "$2"; then not_ok "$1: found '$3'"; else ok "$1"; fi
}
