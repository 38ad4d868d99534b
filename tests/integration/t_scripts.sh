#!/usr/bin/env bash
# `octoscale run`: the shipped example scripts against the simulator, the
# script API (tests/integration/scripts/api.lua), errors and exit codes,
# outputs, and that disable/enable PUT back the full resource with its
# empty arrays intact.
source "$(dirname "$0")/lib.sh"
SCRIPTS="$REPO/tests/integration/scripts"
EXAMPLES="$REPO/examples/scripts"

# ---- the API --------------------------------------------------------------------------
start_int_sim tenanted.yaml || exit 1
write_config "$WORK/t.yaml"
osc -c "$WORK/t.yaml" run "$SCRIPTS/api.lua"
expect_rc "api.lua: every check passed" 0
grep '^FAIL' "$OUT" | while read -r line; do not_ok "api.lua: $line"; done
n_ok=$(grep -c '^ok ' "$OUT")
if [[ $n_ok -ge 25 ]]; then ok "api.lua: $n_ok checks"; else not_ok "api.lua ran $n_ok checks: $(tail -5 "$OUT") $(head -c 300 "$ERR")"; fi
expect_in "outputs printed as name=value after the script" "$OUT" "Checked=again"
expect_in "outputs keep their first-set order" "$OUT" "Answer=forty two"
fetch_log "$WORK/api-log.json"
lcheck "disable/enable PUT the whole resource with TenantIds still []" "$WORK/api-log.json" \
  "(function() local puts = where(function(r) return r.route == 'octopus.machine_put' end) if #puts ~= 2 then return false end for _, p in ipairs(puts) do if not p.body:find('\"TenantIds\":[]', 1, true) or not p.body:find('\"Endpoint\":{', 1, true) then return false end end return puts[1].body:find('\"IsDisabled\":true', 1, true) and puts[2].body:find('\"IsDisabled\":false', 1, true) and puts[1].status == 200 end)()"
lcheck "health task posted once with OnlyTestConnection" "$WORK/api-log.json" \
  "(function() local p = where(function(r) return r.route == 'octopus.task_create' end) return #p == 1 and p[1].body:find('\"OnlyTestConnection\":\"true\"', 1, true) and p[1].body:find('\"Name\":\"Health\"', 1, true) end)()"
lcheck "deletes: one 200, one 404" "$WORK/api-log.json" \
  "(function() local d = where(function(r) return r.route == 'octopus.machine_delete' end) return #d == 2 and d[1].status == 200 and d[2].status == 404 end)()"

OCTOSCALE_OCTOPUS_OUTPUT=1 osc -c "$WORK/t.yaml" run "$SCRIPTS/outputs.lua"
expect_rc "outputs.lua under Octopus" 0
expect_in "service message with base64 name/value" "$OUT" "##octopus[setVariable name='QW5zd2Vy' value='Zm9ydHkgdHdv']"
expect_in "numbers as strings" "$OUT" "##octopus[setVariable name='Q291bnQ=' value='Mw==']"
expect_not_in "no name=value lines under Octopus" "$OUT" "Answer=forty two"
osc -c "$WORK/t.yaml" run --octopus-output "$SCRIPTS/outputs.lua"
expect_rc "run --octopus-output" 0
expect_in "the flag turns on service messages" "$OUT" "##octopus[setVariable name='QW5zd2Vy' value='Zm9ydHkgdHdv']"
# The option reaches the script through the command's options, not the
# process environment.
cat >"$WORK/env.lua" <<'LUA'
print("env=" .. tostring(script.getenv("OCTOSCALE_OCTOPUS_OUTPUT")))
octopus.set_output("Flag", "on")
LUA
osc -c "$WORK/t.yaml" run --octopus-output "$WORK/env.lua"
expect_rc "run --octopus-output (a script reading the environment)" 0
expect_in "no OCTOSCALE_OCTOPUS_OUTPUT set for it" "$OUT" "env=nil"
expect_in "... and still service messages" "$OUT" "##octopus[setVariable name='RmxhZw==' value='b24=']"

# ---- errors and exit codes -----------------------------------------------------------
osc -c "$WORK/t.yaml" run "$SCRIPTS/fail.lua"
expect_rc "a Lua error exits 1" 1
expect_in "with file:LINE: message" "$ERR" "fail.lua:2: the script failed on purpose"
expect_eq "on one line" 1 "$(wc -l <"$ERR")"
osc -c "$WORK/t.yaml" run "$SCRIPTS/exit.lua" 7
expect_rc "the returned integer is the exit code" 7
osc -c "$WORK/t.yaml" run "$SCRIPTS/does-not-exist.lua"
expect_rc "a missing script is a usage error" 3
stop_sim

# ---- examples --------------------------------------------------------------------------
start_int_sim steady.yaml || exit 1
ENTRIES="  - name: web-prod
    resource_group: rg-web
    vmss: vmss-web
    environment: Production
    roles: [web-server, vmss-web]
    tenant: Contoso" write_config "$WORK/s.yaml"
osc -c "$WORK/s.yaml" run "$EXAMPLES/list_instances.lua" web-prod
expect_rc "list_instances.lua" 0
expect_in "lists each VM with its target" "$OUT" "vmss-web_4"
expect_in "and a summary" "$OUT" "5 instances, 5 targets, 0 without a VM"
osc -c "$WORK/s.yaml" run "$EXAMPLES/report.lua" web-prod
expect_rc "report.lua (nothing to change)" 0
expect_in "report table" "$OUT" "| keep | web000000 (Machines-1) | vmss-web_0 | in sync |"
expect_in "report outputs" "$OUT" "VMSSHasServersToDeployTo.web-prod=True"
fetch_log "$WORK/ex-log.json"
lcheck "the examples only read" "$WORK/ex-log.json" \
  "#where(function(r) return r.method ~= 'GET' and r.route ~= 'entra.token' end) == 0"
stop_sim

start_int_sim two-sets.yaml || exit 1
ENTRIES="  - name: api
    resource_group: rg-api
    vmss: vmss-api
    environment: Production
    roles: [api-server]" write_config "$WORK/two.yaml"
osc -c "$WORK/two.yaml" run "$EXAMPLES/report.lua" api
if [[ $RC == 0 || $RC == 2 ]]; then ok "report.lua with an orphan (exit $RC)"; else not_ok "report.lua: exit $RC $(head -c 300 "$ERR")"; fi
expect_in "orphan reported" "$OUT" "| wait |"
stop_sim

# scale_and_wait: 20 simulated seconds per VM at 20x speed
start_int_sim scale.yaml --speed 20 || exit 1
write_config "$WORK/sc.yaml"
osc -c "$WORK/sc.yaml" run "$EXAMPLES/scale_and_wait.lua" web-prod 4 60 1
expect_rc "scale_and_wait.lua settles" 0
expect_in "capacity set" "$OUT" "web-prod: capacity set to 4"
expect_in "settled" "$OUT" "web-prod: settled"
fetch_log "$WORK/sc-log.json"
lcheck "one PATCH of sku.capacity" "$WORK/sc-log.json" \
  "(function() local p = where(function(r) return r.route == 'arm.vmss_patch' end) return #p == 1 and p[1].body:find('\"capacity\":4', 1, true) ~= nil end)()"
osc -c "$WORK/sc.yaml" run "$EXAMPLES/scale_and_wait.lua" web-prod 6 0 1
expect_rc "scale_and_wait.lua times out with 5" 5
stop_sim

finish
