-- reconcile.plan{scale_set = NAME, policy = P}: the live plan with another
-- policy (a what-if), read-only; plan:apply() refuses it.
--   what_if.lua SCALE_SET
local name = arg[1]
local function count(plan, kind)
  local n = 0
  for _, a in ipairs(plan:actions()) do
    if a.action == kind then n = n + 1 end
  end
  return n
end

local configured = assert(reconcile.plan{ scale_set = name })
print("configured", count(configured, "delete"), count(configured, "wait"))

-- a table policy: delete orphans at once, with a reason
local eager = assert(reconcile.plan{ scale_set = name, policy = {
  grace = { orphan = 0 },
  on_scale_in = function(target, ctx)
    return "delete", "what-if for " .. ctx.scale_set.name
  end,
  max_delete = "100%",
} })
print("what-if", count(eager, "delete"), count(eager, "wait"))
for _, a in ipairs(eager:actions()) do
  if a.action == "delete" then print("reason", a.policy_reason) break end
end
print("vms", #eager:vms(), "targets", #eager:targets())

-- a path beside this script
local kept = assert(reconcile.plan{ scale_set = name, policy = "what_if_keep.lua" })
print("path", count(kept, "delete"), count(kept, "keep"))

local ok, err = pcall(eager.apply, eager)
print("apply", ok, err)
return 0
