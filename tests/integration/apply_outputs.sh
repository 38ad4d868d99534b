#!/usr/bin/env bash
# apply --octopus-output (docs/design.md §6 and §8, docs/api-notes.md §5): every service
# message line is well formed (base64 attributes only), the summary sits
# between stdout-highlight and stdout-default, and the setVariable lines
# decode to exactly the expected names and values, combined and per entry.
# --only-new: the first --only-new run sets the baseline; a scale-out by 2
# is followed by a scheduled reconcile (plain apply, which must not move
# the baseline) and then the triggered --only-new run, whose outputs are
# exactly the 2 new targets; a second --only-new run (the trigger firing
# again) outputs VMSSHasServersToDeployTo = False and empty lists. A
# triggered run that meets a safety stop outputs False, exits 4 and does
# not move the baseline: its retry still gets the 2 new targets.
# Usage: bash tests/integration/apply_outputs.sh BUILD_DIR
source "$(dirname "$0")/apply_lib.sh" "$1"

a_start apply-outputs.yaml || exit 1
W=$A_WORK
HTTP_YAML="http:
  max_attempts: 1" a_config "$W/c.yaml" 'return { grace = { orphan = "10m" } }'

# check_messages FILE: the grammar of every ##octopus line, and the
# highlight block around the summary
check_messages() {
  local bad
  bad=$(grep -F '##octopus' "$1" | grep -vE "^##octopus\[(setVariable name='[A-Za-z0-9+/]*={0,2}' value='[A-Za-z0-9+/]*={0,2}'|stdout-highlight|stdout-default|progress percentage='[A-Za-z0-9+/]*={0,2}' message='[A-Za-z0-9+/]*={0,2}'|createArtifact path='[A-Za-z0-9+/]*={0,2}' name='[A-Za-z0-9+/]*={0,2}' length='[A-Za-z0-9+/]*={0,2}')\]$")
  expect_eq "every ##octopus line is well formed" "" "$bad"
  if awk '/^##octopus\[stdout-highlight\]$/ { h = NR } /^##octopus\[stdout-default\]$/ { if (h && NR == h + 2) ok = 1 } END { exit !ok }' "$1" &&
    grep -A1 -F '##octopus[stdout-highlight]' "$1" | grep -q 'VMSSHasServersToDeployTo='; then
    ok "the summary is highlighted"
  else
    not_ok "no highlighted summary in: $(grep -F -A2 'stdout-highlight' "$1")"
  fi
}
# expect_outputs DESC FILE HAS IDS NAMES: the exact decoded set
expect_outputs() {
  local want got
  want=$(printf '%s\n' "VMSSDeploymentTargetIds=$4" "VMSSDeploymentTargetIds.web-prod=$4" \
    "VMSSDeploymentTargetNames=$5" "VMSSDeploymentTargetNames.web-prod=$5" \
    "VMSSHasServersToDeployTo=$3" "VMSSHasServersToDeployTo.web-prod=$3" | sort)
  got=$(a_decode_outputs_sorted "$2" | sort)
  if [[ $got == "$want" ]]; then ok "$1"; else not_ok "$1: expected
$want
got
$got"; fi
}

a_sim_state "$W/s0.json"
OLD_IDS=$(a_ids_where "$W/s0.json" "m.vm.exists")
OLD_NAMES=$(a_names_where "$W/s0.json" "m.vm.exists")
T0=$(a_now)

# ---- the first --only-new run: everything is new --------------------------------
NOW=$T0 a_osc -c "$W/c.yaml" apply --only-new --octopus-output
expect_rc "first apply --only-new" 0
check_messages "$OUT"
expect_outputs "first run: the 3 in-sync targets (not the orphan)" "$OUT" True "$OLD_IDS" "$OLD_NAMES"
expect_eq "exactly 6 setVariable lines" 6 "$(grep -c '^##octopus\[setVariable ' "$OUT")"
# the worked example of docs/api-notes.md §5, decoded with the same tool
expect_eq "base64 -d reads the encoding" "Mario Bros" "$(printf '%s' TWFyaW8gQnJvcw== | base64 -d)"

# ---- scale out by 2 --------------------------------------------------------------------
a_action '{"scale":{"scale_set":"vmss-web","capacity":5}}' || exit 1
sim_advance 40 # created at +30 s, registered at +32 s
a_sim_state "$W/s1.json"
NEW_IDS=$(a_ids_where "$W/s1.json" "m.vm.exists and not has('$OLD_IDS', m.id)")
NEW_NAMES=$(a_names_where "$W/s1.json" "m.vm.exists and not has('$OLD_IDS', m.id)")
expect_eq "2 new targets registered" 2 "$(a_eval "$W/s1.json" "#split('$NEW_IDS')")"

# a scheduled reconcile runs between the scale-out and the trigger
NOW=$(date -u -d "$T0 + 1 minute" +%Y-%m-%dT%H:%M:%SZ) a_osc -c "$W/c.yaml" --format json apply
expect_rc "scheduled reconcile (no --only-new)" 0
a_check "it outputs all 5 in-sync targets" "$OUT" \
  "#split(J.outputs.VMSSDeploymentTargetIds) == 5"

# ---- the triggered run meets an Octopus outage: False, exit 4, baseline kept ---------------
a_faults '[{"name":"octopus-down","route":"octopus.machines_list","status":503}]' || exit 1
NOW=$(date -u -d "$T0 + 90 seconds" +%Y-%m-%dT%H:%M:%SZ) a_osc -c "$W/c.yaml" apply --only-new --octopus-output
expect_rc "triggered apply --only-new during an Octopus outage" 4
expect_outputs "a safety stop outputs False and empty lists" "$OUT" False "" ""
a_faults '[]' || exit 1

# ---- the triggered run (retried) ------------------------------------------------------------
a_reset_log
NOW=$(date -u -d "$T0 + 2 minutes" +%Y-%m-%dT%H:%M:%SZ) a_osc -c "$W/c.yaml" apply --only-new --octopus-output
expect_rc "triggered apply --only-new" 0
check_messages "$OUT"
expect_outputs "only the 2 new targets" "$OUT" True "$NEW_IDS" "$NEW_NAMES"
a_log "$W/l1.json"
expect_eq "no DELETE or PUT (the orphan is within its grace)" "" "$(a_writes "$W/l1.json")"

# ---- the trigger fires again ------------------------------------------------------------------
NOW=$(date -u -d "$T0 + 3 minutes" +%Y-%m-%dT%H:%M:%SZ) a_osc -c "$W/c.yaml" apply --only-new --octopus-output
expect_rc "second triggered apply --only-new" 0
check_messages "$OUT"
expect_eq "decoded VMSSHasServersToDeployTo" "False" "$(a_output "$OUT" VMSSHasServersToDeployTo)"
expect_outputs "nothing new: False and empty lists" "$OUT" False "" ""
expect_in "the raw line carries base64 of False" "$OUT" "##octopus[setVariable name='$(printf VMSSHasServersToDeployTo | base64 -w0)' value='$(printf False | base64 -w0)']"

stop_sim
finish
