#!/usr/bin/env bash
# The lock is a lease on the state blob (lease 15s here):
#  - while one apply holds it, a second exits 1 at once naming the holder
#    (pid, host, start time, Octopus task id) and sends nothing to Azure or
#    Octopus;
#  - a holder killed with SIGKILL blocks others only until its lease
#    expires: a new apply succeeds within lease + 5 s;
#  - a lease broken mid-run (from the test, as `az storage blob lease
#    break` would) makes the run exit 1 saying so, before any deletion, and
#    the blob keeps its bytes; lost while deleting, the save fails (exit 1,
#    "was lost ... not saved") and the blob keeps its bytes.
# Usage: bash tests/blob/blob_lock.sh BUILD_DIR
source "$(dirname "$0")/blob_lib.sh" "$1"

b_start apply-scale-in.yaml || exit 1
W=$A_WORK
ENTRIES="  - name: web-prod
    resource_group: rg-web
    vmss: vmss-web
    environment: Production
    roles: [web-server, vmss-web]
    tenant: Contoso"
export ENTRIES
b_config "$W/c.yaml" 'return { grace = { orphan = "0s" } }'
a_osc -c "$W/c.yaml" apply
expect_rc "a first apply creates the blob" 0

# ---- two applies at once ----------------------------------------------------------
a_faults '[{"name":"slow-list","route":"octopus.machines_list","latency_ms":8000}]' || exit 1
OCTOPUS_TASK_ID=ServerTasks-4242 "$OCTOSCALE" -c "$W/c.yaml" apply >"$W/first.out" 2>"$W/first.err" </dev/null &
FIRST=$!
A_BG_PIDS+=("$FIRST")
check "the first apply holds the lease" b_wait_leased
a_reset_log
a_osc -c "$W/c.yaml" apply
expect_rc "second apply while the first holds the lease" 1
if ((ELAPSED_MS < 2000)); then ok "it returned at once (${ELAPSED_MS} ms)"; else not_ok "it took ${ELAPSED_MS} ms"; fi
expect_in "it names the holder's pid" "$ERR" "locked by pid $FIRST"
expect_in "and its host" "$ERR" "on host $(hostname)"
expect_in "and its Octopus task" "$ERR" "Octopus task ServerTasks-4242"
a_log "$W/l0.json"
a_check "the refused apply sent nothing to Azure or Octopus" "$W/l0.json" \
  "#where(function(r) return r.route ~= 'octopus.machines_list' end) == 0"
wait "$FIRST"
expect_eq "the first apply completed normally" 0 "$?"
expect_eq "and released the lease" available "$(b_lease_state)"

# ---- kill -9 of a holder ---------------------------------------------------------------
a_faults '[{"name":"slow-list","route":"octopus.machines_list","latency_ms":30000}]' || exit 1
"$OCTOSCALE" -c "$W/c.yaml" apply >"$W/killed.out" 2>"$W/killed.err" </dev/null &
VICTIM=$!
A_BG_PIDS+=("$VICTIM")
check "the victim holds the lease" b_wait_leased
{ kill -KILL "$VICTIM"; wait "$VICTIM"; } 2>/dev/null
KILLED_AT=$(date +%s%3N)
a_faults '[]' || exit 1
a_osc -c "$W/c.yaml" apply
expect_rc "right after the kill, the lease still blocks" 1
expect_in "naming the dead holder" "$ERR" "locked by pid $VICTIM"
for ((i = 0; i < 100; i++)); do
  a_osc -c "$W/c.yaml" apply
  [[ $RC == 0 ]] && break
  sleep 0.25
done
WAITED=$(($(date +%s%3N) - KILLED_AT))
expect_rc "an apply succeeds once the lease has expired" 0
if ((WAITED <= 20000)); then ok "within lease + 5 s (${WAITED} ms)"; else not_ok "took ${WAITED} ms"; fi

# ---- the lease broken mid-run -------------------------------------------------------------
# Scale in so that the run has deletions to make (grace 0s).
a_action '{"scale":{"scale_set":"vmss-web","capacity":5}}' || exit 1
sim_advance 60
b_blob "$W/before.json" >/dev/null
a_faults '[{"name":"slow-list","route":"octopus.machines_list","latency_ms":8000}]' || exit 1
a_reset_log
"$OCTOSCALE" -c "$W/c.yaml" apply >"$W/broken.out" 2>"$W/broken.err" </dev/null &
BROKEN=$!
A_BG_PIDS+=("$BROKEN")
check "the run holds the lease" b_wait_leased
expect_eq "the test breaks the lease" 202 "$(b_break)"
wait "$BROKEN"
expect_eq "the run exits 1" 1 "$?"
expect_in "it says the lease was lost" "$W/broken.err" "the lease on state blob $AZ_URL was lost"
a_log "$W/l3.json"
expect_eq "nothing was deleted or changed" "" "$(a_writes "$W/l3.json")"
b_blob "$W/after.json" >/dev/null
check "the blob is unchanged, byte for byte" cmp "$W/before.json" "$W/after.json"
a_faults '[]' || exit 1
a_osc -c "$W/c.yaml" apply
expect_rc "the next run deletes the orphans" 0
a_log "$W/l4.json"
a_check "3 DELETEs now" "$W/l4.json" "n('octopus.machine_delete') == 3"

# ---- the lease lost while deleting: the save fails, never silently ------------------------
a_action '{"scale":{"scale_set":"vmss-web","capacity":3}}' || exit 1
sim_advance 60
b_blob "$W/before2.json" >/dev/null
a_faults '[{"name":"slow-delete","route":"octopus.machine_delete","latency_ms":8000}]' || exit 1
a_reset_log
"$OCTOSCALE" -c "$W/c.yaml" apply >"$W/lost.out" 2>"$W/lost.err" </dev/null &
LOST=$!
A_BG_PIDS+=("$LOST")
check "the run holds the lease" b_wait_leased
for ((i = 0; i < 200; i++)); do # its deletions are on their way
  a_log "$W/l5.json"
  [[ $(a_eval "$W/l5.json" "n('octopus.machines_list')") -ge 1 ]] && break
  sleep 0.05
done
sleep 1
expect_eq "the test breaks the lease during the deletions" 202 "$(b_break)"
wait "$LOST"
expect_eq "the run exits 1" 1 "$?"
expect_in "it says the lease was lost and nothing was saved" "$W/lost.err" "was lost"
expect_in "naming the blob" "$W/lost.err" "state was not saved"
b_blob "$W/after2.json" >/dev/null
check "the blob is unchanged: no silent lost update" cmp "$W/before2.json" "$W/after2.json"
a_faults '[]' || exit 1

stop_sim
finish
