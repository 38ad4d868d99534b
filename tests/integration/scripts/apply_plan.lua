-- plan:apply() from a script: the CLI's apply for one scale set (lock,
-- fresh read, only what this plan approved, state recorded).
local name = assert(arg[1], "usage: apply_plan.lua SCALE_SET [APPLY_NOW]")
-- With APPLY_NOW (Unix seconds) the apply reads the world at a later time
-- than the plan the script inspected.
local apply_now = arg[2] and math.tointeger(tonumber(arg[2]))

local function count(plan, kind, done)
  local n = 0
  for _, a in ipairs(plan:actions()) do
    if a.action == kind and (done == nil or a.done == done) then
      n = n + 1
    end
  end
  return n
end

local plan = assert(reconcile.plan{ scale_set = name })
print("planned", plan:status(), count(plan, "delete"), count(plan, "wait"))
local applied, err = plan:apply{ now = apply_now }
if not applied then
  print("apply failed: " .. tostring(err))
  return 1
end
print("applied", applied:status(), count(applied, "delete", true))
return 0
