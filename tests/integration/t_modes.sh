#!/usr/bin/env bash
# Uniform and Flexible scale sets plan correctly from live reads: classes,
# actions, private IPs, the scope (environment, ALL roles, tenant), and the
# Flexible nextLink quirk (unencoded $filter).
source "$(dirname "$0")/lib.sh"

# ---- Uniform: steady, out-of-scope targets left alone ------------------------------
start_int_sim steady.yaml || exit 1
ENTRIES="  - name: web-prod
    resource_group: rg-web
    vmss: vmss-web
    environment: Production
    roles: [web-server, vmss-web]
    tenant: Contoso" write_config "$WORK/u.yaml"
osc -c "$WORK/u.yaml" --format json plan
expect_rc "Uniform steady: nothing to change" 0
lcheck "5 VMs in sync, only in-scope targets (env + ALL roles + tenant)" "$OUT" \
  "J.scale_sets[1].counts.vms == 5 and J.scale_sets[1].counts.in_sync == 5 and J.scale_sets[1].counts.targets_in_scope == 5 and all(J.scale_sets[1].actions, function(a) return a.action == 'keep' end)"
lcheck "outputs list the 5 targets" "$OUT" \
  "J.outputs.VMSSHasServersToDeployTo == 'True' and select(2, J.outputs.VMSSDeploymentTargetNames:gsub(',', ',')) == 4"
cat >"$WORK/ips.lua" <<'EOF'
local vms = assert(assert(azure.client()):instances{ scale_set = arg[1] })
for _, vm in ipairs(vms) do
  if #vm.private_ips == 0 then error("no private IP for " .. vm.name) end
end
print(#vms .. " VMs with private IPs")
EOF
osc -c "$WORK/u.yaml" run "$WORK/ips.lua" web-prod
expect_rc "Uniform: every VM has a private IP (VMSS NIC list)" 0
stop_sim

# ---- Uniform: overprovisioned leftovers are orphans -------------------------------------
start_int_sim two-sets.yaml || exit 1
ENTRIES="  - name: api
    resource_group: rg-api
    vmss: vmss-api
    environment: Production
    roles: [api-server]" write_config "$WORK/u2.yaml"
osc -c "$WORK/u2.yaml" --format json plan
if [[ $RC == 0 || $RC == 2 ]]; then ok "Uniform with an orphan planned (exit $RC)"; else not_ok "exit $RC: $(head -c 300 "$ERR")"; fi
lcheck "4 in sync, 1 orphan" "$OUT" \
  "J.scale_sets[1].counts.in_sync == 4 and J.scale_sets[1].counts.orphan == 1"
stop_sim

# ---- Flexible --------------------------------------------------------------------------------
start_int_sim flexible.yaml || exit 1
ENTRIES="  - name: app
    resource_group: rg-app
    vmss: vmss-app
    environment: Production
    roles: [app-server]" write_config "$WORK/f.yaml"
osc -c "$WORK/f.yaml" --format json plan
expect_rc "Flexible: the Failed VM's target is to be deleted" 2
lcheck "3 in sync (polling Tentacles), 1 failed_vm -> delete" "$OUT" \
  "J.scale_sets[1].counts.vms == 4 and J.scale_sets[1].counts.in_sync == 3 and J.scale_sets[1].counts.failed_vm == 1 and #where(function() return false end) == 0 and (function() local d = 0 for _, a in ipairs(J.scale_sets[1].actions) do if a.action == 'delete' then d = d + 1 end end return d == 1 end)()"
fetch_log "$WORK/flog.json"
lcheck "Flexible reads: filtered VM list + resource-group NIC list, nothing per VM" "$WORK/flog.json" \
  "n('arm.flex_vm_list') == 2 and n('arm.nic_rg_list') >= 1 and n('arm.nic_get') + n('arm.flex_vm_get') + n('arm.nic_list') == 0"
lcheck "the VM list filter names the scale set (sent encoded: the simulator refuses raw spaces)" "$WORK/flog.json" \
  "find(J, 'route', 'arm.flex_vm_list').query:find(\"'virtualMachineScaleSet/id' eq '/subscriptions/\", 1, true) ~= nil"
osc -c "$WORK/f.yaml" run "$WORK/ips.lua" app
expect_rc "Flexible: every VM has a private IP (joined on virtualMachine.id)" 0
stop_sim

start_int_sim flexible-quirk.yaml || exit 1
write_config "$WORK/fq.yaml"
ENTRIES="  - name: app
    resource_group: rg-app
    vmss: vmss-app
    environment: Production
    roles: [app-server]" write_config "$WORK/fq.yaml"
osc -c "$WORK/fq.yaml" --format json plan
expect_rc "Flexible with an unencoded nextLink filter" 2
lcheck "all 5 VMs read over 3 pages, 1 failed, 1 orphan" "$OUT" \
  "J.scale_sets[1].counts.vms == 5 and J.scale_sets[1].counts.failed_vm == 1 and J.scale_sets[1].counts.orphan == 1"
fetch_log "$WORK/fqlog.json"
lcheck "no 400 from a raw nextLink" "$WORK/fqlog.json" \
  "n('arm.flex_vm_list') == 3 and all(where(function(r) return r.route == 'arm.flex_vm_list' end), function(r) return r.status == 200 end)"
stop_sim

finish
