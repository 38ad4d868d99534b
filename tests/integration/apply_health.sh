#!/usr/bin/env bash
# apply --health-check: after a scale-out by 2, the
# triggered `apply --only-new --health-check` starts one Octopus Health
# task (POST /api/Spaces-1/tasks, Name "Health") for exactly the 2 new
# targets (not the pre-existing ones), waits for it, and leaves the one
# whose Tentacle does not answer out of the outputs, naming it on stderr.
# Left out, it stays "new": once it answers, the next triggered run checks
# and outputs it.
# Usage: bash tests/integration/apply_health.sh BUILD_DIR
source "$(dirname "$0")/apply_lib.sh" "$1"

a_start apply-outputs.yaml || exit 1
W=$A_WORK
a_config "$W/c.yaml" 'return { grace = { orphan = "10m" } }'
T0=$(a_now)

a_sim_state "$W/s0.json"
OLD_IDS=$(a_ids_where "$W/s0.json" "m.vm.exists")
NOW=$T0 a_osc -c "$W/c.yaml" apply --only-new
expect_rc "baseline apply --only-new" 0

a_action '{"scale":{"scale_set":"vmss-web","capacity":5}}' || exit 1
sim_advance 40
a_sim_state "$W/s1.json"
NEW_IDS=$(a_ids_where "$W/s1.json" "m.vm.exists and not has('$OLD_IDS', m.id)")
DEAD=${NEW_IDS##*,}
LIVE=${NEW_IDS%%,*}
DEAD_NAME=$(a_names_where "$W/s1.json" "m.id == '$DEAD'")
LIVE_NAME=$(a_names_where "$W/s1.json" "m.id == '$LIVE'")
expect_eq "2 new targets" 2 "$(a_eval "$W/s1.json" "#split('$NEW_IDS')")"
# its Tentacle stops answering (a Health task will find it Unavailable)
a_action "{\"machine\":{\"id\":\"$DEAD\",\"reachable\":false}}" || exit 1

a_reset_log
NOW=$(date -u -d "$T0 + 1 minute" +%Y-%m-%dT%H:%M:%SZ) a_osc -c "$W/c.yaml" --format json apply --only-new --health-check
expect_rc "apply --only-new --health-check" 0
a_log "$W/l1.json"
a_check "one Health task started" "$W/l1.json" \
  "#where(function(r) return r.method == 'POST' and r.route == 'octopus.task_create' and r.path == '/api/Spaces-1/tasks' end) == 1"
a_check "the task is a Health check of exactly the 2 new targets" "$W/l1.json" \
  "(function() local r = where(function(r) return r.route == 'octopus.task_create' end)[1] local b = cjson.decode(r.body) return b.Name == 'Health' and join(b.Arguments.MachineIds) == '$NEW_IDS' end)()"
a_check "octoscale polled the task" "$W/l1.json" "n('octopus.task_get') >= 1"
expect_eq "no DELETE or PUT" "" "$(a_writes "$W/l1.json")"
a_check "outputs: only the new target that answered" "$OUT" \
  "J.outputs.VMSSDeploymentTargetIds == '$LIVE' and J.outputs.VMSSDeploymentTargetNames == '$LIVE_NAME' and J.outputs.VMSSHasServersToDeployTo == 'True'"
expect_in "stderr names the unavailable target" "$ERR" "$DEAD_NAME ($DEAD) is Unavailable"
a_sim_state "$W/s2.json"
a_check "Octopus marked it Unavailable" "$W/s2.json" "find(J.machines, 'id', '$DEAD').health == 'Unavailable'"

# ---- it comes back: the next triggered run outputs it (it was never output) ------
a_action "{\"machine\":{\"id\":\"$DEAD\",\"reachable\":true}}" || exit 1
a_reset_log
NOW=$(date -u -d "$T0 + 2 minutes" +%Y-%m-%dT%H:%M:%SZ) a_osc -c "$W/c.yaml" --format json apply --only-new --health-check
expect_rc "the next apply --only-new --health-check" 0
a_log "$W/l2.json"
a_check "a Health task for that target alone" "$W/l2.json" \
  "(function() local t = where(function(r) return r.route == 'octopus.task_create' end) return #t == 1 and join(cjson.decode(t[1].body).Arguments.MachineIds) == '$DEAD' end)()"
a_check "outputs: now that target, and only it" "$OUT" \
  "J.outputs.VMSSDeploymentTargetIds == '$DEAD' and J.outputs.VMSSHasServersToDeployTo == 'True'"

stop_sim
finish
