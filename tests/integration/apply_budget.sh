#!/usr/bin/env bash
# apply's deletion budget (docs/design.md §6, safety rule 3): 6 of 10 targets
# orphaned with max_delete = "50%" -> after the grace, exit 4 with the
# numbers in the message and nothing deleted (request log); max_delete = 0
# deletes and disables nothing, even with --force; --force does
# not lift the incomplete-data rule (a failing VM list still stops it);
# with --force and complete data, exactly the 6 are deleted.
# Usage: bash tests/integration/apply_budget.sh BUILD_DIR
source "$(dirname "$0")/apply_lib.sh" "$1"

a_start apply-budget.yaml || exit 1
W=$A_WORK
HTTP_YAML="http:
  max_attempts: 2" a_config "$W/c.yaml" 'return { grace = { orphan = "10m" }, max_delete = "50%" }'

a_action '{"delete_vm":{"scale_set":"vmss-web","instances":[4,5,6,7,8,9],"immediate":true}}' || exit 1
a_sim_state "$W/s0.json"
ORPHANS=$(a_ids_where "$W/s0.json" "not m.vm.exists")
expect_eq "6 of 10 targets orphaned" "6 10" "$(a_eval "$W/s0.json" "#split('$ORPHANS') .. ' ' .. #J.machines")"
T0=$(a_now)
at() { date -u -d "$T0 + $1 minutes" +%Y-%m-%dT%H:%M:%SZ; }

NOW=$T0 a_osc -c "$W/c.yaml" apply
expect_rc "first apply: orphans recorded" 0
a_check "state: the 6 orphans recorded" "$W/state.json" \
  "join(keys(J.scale_sets['web-prod'].orphans)) == '$ORPHANS'"

# ---- past the grace: 6 deletions > 50% of 10 -------------------------------------
a_reset_log
NOW=$(at 11) a_osc -c "$W/c.yaml" --format json apply
expect_rc "6 of 10 with max_delete 50% -> safety stop" 4
a_log "$W/l1.json"
expect_eq "nothing deleted or disabled" "" "$(a_writes "$W/l1.json")"
a_check "JSON: safety_stop naming 6 and the budget of 5" "$OUT" \
  "J.scale_sets[1].status == 'safety_stop' and J.scale_sets[1].message:match('6 targets') ~= nil and J.scale_sets[1].message:match('allows 5') ~= nil"
expect_in "stderr carries the numbers" "$ERR" "6 targets to delete or disable, max_delete 50% of 10 in-scope targets allows 5"
a_check "state: the orphans' first sighting is kept" "$W/state.json" \
  "join(keys(J.scale_sets['web-prod'].orphans)) == '$ORPHANS' and (function() for _, t in pairs(J.scale_sets['web-prod'].orphans) do if t ~= '$T0' then return false end end return true end)()"

# ---- max_delete = 0: no delete and no disable at all, --force included -----------
for answer in delete disable; do
  a_config "$W/zero-$answer.yaml" "return { grace = { orphan = \"10m\" }, max_delete = 0, on_scale_in = \"$answer\" }"
  for force in "" --force; do
    a_reset_log
    NOW=$(at 11) a_osc -c "$W/zero-$answer.yaml" apply $force
    expect_rc "max_delete = 0, on_scale_in $answer ${force:-(no --force)}: safety stop" 4
    a_log "$W/lz.json"
    expect_eq "max_delete = 0, $answer ${force}: nothing deleted or disabled" "" "$(a_writes "$W/lz.json")"
    expect_in "the stop names the budget" "$ERR" "max_delete"
  done
done

# ---- --force never lifts the incomplete-data rule -----------------------------------
a_faults '[{"name":"vm-list","route":"arm.vm_list","status":503}]' || exit 1
a_reset_log
NOW=$(at 12) a_osc -c "$W/c.yaml" apply --force
expect_rc "--force with the VM list failing -> still a safety stop" 4
a_log "$W/l2.json"
expect_eq "nothing deleted or disabled" "" "$(a_writes "$W/l2.json")"

# ---- --force with complete data: the 6 go ------------------------------------------
a_faults '[]' || exit 1
a_reset_log
NOW=$(at 13) a_osc -c "$W/c.yaml" --format json apply --force
expect_rc "--force" 0
a_log "$W/l3.json"
a_check "exactly 6 DELETEs, no PUT" "$W/l3.json" "n('octopus.machine_delete', 'DELETE') == 6 and #writes() == 6"
expect_eq "the DELETEs are the 6 orphans" "$ORPHANS" "$(a_deleted_ids "$W/l3.json")"
a_sim_state "$W/s3.json"
a_check "Octopus holds the 4 targets whose VMs exist" "$W/s3.json" \
  "#J.machines == 4 and (function() for _, m in ipairs(J.machines) do if not m.vm.exists then return false end end return true end)()"

stop_sim
finish
