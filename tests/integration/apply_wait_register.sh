#!/usr/bin/env bash
# apply --wait also waits for registration: 2 new VMs have Succeeded but
# their Tentacles have not registered yet (within the registration grace),
# so the deployment would miss them. --wait keeps polling until they
# register (done from the background through POST /_sim/actions), then
# the outputs of the triggered --only-new run are exactly the 2 new
# targets. If they never register within the bound, --on-timeout fail
# exits 5 and changes nothing.
# Usage: bash tests/integration/apply_wait_register.sh BUILD_DIR
source "$(dirname "$0")/apply_lib.sh" "$1"

a_start apply-budget.yaml || exit 1 # no auto-registration in this scenario
W=$A_WORK
a_config "$W/c.yaml" 'return { grace = { registration = "10m", orphan = "10m" } }'
NOW=$(a_now) a_osc -c "$W/c.yaml" apply --only-new
expect_rc "baseline apply --only-new" 0

a_action '{"scale":{"scale_set":"vmss-web","capacity":12}}' || exit 1
sim_advance 61 # created (60 s), Succeeded, nobody registers them
a_sim_state "$W/s1.json"
a_check "12 VMs Succeeded, 10 targets" "$W/s1.json" \
  "#J.scale_sets[1].vms == 12 and #J.machines == 10 and J.scale_sets[1].provisioning_state ~= 'Updating' and (function() for _, v in ipairs(J.scale_sets[1].vms) do if v.state ~= 'Succeeded' then return false end end return true end)()"

# ---- never registered within the bound -----------------------------------------------
a_reset_log
NOW=$(a_now) a_osc -c "$W/c.yaml" --format json apply --only-new --wait=1s --poll-interval 1s --on-timeout fail
expect_rc "--wait=1s --on-timeout fail, Tentacles not registered" 5
a_log "$W/l1.json"
expect_eq "nothing changed" "" "$(a_writes "$W/l1.json")"

# ---- registered while apply waits ------------------------------------------------------
(sleep 1.5 && curl -sS --max-time 5 -o /dev/null -X POST -H 'Content-Type: application/json' \
  --data '{"register":{"scale_set":"vmss-web","all_new":true,"roles":["web-server"],"environment":"Production"}}' \
  "$SIM_URL/_sim/actions") &
A_BG_PIDS+=("$!")
a_reset_log
NOW=$(a_now) a_osc -c "$W/c.yaml" --format json apply --only-new --wait=20s --poll-interval 1s
expect_rc "--wait=20s, registered after ~1.5 s" 0
# The registration lands ~1.5 s after the timer above started, which is a
# little before apply starts on a loaded machine: a run that waited polled at
# least twice, a poll interval (1 s) apart; one that did not wait takes ~0.1 s.
if ((ELAPSED_MS >= 1000 && ELAPSED_MS < 10000)); then ok "it waited for the registration (${ELAPSED_MS} ms)"; else not_ok "it took ${ELAPSED_MS} ms"; fi
a_sim_state "$W/s2.json"
NEW=$(a_ids_where "$W/s2.json" "m.name == 'web00000A' or m.name == 'web00000B'")
expect_eq "2 new targets registered" 2 "$(a_eval "$W/s2.json" "#split('$NEW')")"
a_check "outputs: exactly the 2 new targets" "$OUT" \
  "same(J.outputs.VMSSDeploymentTargetIds, '$NEW') and J.outputs.VMSSHasServersToDeployTo == 'True'"
a_log "$W/l2.json"
a_check "it polled several times" "$W/l2.json" "n('arm.vm_list') >= 2"
expect_eq "nothing deleted or changed" "" "$(a_writes "$W/l2.json")"

stop_sim
finish
