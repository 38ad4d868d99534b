-- Targets registered as "<prefix><computer name>", e.g. "prod-web000003":
-- the bootstrap script of these VMs registers the Tentacle with a prefix.
-- The prefix comes from the scale set's settings (settings.prefix) and
-- defaults to "prod-".
--
--   scale_sets:
--     - name: web-prod
--       policy: policies/examples/prefix_naming.lua
--       settings: { prefix: "prod-" }

local DEFAULT_PREFIX = "prod-"

return {
  target_name = function(vm, ctx)
    local prefix = ctx.settings.prefix or DEFAULT_PREFIX
    return prefix .. (vm.computer_name or vm.name)
  end,

  -- Which targets are this scale set's. The default rule (the name follows
  -- the scale set's computerNamePrefix) cannot see the registration
  -- prefix, so a policy that renames targets says it here; targets it
  -- disowns are "foreign": reported, never deleted or disabled.
  owns = function(target, ctx)
    local prefix = (ctx.settings.prefix or DEFAULT_PREFIX):lower()
    return target.name:lower():sub(1, #prefix) == prefix
  end,
}
