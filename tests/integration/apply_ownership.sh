#!/usr/bin/env bash
# Ownership (README "Safety"): a scope by role alone also holds hand-built
# targets (web-legacy-01, fabrikam-web-01) that were never the scale set's.
# They are foreign: reported in text, JSON and HTML, never deleted or
# disabled, not counted in the budget - while the scale set's own orphan
# (web000009, named by its computerNamePrefix) is deleted after the grace.
# Usage: bash tests/integration/apply_ownership.sh BUILD_DIR
source "$(dirname "$0")/apply_lib.sh" "$1"

a_start "$A_INT_DIR/scenarios/data-safety.yaml" || exit 1
W=$A_WORK
a_config "$W/c.yaml" 'return { grace = { orphan = "10m" }, max_delete = 1 }'
T0=$(a_now)
a_sim_state "$W/s0.json"
ORPHAN=$(a_ids_where "$W/s0.json" "m.name == 'web000009'")
FOREIGN=$(a_ids_where "$W/s0.json" "m.name == 'web-legacy-01' or m.name == 'fabrikam-web-01'")

NOW=$T0 a_osc -c "$W/c.yaml" plan
expect_rc "plan: nothing to change yet (the orphan is within its grace)" 0
expect_in "text: web-legacy-01 reported as not the scale set's" "$OUT" \
  "report  web-legacy-01"
expect_in "text: the reason names the prefix" "$OUT" "name outside computerNamePrefix 'web'"
expect_in "text: the summary counts them" "$OUT" "(2 foreign: not the scale set's, never touched)"

NOW=$T0 a_osc -c "$W/c.yaml" apply
expect_rc "first apply" 0
a_check "state: only web000009's orphan clock started" "$W/state.json" \
  "join(keys(J.scale_sets['web-prod'].orphans)) == '$ORPHAN'"

a_reset_log
NOW=$(a_now 3600) a_osc -c "$W/c.yaml" --format json apply --report "$W/report.html"
expect_rc "apply past the grace" 0
a_log "$W/l1.json"
expect_eq "only the scale set's orphan is deleted" "$ORPHAN" "$(a_deleted_ids "$W/l1.json")"
a_check "no PUT (nothing disabled)" "$W/l1.json" "n('octopus.machine_put') == 0"
a_check "JSON: counts.foreign is 2, targets in scope 8" "$OUT" \
  "J.scale_sets[1].counts.foreign == 2 and J.scale_sets[1].counts.targets_in_scope == 8"
a_check "JSON: the foreign targets are report actions of class foreign, not done" "$OUT" \
  "same(join((function() local n = {} for _, a in ipairs(J.scale_sets[1].actions) do if a.class == 'foreign' then if a.action ~= 'report' or a.done then return {} end n[#n + 1] = a.target_id end end return n end)()), '$FOREIGN')"
expect_in "HTML: the counts show a foreign column" "$W/report.html" ">foreign</th>"
expect_in "HTML: web-legacy-01 is listed" "$W/report.html" "web-legacy-01"
a_sim_state "$W/s1.json"
a_check "Octopus keeps both hand-built targets" "$W/s1.json" \
  "(function() local k = 0 for _, m in ipairs(J.machines) do if m.name == 'web-legacy-01' or m.name == 'fabrikam-web-01' then k = k + 1 end end return k == 2 end)()"

finish
