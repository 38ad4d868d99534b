-- List a scale set's instances with the Octopus targets registered for them.
--
--   octoscale -c octoscale.yaml run examples/scripts/list_instances.lua SCALE_SET
--
-- SCALE_SET is the name of a scale_sets entry of the configuration.
-- Targets are matched to VMs by name (case-insensitively) on the computer
-- name, the VM name or a private IP, the same defaults the engine uses.
local name = arg[1]

local az = assert(azure.client())
local oc = assert(octopus.client())

if not name then
  error("usage: list_instances.lua SCALE_SET", 0)
end

local vms = assert(az:instances{ scale_set = name })
local targets = assert(oc:targets{ scale_set = name })

local by_name = {}
for _, t in ipairs(targets) do
  by_name[t.name:lower()] = t
end

local claimed = {}
print(string.format("%-24s %-16s %-12s %-10s %s", "VM", "COMPUTER", "STATE",
  "POWER", "TARGET"))
for _, vm in ipairs(vms) do
  local t = by_name[(vm.computer_name or ""):lower()] or by_name[vm.name:lower()]
  for _, ip in ipairs(vm.private_ips) do
    t = t or by_name[ip:lower()]
  end
  if t then claimed[t.id] = true end
  print(string.format("%-24s %-16s %-12s %-10s %s", vm.name,
    vm.computer_name or "-", vm.provisioning_state or "-",
    vm.power_state or "-", t and (t.name .. " (" .. t.id .. ")") or "-"))
end

local orphans = 0
for _, t in ipairs(targets) do
  if not claimed[t.id] then
    orphans = orphans + 1
    print(string.format("%-24s %-16s %-12s %-10s %s", "-", "-", "-", "-",
      t.name .. " (" .. t.id .. ", no VM)"))
  end
end
print(string.format("%d instances, %d targets, %d without a VM", #vms,
  #targets, orphans))
return 0
