#!/usr/bin/env bash
# Retries and incomplete reads: 429 with Retry-After honoured, 503 twice
# then success, and reads that fail every time -> exit 4 naming the read,
# with nothing deleted or disabled.
source "$(dirname "$0")/lib.sh"

set_faults() {
  local code
  code=$(curl -sS --max-time 30 -o "$WORK/faults.out" -w '%{http_code}' \
    -X POST -H 'Content-Type: application/json' --data "$1" \
    "$SIM_URL/_sim/faults")
  [[ $code == 200 ]] || { echo "set_faults: HTTP $code: $(cat "$WORK/faults.out")" >&2; return 1; }
}

start_int_sim paging.yaml || exit 1
write_config "$WORK/c.yaml"

# ---- 429 with Retry-After: 2 ---------------------------------------------------
reset_log
set_faults '[{"name":"throttle","route":"arm.vm_list","page":2,"status":429,"retry_after":2,"count":1}]'
osc -v -c "$WORK/c.yaml" plan
expect_rc "429 then success" 0
fetch_log "$WORK/l1.json"
lcheck "page 2 asked twice: 429 then 200" "$WORK/l1.json" \
  "(function() local p = where(function(r) return r.route == 'arm.vm_list' and math.tointeger(r.page) == 2 end) return #p == 2 and p[1].status == 429 and p[2].status == 200 end)()"
wait_ms=$(grep -oE 'retry in [0-9]+ ms' "$ERR" | head -1 | grep -oE '[0-9]+')
if [[ -n $wait_ms && $wait_ms -ge 2000 ]]; then ok "retry scheduled after ${wait_ms} ms (Retry-After 2)"; else not_ok "retry wait '${wait_ms}' < 2000 ms: $(grep -F 'retry' "$ERR" | head -3)"; fi
if [[ $ELAPSED_MS -ge 2000 ]]; then ok "run took ${ELAPSED_MS} ms (>= 2 s)"; else not_ok "run took ${ELAPSED_MS} ms, retried too early"; fi

# ---- 503 twice, then 200 --------------------------------------------------------
reset_log
set_faults '[{"name":"flaky","route":"arm.vmss_get","status":503,"count":2}]'
osc -c "$WORK/c.yaml" plan
expect_rc "503, 503, 200 -> success" 0
fetch_log "$WORK/l2.json"
lcheck "VMSS GET sent 3 times (503, 503, 200)" "$WORK/l2.json" \
  "(function() local p = where(function(r) return r.route == 'arm.vmss_get' end) return #p == 3 and p[1].status == 503 and p[2].status == 503 and p[3].status == 200 end)()"

# ---- a page failing every time -----------------------------------------------------
HTTP_YAML="http:
  max_attempts: 3" write_config "$WORK/c3.yaml"
reset_log
set_faults '[{"name":"page2","route":"arm.vm_list","page":2,"status":502}]'
osc -c "$WORK/c3.yaml" plan
expect_rc "VM list page 2 always 502 -> safety stop" 4
expect_in "stderr names the failed read" "$ERR" "Azure VM list page 2"
expect_in "stderr gives the status and attempts" "$ERR" "HTTP 502"
fetch_log "$WORK/l3.json"
lcheck "page 2 tried exactly 3 times (max_attempts)" "$WORK/l3.json" \
  "#where(function(r) return r.route == 'arm.vm_list' and math.tointeger(r.page) == 2 end) == 3"
lcheck "nothing written" "$WORK/l3.json" \
  "#where(function(r) return r.method ~= 'GET' and r.route ~= 'entra.token' end) == 0"

# ---- the Octopus list failing ---------------------------------------------------------
reset_log
set_faults '[{"name":"octo","route":"octopus.machines_list","status":503}]'
osc -c "$WORK/c3.yaml" --format json plan
expect_rc "machines list always 503 -> safety stop" 4
expect_in "stderr names the Octopus read" "$ERR" "Octopus machines list page 1"
lcheck "JSON status safety_stop" "$OUT" "J.scale_sets[1].status == 'safety_stop'"

# ---- NIC list failing: private IPs unknown is incomplete too -----------------------------
reset_log
set_faults '[{"name":"nics","route":"arm.nic_list","status":503}]'
osc -c "$WORK/c3.yaml" plan
expect_rc "NIC list always 503 -> safety stop" 4
expect_in "stderr names the NIC read" "$ERR" "Azure NIC list page 1"

# ---- 404 on the scale set -------------------------------------------------------------
set_faults '[]'
ENTRIES="  - name: web-prod
    resource_group: rg-web
    vmss: vmss-gone
    environment: Production
    roles: [web-server]" write_config "$WORK/c404.yaml"
osc -c "$WORK/c404.yaml" plan
expect_rc "VMSS GET 404 -> safety stop" 4
expect_in "stderr carries ARM's code" "$ERR" "HTTP 404 ResourceNotFound"
expect_in "stderr carries the request id" "$ERR" "(request id "

# ---- names that do not exist -----------------------------------------------------------
ENTRIES="  - name: web-prod
    resource_group: rg-web
    vmss: vmss-web
    environment: Prodution
    roles: [web-server]" write_config "$WORK/cenv.yaml"
osc -c "$WORK/cenv.yaml" plan
expect_rc "unknown environment -> exit 1" 1
expect_in "stderr names the environment" "$ERR" "environment 'Prodution' does not exist"
ENTRIES="  - name: web-prod
    resource_group: rg-web
    vmss: vmss-web
    environment: Production
    roles: [web-server]
    tenant: Nobody" write_config "$WORK/cten.yaml"
osc -c "$WORK/cten.yaml" plan
expect_rc "unknown tenant -> exit 1" 1
expect_in "stderr names the tenant" "$ERR" "tenant 'Nobody' does not exist"

stop_sim
finish
