-- Generates a large `plan --snapshot` input from the shapes of the committed
-- test snapshot (tests/fixtures/snapshots/scale-in.json, itself built from
-- the real Azure/Octopus response fixtures by make.lua): SETS scale sets of
-- VMS Uniform VMs each, every VM registered, plus 30 % orphaned targets
-- (VMs gone), each set in its own environment with its own role. Also
-- writes the matching config, a state file in which every orphan is past
-- its grace, and prints the totals.
-- usage: lua5.4 make_snapshot.lua TEMPLATE.json OUT_DIR SETS VMS POLICY
local cjson = require "cjson"
local template, out_dir = arg[1], arg[2]
local n_sets, n_vms = math.tointeger(tonumber(arg[3])), math.tointeger(tonumber(arg[4]))
local policy = arg[5]

local f = assert(io.open(template, "rb"))
local T = cjson.decode(f:read("a"))
f:close()
local src = T.scale_sets[1]
local vm_tpl, target_tpl, vmss_tpl
for _, v in ipairs(src.instances) do
  if v.properties.provisioningState == "Succeeded" then vm_tpl = v break end
end
target_tpl = src.targets[1]
vmss_tpl = src.vmss
assert(vm_tpl and target_tpl and vmss_tpl, "template lacks a Succeeded VM or a target")

-- JSON text templates with placeholders, so 10,000 items cost string.gsub,
-- not deep copies.
local function placeholder_json(t, subs)
  local s = cjson.encode(t)
  for _, p in ipairs(subs) do
    local pat = p[1]:gsub("%p", "%%%0")
    s = s:gsub(pat, p[2])
  end
  return s
end

local SUB0 = vm_tpl.id:match("^(/subscriptions/[^/]+/resourceGroups/[^/]+)/")
local vm_name0 = vm_tpl.name
local vmss0 = vm_name0:match("^(.*)_%d+$")
local cn0 = vm_tpl.properties.osProfile.computerName
local vmid0 = vm_tpl.properties.vmId
local iid0 = vm_tpl.instanceId
vm_tpl.properties.timeCreated = "2026-11-27T08:00:00+00:00"
-- Order matters: longer, more specific strings first.
local vm_text = placeholder_json(vm_tpl, {
  { (cjson.encode(vm_tpl.id):sub(2, -2)), "@ID@" },
  { cjson.encode(vm_name0):sub(2, -2), "@NAME@" },
  { cjson.encode(cn0):sub(2, -2), "@CN@" },
  { vmid0, "@VMID@" },
})
vm_text = vm_text:gsub('"instanceId":"' .. iid0 .. '"', '"instanceId":"@IID@"')

local tid0 = target_tpl.Id
local tname0 = target_tpl.Name
target_tpl.Roles = { "@ROLE@" }
target_tpl.EnvironmentIds = { "@ENV@" }
target_tpl.HealthStatus = "Healthy"
target_tpl.IsDisabled = false
local target_text = cjson.encode(target_tpl)
target_text = target_text:gsub(tid0:gsub("%p", "%%%0") .. "%f[^%d]", "@TID@")
target_text = target_text:gsub(tname0:gsub("%p", "%%%0"), "@TNAME@")
target_text = target_text:gsub(tname0:lower():gsub("%p", "%%%0"), "@TNAMEL@")

local function base36(n)
  local digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
  local s = ""
  repeat
    local d = n % 36
    s = digits:sub(d + 1, d + 1) .. s
    n = n // 36
  until n == 0
  return string.rep("0", 6 - #s) .. s
end

local function fill(text, map)
  return (text:gsub("@(%u+)@", map))
end

local out = assert(io.open(out_dir .. "/snapshot.json", "wb"))
out:write('{"format_version":1,"captured_at":"2026-11-27T10:00:00Z","scale_sets":[')
local cfg = { "octopus:\n  url: https://octopus.example.com\n  api_key: API-BENCH00000000000000000000000\n  space: Default\n",
  "azure:\n  subscription: 00000000-0000-0000-0000-000000000001\n  auth: managed_identity\n",
  "state: " .. out_dir .. "/state.json\npolicy: " .. policy .. "\nscale_sets:\n" }
local orphans = {}
local tid = 0
local total_vms, total_targets = 0, 0
for s = 1, n_sets do
  local vmss = "vmss-" .. s
  local prefix = string.format("s%02d", s)
  local env = "Environments-" .. s
  local role = "role-" .. s
  local entry = "set-" .. s
  vmss_tpl.name = vmss
  vmss_tpl.id = SUB0 .. "/providers/Microsoft.Compute/virtualMachineScaleSets/" .. vmss
  vmss_tpl.sku.capacity = n_vms
  vmss_tpl.properties.virtualMachineProfile.osProfile.computerNamePrefix = prefix
  if s > 1 then out:write(",") end
  out:write('{"name":', cjson.encode(entry), ',"environment_id":', cjson.encode(env),
    ',"vmss":', cjson.encode(vmss_tpl), ',"instances":[')
  for i = 0, n_vms - 1 do
    if i > 0 then out:write(",") end
    out:write(fill(vm_text, {
      ID = SUB0 .. "/providers/Microsoft.Compute/virtualMachineScaleSets/" .. vmss .. "/virtualMachines/" .. i,
      NAME = vmss .. "_" .. i, CN = prefix .. base36(i), IID = tostring(i),
      VMID = string.format("%08d-0000-4000-8000-%012d", s, i),
    }))
  end
  total_vms = total_vms + n_vms
  out:write('],"targets":[')
  local n_targets = n_vms + (n_vms * 3 + 5) // 10
  local so = {}
  for i = 0, n_targets - 1 do
    tid = tid + 1
    if i > 0 then out:write(",") end
    local name = prefix .. base36(i)
    out:write(fill(target_text, { TID = "Machines-" .. tid, TNAME = name, TNAMEL = name:lower(), ROLE = role, ENV = env }))
    if i >= n_vms then so["Machines-" .. tid] = "2026-11-27T09:00:00Z" end
  end
  total_targets = total_targets + n_targets
  orphans[entry] = { orphans = so }
  out:write("]}")
  cfg[#cfg + 1] = string.format("  - name: %s\n    resource_group: rg-bench\n    vmss: %s\n    environment: %s\n    roles: [%s]\n",
    entry, vmss, env, role)
end
out:write("]}\n")
out:close()

f = assert(io.open(out_dir .. "/octoscale.yaml", "wb"))
f:write(table.concat(cfg))
f:close()
f = assert(io.open(out_dir .. "/state.json", "wb"))
f:write((cjson.encode({ format_version = 1, updated_at = "2026-11-27T09:00:00Z", scale_sets = orphans, runs = {} })
  :gsub('"runs":{}', '"runs":[]')), "\n")
f:close()
print(total_vms, total_targets)
