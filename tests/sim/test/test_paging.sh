#!/usr/bin/env bash
# Paging returns every item exactly once: a 1,000-VM ARM list at page size
# 100 through nextLink (tier-3000, 20 ms latency per request), the NIC
# list, and a 2,500-machine Octopus list at take=1000 and at the default
# take of 30 through Links["Page.Next"].
set -uo pipefail
SIM_BIN=${1:-${SIM_BIN:-}}
# shellcheck source=tests/sim/test/lib.sh
. "$(dirname "$0")/lib.sh"

# all_pages DIR URL NEXT-EXPR CURL-ARGS...: follows next links from URL,
# saving page-N.json; NEXT-EXPR gives the next URL (or nil).
all_pages() {
  local dir=$1 url=$2 next_expr=$3 n=0
  shift 3
  mkdir -p "$dir"
  while [[ $url != nil && $n -lt 1000 ]]; do
    n=$((n + 1))
    local code
    code=$(sim_curl "$dir/page-$n.json" "$@" "$url")
    if [[ $code != 200 ]]; then
      echo "page $n: HTTP $code" >&2
      return 1
    fi
    url=$(jget "$dir/page-$n.json" "$next_expr")
  done
  echo "$n"
}

# exactly_once DIR ITEMS-FIELD ID-EXPR EXPECTED: every id once, no gaps
exactly_once() {
  lua5.4 - "$@" <<'LUA'
local cjson = require "cjson"
local dir, field, id_expr, expected = ...
local get = load("local x = ... return " .. id_expr)
local seen, n, dups = {}, 0, 0
for i = 1, 100000 do
  local f = io.open(dir .. "/page-" .. i .. ".json")
  if not f then break end
  local page = cjson.decode(f:read("a"))
  f:close()
  for _, item in ipairs(page[field]) do
    local id = get(item)
    if seen[id] then dups = dups + 1 end
    seen[id] = true
    n = n + 1
  end
end
if dups > 0 or n ~= tonumber(expected) then
  io.stderr:write(string.format("%d items, %d duplicates, expected %s\n", n, dups, expected))
  os.exit(1)
end
LUA
}

start_sim tier-3000.yaml || exit 1
D=$SIM_DIR
T=$(sim_token)
AUTH=(-H "Authorization: Bearer $T")
BASE="$SIM_URL/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-tier/providers/Microsoft.Compute/virtualMachineScaleSets"

t0=$(date +%s%N)
pages=$(all_pages "$D/vms" "$BASE/vmss-web/virtualMachines?api-version=2024-11-01&\$expand=instanceView" J.nextLink "${AUTH[@]}")
t1=$(date +%s%N)
echo "1,000-VM list with instanceView: $pages pages in $(((t1 - t0) / 1000000)) ms (20 ms injected latency per page)"
expect_eq "ARM VM list: 1,000 VMs at page size 100 -> 10 pages" 10 "$pages"
check "ARM VM list: every instance exactly once" exactly_once "$D/vms" value 'x.instanceId' 1000
jcheck "ARM VM list: last page ends at instance 999, first page starts at 0" "$D/vms/page-10.json" \
  '#J.value == 100 and J.value[100].instanceId == "999" and J.nextLink == nil'
jcheck "ARM VM list: nextLink is absolute and keeps api-version and \$expand" "$D/vms/page-1.json" \
  'J.nextLink:find("^http://127%.0%.0%.1:%d+/subscriptions/.*/virtualMachines%?api%-version=2024%-11%-01&%$expand=instanceView&%$skiptoken=")'
check "ARM VM list: every page has instanceView" lua5.4 -e "
  local c = require 'cjson'
  for i = 1, 10 do
    local f = assert(io.open('$D/vms/page-' .. i .. '.json')); local j = c.decode(f:read('a')); f:close()
    for _, v in ipairs(j.value) do assert(v.properties.instanceView.statuses[2].code == 'PowerState/running') end
  end"
code=$(sim_curl "$D/badtok.json" "${AUTH[@]}" "$BASE/vmss-web/virtualMachines?api-version=2024-11-01&\$skiptoken=garbage")
expect_eq "ARM VM list: a mangled \$skiptoken -> 400" 400 "$code"
jcheck "ARM VM list: InvalidParameter on \$skiptoken (fixture shape)" "$D/badtok.json" \
  'J.error.code == "InvalidParameter" and J.error.target == "$skiptoken"'

pages=$(all_pages "$D/nics" "$BASE/vmss-api/networkInterfaces?api-version=2017-03-30" J.nextLink "${AUTH[@]}")
expect_eq "NIC list: 10 pages" 10 "$pages"
check "NIC list: every NIC exactly once" exactly_once "$D/nics" value 'x.properties.virtualMachine.id' 1000
check "NIC list: private IPs are unique" exactly_once "$D/nics" value 'x.properties.ipConfigurations[1].properties.privateIPAddress' 1000

sim_curl "$D/m.json" -H "X-Octopus-ApiKey: $(sim_auth api_key)" "$SIM_URL/api/Spaces-1/machines?take=1" >/dev/null
jcheck "tier-3000: 3,900 targets (VMs x 1.3 with 30% orphans)" "$D/m.json" 'J.TotalResults == 3900'
sim_curl "$D/mo.json" -H "X-Octopus-ApiKey: $(sim_auth api_key)" "$SIM_URL/api/Spaces-1/machines?take=1&roles=worker&commStyles=TentacleActive" >/dev/null
jcheck "tier-3000: the worker set's 1,300 targets are polling" "$D/mo.json" 'J.TotalResults == 1300'
stop_sim

start_sim big-octopus.yaml || exit 1
D=$SIM_DIR
KEY=(-H "X-Octopus-ApiKey: $(sim_auth api_key)")
t0=$(date +%s%N)
pages=$(all_pages "$D/k" "$SIM_URL/api/Spaces-1/machines?environmentIds=Environments-1&skip=0&take=1000" \
  '(J.Links["Page.Next"] and ("'"$SIM_URL"'" .. J.Links["Page.Next"])) or nil' "${KEY[@]}")
t1=$(date +%s%N)
echo "2,500 machines at take=1000: $pages pages in $(((t1 - t0) / 1000000)) ms"
expect_eq "Octopus take=1000: 3 pages" 3 "$pages"
check "Octopus take=1000: every machine exactly once" exactly_once "$D/k" Items 'x.Id' 2500
jcheck "Octopus take=1000: last page has 500 and no Page.Next" "$D/k/page-3.json" \
  '#J.Items == 500 and J.Links["Page.Next"] == nil and J.TotalResults == 2500 and J.NumberOfPages == 3 and J.LastPageNumber == 2'
pages=$(all_pages "$D/d" "$SIM_URL/api/Spaces-1/machines" \
  '(J.Links["Page.Next"] and ("'"$SIM_URL"'" .. J.Links["Page.Next"])) or nil' "${KEY[@]}")
expect_eq "Octopus default take 30: 84 pages" 84 "$pages"
check "Octopus default take 30: every machine exactly once" exactly_once "$D/d" Items 'x.Id' 2500
check "Octopus: pages are in name order across page boundaries" lua5.4 -e "
  local c = require 'cjson'; local prev = ''
  for i = 1, 84 do
    local f = assert(io.open('$D/d/page-' .. i .. '.json')); local j = c.decode(f:read('a')); f:close()
    for _, m in ipairs(j.Items) do assert(m.Name:lower() >= prev, m.Name .. ' after ' .. prev); prev = m.Name:lower() end
  end"
stop_sim

finish
