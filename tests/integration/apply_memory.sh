#!/usr/bin/env bash
# Policy memory across runs (policies/examples/disable_then_delete.lua):
# apply disables an orphan and records disabled_since in the state; later
# runs keep it (reason in the plan) until it has been disabled long enough,
# then delete it, and the state forgets it. The delete is not counted in
# the budget a second time (max_delete = 1 with a second orphan disabled
# in the same run). A target disabled by hand is never deleted.
# Usage: bash tests/integration/apply_memory.sh BUILD_DIR
source "$(dirname "$0")/apply_lib.sh" "$1"

a_start apply-budget.yaml || exit 1
W=$A_WORK
POLICY="$(sed 's/^  grace = { orphan = "10m" },$/  grace = { orphan = "10m" }, max_delete = 1,/' \
  "$(dirname "$0")/../../policies/examples/disable_then_delete.lua")"
a_config "$W/c.yaml" "$POLICY"
grep -q 'max_delete = 1' "$W/c.policy.lua" || { not_ok "policy with max_delete = 1"; finish; }

a_action '{"delete_vm":{"scale_set":"vmss-web","instances":[9],"immediate":true}}' || exit 1
a_sim_state "$W/s0.json"
FIRST=$(a_ids_where "$W/s0.json" "not m.vm.exists")
T0=$(a_now)
at() { date -u -d "$T0 + $1 minutes" +%Y-%m-%dT%H:%M:%SZ; }
NOW=$T0 a_osc -c "$W/c.yaml" apply
expect_rc "first apply: the orphan recorded" 0

a_reset_log
NOW=$(at 11) a_osc -c "$W/c.yaml" apply
expect_rc "past the grace: disabled" 0
a_log "$W/l1.json"
expect_eq "one PUT, no DELETE" "PUT octopus.machine_put $FIRST 200" "$(a_writes "$W/l1.json")"
a_check_file() { lua5.4 -e "local f = io.open('$W/state.json'); local s = f:read('a'); f:close(); os.exit(($1) and 0 or 1)"; }
a_eval "$W/state.json" "J.scale_sets['web-prod'].targets['$FIRST'].disabled_since .. ' ' .. J.scale_sets['web-prod'].targets['$FIRST'].disabled_by" >"$W/mem"
expect_eq "the state remembers octoscale disabled it" "$(at 11) octoscale" "$(cat "$W/mem")"

# A second VM goes, a target is disabled by hand; an hour later the first
# is kept with its reason, the second disabled (budget 1: the only cost).
a_action '{"delete_vm":{"scale_set":"vmss-web","instances":[8],"immediate":true}}' || exit 1
a_action '{"machine":{"id":"Machines-1","disabled":true}}' || exit 1
a_sim_state "$W/s1.json"
SECOND=$(a_ids_where "$W/s1.json" "not m.vm.exists and not m.disabled")
NOW=$(at 60) a_osc -c "$W/c.yaml" apply
NOW=$(at 71) a_osc -c "$W/c.yaml" plan
expect_rc "plan: the second orphan is due" 2
expect_in "the kept target's reason" "$OUT" "kept by policy: disabled by octoscale 1h ago, deleted after 1d"
a_reset_log
NOW=$(at 71) a_osc -c "$W/c.yaml" apply
expect_rc "an hour later" 0
a_log "$W/l2.json"
expect_eq "only the second orphan is disabled" "PUT octopus.machine_put $SECOND 200" "$(a_writes "$W/l2.json")"

# A day after the first disable: it is deleted (the second, disabled an
# hour later, is not due yet), and the delete does not spend the budget.
a_reset_log
NOW=$(at $((11 + 24 * 60))) a_osc -c "$W/c.yaml" --format json apply
expect_rc "a day later" 0
a_log "$W/l3.json"
expect_eq "the first is deleted" "DELETE octopus.machine_delete $FIRST 200" "$(a_writes "$W/l3.json")"
a_check "its delete cost no budget" "$OUT" "J.scale_sets[1].counts.destructive == 0"
check "the state forgot it" a_check_file "not s:find('\"$FIRST\"', 1, true) and s:find('\"$SECOND\"', 1, true)"

a_reset_log
NOW=$(at $((72 + 24 * 60))) a_osc -c "$W/c.yaml" apply
expect_rc "and the second a day after its disable" 0
a_log "$W/l4.json"
expect_eq "the second is deleted, the hand-disabled target never" \
  "DELETE octopus.machine_delete $SECOND 200" "$(a_writes "$W/l4.json")"

stop_sim
finish
