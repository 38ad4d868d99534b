#!/usr/bin/env bash
# apply --wait polls cheaply (README, "apply --wait"): while 2 new VMs of a
# 40-VM Uniform scale set are Creating and nothing changes, a poll reads
# the scale set (VMSS GET) and its instance view (statusesSummary) only:
# 2 ARM requests, no VM or NIC list; the VMs are listed again on the first
# poll, when the summary changes, and when the wait ends. The wait still
# ends when the VMs succeed, and the final plan is fresh.
# Usage: bash tests/integration/apply_wait_poll.sh BUILD_DIR
source "$(dirname "$0")/apply_lib.sh" "$1"

a_start wait-uniform.yaml || exit 1
W=$A_WORK
a_config "$W/c.yaml" 'return { grace = { orphan = "10m" } }'
a_action '{"scale":{"scale_set":"vmss-web","capacity":42}}' || exit 1
# settle the scale set's own operation: only the 2 VMs stay Creating
sim_advance 1

# ---- nothing changes: 5 polls of 1 s within a 5 s bound ---------------------------------
a_reset_log
a_osc -c "$W/c.yaml" --format json apply --wait=5s --poll-interval 1s
expect_rc "--wait=5s, VMs still Creating (proceed)" 0
a_log "$W/l1.json"
a_check "JSON: the 2 VMs are still waiting" "$OUT" \
  "(function() local k = 0 for _, a in ipairs(J.scale_sets[1].actions) do if a.action == 'wait' then k = k + 1 end end return k == 2 end)()"
a_check "every poll read the instance view (4 or 5 polls)" "$W/l1.json" \
  "n('arm.vmss_instance_view') >= 4 and n('arm.vmss_instance_view') <= 5"
a_check "the VM list was read 3 times: at the start, on the first poll, at the end (5 pages each)" \
  "$W/l1.json" "n('arm.vm_list') == 3 * 5"
a_check "polls without a change cost 2 ARM requests each: VMSS GET + instance view" "$W/l1.json" \
  "n('arm.vmss_get') == n('arm.vmss_instance_view') + 3"
a_check "NICs were listed with the VMs only" "$W/l1.json" "n('arm.nic_list') == n('arm.vm_list')"

# ---- the VMs succeed during the wait: it lists them, sees it, and ends ---------------------
a_reset_log
a_clock_driver 3 0.3 30 # +3 simulated seconds every 0.3 s: Succeeded after ~3 s
a_osc -c "$W/c.yaml" --format json apply --wait=60s --poll-interval 1s
kill "$A_CLOCK_PID" 2>/dev/null
wait "$A_CLOCK_PID" 2>/dev/null
expect_rc "--wait=60s while the clock runs" 0
a_log "$W/l2.json"
a_check "JSON: nothing waits any more" "$OUT" \
  "(function() for _, a in ipairs(J.scale_sets[1].actions) do if a.action == 'wait' then return false end end return true end)()"
a_check "the last VM list came after the last instance view (the change was read)" "$W/l2.json" \
  "(function() local iv, vl for i, r in ipairs(J) do if r.route == 'arm.vmss_instance_view' then iv = i end if r.route == 'arm.vm_list' then vl = i end end return iv and vl and vl > iv end)()"
if ((ELAPSED_MS < 60000)); then ok "the wait ended before its bound (${ELAPSED_MS} ms)"; else not_ok "it took ${ELAPSED_MS} ms"; fi

# ---- Flexible: no instance view; the VM list without $expand ------------------------------
stop_sim
a_start flexible.yaml || exit 1
ENTRIES="  - name: app
    resource_group: rg-app
    vmss: vmss-app
    environment: Production
    roles: [app-server]" a_config "$W/f.yaml" 'return { grace = { orphan = "10m" } }'
sim_advance 61 # the timeline scales out to 6: 2 VMs Creating for 90 s
a_reset_log
a_osc -c "$W/f.yaml" apply --wait=4s --poll-interval 1s
expect_rc "Flexible: --wait=4s, VMs still Creating (proceed)" 0
a_log "$W/l3.json"
a_check "Flexible: never asked for the scale set's instance view" "$W/l3.json" "n('arm.vmss_instance_view') == 0"
a_check "Flexible: polls listed the VMs without \$expand" "$W/l3.json" \
  "#where(function(r) return r.route == 'arm.flex_vm_list' and not r.query:find('expand', 1, true) end) >= 3 * 2"
a_check "Flexible: with \$expand only at the start, on the first poll and at the end" "$W/l3.json" \
  "#where(function(r) return r.route == 'arm.flex_vm_list' and r.query:find('expand', 1, true) ~= nil end) == 3 * 3"

finish
