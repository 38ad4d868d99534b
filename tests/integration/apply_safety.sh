#!/usr/bin/env bash
# apply's safety rules 1 and 2 (docs/design.md §6), asserted on the request log:
#  - a VM list page failing mid-list (page 2 of 3, 502 after retries) ->
#    exit 4, status safety_stop, zero DELETE or PUT, and the orphans'
#    first sighting is kept (unknown is not absent);
#  - capacity 5 with an empty VM list -> exit 4 and zero DELETE or PUT,
#    on the first run and after the grace;
#  - with several scale sets, the safety stop of one does not stop the
#    others: the healthy set's orphans are deleted, the stopped set's
#    targets are not, and the exit code is still 4.
# Usage: bash tests/integration/apply_safety.sh BUILD_DIR
source "$(dirname "$0")/apply_lib.sh" "$1"

a_start apply-safety.yaml || exit 1
W=$A_WORK
ENTRIES="  - name: web-prod
    resource_group: rg-web
    vmss: vmss-web
    environment: Production
    roles: [web-server]
  - name: empty-prod
    resource_group: rg-web
    vmss: vmss-empty
    environment: Production
    roles: [empty-server]" HTTP_YAML="http:
  max_attempts: 2" a_config "$W/c.yaml" 'return { grace = { orphan = "10m" } }'

a_sim_state "$W/s0.json"
WEB_ORPHANS=$(a_ids_where "$W/s0.json" "m.roles[1] == 'web-server' and not m.vm.exists")
EMPTY_TARGETS=$(a_ids_where "$W/s0.json" "m.roles[1] == 'empty-server'")
expect_eq "vmss-web has 2 orphaned targets" 2 "$(a_eval "$W/s0.json" "#split('$WEB_ORPHANS')")"
T0=$(a_now)
at() { date -u -d "$T0 + $1 minutes" +%Y-%m-%dT%H:%M:%SZ; }

# ---- web-prod, first sighting of its orphans ----------------------------------
NOW=$T0 a_osc -c "$W/c.yaml" -s web-prod apply
expect_rc "web-prod: first apply" 0
a_check "state: web-prod's 2 orphans recorded" "$W/state.json" \
  "join(keys(J.scale_sets['web-prod'].orphans)) == '$WEB_ORPHANS'"

# ---- a VM page failing mid-list ----------------------------------------------------
a_faults '[{"name":"vm-page-2","route":"arm.vm_list","page":2,"status":502}]' || exit 1
a_reset_log
NOW=$(at 11) a_osc -c "$W/c.yaml" -s web-prod --format json apply
expect_rc "VM list page 2 failing, past the grace -> safety stop" 4
a_log "$W/l1.json"
a_check "page 2 was asked for (and failed) while page 1 was served" "$W/l1.json" \
  "#where(function(r) return r.route == 'arm.vm_list' and r.page == 2 and r.status == 502 end) >= 1 and #where(function(r) return r.route == 'arm.vm_list' and r.page == 1 and r.status == 200 end) >= 1"
expect_eq "zero DELETE or PUT" "" "$(a_writes "$W/l1.json")"
a_check "JSON: web-prod is safety_stop with a message" "$OUT" \
  "J.scale_sets[1].status == 'safety_stop' and type(J.scale_sets[1].message) == 'string' and #J.scale_sets[1].message > 0"
a_check "JSON: no action is marked done" "$OUT" \
  "(function() for _, a in ipairs(J.scale_sets[1].actions or {}) do if a.done then return false end end return true end)()"
expect_in "stderr names the failed page" "$ERR" "page 2"
a_check "state: the orphans' first sighting is kept" "$W/state.json" \
  "join(keys(J.scale_sets['web-prod'].orphans)) == '$WEB_ORPHANS' and (function() for _, t in pairs(J.scale_sets['web-prod'].orphans) do if t ~= '$T0' then return false end end return true end)()"
a_sim_state "$W/s1.json"
a_check "Octopus still holds every target" "$W/s1.json" "#J.machines == 13"

# ---- capacity 5, empty VM list ------------------------------------------------------
a_faults '[]' || exit 1
a_reset_log
NOW=$T0 a_osc -c "$W/c.yaml" -s empty-prod --format json apply
expect_rc "capacity 5 with an empty VM list -> safety stop" 4
a_check "JSON: empty-prod is safety_stop" "$OUT" "J.scale_sets[1].status == 'safety_stop'"
a_check "state: no orphan recorded from implausible data" "$W/state.json" \
  "J.scale_sets['empty-prod'] == nil or count(J.scale_sets['empty-prod'].orphans) == 0"
a_reset_log
NOW=$(at 11) a_osc -c "$W/c.yaml" -s empty-prod apply
expect_rc "and again past the grace" 4
a_log "$W/l2.json"
expect_eq "zero DELETE or PUT" "" "$(a_writes "$W/l2.json")"
a_check "the VM list was read (and was empty)" "$W/l2.json" "n('arm.vm_list') >= 1"
expect_in "stderr says why" "$ERR" "capacity"

# ---- both entries: one safety stop does not stop the other ---------------------------
a_reset_log
NOW=$(at 12) a_osc -c "$W/c.yaml" --format json apply
expect_rc "both entries: exit 4 for empty-prod" 4
a_log "$W/l3.json"
expect_eq "web-prod's 2 orphans were deleted" "$WEB_ORPHANS" "$(a_deleted_ids "$W/l3.json")"
a_check "only those 2 DELETEs, no PUT" "$W/l3.json" "#writes() == 2"
a_check "JSON: web-prod ok, empty-prod safety_stop" "$OUT" \
  "find(J.scale_sets, 'name', 'web-prod').status == 'ok' and find(J.scale_sets, 'name', 'empty-prod').status == 'safety_stop'"
a_sim_state "$W/s3.json"
expect_eq "empty-prod's targets are untouched" "$EMPTY_TARGETS" "$(a_ids_where "$W/s3.json" "m.roles[1] == 'empty-server'")"

stop_sim
finish
