-- plan:apply{only = ...} / {filter = ...}: apply a subset of a plan under
-- the CLI's lock, fresh read, budget and state.
--   apply_only.lua SCALE_SET only|filter|bad-id|both|typo NAME
local name, mode, pick = arg[1], arg[2], arg[3]

local plan = assert(reconcile.plan{ scale_set = name })
local chosen
for _, a in ipairs(plan:actions()) do
  if a.action == "delete" and a.target_name == pick then chosen = a end
end
print("planned", #(function() local d = {} for _, a in ipairs(plan:actions()) do
  if a.action == "delete" then d[#d + 1] = a end end return d end)())

local ok, applied, err
if mode == "only" then
  applied, err = plan:apply{ only = { chosen.target_id } }
elseif mode == "filter" then
  applied, err = plan:apply{ filter = function(a) return a.target_name == pick end }
elseif mode == "bad-id" then
  ok, err = pcall(plan.apply, plan, { only = { "Machines-nope" } })
  print("raised", err)
  return 0
elseif mode == "both" then
  ok, err = pcall(plan.apply, plan, { only = {}, filter = print })
  print("raised", err)
  return 0
elseif mode == "typo" then
  ok, err = pcall(plan.apply, plan, { onyl = { "x" } })
  print("raised", err)
  return 0
end
if not applied then
  print("apply failed: " .. tostring(err))
  return 1
end
for _, a in ipairs(applied:actions()) do
  if a.done then print("done", a.action, a.target_name) end
end
return 0
