#!/usr/bin/env bash
# The clock and the timeline: scale-out with overprovisioning, scale-in by
# policy, PATCH and DELETE as long-running operations, Flexible scale-out,
# Tentacle registration, /_sim/step, /_sim/actions and --speed.
set -uo pipefail
SIM_BIN=${1:-${SIM_BIN:-}}
# shellcheck source=tests/sim/test/lib.sh
. "$(dirname "$0")/lib.sh"

state() { sim_curl "$SIM_DIR/$1.json" "$SIM_URL/_sim/state" >/dev/null; }
SET() { echo "find(J.scale_sets, \"name\", \"$1\")"; }

# ---- scale-out with overprovisioning --------------------------------------------
start_sim scale-out.yaml || exit 1
D=$SIM_DIR
T=$(sim_token)
AUTH=(-H "Authorization: Bearer $T")
KEY=(-H "X-Octopus-ApiKey: $(sim_auth api_key)")
vmss_url() {
  VMSS="$SIM_URL/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-web"
}
vmss_url
V="api-version=2024-11-01"
sim_curl "$D/clock.json" "$SIM_URL/_sim/clock" >/dev/null
jcheck "clock: next step at T+60" "$D/clock.json" 'J.next_step_at == "2026-11-27T10:01:00Z" and J.steps_remaining == 1'
sim_curl "$D/adv.json" -X POST "$SIM_URL/_sim/clock/advance?seconds=60" >/dev/null
jcheck "advance 60 s: the scale step applied, clock at 10:01:00" "$D/adv.json" \
  'J.now == "2026-11-27T10:01:00Z" and J.applied[1]:find("scale 5 %-> 8") and J.steps_remaining == 0'
sim_curl "$D/v1.json" "${AUTH[@]}" "$VMSS?$V" >/dev/null
jcheck "VMSS: capacity 8 and Updating while scaling" "$D/v1.json" 'J.sku.capacity == 8 and J.properties.provisioningState == "Updating"'
sim_curl "$D/l1.json" "${AUTH[@]}" "$VMSS/virtualMachines?$V&\$expand=instanceView" >/dev/null
jcheck "overprovisioning: 3 requested + 2 extra VMs Creating" "$D/l1.json" \
  '#J.value == 10 and J.value[6].properties.provisioningState == "Creating" and J.value[10].instanceId == "9" and J.value[10].properties.provisioningState == "Creating"'
jcheck "Creating VMs: instanceView says creating, timeCreated is now" "$D/l1.json" \
  'J.value[6].properties.instanceView.statuses[1].code == "ProvisioningState/creating" and J.value[6].properties.timeCreated == "2026-11-27T10:01:00.0000000+00:00"'
sim_advance 120
sim_curl "$D/l2.json" "${AUTH[@]}" "$VMSS/virtualMachines?$V" >/dev/null
jcheck "T+180: all ten Succeeded" "$D/l2.json" 'all(J.value, function(v) return v.properties.provisioningState == "Succeeded" end) and #J.value == 10'
sim_curl "$D/m1.json" "${KEY[@]}" "$SIM_URL/api/Spaces-1/machines" >/dev/null
jcheck "T+180: nothing registered yet" "$D/m1.json" 'J.TotalResults == 5'
sim_advance 30
sim_curl "$D/m2.json" "${KEY[@]}" "$SIM_URL/api/Spaces-1/machines" >/dev/null
jcheck "T+210: the extras registered too (10 targets)" "$D/m2.json" \
  'J.TotalResults == 10 and find(J.Items, "Name", "web000009") ~= nil and find(J.Items, "Name", "web000009").Roles[1] == "web-server"'
sim_curl "$D/ev.json" "${KEY[@]}" "$SIM_URL/api/events?eventCategories=Created&take=5" >/dev/null
jcheck "registration wrote Created events at T+210" "$D/ev.json" \
  'J.Items[1].Occurred == "2026-11-27T10:03:30.000+00:00" and J.Items[1].Category == "Created"'
sim_advance 30
sim_curl "$D/l3.json" "${AUTH[@]}" "$VMSS/virtualMachines?$V" >/dev/null
jcheck "T+240: Azure deletes the two extras" "$D/l3.json" \
  'J.value[9].properties.provisioningState == "Deleting" and J.value[10].properties.provisioningState == "Deleting" and J.value[8].properties.provisioningState == "Succeeded"'
sim_advance 30
sim_curl "$D/l4.json" "${AUTH[@]}" "$VMSS/virtualMachines?$V" >/dev/null
jcheck "T+270: 8 VMs, ids 0..7" "$D/l4.json" '#J.value == 8 and J.value[8].instanceId == "7"'
sim_curl "$D/v2.json" "${AUTH[@]}" "$VMSS?$V" >/dev/null
jcheck "VMSS: steady again (lowercase succeeded)" "$D/v2.json" 'J.sku.capacity == 8 and J.properties.provisioningState == "succeeded"'
state s1
jcheck "state: the extras' targets are orphans" "$D/s1.json" \
  'find(J.machines, "name", "web000008").vm.exists == false and find(J.machines, "name", "web000007").vm.exists == true'
sim_curl "$D/hist.json" "$SIM_URL/_sim/history" >/dev/null
jcheck "history lists what happened" "$D/hist.json" '#J >= 5 and J[#J].what:find("deleted")'
stop_sim

# ---- scale-in via /_sim/step ----------------------------------------------------------
start_sim scale-in.yaml || exit 1
vmss_url
D=$SIM_DIR
T=$(sim_token)
AUTH=(-H "Authorization: Bearer $T")
sim_curl "$D/step.json" -X POST "$SIM_URL/_sim/step" >/dev/null
jcheck "step applies the next timeline entry now, without moving the clock" "$D/step.json" \
  'J.applied[1]:find("scale 8 %-> 5") and J.now == "2026-11-27T10:00:00Z"'
sim_curl "$D/l.json" "${AUTH[@]}" "$VMSS/virtualMachines?$V" >/dev/null
jcheck "scale-in: the highest ids (7, 6, 5) are Deleting" "$D/l.json" \
  'J.value[6].properties.provisioningState == "Deleting" and J.value[8].properties.provisioningState == "Deleting" and J.value[5].properties.provisioningState == "Succeeded"'
sim_advance 30
sim_curl "$D/l2.json" "${AUTH[@]}" "$VMSS/virtualMachines?$V" >/dev/null
jcheck "scale-in: 5 VMs left, 0..4" "$D/l2.json" '#J.value == 5 and J.value[5].instanceId == "4"'
code=$(sim_curl "$D/step2.json" -X POST "$SIM_URL/_sim/step")
expect_eq "no step left: 409" 409 "$code"
sim_curl "$D/adv.json" -X POST "$SIM_URL/_sim/clock/advance?seconds=60" >/dev/null
jcheck "the consumed step is not applied again by advance" "$D/adv.json" '#J.applied == 0'
stop_sim

# ---- PATCH, DELETE and their async operations (steady.yaml) -------------------------------
start_sim steady.yaml || exit 1
vmss_url
D=$SIM_DIR
T=$(sim_token)
AUTH=(-H "Authorization: Bearer $T")
code=$(sim_curl "$D/patch.json" -D "$D/patch.h" "${AUTH[@]}" -X PATCH -H "Content-Type: application/json" \
  --data-binary '{"sku":{"capacity":7}}' "$VMSS?$V")
expect_eq "PATCH sku.capacity: 200" 200 "$code"
jcheck "PATCH returns the VMSS, Updating, capacity 7" "$D/patch.json" 'J.sku.capacity == 7 and J.properties.provisioningState == "Updating"'
OP=$(grep -i '^Azure-AsyncOperation:' "$D/patch.h" | cut -d' ' -f2 | tr -d '\r')
check "PATCH: Azure-AsyncOperation points at a Compute operation" grep -q "/providers/Microsoft.Compute/locations/westeurope/operations/" <<<"$OP"
sim_curl "$D/op1.json" "${AUTH[@]}" "$OP" >/dev/null
jcheck "operation InProgress" "$D/op1.json" 'J.status == "InProgress" and J.startTime and J.name'
sim_advance 60
sim_curl "$D/op2.json" "${AUTH[@]}" "$OP" >/dev/null
jcheck "operation Succeeded after create_seconds" "$D/op2.json" 'J.status == "Succeeded" and J.endTime'
sim_curl "$D/l.json" "${AUTH[@]}" "$VMSS/virtualMachines?$V" >/dev/null
jcheck "7 VMs, new ones in zones 3 and 1" "$D/l.json" '#J.value == 7 and J.value[6].zones[1] == "3" and J.value[7].zones[1] == "1" and J.value[7].properties.provisioningState == "Succeeded"'
code=$(sim_curl "$D/bad.json" "${AUTH[@]}" -X PATCH --data-binary '{"sku":{"capacity":-1}}' "$VMSS?$V")
expect_eq "PATCH with a bad capacity: 400" 400 "$code"
code=$(sim_curl "$D/del.txt" -D "$D/del.h" "${AUTH[@]}" -X DELETE "$VMSS/virtualMachines/3?$V")
expect_eq "DELETE an instance: 202" 202 "$code"
LOC=$(grep -i '^Location:' "$D/del.h" | cut -d' ' -f2 | tr -d '\r')
check "DELETE: Location with monitor=true" grep -q "monitor=true" <<<"$LOC"
check "DELETE: Azure-AsyncOperation too" grep -qi '^Azure-AsyncOperation: http' "$D/del.h"
code=$(sim_curl "$D/mon1.txt" "${AUTH[@]}" "$LOC")
expect_eq "Location poll while deleting: 202" 202 "$code"
sim_curl "$D/v.json" "${AUTH[@]}" "$VMSS?$V" >/dev/null
jcheck "DELETE decrements capacity" "$D/v.json" 'J.sku.capacity == 6'
sim_advance 30
code=$(sim_curl "$D/mon2.txt" "${AUTH[@]}" "$LOC")
expect_eq "Location poll when done: 200" 200 "$code"
code=$(sim_curl "$D/del2.txt" "${AUTH[@]}" -X DELETE "$VMSS/virtualMachines/3?$V")
expect_eq "DELETE of a gone instance: 204" 204 "$code"
code=$(sim_curl "$D/bulk.txt" "${AUTH[@]}" -X POST --data-binary '{"instanceIds":["5","6"]}' "$VMSS/delete?$V")
expect_eq "bulk delete instances: 202" 202 "$code"
sim_advance 30
sim_curl "$D/l2.json" "${AUTH[@]}" "$VMSS/virtualMachines?$V" >/dev/null
jcheck "after deletes: instances 0, 1, 2, 4 remain" "$D/l2.json" \
  '#J.value == 4 and J.value[4].instanceId == "4"'
sim_curl "$D/wlog.json" "$SIM_URL/_sim/requests?method=DELETE&route=arm.*" >/dev/null
jcheck "request log has the DELETEs with their routes" "$D/wlog.json" '#J == 2 and J[1].route == "arm.vm_delete" and J[1].status == 202 and J[2].status == 204'
code=$(sim_curl "$D/p2.json" "${AUTH[@]}" -X PATCH --data-binary '{"sku":{"capacity":2}}' "$VMSS?$V")
sim_curl "$D/l3.json" "${AUTH[@]}" "$VMSS/virtualMachines?$V" >/dev/null
jcheck "PATCH scale-in, Default policy balancing zones: 2 and 4 go first" "$D/l3.json" \
  'find(J.value, "instanceId", "4").properties.provisioningState == "Deleting" and find(J.value, "instanceId", "2").properties.provisioningState == "Deleting" and find(J.value, "instanceId", "1").properties.provisioningState == "Succeeded"'

# ---- /_sim/actions: vm_state, register, remove_machine, machine -------------------------------------
code=$(sim_curl "$D/a.json" -X POST "$SIM_URL/_sim/actions" -d '[{"vm_state":{"scale_set":"vmss-web","instance":0,"state":"Failed"}},{"machine":{"name":"web-legacy-01","health":"Unhealthy","disabled":true}}]')
expect_eq "actions: 200" 200 "$code"
jcheck "actions: both applied" "$D/a.json" '#J.applied == 2'
sim_curl "$D/vm0.json" "${AUTH[@]}" "$VMSS/virtualMachines/0?$V&\$expand=instanceView" >/dev/null
jcheck "vm_state: instance 0 Failed, with an Error status" "$D/vm0.json" \
  'J.properties.provisioningState == "Failed" and J.properties.instanceView.statuses[1].level == "Error"'
code=$(sim_curl "$D/a2.json" -X POST "$SIM_URL/_sim/actions" -d '{"remove_machine":{"name":"web000001"}}')
expect_eq "remove_machine: 200" 200 "$code"
code=$(sim_curl "$D/a3.json" -X POST "$SIM_URL/_sim/actions" -d '{"register":{"scale_set":"vmss-web","instance":1}}')
jcheck "register: re-registers web000001 with the scale set's defaults" "$D/a3.json" 'J.applied[1]:find("web000001")'
sim_curl "$D/m.json" -H "X-Octopus-ApiKey: $(sim_auth api_key)" "$SIM_URL/api/Spaces-1/machines?name=web000001" >/dev/null
jcheck "register: a new machine id with the generator's roles, environment and tenant" "$D/m.json" \
  'J.TotalResults == 1 and J.Items[1].Id ~= "Machines-2" and J.Items[1].Roles[2] == "vmss-web" and J.Items[1].TenantIds[1] == "Tenants-1" and J.Items[1].EnvironmentIds[1] == "Environments-1"'
code=$(sim_curl "$D/a4.json" -X POST "$SIM_URL/_sim/actions" -d '{"vm_state":{"scale_set":"vmss-web","instance":99,"state":"Failed"}}')
expect_eq "actions: a VM that does not exist -> 409" 409 "$code"
code=$(sim_curl "$D/a5.json" -X POST "$SIM_URL/_sim/actions" -d '{"explode":{}}')
expect_eq "actions: an unknown action -> 400" 400 "$code"
stop_sim

# ---- Flexible scale-out -------------------------------------------------------------------------------
start_sim flexible.yaml || exit 1
D=$SIM_DIR
sim_advance 60
state f1
jcheck "flex: capacity 6, two new VMs Creating" "$D/f1.json" \
  "$(SET vmss-app).capacity == 6 and #$(SET vmss-app).vms == 6 and $(SET vmss-app).vms[6].state == \"Creating\""
sim_advance 120
state f2
jcheck "flex: new VMs Succeeded and registered (polling)" "$D/f2.json" \
  "$(SET vmss-app).vms[6].state == \"Succeeded\" and $(SET vmss-app).vms[6].machine ~= null and #J.machines == 6 and all(J.machines, function(m) return m.comm_style == 'polling' end)"
jcheck "flex: new VM names follow {vmss}_{8 hex}" "$D/f2.json" "$(SET vmss-app).vms[5].name:match('^vmss%-app_%x+\$') and #$(SET vmss-app).vms[5].name == 17"
stop_sim

# ---- --speed: real time drives the clock ------------------------------------------------------------------
start_sim scale-out.yaml --speed 120 || exit 1
sleep 0.6
sim_curl "$SIM_DIR/c.json" "$SIM_URL/_sim/clock" >/dev/null
jcheck "--speed 120: 0.6 s real is over a simulated minute, so the step applied" "$SIM_DIR/c.json" \
  'J.elapsed_seconds >= 60 and J.steps_remaining == 0 and J.speed == 120'
stop_sim

finish
