#!/usr/bin/env bash
# plan:apply() from `octoscale run`: the same lock, state and safety rules as
# `octoscale apply`, limited to the actions of the plan the script saw.
source "$(dirname "$0")/lib.sh"
SCRIPTS="$REPO/tests/integration/scripts"

start_int_sim scale-in.yaml || exit 1
write_config "$WORK/p.yaml"
sim_advance 100 >/dev/null # the scale-in to 5 has played out: 3 orphans

OCTOSCALE_NOW=2026-11-27T10:00:00Z osc -c "$WORK/p.yaml" run "$SCRIPTS/apply_plan.lua" web-prod
expect_rc "first plan:apply() succeeds" 0
expect_in "plans three orphans within their grace" "$OUT" "planned	ok	0	3"
expect_in "and deletes nothing yet" "$OUT" "applied	ok	0"
lcheck "the orphans are recorded in the state file" "$WORK/state-p.json" \
  "(function() local n = 0 for _ in pairs(J.scale_sets['web-prod'].orphans) do n = n + 1 end return n == 3 end)()"

# The script inspected a plan with nothing to delete; by the time it applies
# (20 minutes on) the fresh read would delete 3: not approved, not done.
OCTOSCALE_NOW=2026-11-27T10:01:00Z osc -c "$WORK/p.yaml" run "$SCRIPTS/apply_plan.lua" web-prod 1795774800
expect_rc "apply of a plan that approved no deletion" 0
expect_in "deletes nothing it did not approve" "$OUT" "applied	ok	0"
fetch_log "$WORK/log0.json"
lcheck "no DELETE reached Octopus" "$WORK/log0.json" \
  "#where(function(r) return r.method == 'DELETE' end) == 0"

OCTOSCALE_NOW=2026-11-27T10:11:00Z osc -c "$WORK/p.yaml" run "$SCRIPTS/apply_plan.lua" web-prod
expect_rc "11 minutes later plan:apply() succeeds" 0
expect_in "plans three deletions" "$OUT" "planned	ok	3	0"
expect_in "and does them" "$OUT" "applied	ok	3"
fetch_log "$WORK/log.json"
lcheck "exactly three DELETEs reached Octopus" "$WORK/log.json" \
  "#where(function(r) return r.method == 'DELETE' end) == 3"

# While another apply holds the state lock, plan:apply() fails cleanly.
exec 9>"$WORK/state-p.json.lock"
flock -n 9
osc -c "$WORK/p.yaml" run "$SCRIPTS/apply_plan.lua" web-prod
expect_rc "a held lock makes the script report failure" 1
expect_in "naming the lock" "$OUT" "apply failed: state $WORK/state-p.json is locked"
exec 9>&-
finish
