#!/usr/bin/env bash
# The state file under stress (docs/design.md section 11):
#  - reached through symbolic links, it is updated where it lives (the links
#    stay links) and two workers linking one shared file exclude each other
#    (the lock is beside the real file);
#  - in a read-only directory, apply deletes nothing (exit 1 naming the
#    file): the state proves writable before the first DELETE;
#  - when the final save fails after the DELETEs, the outputs, the summary
#    and the report still appear, then exit 1 naming the file.
# A read-only directory does not stop root: as root, octoscale runs in a user
# namespace (unshare) where it is an unprivileged owner of its files.
# Usage: bash tests/integration/apply_state_file.sh BUILD_DIR
source "$(dirname "$0")/apply_lib.sh" "$1"

a_start apply-budget.yaml || exit 1
W=$A_WORK
REAL_OSC=$OCTOSCALE
if [[ $(id -u) == 0 ]]; then
  if ! unshare -U --map-user=1000 --map-group=1000 true 2>/dev/null; then
    echo "apply_state_file: running as root and unshare -U is refused: cannot make a directory read-only" >&2
    exit 1
  fi
  printf '#!/bin/sh\nexec unshare -U --map-user=1000 --map-group=1000 "%s" "$@"\n' "$REAL_OSC" >"$W/osc"
  chmod +x "$W/osc"
  OCTOSCALE=$W/osc
fi

mkdir -p "$W/shared" "$W/w1" "$W/w2"
ln -s ../shared/state.json "$W/w1/state.json"
ln -s "$W/shared/state.json" "$W/w2/state.json"
POLICY='return { grace = { orphan = "10m" }, max_delete = "50%" }'
STATE=$W/w1/state.json a_config "$W/w1.yaml" "$POLICY"
STATE=$W/w2/state.json a_config "$W/w2.yaml" "$POLICY"

a_action '{"delete_vm":{"scale_set":"vmss-web","instances":[7,8,9],"immediate":true}}' || exit 1
a_sim_state "$W/s0.json"
ORPHANS=$(a_ids_where "$W/s0.json" "not m.vm.exists")
T0=$(a_now)
at() { date -u -d "$T0 + $1 minutes" +%Y-%m-%dT%H:%M:%SZ; }

# ---- through a link: the real file is written, the link stays ---------------------
NOW=$T0 a_osc -c "$W/w1.yaml" apply
expect_rc "first apply through a relative link" 0
check "w1/state.json is still a link" test -L "$W/w1/state.json"
check "w2/state.json is still a link" test -L "$W/w2/state.json"
check "the real file is a regular file" test -f "$W/shared/state.json" -a ! -L "$W/shared/state.json"
a_check "the real file records the 3 orphans" "$W/shared/state.json" \
  "join(keys(J.scale_sets['web-prod'].orphans)) == '$ORPHANS'"
check "the lock is beside the real file" test -f "$W/shared/state.json.lock"
check "no lock beside the link" test ! -e "$W/w1/state.json.lock"
check "no temporary file left" test ! -e "$W/shared/state.json.tmp"

# ---- two links, one lock -------------------------------------------------------------
a_faults '[{"name":"slow-list","route":"octopus.machines_list","latency_ms":2500}]' || exit 1
a_reset_log
OCTOSCALE_NOW=$(at 1) "$OCTOSCALE" -c "$W/w1.yaml" apply >"$W/first.out" 2>"$W/first.err" </dev/null &
FIRST=$!
A_BG_PIDS+=("$FIRST")
for ((i = 0; i < 300; i++)); do
  a_log "$W/l0.json"
  [[ $(a_eval "$W/l0.json" '#J') -gt 0 ]] && break
  sleep 0.01
done
NOW=$(at 1) a_osc -c "$W/w2.yaml" apply
expect_rc "apply through the other link while the first runs" 1
expect_in "it is refused by the lock" "$ERR" "another apply is running"
wait "$FIRST"
expect_eq "the first apply completed" 0 "$?"
a_faults '[]' || exit 1

# ---- read-only state directory: nothing is deleted ------------------------------------
chmod 555 "$W/shared"
BEFORE=$(cat "$W/shared/state.json")
a_reset_log
NOW=$(at 11) a_osc -c "$W/w1.yaml" apply --report "$W/ro-report.html"
chmod 755 "$W/shared"
expect_rc "apply with a read-only state directory" 1
a_log "$W/l1.json"
expect_eq "nothing deleted or disabled" "" "$(a_writes "$W/l1.json")"
expect_in "the error names the state file" "$ERR" "cannot write state file $W/w1/state.json"
expect_in "and the file it tried to create" "$ERR" "shared/state.json.tmp: Permission denied"
expect_in "and says nothing was changed" "$ERR" "nothing was changed"
expect_eq "the state is unchanged" "$BEFORE" "$(cat "$W/shared/state.json")"

# ---- the final save fails after the DELETEs: outputs and report anyway ----------------
a_faults '[{"name":"slow-delete","route":"octopus.machine_delete","latency_ms":2000}]' || exit 1
a_reset_log
OCTOSCALE_NOW=$(at 12) "$OCTOSCALE" -c "$W/w2.yaml" apply --octopus-output \
  --report "$W/report.html" >"$W/late.out" 2>"$W/late.err" </dev/null &
LATE=$!
A_BG_PIDS+=("$LATE")
for ((i = 0; i < 500; i++)); do
  a_log "$W/l2.json"
  [[ $(a_eval "$W/l2.json" "n('octopus.machine_delete', 'DELETE')") -gt 0 ]] && break
  sleep 0.01
done
chmod 555 "$W/shared" # the DELETEs are out; the save comes after them
wait "$LATE"
RC=$?
chmod 755 "$W/shared"
ERR=$W/late.err
expect_rc "apply whose final save fails" 1
a_log "$W/l3.json"
expect_eq "the 3 orphans were deleted" "$ORPHANS" "$(a_deleted_ids "$W/l3.json")"
expect_in "stderr names the state file" "$ERR" "saving state file $W/w2/state.json"
expect_in "the summary is printed" "$W/late.out" "octoscale apply: 3 deleted"
a_decode_outputs "$W/late.out" >"$W/late.vars"
expect_in "the outputs are given" "$W/late.vars" "VMSSHasServersToDeployTo=True"
check "the report is written" test -s "$W/report.html"
check "the link is intact" test -L "$W/w2/state.json"

stop_sim
finish
