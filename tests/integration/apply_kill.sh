#!/usr/bin/env bash
# apply is crash-safe: `kill -9` during a slow
# apply (3 s of latency on every DELETE, one of the three DELETEs failing
# with 503 so it is not done when the run dies) leaves the state file as
# the previous run wrote it (atomic write), and the lock free; `apply`
# again converges: it deletes only the target that is still there, and
# Octopus ends with exactly the planned set of targets (/_sim/state). A
# DELETE that finds the target already gone (removed by someone else
# between the list and the DELETE) counts as done. A corrupt or
# unknown-version state file stops apply (exit 1) and is never reset.
# Usage: bash tests/integration/apply_kill.sh BUILD_DIR
source "$(dirname "$0")/apply_lib.sh" "$1"

a_start apply-budget.yaml || exit 1
W=$A_WORK
a_config "$W/c.yaml" 'return { grace = { orphan = "10m" } }'

a_action '{"delete_vm":{"scale_set":"vmss-web","instances":[7,8,9],"immediate":true}}' || exit 1
a_sim_state "$W/s0.json"
ORPHANS=$(a_ids_where "$W/s0.json" "not m.vm.exists")
KEEP=$(a_ids_where "$W/s0.json" "m.vm.exists")
STUCK=${ORPHANS%%,*} # the DELETE that will not be done when the run dies
T0=$(a_now)
at() { date -u -d "$T0 + $1 minutes" +%Y-%m-%dT%H:%M:%SZ; }

NOW=$T0 a_osc -c "$W/c.yaml" apply
expect_rc "first apply: 3 orphans recorded" 0
cp "$W/state.json" "$W/state.before"

# ---- a slow apply, killed while its DELETEs are in flight ----------------------------
a_faults "[{\"name\":\"slow-delete\",\"route\":\"octopus.machine_delete\",\"latency_ms\":3000},
  {\"name\":\"stuck\",\"route\":\"octopus.machine_delete\",\"path\":\"/$STUCK\$\",\"status\":503}]" || exit 1
a_reset_log
OCTOSCALE_NOW=$(at 11) "$OCTOSCALE" -c "$W/c.yaml" apply >"$W/killed.out" 2>"$W/killed.err" </dev/null &
VICTIM=$!
A_BG_PIDS+=("$VICTIM")
for ((i = 0; i < 500; i++)); do
  a_log "$W/l0.json" "method=DELETE"
  [[ $(a_eval "$W/l0.json" '#J') -ge 3 ]] && break
  sleep 0.01
done
expect_eq "the 3 DELETEs were sent" 3 "$(a_eval "$W/l0.json" '#J')"
kill -KILL "$VICTIM"
wait "$VICTIM" 2>/dev/null
expect_eq "apply died of SIGKILL" 137 "$?"
check "the state file is the previous run's, intact" cmp -s "$W/state.json" "$W/state.before"
a_sim_state "$W/s1.json"
expect_eq "Octopus: the stuck target is still there" "$STUCK" "$(a_ids_where "$W/s1.json" "not m.vm.exists")"

# ---- apply again: converges --------------------------------------------------------
a_faults '[]' || exit 1
a_reset_log
NOW=$(at 12) a_osc -c "$W/c.yaml" --format json apply
expect_rc "apply after the kill (lock free, state readable)" 0
a_log "$W/l1.json"
expect_eq "one DELETE, for the target still there" "DELETE octopus.machine_delete $STUCK 200" "$(a_writes "$W/l1.json")"
a_sim_state "$W/s2.json"
expect_eq "Octopus holds exactly the planned targets" "$KEEP" "$(a_ids_where "$W/s2.json" true)"
a_check "state: no orphan left" "$W/state.json" "count(J.scale_sets['web-prod'].orphans) == 0"
a_reset_log
NOW=$(at 13) a_osc -c "$W/c.yaml" apply
expect_rc "and again" 0
a_log "$W/l2.json"
expect_eq "nothing more to do" "" "$(a_writes "$W/l2.json")"

# ---- a DELETE that finds the target gone counts as done --------------------------------
a_action '{"delete_vm":{"scale_set":"vmss-web","instance":6,"immediate":true}}' || exit 1
a_sim_state "$W/s3.json"
GONE=$(a_ids_where "$W/s3.json" "not m.vm.exists")
GONE_NAME=$(a_names_where "$W/s3.json" "not m.vm.exists")
NOW=$(at 14) a_osc -c "$W/c.yaml" apply
expect_rc "orphan $GONE recorded" 0
a_faults '[{"name":"slow-list","route":"octopus.machines_list","latency_ms":1500}]' || exit 1
a_reset_log
OCTOSCALE_NOW=$(at 25) "$OCTOSCALE" -c "$W/c.yaml" --format json apply >"$W/race.out" 2>"$W/race.err" </dev/null &
RACER=$!
A_BG_PIDS+=("$RACER")
for ((i = 0; i < 300; i++)); do
  a_log "$W/l3.json" "route=octopus.machines_list"
  [[ $(a_eval "$W/l3.json" '#J') -ge 1 ]] && break
  sleep 0.01
done
# the list (already answered, delayed on the wire) still holds it
a_action "{\"remove_machine\":{\"id\":\"$GONE\"}}" || exit 1
wait "$RACER"
RC=$?
ERR=$W/race.err
expect_rc "apply whose DELETE finds the target gone" 0
a_log "$W/l4.json"
expect_eq "the DELETE got 404" "DELETE octopus.machine_delete $GONE 404" "$(a_writes "$W/l4.json")"
a_check "JSON: the delete counts as done" "$W/race.out" \
  "(function() for _, a in ipairs(J.scale_sets[1].actions) do if a.target_id == '$GONE' then return a.action == 'delete' and a.done == true end end return false end)()"
a_check "state: $GONE_NAME is no orphan any more" "$W/state.json" "count(J.scale_sets['web-prod'].orphans) == 0"

# ---- a state file that cannot be trusted stops the run; it is never reset ------------
a_faults '[]' || exit 1
for bad in '{"format_version": 1, "scale_sets": {' '{"format_version": 99, "scale_sets": {}}'; do
  printf '%s' "$bad" >"$W/state.json"
  a_reset_log
  NOW=$(at 40) a_osc -c "$W/c.yaml" apply
  expect_rc "state file '${bad:0:24}...'" 1
  expect_in "stderr names the state file" "$ERR" "$W/state.json"
  a_log "$W/l5.json"
  expect_eq "nothing deleted or changed" "" "$(a_writes "$W/l5.json")"
  expect_eq "the state file is left as it was" "$bad" "$(cat "$W/state.json")"
done

stop_sim
finish
