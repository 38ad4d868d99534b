#!/usr/bin/env bash
# apply, scale-in of 3 with orphan grace 10m (docs/design.md §6): the first apply
# deletes nothing and records orphaned_since for exactly the 3 orphans; an
# apply 5 minutes later still deletes nothing and keeps the first sighting;
# 11 minutes after the first sighting apply deletes exactly those 3 (3
# DELETEs, right ids, no PUT). Targets in another environment, missing one
# role, of another tenant or untenanted (none of which has a VM) are never
# touched. A rerun after that writes nothing.
# Usage: bash tests/integration/apply_scale_in.sh BUILD_DIR
source "$(dirname "$0")/apply_lib.sh" "$1"

a_start apply-scale-in.yaml || exit 1
ENTRIES="  - name: web-prod
    resource_group: rg-web
    vmss: vmss-web
    environment: Production
    roles: [web-server, vmss-web]
    tenant: Contoso" a_config "$A_WORK/c.yaml" 'return { grace = { orphan = "10m" } }'
W=$A_WORK

a_sim_state "$W/s0.json"
OUTSIDE=$(a_ids_where "$W/s0.json" 'm.vm == cjson.null')
expect_eq "the scenario has 4 out-of-scope targets" 4 "$(a_eval "$W/s0.json" "#split('$OUTSIDE')")"

# Scale in 8 -> 5: Azure marks three VMs Deleting (gone 30 s later).
a_action '{"scale":{"scale_set":"vmss-web","capacity":5}}' || exit 1
sim_advance 10
a_sim_state "$W/s1.json"
DOOMED=$(a_ids_where "$W/s1.json" 'm.vm ~= cjson.null and (function() for _, s in ipairs(J.scale_sets) do for _, v in ipairs(s.vms) do if v.name == m.vm.name then return v.state == "Deleting" end end end return false end)()')
expect_eq "three VMs are Deleting" 3 "$(a_eval "$W/s1.json" "#split('$DOOMED')")"

# ---- 1st apply: orphans recorded, nothing deleted ------------------------------
T0=$(a_now)
NOW=$T0 a_osc -c "$W/c.yaml" apply
expect_rc "first apply" 0
a_log "$W/l1.json"
expect_eq "first apply: no DELETE or PUT" "" "$(a_writes "$W/l1.json")"
check "state file written" test -s "$W/state.json"
a_check "state: orphaned_since recorded for exactly the 3 orphans" "$W/state.json" \
  "join(keys(J.scale_sets['web-prod'].orphans)) == '$DOOMED'"
a_check "state: orphaned_since is the first apply's time" "$W/state.json" \
  "(function() for _, t in pairs(J.scale_sets['web-prod'].orphans) do if t ~= '$T0' then return false end end return true end)()"
expect_in "text report says the grace is running" "$OUT" "grace 10m"

# ---- 5 minutes later: still within the grace --------------------------------------
sim_advance 60 # the Deleting VMs are gone now
a_reset_log
NOW=$(a_now 240) a_osc -c "$W/c.yaml" apply
expect_rc "apply 5 min later" 0
a_log "$W/l2.json"
expect_eq "5 min later: no DELETE or PUT" "" "$(a_writes "$W/l2.json")"
a_check "state: orphaned_since still the first sighting" "$W/state.json" \
  "join(keys(J.scale_sets['web-prod'].orphans)) == '$DOOMED' and (function() for _, t in pairs(J.scale_sets['web-prod'].orphans) do if t ~= '$T0' then return false end end return true end)()"

# ---- 11 minutes after the first sighting: exactly those 3 deleted ------------------
a_reset_log
NOW=$(date -u -d "$T0 + 11 minutes" +%Y-%m-%dT%H:%M:%SZ) a_osc -c "$W/c.yaml" --format json apply
expect_rc "apply 11 min later" 0
a_log "$W/l3.json"
a_check "exactly 3 DELETEs, no PUT" "$W/l3.json" \
  "n('octopus.machine_delete', 'DELETE') == 3 and #writes() == 3"
expect_eq "the DELETEs are the 3 orphans" "$DOOMED" "$(a_deleted_ids "$W/l3.json")"
a_check "DELETEs went to the space's machine URL" "$W/l3.json" \
  "#where(function(r) return r.method == 'DELETE' and r.path:match('^/api/Spaces%-1/machines/Machines%-%d+$') ~= nil end) == 3"
a_check "JSON: 3 delete actions done, with the grace in the reason" "$OUT" \
  "(function() local k = 0 for _, a in ipairs(J.scale_sets[1].actions) do if a.action == 'delete' then if not a.done or not a.reason:find('grace 10m', 1, true) then return false end k = k + 1 end end return k == 3 end)()"
a_sim_state "$W/s3.json"
expect_eq "the out-of-scope targets are all still there" "$OUTSIDE" \
  "$(a_ids_where "$W/s3.json" 'm.vm == cjson.null')"
a_check "Octopus now holds the 5 in-scope targets and the 4 others" "$W/s3.json" \
  "#J.machines == 9"
a_check "state: no orphans left" "$W/state.json" "count(J.scale_sets['web-prod'].orphans) == 0"
a_check "state: run history records 3 deleted" "$W/state.json" \
  "J.runs[#J.runs].deleted == 3 and J.runs[#J.runs].status == 'ok'"

# ---- nothing left to do ---------------------------------------------------------------
a_reset_log
NOW=$(date -u -d "$T0 + 30 minutes" +%Y-%m-%dT%H:%M:%SZ) a_osc -c "$W/c.yaml" apply
expect_rc "rerun" 0
a_log "$W/l4.json"
expect_eq "rerun: no DELETE or PUT" "" "$(a_writes "$W/l4.json")"

stop_sim
finish
