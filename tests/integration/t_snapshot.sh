#!/usr/bin/env bash
# snapshot -o FILE writes the contract format with raw bodies (empty arrays
# stay arrays), atomically; plan --snapshot of it gives the same plan as the
# live plan, for Uniform (with tenant scope and an orphan) and Flexible.
source "$(dirname "$0")/lib.sh"
export OCTOSCALE_NOW=2026-11-27T10:00:00Z

# same_json DESCRIPTION A B: the two JSON documents are equal
same_json() {
  local out
  if out=$(lua5.4 - "$2" "$3" <<'EOF2' 2>&1
local cjson = require "cjson"
local function load(p) local f = assert(io.open(p, "rb")) local s = f:read("a") f:close() return cjson.decode(s) end
local function eq(a, b, path)
  if type(a) ~= type(b) then return false, path .. ": " .. type(a) .. " vs " .. type(b) end
  if type(a) ~= "table" then
    if a == b then return true end
    return false, path .. ": " .. tostring(a) .. " vs " .. tostring(b)
  end
  for k, v in pairs(a) do
    local ok, why = eq(v, b[k], path .. "." .. tostring(k))
    if not ok then return false, why end
  end
  for k in pairs(b) do
    if a[k] == nil then return false, path .. "." .. tostring(k) .. ": missing on the left" end
  end
  return true
end
local ok, why = eq(load(arg[1]), load(arg[2]), "$")
if not ok then io.stderr:write(why .. "\n") os.exit(1) end
EOF2
  ); then ok "$1"; else not_ok "$1: $out"; fi
}

# live_vs_snapshot NAME CONFIG: live plan, snapshot, plan --snapshot
live_vs_snapshot() {
  local name=$1 cfg=$2
  osc -c "$cfg" --format json plan
  local live_rc=$RC live_out=$OUT
  if [[ $live_rc == 0 || $live_rc == 2 ]]; then ok "$name: live plan (exit $live_rc)"; else not_ok "$name: live plan exit $live_rc: $(head -c 300 "$ERR")"; fi
  reset_log
  osc -c "$cfg" snapshot -o "$WORK/$name.snap.json"
  expect_rc "$name: snapshot" 0
  fetch_log "$WORK/$name.snaplog.json"
  lcheck "$name: snapshot only reads" "$WORK/$name.snaplog.json" \
    "#where(function(r) return r.method ~= 'GET' and r.route ~= 'entra.token' end) == 0"
  lcheck "$name: contract keys" "$WORK/$name.snap.json" \
    "J.format_version == 1 and J.captured_at == '2026-11-27T10:00:00Z' and #J.scale_sets >= 1 and all(J.scale_sets, function(s) return type(s.name) == 'string' and type(s.vmss) == 'table' and type(s.instances) == 'table' and type(s.targets) == 'table' and s.environment_id ~= nil end)"
  if ls "$WORK"/"$name".snap.json.tmp.* >/dev/null 2>&1; then not_ok "$name: temporary file left behind"; else ok "$name: no temporary file left"; fi
  osc -c "$cfg" --format json plan --snapshot "$WORK/$name.snap.json"
  expect_eq "$name: same exit code offline" "$live_rc" "$RC"
  same_json "$name: plan --snapshot equals the live plan" "$live_out" "$OUT"
}

start_int_sim tenanted.yaml || exit 1
# (an untenanted entry would cover Contoso's targets too: overlapping
# entries on one scale set are a config error)
ENTRIES="  - name: web-prod
    resource_group: rg-web
    vmss: vmss-web
    environment: Production
    roles: [web-server]
    tenant: Fabrikam
  - name: contoso
    resource_group: rg-web
    vmss: vmss-web
    environment: Production
    roles: [web-server]
    tenant: Contoso" write_config "$WORK/t.yaml"
live_vs_snapshot tenanted "$WORK/t.yaml"
lcheck "tenant scope kept as tenant_id" "$WORK/tenanted.snap.json" \
  "J.scale_sets[2].tenant_id == 'Tenants-1' and J.scale_sets[1].tenant_id == 'Tenants-2'"
# raw bodies spliced as received: empty arrays are still arrays
if grep -q '"TenantIds":\[\]' "$WORK/tenanted.snap.json"; then ok "machine bodies keep \"TenantIds\":[]"; else not_ok "no raw empty TenantIds array in the snapshot"; fi
if grep -q '"secrets":\[\]' "$WORK/tenanted.snap.json"; then ok "VM bodies keep empty arrays"; else not_ok "no raw empty array in VM bodies"; fi
lcheck "instances carry private IPs through nics" "$WORK/tenanted.snap.json" \
  "#J.scale_sets[1].nics == #J.scale_sets[1].instances"
stop_sim

start_int_sim two-sets.yaml || exit 1
ENTRIES="  - name: web
    resource_group: rg-web
    vmss: vmss-web
    environment: Production
    roles: [web-server]
  - name: api
    resource_group: rg-api
    vmss: vmss-api
    environment: Production
    roles: [api-server]" write_config "$WORK/two.yaml"
live_vs_snapshot two-sets "$WORK/two.yaml"
lcheck "every page's items are in the snapshot (7 + 4 VMs)" "$WORK/two-sets.snap.json" \
  "#J.scale_sets[1].instances == 7 and #J.scale_sets[2].instances == 4"
lcheck "an untenanted scope has no tenant_id" "$WORK/two-sets.snap.json" \
  "J.scale_sets[1].tenant_id == nil"
stop_sim

start_int_sim flexible-quirk.yaml || exit 1
ENTRIES="  - name: app
    resource_group: rg-app
    vmss: vmss-app
    environment: Production
    roles: [app-server]" write_config "$WORK/f.yaml"
live_vs_snapshot flexible "$WORK/f.yaml"
lcheck "Flexible snapshot keeps only the set's NICs" "$WORK/flexible.snap.json" \
  "#J.scale_sets[1].nics == 5 and #J.scale_sets[1].instances == 5"

# a failed read is recorded, and planning the snapshot is a safety stop too
curl -sS -o /dev/null -X POST --data '[{"route":"arm.flex_vm_list","page":2,"status":503}]' "$SIM_URL/_sim/faults"
HTTP_YAML="http:
  max_attempts: 2" ENTRIES="  - name: app
    resource_group: rg-app
    vmss: vmss-app
    environment: Production
    roles: [app-server]" write_config "$WORK/f2.yaml"
osc -c "$WORK/f2.yaml" snapshot -o "$WORK/bad.snap.json"
expect_rc "snapshot of an incomplete read exits 4" 4
lcheck "the snapshot says why" "$WORK/bad.snap.json" \
  "J.scale_sets[1].incomplete:find('Azure VM list page 2', 1, true) ~= nil"
osc -c "$WORK/f2.yaml" plan --snapshot "$WORK/bad.snap.json"
expect_rc "planning it is a safety stop" 4

# a refused credential: the entry is left out, exit 1, and planning the
# snapshot says the entry is missing (exit 1 too)
curl -sS -o /dev/null -X POST --data '[]' "$SIM_URL/_sim/faults"
API_KEY="API-WRONGKEY00000000000000000000" ENTRIES="  - name: app
    resource_group: rg-app
    vmss: vmss-app
    environment: Production
    roles: [app-server]" write_config "$WORK/f3.yaml"
osc -c "$WORK/f3.yaml" snapshot -o "$WORK/refused.snap.json"
expect_rc "snapshot with a wrong Octopus key exits 1" 1
expect_in "names the 401" "$ERR" "HTTP 401"
lcheck "the refused entry is not in the file" "$WORK/refused.snap.json" "#J.scale_sets == 0"
osc -c "$WORK/f3.yaml" plan --snapshot "$WORK/refused.snap.json"
expect_rc "planning it: the entry is missing" 1
stop_sim

finish
