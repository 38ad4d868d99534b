-- Scale a scale set to a capacity and wait until it has settled: the VM
-- count matches and no VM is Creating (or Deleting), bounded by a timeout.
--
--   octoscale -c octoscale.yaml run examples/scripts/scale_and_wait.lua \
--       SCALE_SET CAPACITY [TIMEOUT_SECONDS] [POLL_SECONDS]
--
-- Exit code: 0 settled, 5 timed out (like `apply --wait --on-timeout fail`),
-- 1 when Azure refused or failed.
local name, capacity = arg[1], tonumber(arg[2])
local timeout = tonumber(arg[3] or "900")
local poll = tonumber(arg[4] or "10")
if not name or not capacity then
  error("usage: scale_and_wait.lua SCALE_SET CAPACITY [TIMEOUT] [POLL]", 0)
end

local az <close> = assert(azure.client())
local ok, err = az:set_capacity{ scale_set = name, capacity = capacity }
if not ok then
  print("scale failed: " .. tostring(err))
  return 1
end
print(string.format("%s: capacity set to %d", name, capacity))

local deadline = script.clock() + timeout
while true do
  local vms, lerr = az:instances{ scale_set = name }
  if not vms then
    -- a failed read is not "settled": report it and try again
    print("read failed, retrying: " .. tostring(lerr))
  else
    local busy = 0
    for _, vm in ipairs(vms) do
      if vm.provisioning_state == "Creating" or
          vm.provisioning_state == "Deleting" then
        busy = busy + 1
      end
    end
    print(string.format("%s: %d VMs, %d creating or deleting", name, #vms,
      busy))
    if busy == 0 and #vms == capacity then
      print(name .. ": settled")
      return 0
    end
  end
  if script.clock() >= deadline then
    print(string.format("%s: not settled after %ds", name, timeout))
    return 5
  end
  script.sleep(math.min(poll, math.max(0, deadline - script.clock())))
end
