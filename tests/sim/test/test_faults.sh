#!/usr/bin/env bash
# Fault injection: each kind fires as configured - 429 with Retry-After in
# seconds and as an HTTP-date (ARM's body without the error wrapper), 5xx
# with count and after, a failing list page, connection reset, latency
# (without stalling other requests), a slow body, and the Octopus token
# bucket.
set -uo pipefail
SIM_BIN=${1:-${SIM_BIN:-}}
# shellcheck source=tests/sim/test/lib.sh
. "$(dirname "$0")/lib.sh"
FX="$SIM_FIXTURES/azure"
FIXTURES=1
have_fixtures || FIXTURES=0

start_sim azure-outage.yaml || exit 1
D=$SIM_DIR
T=$(sim_token)
AUTH=(-H "Authorization: Bearer $T")
KEY=(-H "X-Octopus-ApiKey: $(sim_auth api_key)")
VMSS="$SIM_URL/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-web"
V="api-version=2024-11-01"
set_faults() { curl -sS -o "$D/faults-set.json" -w '%{http_code}' -X POST "$SIM_URL/_sim/faults" --data-binary "$1"; }

# ---- the scenario's own rules ----------------------------------------------------
c1=$(sim_curl "$D/g1.json" -D "$D/g1.h" "${AUTH[@]}" "$VMSS?$V")
c2=$(sim_curl "$D/g2.json" "${AUTH[@]}" "$VMSS?$V")
c3=$(sim_curl "$D/g3.json" "${AUTH[@]}" "$VMSS?$V")
expect_eq "count 2: 503, 503, then 200" "503 503 200" "$c1 $c2 $c3"
check "the 503 carries Retry-After: 1" grep -qi '^Retry-After: 1' "$D/g1.h"
jcheck "ARM 503 body is {error:{code,message}}" "$D/g1.json" 'J.error.code == "ServiceUnavailable" and J.error.message ~= nil'
code=$(sim_curl "$D/p1.json" "${AUTH[@]}" "$VMSS/virtualMachines?$V")
expect_eq "VM list page 1: 200" 200 "$code"
NEXT=$(jget "$D/p1.json" J.nextLink)
code=$(sim_curl "$D/p2.json" "${AUTH[@]}" "$NEXT")
expect_eq "VM list page 2 fails: 502" 502 "$code"
if ((FIXTURES)); then
  keys "page 2 error has the ProviderError fixture keys" "$FX/arm-error-provider-error-502.json" error "$D/p2.json" error
fi
jcheck "page 2 error is ProviderError" "$D/p2.json" 'J.error.code == "ProviderError"'
code=$(sim_curl "$D/p2b.json" "${AUTH[@]}" "$NEXT")
expect_eq "VM list page 2 fails again (count: always)" 502 "$code"
code=$(sim_curl "$D/nic.json" "${AUTH[@]}" "$VMSS/networkInterfaces?api-version=2017-03-30")
expect_eq "NIC list is down: 503" 503 "$code"
sim_curl "$D/faults.json" "$SIM_URL/_sim/faults" >/dev/null
jcheck "GET /_sim/faults reports matches and firings" "$D/faults.json" \
  'find(J, "name", "vmss-get-flaky").fired == 2 and find(J, "name", "vmss-get-flaky").matched == 3 and find(J, "name", "vm-list-page-2").fired == 2 and find(J, "name", "vm-list-page-2").matched == 2'
sim_curl "$D/log.json" "$SIM_URL/_sim/requests?route=arm.vm_list" >/dev/null
jcheck "request log marks the failing page and the rule" "$D/log.json" \
  '#J == 3 and J[1].page == 1 and J[2].page == 2 and J[2].status == 502 and J[2].faults[1] == "vm-list-page-2"'

# ---- 429 with Retry-After seconds (ARM's unwrapped body) -------------------------
code=$(set_faults '[{"name":"throttle","route":"arm.vmss_get","status":429,"count":1,"retry_after":7}]')
expect_eq "POST /_sim/faults replaces the rules" 200 "$code"
code=$(sim_curl "$D/t.json" -D "$D/t.h" "${AUTH[@]}" "$VMSS?$V")
expect_eq "429 fires" 429 "$code"
check "Retry-After: 7" grep -qi '^Retry-After: 7' "$D/t.h"
check "x-ms-ratelimit-remaining-resource is sent" grep -qi '^x-ms-ratelimit-remaining-resource: Microsoft.Compute/HighCostGet' "$D/t.h"
jcheck "ARM 429 body has no error wrapper" "$D/t.json" \
  'J.error == nil and J.code == "OperationNotAllowed" and J.details[1].code == "TooManyRequests"'
if ((FIXTURES)); then
  keys "ARM 429 keys match the fixture" "$FX/arm-error-compute-throttled-429.json" . "$D/t.json" .
  keys "ARM 429 details keys match the fixture" "$FX/arm-error-compute-throttled-429.json" details.1 "$D/t.json" details.1
fi
code=$(sim_curl "$D/t2.json" "${AUTH[@]}" "$VMSS?$V")
expect_eq "after count 1 the route answers again" 200 "$code"

# ---- 429 with an HTTP-date ---------------------------------------------------------------
set_faults '[{"route":"octopus.machines_list","status":429,"count":1,"retry_after":"date+5"}]' >/dev/null
code=$(sim_curl "$D/od.json" -D "$D/od.h" "${KEY[@]}" "$SIM_URL/api/Spaces-1/machines")
expect_eq "Octopus 429" 429 "$code"
ra=$(grep -i '^Retry-After:' "$D/od.h" | cut -d' ' -f2- | tr -d '\r')
check "Retry-After is an IMF-fixdate ($ra)" grep -Eq '^[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT$' <<<"$ra"
delta=$(($(date -u -d "$ra" +%s) - $(date -u +%s)))
check "the HTTP-date is about 5 s ahead (${delta}s)" test "$delta" -ge 3 -a "$delta" -le 6
jcheck "Octopus error body" "$D/od.json" 'type(J.ErrorMessage) == "string" and type(J.Errors) == "table"'

# ---- 503 with count and after, method and path regex -------------------------------
set_faults '[{"route":"octopus.machines_list","status":503,"count":2,"after":1}]' >/dev/null
codes=$(curl -s -o /dev/null -w '%{http_code} ' "${KEY[@]}" "$SIM_URL/api/Spaces-1/machines?n=[1-4]")
expect_eq "after 1, count 2: 200 503 503 200" "200 503 503 200 " "$codes"
set_faults '[{"method":"PUT","path":"/machines/Machines-[0-9]+$","status":500}]' >/dev/null
code=$(sim_curl "$D/put.json" "${KEY[@]}" -X PUT --data-binary '{}' "$SIM_URL/api/Spaces-1/machines/Machines-1")
expect_eq "method + path regex rule: PUT -> 500" 500 "$code"
code=$(sim_curl "$D/get.json" "${KEY[@]}" "$SIM_URL/api/Spaces-1/machines/Machines-1")
expect_eq "method + path regex rule: GET unaffected" 200 "$code"

# ---- one Octopus page failing ----------------------------------------------------------
set_faults '[{"route":"octopus.machines_list","page":2,"status":500}]' >/dev/null
c1=$(sim_curl "$D/o1.json" "${KEY[@]}" "$SIM_URL/api/Spaces-1/machines?skip=0&take=4")
c2=$(sim_curl "$D/o2.json" "${KEY[@]}" "$SIM_URL/api/Spaces-1/machines?skip=4&take=4")
c3=$(sim_curl "$D/o3.json" "${KEY[@]}" "$SIM_URL/api/Spaces-1/machines?skip=8&take=4")
expect_eq "page 2 of the machines list fails, pages 1 and 3 do not" "200 500 200" "$c1 $c2 $c3"

# ---- connection reset --------------------------------------------------------------------
set_faults '[{"route":"entra.token","reset":true,"count":1}]' >/dev/null
curl -sS -o /dev/null -X POST "$SIM_URL/$(sim_auth tenant)/oauth2/v2.0/token" -d grant_type=client_credentials 2>"$D/reset.err"
rc=$?
check "reset: curl sees the connection dropped (exit $rc)" test "$rc" -eq 56 -o "$rc" -eq 52
check "reset: the next request is answered" test -n "$(sim_token)"
sim_curl "$D/rlog.json" "$SIM_URL/_sim/requests?route=entra.token" >/dev/null
jcheck "reset: logged with status 0 and reset" "$D/rlog.json" 'find(J, "reset", true) ~= nil and find(J, "reset", true).status == 0'

# ---- latency, and other requests are not held up ---------------------------------------------
set_faults '[{"route":"octopus.root","latency_ms":1500}]' >/dev/null
t=$(curl -s -o /dev/null -w '%{time_total}' "$SIM_URL/api")
check "latency: /api took >= 1.5 s ($t s)" lua5.4 -e "assert($t >= 1.49)"
curl -s -o /dev/null "$SIM_URL/api" &
slow=$!
sleep 0.2
t=$(curl -s -o /dev/null -w '%{time_total}' "${KEY[@]}" "$SIM_URL/api/spaces")
check "latency on one request does not delay another ($t s)" lua5.4 -e "assert($t < 1.0)"
wait "$slow"
sim_curl "$D/llog.json" "$SIM_URL/_sim/requests?route=octopus.root" >/dev/null
jcheck "latency: the log has latency_ms and a measured time_ms" "$D/llog.json" 'J[1].latency_ms == 1500 and J[1].time_ms >= 1500'

# ---- slow body ------------------------------------------------------------------------------
set_faults '[{"route":"octopus.spaces_all","slow_body_ms":800}]' >/dev/null
out=$(curl -s -o "$D/slow.json" -w '%{time_starttransfer} %{time_total}' "${KEY[@]}" "$SIM_URL/api/spaces/all")
read -r ttfb total <<<"$out"
check "slow body: whole body took >= 0.8 s ($total s)" lua5.4 -e "assert($total >= 0.75)"
check "slow body: headers came early ($ttfb s)" lua5.4 -e "assert($ttfb < $total - 0.3)"
jcheck "slow body: the body is complete" "$D/slow.json" '#J == 1'

# ---- a timeline/actions fault change ---------------------------------------------------------------
set_faults '[]' >/dev/null
curl -sS -o /dev/null -X POST "$SIM_URL/_sim/actions" \
  -d '{"faults":{"add":[{"name":"octo-down","route":"octopus.*","status":503}]}}'
code=$(sim_curl "$D/x.json" "${KEY[@]}" "$SIM_URL/api/Spaces-1/machines")
expect_eq "faults action adds a rule" 503 "$code"
curl -sS -o /dev/null -X POST "$SIM_URL/_sim/actions" -d '{"faults":{"remove":["octo-down"]}}'
code=$(sim_curl "$D/x.json" "${KEY[@]}" "$SIM_URL/api/Spaces-1/machines")
expect_eq "faults action removes it" 200 "$code"
code=$(set_faults '[{"route":"arm.*"}]')
expect_eq "a rule that does nothing is refused" 400 "$code"
code=$(set_faults '[{"route":"arm.*","status":503,"path":"(["}]')
expect_eq "a bad regex is refused" 400 "$code"
# ---- body effects: a 200 answer that lies -------------------------------------------
code=$(set_faults '[{"route":"arm.vm_list","page":1,"next_link":"self"},{"route":"arm.vm_list","page":2,"drop_items":3},{"route":"arm.vmss_get","remove":["sku"],"set":{"properties.provisioningState":null}},{"route":"octopus.machines_list","set":{"TotalResults":99}}]')
expect_eq "body-effect rules are accepted" 200 "$code"
sim_curl "$D/b1.json" "${AUTH[@]}" "$VMSS/virtualMachines?$V" >/dev/null
jcheck "next_link self: page 1 points at itself" "$D/b1.json" \
  "J.nextLink == '$SIM_URL' .. '/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-web/virtualMachines?$V' and #J.value == 4"
sim_curl "$D/b0.json" "${AUTH[@]}" "$VMSS/virtualMachines?$V&\$skiptoken=$(printf 'sim:4:4' | base64 | tr '+/' '-_' | tr -d '=')" >/dev/null
jcheck "drop_items 3: page 2 keeps 1 item and its next link" "$D/b0.json" "#J.value == 1 and J.nextLink ~= nil"
sim_curl "$D/b2.json" "${AUTH[@]}" "$VMSS?$V" >/dev/null
jcheck "remove sku, set a field to null" "$D/b2.json" \
  "J.sku == nil and type(J.properties.provisioningState) == 'userdata' and J.name == 'vmss-web'"
sim_curl "$D/b3.json" "${KEY[@]}" "$SIM_URL/api/Spaces-1/machines" >/dev/null
jcheck "set on Octopus: TotalResults 99" "$D/b3.json" "J.TotalResults == 99"
code=$(set_faults '[{"route":"arm.vm_list","next_link":"sideways"}]')
expect_eq "next_link accepts only self" 400 "$code"
set_faults '[]' >/dev/null

stop_sim
expect_eq "clean exit after faults" 0 "$SIM_EXIT"

# ---- global latency from the scenario -----------------------------------------------------------------
printf 'latency_ms: 200\n' >"$D/lat.yaml"
start_sim "$D/lat.yaml" || exit 1
t=$(curl -s -o /dev/null -w '%{time_total}' "$SIM_URL/api")
check "scenario latency_ms applies to every request ($t s)" lua5.4 -e "assert($t >= 0.2)"
t=$(curl -s -o /dev/null -w '%{time_total}' "$SIM_URL/_sim/clock")
check "but not to /_sim ($t s)" lua5.4 -e "assert($t < 0.2)"
stop_sim

# ---- Octopus token bucket --------------------------------------------------------------------------------
start_sim octopus-rate-limit.yaml || exit 1
D=$SIM_DIR
KEY=(-H "X-Octopus-ApiKey: $(sim_auth api_key)")
# 260 requests: however slowly a loaded machine sends them, the bucket
# cannot refill 60 tokens (18 s) meanwhile, so 429s must appear.
# The 429s are checked among those answers (a request sent afterwards may
# find a token refilled when the machine is slow).
curl -s -o "$D/rl_#1.json" -D "$D/rl.h" -w '%{http_code}\n' "${KEY[@]}" "$SIM_URL/api/Spaces-1/machines?take=1&n=[1-260]" >"$D/codes"
echo "260 requests: $(sort "$D/codes" | uniq -c | tr -s ' ' | tr '\n' ';')"
expect_eq "token bucket: the burst of 200 passes" 200 "$(head -n 200 "$D/codes" | grep -c '^200$')"
check "token bucket: then 429s" grep -q '^429$' "$D/codes"
first429=$(grep -n '^429$' "$D/codes" | head -n 1 | cut -d: -f1)
check "token bucket: Retry-After in seconds" grep -Eqi '^Retry-After: [0-9]+' "$D/rl.h"
jcheck "token bucket: Octopus 429 body" "$D/rl_${first429:-0}.json" 'J.ErrorMessage:find("rate limit") ~= nil'
sleep 0.7
code=$(sim_curl "$D/rl2.json" "${KEY[@]}" "$SIM_URL/api/Spaces-1/machines")
expect_eq "token bucket: refills at 200/min (one token in 0.3 s)" 200 "$code"
stop_sim

finish
