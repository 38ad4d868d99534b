#!/usr/bin/env bash
# A live what-if from a script: reconcile.plan{scale_set = NAME, policy = P}
# plans the live data with P instead of the configured policy (a table, or
# a path beside the script), writes nothing (no request that changes
# anything, no state change, no lock), and plan:apply() refuses the result.
source "$(dirname "$0")/lib.sh"
SCRIPTS="$REPO/tests/integration/scripts"

start_int_sim scale-in.yaml || exit 1
write_config "$WORK/w.yaml"
sim_advance 100 >/dev/null # the scale-in to 5 has played out: 3 orphans
OCTOSCALE_NOW=2026-11-27T10:00:00Z osc -c "$WORK/w.yaml" apply
expect_rc "an apply records the orphans (the default grace: they wait)" 0
before=$(cd "$WORK" && ls -la --time-style=+%s.%N state-w.json* 2>&1; sha256sum "$WORK/state-w.json")
reset_log

OCTOSCALE_NOW=2026-11-27T10:01:00Z osc -c "$WORK/w.yaml" run "$SCRIPTS/what_if.lua" web-prod
expect_rc "what_if.lua" 0
expect_in "the configured policy waits for the grace" "$OUT" "configured	0	3"
expect_in "the what-if policy deletes the three orphans" "$OUT" "what-if	3	0"
expect_in "with its reason, seeing the entry as ctx.scale_set" "$OUT" "reason	what-if for web-prod"
expect_in "a what-if plan has VMs and targets" "$OUT" "vms	5	targets	8"
expect_in "a policy path resolves beside the script" "$OUT" "path	0	8"
expect_in "plan:apply() refuses a what-if at the script's line" "$OUT" "what_if.lua:34: plan:apply: this plan is a what-if"
fetch_log "$WORK/log.json"
lcheck "nothing but reads reached Azure and Octopus" "$WORK/log.json" \
  "#where(function(r) return r.method ~= 'GET' and r.route ~= 'entra.token' end) == 0"
after=$(cd "$WORK" && ls -la --time-style=+%s.%N state-w.json* 2>&1; sha256sum "$WORK/state-w.json")
expect_eq "the state file and its lock untouched" "$before" "$after"
finish
