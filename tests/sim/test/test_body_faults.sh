#!/usr/bin/env bash
# Broken 200 answers: an HTML page, an empty body, the route's real body
# truncated or padded past a size limit; the body changes the fault matrix
# uses (a list field set to null, a self-pointing next link); and the
# `query` match.
set -uo pipefail
SIM_BIN=${1:-${SIM_BIN:-}}
# shellcheck source=tests/sim/test/lib.sh
. "$(dirname "$0")/lib.sh"

start_sim steady.yaml || exit 1
D=$SIM_DIR
T=$(sim_token)
AUTH=(-H "Authorization: Bearer $T")
KEY=(-H "X-Octopus-ApiKey: $(sim_auth api_key)")
VMSS="$SIM_URL/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-web"
V="api-version=2024-11-01"
set_faults() {
  curl -sS -o "$D/faults-set.json" -w '%{http_code}' -X POST "$SIM_URL/_sim/faults" --data-binary "$1"
}

# ---- html and empty -----------------------------------------------------------------
expect_eq "html rule accepted" 200 "$(set_faults '[{"name":"proxy","route":"arm.vmss_get","html":true}]')"
code=$(sim_curl "$D/h.out" -D "$D/h.h" "${AUTH[@]}" "$VMSS?$V")
expect_eq "html: 200" 200 "$code"
check "html: Content-Type text/html" grep -qi '^Content-Type: text/html' "$D/h.h"
check "html: the body is a page" grep -q '<html>' "$D/h.out"
set_faults '[{"name":"empty","route":"octopus.machines_list","empty":true}]' >/dev/null
code=$(sim_curl "$D/e.out" -D "$D/e.h" "${KEY[@]}" "$SIM_URL/api/Spaces-1/machines")
expect_eq "empty: 200" 200 "$code"
expect_eq "empty: no body" 0 "$(stat -c %s "$D/e.out")"
check "empty: Content-Length 0" grep -qi '^Content-Length: 0' "$D/e.h"

# ---- truncate ----------------------------------------------------------------------------
set_faults '[]' >/dev/null
sim_curl "$D/full.json" "${AUTH[@]}" "$VMSS/virtualMachines?$V" >/dev/null
full=$(stat -c %s "$D/full.json")
set_faults '[{"name":"cut","route":"arm.vm_list","truncate":true}]' >/dev/null
code=$(sim_curl "$D/t.out" "${AUTH[@]}" "$VMSS/virtualMachines?$V")
expect_eq "truncate: 200" 200 "$code"
expect_eq "truncate: true keeps half of the real body" $((full / 2)) "$(stat -c %s "$D/t.out")"
expect_eq "truncate: it is the real body's start" "$(head -c $((full / 2)) "$D/full.json" | md5sum)" "$(md5sum <"$D/t.out")"
check "truncate: not valid JSON" bash -c "! lua5.4 -e 'assert(require(\"cjson\").decode(io.read(\"a\")))' <'$D/t.out' 2>/dev/null"
set_faults '[{"route":"arm.vm_list","truncate":10}]' >/dev/null
sim_curl "$D/t10.out" "${AUTH[@]}" "$VMSS/virtualMachines?$V" >/dev/null
expect_eq "truncate: a byte count" 10 "$(stat -c %s "$D/t10.out")"

# ---- set null and next_link self ------------------------------------------------------
set_faults '[{"route":"arm.vm_list","set":{"value":null}},{"route":"octopus.machines_list","set":{"Items":null}}]' >/dev/null
sim_curl "$D/n1.json" "${AUTH[@]}" "$VMSS/virtualMachines?$V" >/dev/null
check "set: ARM list value is null" grep -q '"value":null' "$D/n1.json"
sim_curl "$D/n2.json" "${KEY[@]}" "$SIM_URL/api/Spaces-1/machines" >/dev/null
check "set: Octopus Items is null" grep -q '"Items":null' "$D/n2.json"
jcheck "set: the envelope is kept" "$D/n2.json" 'J.TotalResults ~= nil and J.Links ~= nil'
set_faults '[{"route":"arm.vm_list","next_link":"self"},{"route":"octopus.machines_list","next_link":"self"}]' >/dev/null
sim_curl "$D/s1.json" "${AUTH[@]}" "$VMSS/virtualMachines?$V&\$expand=instanceView" >/dev/null
expect_eq "next_link self: ARM nextLink is the request's own URL" "$VMSS/virtualMachines?$V&\$expand=instanceView" "$(jget "$D/s1.json" J.nextLink)"
sim_curl "$D/s2.json" "${KEY[@]}" "$SIM_URL/api/Spaces-1/machines?skip=0&take=2" >/dev/null
expect_eq "next_link self: Octopus Page.Next is the request's own path" "/api/Spaces-1/machines?skip=0&take=2" "$(jget "$D/s2.json" "J.Links['Page.Next']")"

# ---- oversize --------------------------------------------------------------------------------------
set_faults '[{"route":"octopus.machines_list","oversize":3000000}]' >/dev/null
code=$(sim_curl "$D/o.json" "${KEY[@]}" "$SIM_URL/api/Spaces-1/machines")
expect_eq "oversize: 200" 200 "$code"
expect_eq "oversize: padded to the size" 3000000 "$(stat -c %s "$D/o.json")"
jcheck "oversize: still the real body (padded with spaces)" "$D/o.json" 'J.ItemType == "Machine"'

# ---- query match, and rules that contradict themselves ---------------------------------------------
set_faults '[{"route":"octopus.environments_list","query":"partialName=Staging","status":503}]' >/dev/null
c1=$(sim_curl "$D/q1.json" "${KEY[@]}" "$SIM_URL/api/Spaces-1/environments?partialName=Production")
c2=$(sim_curl "$D/q2.json" "${KEY[@]}" "$SIM_URL/api/Spaces-1/environments?partialName=Staging")
expect_eq "query: only the matching request fails" "200 503" "$c1 $c2"
expect_eq "truncate and oversize in one rule: 400" 400 "$(set_faults '[{"route":"arm.vm_list","truncate":true,"oversize":100}]')"
expect_eq "a status with a truncation: 400" 400 "$(set_faults '[{"route":"arm.vm_list","status":503,"truncate":true}]')"
expect_eq "html with a body change: 400" 400 "$(set_faults '[{"route":"arm.vm_list","html":true,"next_link":"self"}]')"
expect_eq "a bad truncate: 400" 400 "$(set_faults '[{"route":"arm.vm_list","truncate":"150%"}]')"
sim_curl "$D/f.json" "$SIM_URL/_sim/faults" >/dev/null
jcheck "the rules still in force are the last valid ones" "$D/f.json" 'J[1].query == "partialName=Staging" and J[1].fired == 1'

stop_sim
finish
