#!/usr/bin/env bash
# One writer per state file (docs/design.md §6, safety rule 4): while a slow apply
# (2.5 s of injected latency on the Octopus machines list) holds the lock,
# a second apply on the same state exits 1 at once (well under 1 s),
# naming the holder's pid and start time, without sending a single
# request; the first apply completes normally, and once it is done the
# lock is free again. An apply on a different state file is not blocked.
# Usage: bash tests/integration/apply_lock.sh BUILD_DIR
source "$(dirname "$0")/apply_lib.sh" "$1"

a_start apply-budget.yaml || exit 1
W=$A_WORK
a_config "$W/c.yaml"
STATE=$W/other/state.json a_config "$W/other.yaml"
a_faults '[{"name":"slow-list","route":"octopus.machines_list","latency_ms":2500}]' || exit 1
NOW=$(a_now)
export NOW

# ---- the first apply, slow, in the background -----------------------------------
OCTOSCALE_NOW=$NOW "$OCTOSCALE" -c "$W/c.yaml" apply >"$W/first.out" 2>"$W/first.err" </dev/null &
FIRST=$!
A_BG_PIDS+=("$FIRST")
# it holds the lock before it sends anything: wait for its first request
for ((i = 0; i < 300; i++)); do
  a_log "$W/l0.json"
  [[ $(a_eval "$W/l0.json" '#J') -gt 0 ]] && break
  sleep 0.01
done
a_check "the first apply is talking to the simulator" "$W/l0.json" "#J > 0"

# ---- the second apply on the same state ---------------------------------------------
a_osc -c "$W/c.yaml" apply
expect_rc "second apply while the first holds the lock" 1
if ((ELAPSED_MS < 1000)); then ok "it returned at once (${ELAPSED_MS} ms)"; else not_ok "it took ${ELAPSED_MS} ms"; fi
expect_in "stderr names the holder's pid" "$ERR" "pid $FIRST"
if grep -qE "\(started [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z" "$ERR"; then
  ok "stderr gives the holder's start time"
else
  not_ok "no start time in: $(cat "$ERR")"
fi
check "the first apply is still running" kill -0 "$FIRST"

# ---- a different state file is not blocked -----------------------------------------
a_faults '[]' || exit 1
a_osc -c "$W/other.yaml" apply
expect_rc "apply on another state file" 0

wait "$FIRST"
FIRST_RC=$?
expect_eq "the first apply completed normally" 0 "$FIRST_RC"
check "the first apply wrote the state" test -s "$W/state.json"
a_log "$W/l1.json"
a_check "the refused apply sent no request (one token each for the two that ran)" "$W/l1.json" \
  "n('entra.token') == 2"

# ---- the lock is released --------------------------------------------------------------
a_osc -c "$W/c.yaml" apply
expect_rc "apply after the first finished" 0

stop_sim
finish
