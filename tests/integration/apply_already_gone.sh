#!/usr/bin/env bash
# A DELETE answered 404 (someone, or an interrupted earlier run, deleted the
# target already) counts as done and says so: "[done: already gone]" in the
# text report, "done": true plus "detail": "already gone" in JSON, and
# "done (already gone)" in the HTML report. Exit 0, and the state forgets
# the orphan like any deleted one.
# Usage: bash tests/integration/apply_already_gone.sh BUILD_DIR
source "$(dirname "$0")/apply_lib.sh" "$1"

a_start apply-budget.yaml || exit 1
W=$A_WORK
a_config "$W/c.yaml" 'return { grace = { orphan = "10m" } }'
a_action '{"delete_vm":{"scale_set":"vmss-web","instances":[9],"immediate":true}}' || exit 1
a_sim_state "$W/s0.json"
ORPHAN=$(a_ids_where "$W/s0.json" "not m.vm.exists")
expect_eq "one orphaned target" 1 "$(a_eval "$W/s0.json" "#split('$ORPHAN')")"
T0=$(a_now)
at() { date -u -d "$T0 + $1 minutes" +%Y-%m-%dT%H:%M:%SZ; }

NOW=$T0 a_osc -c "$W/c.yaml" apply
expect_rc "first apply records the orphan" 0
a_faults '[{"name":"gone","route":"octopus.machine_delete","status":404}]' || exit 1

# ---- text and HTML ------------------------------------------------------------------
NOW=$(at 11) a_osc -c "$W/c.yaml" apply --report "$W/report.html"
expect_rc "apply whose DELETE is answered 404" 0
expect_in "text: done, already gone" "$OUT" "($ORPHAN): VM gone 11m, grace 10m [done: already gone]"
expect_in "HTML: done (already gone)" "$W/report.html" '<span class="res-done">done</span> (already gone)'
a_check "state: the orphan is forgotten" "$W/state.json" \
  "count(J.scale_sets['web-prod'].orphans) == 0 and J.runs[#J.runs].deleted == 1"

# ---- JSON (the target is still there: it is an orphan again) ---------------------------
NOW=$(at 12) a_osc -c "$W/c.yaml" apply
expect_rc "the orphan is recorded again" 0
NOW=$(at 23) a_osc -c "$W/c.yaml" --format json apply
expect_rc "apply --format json, DELETE answered 404" 0
a_check "JSON: done with the detail, the contract keys kept" "$OUT" \
  "(function() for _, a in ipairs(J.scale_sets[1].actions) do if a.action == 'delete' then return a.done == true and a.detail == 'already gone' and a.target_id == '$ORPHAN' and a.reason ~= nil and a.class ~= nil end end return false end)()"
a_log "$W/l.json"
a_check "the DELETEs were sent (and answered 404)" "$W/l.json" \
  "#where(function(r) return r.route == 'octopus.machine_delete' and r.status == 404 end) == 2"

stop_sim
finish
