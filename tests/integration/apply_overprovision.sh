#!/usr/bin/env bash
# apply and overprovisioning (docs/design.md §6): a scale-out to 5
# creates 8 VMs; all 8 Tentacles register; Azure then deletes the 3 extras.
# `apply --wait` started while the scale set is still Updating waits for
# the extras to go (the simulator's clock is driven from a background loop)
# and outputs only the 5 kept; the 3 extras' targets are recorded as
# orphans, not deleted (grace 10m). After the grace, apply deletes exactly
# those 3 (request log) and both the JSON "outputs" and the decoded
# --octopus-output list the 5 kept.
# Usage: bash tests/integration/apply_overprovision.sh BUILD_DIR
source "$(dirname "$0")/apply_lib.sh" "$1"

a_start apply-overprovision.yaml || exit 1
a_config "$A_WORK/c.yaml" 'return { grace = { orphan = "10m" } }'
W=$A_WORK

a_action '{"scale":{"scale_set":"vmss-web","capacity":5}}' || exit 1
sim_advance 70 # all 8 Succeeded at +60 s, their Tentacles registered at +70 s
a_sim_state "$W/s1.json"
a_check "8 VMs created, 3 of them overprovisioned extras" "$W/s1.json" \
  "#J.scale_sets[1].vms == 8 and (function() local k = 0 for _, v in ipairs(J.scale_sets[1].vms) do if v.overprovisioned then k = k + 1 end end return k == 3 end)()"
a_check "all 8 Tentacles registered" "$W/s1.json" "#J.machines == 8"
a_check "the scale set is still Updating" "$W/s1.json" "J.scale_sets[1].provisioning_state == 'Updating'"
by_vm() { # machine ids (or names) of VMs whose overprovisioned flag is $1
  a_eval "$W/s1.json" "(function() local o = {} for _, v in ipairs(J.scale_sets[1].vms) do if v.overprovisioned == $1 then local m = find(J.machines, 'id', v.machine) o[#o + 1] = m.$2 end end return join(o) end)()"
}
EXTRA_IDS=$(by_vm true id)
KEPT_IDS=$(by_vm false id)
KEPT_NAMES=$(by_vm false name)

# ---- apply --wait while Azure is still cleaning up --------------------------------
T0=$(a_now)
a_clock_driver 5 0.2 30 # +5 simulated seconds every 0.2 s
NOW=$T0 a_osc -c "$W/c.yaml" --format json apply --wait=30s --poll-interval 1s
kill "$A_CLOCK_PID" 2>/dev/null
wait "$A_CLOCK_PID" 2>/dev/null
expect_rc "apply --wait during the cleanup" 0
expect_in "it waited (progress on stderr)" "$ERR" "waiting for provisioning"
a_log "$W/l1.json"
a_check "the scale set was polled more than once" "$W/l1.json" "n('arm.vmss_get') >= 2"
expect_eq "no DELETE or PUT within the grace" "" "$(a_writes "$W/l1.json")"
a_check "JSON outputs: the 5 kept, not the 3 extras" "$OUT" \
  "same(J.outputs.VMSSDeploymentTargetIds, '$KEPT_IDS') and same(J.outputs.VMSSDeploymentTargetNames, '$KEPT_NAMES') and J.outputs.VMSSHasServersToDeployTo == 'True'"
a_check "state: the 3 extras' targets are orphans" "$W/state.json" \
  "join(keys(J.scale_sets['web-prod'].orphans)) == '$EXTRA_IDS'"

# ---- after the grace: the 3 deleted, the 5 output -----------------------------------
a_reset_log
NOW=$(date -u -d "$T0 + 11 minutes" +%Y-%m-%dT%H:%M:%SZ) a_osc -c "$W/c.yaml" --format json apply
expect_rc "apply after the grace" 0
a_log "$W/l2.json"
a_check "exactly 3 DELETEs and no PUT" "$W/l2.json" "n('octopus.machine_delete', 'DELETE') == 3 and #writes() == 3"
expect_eq "the DELETEs are the extras' targets" "$EXTRA_IDS" "$(a_deleted_ids "$W/l2.json")"
a_check "JSON outputs list the 5 kept" "$OUT" \
  "J.outputs.VMSSHasServersToDeployTo == 'True' and same(J.outputs.VMSSDeploymentTargetIds, '$KEPT_IDS') and same(J.outputs.VMSSDeploymentTargetNames, '$KEPT_NAMES') and same(J.outputs['VMSSDeploymentTargetIds.web-prod'], '$KEPT_IDS')"
a_sim_state "$W/s2.json"
expect_eq "Octopus holds exactly the 5 kept targets" "$KEPT_IDS" "$(a_ids_where "$W/s2.json" true)"

# ---- the same outputs as Octopus service messages -------------------------------------
a_reset_log
NOW=$(date -u -d "$T0 + 12 minutes" +%Y-%m-%dT%H:%M:%SZ) a_osc -c "$W/c.yaml" apply --octopus-output
expect_rc "apply --octopus-output" 0
expect_eq "decoded VMSSHasServersToDeployTo" "True" "$(a_output "$OUT" VMSSHasServersToDeployTo)"
expect_eq "decoded VMSSDeploymentTargetIds: the 5 kept" "$KEPT_IDS" "$(a_decode_outputs_sorted "$OUT" | sed -n 's/^VMSSDeploymentTargetIds=//p')"
expect_eq "decoded VMSSDeploymentTargetNames: the 5 kept" "$KEPT_NAMES" "$(a_decode_outputs_sorted "$OUT" | sed -n 's/^VMSSDeploymentTargetNames=//p')"
a_log "$W/l3.json"
expect_eq "nothing more to delete" "" "$(a_writes "$W/l3.json")"

stop_sim
finish
