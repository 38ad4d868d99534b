#!/usr/bin/env bash
# apply with a policy that disables instead of deleting (docs/design.md §6 and §7):
# after the orphan grace, each orphan gets exactly one GET + PUT with
# IsDisabled = true and the machine's empty arrays kept as arrays
# ("TenantIds": [], not {}), and no DELETE; a rerun sends nothing (already
# disabled). A target disabled by hand while its VM runs is enabled again
# when the policy's on_in_sync says so and enable_any_disabled lets it
# enable a target octoscale did not disable (one PUT, IsDisabled = false), and
# disabled targets are never in the outputs.
# Usage: bash tests/integration/apply_disable.sh BUILD_DIR
source "$(dirname "$0")/apply_lib.sh" "$1"

a_start apply-budget.yaml || exit 1
W=$A_WORK
a_config "$W/c.yaml" 'return {
  grace = { orphan = "10m" },
  on_scale_in = function(target, ctx) return "disable" end,
  on_in_sync = function(vm, target, ctx) if target.disabled and ctx.settings.enable then return "enable" end return "keep" end,
  enable_any_disabled = true, -- the target below was disabled by hand
}'
ENTRIES="  - name: web-prod
    resource_group: rg-web
    vmss: vmss-web
    environment: Production
    roles: [web-server]
    settings: { enable: true }" a_config "$W/enable.yaml" "$(cat "$W/c.policy.lua")"
sed -i "s|^state: .*|state: $W/state.json|" "$W/enable.yaml"

a_action '{"delete_vm":{"scale_set":"vmss-web","instances":[8,9],"immediate":true}}' || exit 1
a_sim_state "$W/s0.json"
ORPHANS=$(a_ids_where "$W/s0.json" "not m.vm.exists")
T0=$(a_now)
at() { date -u -d "$T0 + $1 minutes" +%Y-%m-%dT%H:%M:%SZ; }
NOW=$T0 a_osc -c "$W/c.yaml" apply
expect_rc "first apply: orphans recorded" 0

a_reset_log
NOW=$(at 11) a_osc -c "$W/c.yaml" --format json apply
expect_rc "apply past the grace" 0
a_log "$W/l1.json"
expect_eq "one PUT per orphan, no DELETE" \
  "$(for id in ${ORPHANS//,/ }; do echo "PUT octopus.machine_put $id 200"; done | LC_ALL=C sort)" "$(a_writes "$W/l1.json")"
a_check "each PUT sets IsDisabled = true and keeps the empty arrays as arrays" "$W/l1.json" \
  "(function() local k = 0 for _, r in ipairs(where(function(r) return r.method == 'PUT' end)) do
      if not r.body:find('\"IsDisabled\":true', 1, true) or not r.body:find('\"TenantIds\":[]', 1, true) or not r.body:find('\"TenantTags\":[]', 1, true) then return false end
      k = k + 1 end return k == 2 end)()"
a_check "each PUT followed a GET of the same machine" "$W/l1.json" \
  "(function() for _, r in ipairs(where(function(r) return r.method == 'PUT' end)) do local got = false for _, g in ipairs(J) do if g.seq < r.seq and g.method == 'GET' and g.path == r.path then got = true end end if not got then return false end end return true end)()"
a_sim_state "$W/s1.json"
expect_eq "Octopus: the orphans are disabled, still there" "$ORPHANS" "$(a_ids_where "$W/s1.json" 'm.disabled')"
a_check "JSON: outputs leave the disabled targets out" "$OUT" \
  "#split(J.outputs.VMSSDeploymentTargetIds) == 8 and not has(J.outputs.VMSSDeploymentTargetIds, '${ORPHANS%%,*}')"

a_reset_log
NOW=$(at 12) a_osc -c "$W/c.yaml" apply
expect_rc "rerun" 0
a_log "$W/l2.json"
expect_eq "rerun: nothing sent" "" "$(a_writes "$W/l2.json")"

# ---- a target disabled by hand while its VM runs ------------------------------------
a_action '{"machine":{"id":"Machines-1","disabled":true}}' || exit 1
a_reset_log
NOW=$(at 13) a_osc -c "$W/c.yaml" --format json apply
expect_rc "on_in_sync says keep" 0
a_log "$W/l3.json"
expect_eq "keep: nothing sent" "" "$(a_writes "$W/l3.json")"
a_check "a disabled in-sync target is not in the outputs" "$OUT" "not has(J.outputs.VMSSDeploymentTargetIds, 'Machines-1')"
a_reset_log
NOW=$(at 14) a_osc -c "$W/enable.yaml" --format json apply
expect_rc "on_in_sync says enable" 0
a_log "$W/l4.json"
expect_eq "one PUT, for that target" "PUT octopus.machine_put Machines-1 200" "$(a_writes "$W/l4.json")"
a_check "it sets IsDisabled = false" "$W/l4.json" \
  "where(function(r) return r.method == 'PUT' end)[1].body:find('\"IsDisabled\":false', 1, true) ~= nil"
a_sim_state "$W/s4.json"
expect_eq "Octopus: enabled again; the orphans stay disabled" "$ORPHANS" "$(a_ids_where "$W/s4.json" 'm.disabled')"

stop_sim
finish
