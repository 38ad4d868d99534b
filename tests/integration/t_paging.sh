#!/usr/bin/env bash
# Paging and the per-run request budget: an Azure list of 3 pages (VMs and
# NICs), an Octopus list of 2,500 machines (3 pages at take=1000), and for
# two scale sets one token and one name lookup each, nothing per VM or per
# target.
source "$(dirname "$0")/lib.sh"

# ---- Azure: 3 pages -------------------------------------------------------
start_int_sim paging.yaml || exit 1
write_config "$WORK/paging.yaml"
osc -c "$WORK/paging.yaml" --format json plan
expect_rc "plan of 6 VMs over 3 pages" 0
lcheck "plan sees all 6 VMs in sync" "$OUT" \
  "#J.scale_sets[1].actions == 6 and all(J.scale_sets[1].actions, function(a) return a.action == 'keep' end)"
fetch_log "$WORK/log.json"
lcheck "exactly the expected requests ($(routes "$WORK/log.json"))" "$WORK/log.json" \
  "#J == 11 and n('entra.token') == 1 and n('octopus.spaces_list') == 1 and n('octopus.environments_list') == 1 and n('arm.vmss_get') == 1 and n('arm.vm_list') == 3 and n('arm.nic_list') == 3 and n('octopus.machines_list') == 1"
lcheck "VM list pages 1, 2, 3 each requested once" "$WORK/log.json" \
  "(function() local p = {} for _, r in ipairs(where(function(r) return r.route == 'arm.vm_list' end)) do p[#p + 1] = math.tointeger(r.page) end table.sort(p) return table.concat(p, ',') == '1,2,3' end)()"
lcheck "first VM page asks for instanceView" "$WORK/log.json" \
  "where(function(r) return r.route == 'arm.vm_list' and r.page == 1 end)[1].query:find('$expand=instanceView', 1, true) ~= nil"
lcheck "NIC pages use the VMSS NIC api-version" "$WORK/log.json" \
  "all(where(function(r) return r.route == 'arm.nic_list' end), function(r) return r.query:find('api-version=2017-03-30', 1, true) ~= nil end)"
lcheck "nothing per VM or per target" "$WORK/log.json" \
  "n('arm.vmss_vm_get') + n('arm.nic_get') + n('arm.vm_nic_list') + n('octopus.machine_get') == 0"
lcheck "machines listed with environmentIds and take=1000, no roles" "$WORK/log.json" \
  "(function() local q = where(function(r) return r.route == 'octopus.machines_list' end)[1].query return q:find('environmentIds=Environments-1', 1, true) and q:find('take=1000', 1, true) and not q:find('roles=', 1, true) end)()"
stop_sim

# ---- Octopus: 2,500 machines ---------------------------------------------------
start_int_sim big-octopus.yaml || exit 1
ENTRIES="  - name: big
    resource_group: rg-big
    vmss: vmss-big
    environment: Production
    roles: [big-server]" write_config "$WORK/big.yaml"
osc -c "$WORK/big.yaml" --format json plan
if [[ $RC == 0 || $RC == 2 ]]; then ok "plan of 2,000 VMs / 2,500 targets (exit $RC)"; else not_ok "big plan: exit $RC: $(head -c 400 "$ERR")"; fi
lcheck "every one of the 2,500 targets is accounted for" "$OUT" \
  "(function() local s = {} for _, a in ipairs(J.scale_sets[1].actions) do if a.target_id then s[a.target_id] = true end end return count(s) == 2500 end)()"
fetch_log "$WORK/big-log.json"
lcheck "machines list read in exactly 3 pages (skip 0, 1000, 2000)" "$WORK/big-log.json" \
  "(function() local m = where(function(r) return r.route == 'octopus.machines_list' end) if #m ~= 3 then return false end local s = {} for _, r in ipairs(m) do s[#s + 1] = r.query:match('skip=(%d+)') .. '/' .. r.query:match('take=(%d+)') end table.sort(s) return table.concat(s, ',') == '0/1000,1000/1000,2000/1000' end)()"
lcheck "2,000 VMs: VM list pages and nothing per VM" "$WORK/big-log.json" \
  "n('arm.vm_list') == n('arm.nic_list') and n('arm.vm_list') >= 2 and n('arm.vmss_vm_get') + n('arm.nic_get') == 0 and n('entra.token') == 1"
stop_sim

# ---- two scale sets: one token, names once, one machine list per environment ------
start_int_sim two-sets.yaml || exit 1
ENTRIES="  - name: web
    resource_group: rg-web
    vmss: vmss-web
    environment: Production
    roles: [web-server]
  - name: api
    resource_group: rg-api
    vmss: vmss-api
    environment: production
    roles: [api-server]" write_config "$WORK/two.yaml"
osc -c "$WORK/two.yaml" --format json plan
if [[ $RC == 0 || $RC == 2 ]]; then ok "plan of two scale sets (exit $RC)"; else not_ok "two-set plan: exit $RC: $(head -c 400 "$ERR")"; fi
lcheck "both scale sets planned" "$OUT" \
  "#J.scale_sets == 2 and J.scale_sets[1].status == 'ok' and J.scale_sets[2].status == 'ok'"
fetch_log "$WORK/two-log.json"
# web: 7 VMs / 3 per page = 3 pages; api: 4 VMs = 2 pages (VMs and NICs)
# Production's machines are listed once for both entries (same environment)
lcheck "budget: 1 token, names once, per set 1 VMSS GET + list pages ($(routes "$WORK/two-log.json"))" "$WORK/two-log.json" \
  "n('entra.token') == 1 and n('octopus.spaces_list') == 1 and n('octopus.environments_list') == 1 and n('arm.vmss_get') == 2 and n('arm.vm_list') == 5 and n('arm.nic_list') == 5 and n('octopus.machines_list') == 1 and #J == 16"
lcheck "each set planned its own scope from the shared list" "$OUT" \
  "J.scale_sets[1].counts.targets_in_scope == 7 and J.scale_sets[2].counts.targets_in_scope == 5"
stop_sim

finish
