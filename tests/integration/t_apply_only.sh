#!/usr/bin/env bash
# plan:apply{only = {...}} and plan:apply{filter = fn} from `octoscale run`:
# exactly the selected deletions reach Octopus, under the CLI's lock and
# fresh read, and the state records them (the others stay orphans); misuse
# raises at the script's line; a selected action the fresh read no longer
# has is skipped and said.
source "$(dirname "$0")/lib.sh"
SCRIPTS="$REPO/tests/integration/scripts"

start_int_sim scale-in.yaml || exit 1
write_config "$WORK/p.yaml"
sim_advance 100 >/dev/null # the scale-in to 5 has played out: 3 orphans

OCTOSCALE_NOW=2026-11-27T10:00:00Z osc -c "$WORK/p.yaml" plan >/dev/null
OCTOSCALE_NOW=2026-11-27T10:00:00Z osc -c "$WORK/p.yaml" apply
expect_rc "first apply records the orphans" 0
lcheck "three orphans in the state" "$WORK/state-p.json" \
  "(function() local n = 0 for _ in pairs(J.scale_sets['web-prod'].orphans) do n = n + 1 end return n == 3 end)()"
OCTOSCALE_NOW=2026-11-27T10:11:00Z osc -c "$WORK/p.yaml" --format json plan
expect_rc "11 minutes later three deletions are due" 2
cp "$OUT" "$WORK/plan.json"
DEL() { leval "$WORK/plan.json" "(function() local o = {} for _, a in ipairs(J.scale_sets[1].actions) do if a.action == 'delete' then o[#o + 1] = a.$1 end end table.sort(o) return o[$2] end)()"; }
FIRST_NAME=$(DEL target_name 1) SECOND_NAME=$(DEL target_name 2) THIRD_NAME=$(DEL target_name 3)
[[ -n $FIRST_NAME && -n $THIRD_NAME ]] || { not_ok "three deletions in the plan"; finish; }
reset_log

# misuse raises at the script's line, before anything is read or locked
for mode in bad-id both typo; do
  OCTOSCALE_NOW=2026-11-27T10:11:00Z osc -c "$WORK/p.yaml" run "$SCRIPTS/apply_only.lua" web-prod $mode x
  expect_rc "$mode: the script handles the raise" 0
done
OCTOSCALE_NOW=2026-11-27T10:11:00Z osc -c "$WORK/p.yaml" run "$SCRIPTS/apply_only.lua" web-prod bad-id x
expect_in "an unknown id names the script line" "$OUT" "apply_only.lua:20: plan:apply: only: Machines-nope is not a delete or disable of this plan"
OCTOSCALE_NOW=2026-11-27T10:11:00Z osc -c "$WORK/p.yaml" run "$SCRIPTS/apply_only.lua" web-prod both x
expect_in "only and filter together" "$OUT" "apply_only.lua:24: plan:apply: give only or filter, not both"
OCTOSCALE_NOW=2026-11-27T10:11:00Z osc -c "$WORK/p.yaml" run "$SCRIPTS/apply_only.lua" web-prod typo x
expect_in "a misspelt option" "$OUT" "apply_only.lua:28: plan:apply: unknown option 'onyl'"
fetch_log "$WORK/log1.json"
lcheck "misuse wrote nothing" "$WORK/log1.json" \
  "#where(function(r) return r.method == 'DELETE' or r.method == 'PUT' end) == 0"

# only: exactly the selected target is deleted, and the state says so
OCTOSCALE_NOW=2026-11-27T10:11:00Z osc -c "$WORK/p.yaml" run "$SCRIPTS/apply_only.lua" web-prod only "$FIRST_NAME"
expect_rc "plan:apply{only = {id}}" 0
expect_in "it reports the one deletion done" "$OUT" "done	delete	$FIRST_NAME"
fetch_log "$WORK/log2.json"
lcheck "exactly one DELETE reached Octopus" "$WORK/log2.json" \
  "#where(function(r) return r.method == 'DELETE' end) == 1"
lcheck "the state: two orphans left, the run recorded one deletion" "$WORK/state-p.json" \
  "(function() local n = 0 for _ in pairs(J.scale_sets['web-prod'].orphans) do n = n + 1 end local r = J.runs[#J.runs] return n == 2 and r.deleted == 1 and r.command == 'apply' end)()"
reset_log

# filter: the same through a function of the action
OCTOSCALE_NOW=2026-11-27T10:12:00Z osc -c "$WORK/p.yaml" run "$SCRIPTS/apply_only.lua" web-prod filter "$SECOND_NAME"
expect_rc "plan:apply{filter = fn}" 0
expect_in "it deletes the one the filter chose" "$OUT" "done	delete	$SECOND_NAME"
expect_not_in "and not the other" "$OUT" "done	delete	$THIRD_NAME"
fetch_log "$WORK/log3.json"
lcheck "exactly one DELETE again" "$WORK/log3.json" \
  "#where(function(r) return r.method == 'DELETE' end) == 1"

# a selected target that is gone by the time of the fresh read: skipped,
# and the warning says so (the script deletes it itself between plan and
# apply, standing in for another actor)
cat >"$WORK/race.lua" <<'LUA'
local plan = assert(reconcile.plan{ scale_set = "web-prod" })
local id
for _, a in ipairs(plan:actions()) do if a.action == "delete" then id = a.target_id end end
assert(octopus.client():delete_target(id))
local applied, err = plan:apply{ only = { id } }
print(applied and "applied" or ("failed " .. tostring(err)))
for _, a in ipairs(applied and applied:actions() or {}) do if a.done then print("done", a.target_id) end end
LUA
OCTOSCALE_NOW=2026-11-27T10:13:00Z osc -c "$WORK/p.yaml" run "$WORK/race.lua"
expect_rc "the apply of a vanished selection" 0
expect_in "applies nothing" "$OUT" "applied"
expect_not_in "no action done" "$OUT" "done"
expect_in "and says what it skipped" "$ERR" "plan:apply: skipped delete $THIRD_NAME"
finish
