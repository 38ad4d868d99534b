-- The default policy: what octoscale does when a scale set names no
-- policy. Every field below is optional and shows its documented default
-- (docs/design.md §7), so this file behaves exactly like an empty `return {}`.
-- Copy it as a starting point for your own.
--
-- Hooks receive plain tables:
--   vm     id, name, instance_id, computer_name, provisioning_state,
--          power_state, private_ips, created_at, zone, tags, scale_set
--   target id, name, roles, environment_ids, tenant_ids, health, disabled,
--          comm_style ("listening" | "polling" | "other"), uri, thumbprint,
--          orphaned_since
--   ctx    now (Unix seconds: use it, never a clock), scale_set (the config
--          entry), settings (the entry's `settings`), log(...)
-- A hook that raises or answers outside its list stops the scale set's
-- plan with exit 3, naming this file, the hook's line and the value.

return {
  -- The Octopus target name expected for a VM. Names compare
  -- case-insensitively.
  target_name = function(vm, ctx)
    return vm.computer_name or vm.name
  end,

  -- How long to wait before acting. Each entry may also be a function
  -- (subject, ctx) returning a duration.
  grace = {
    provisioning = "30m", -- `apply --wait` bound when no duration is given
    registration = "10m", -- a running VM with no target is "unregistered" after this
    orphan = "10m",       -- a target whose VM is gone is acted on after this
  },

  -- A target whose VM is gone (scale-in, overprovisioning), after the
  -- orphan grace: delete | disable | keep.
  on_scale_in = function(target, ctx)
    return "delete"
  end,

  -- A VM whose provisioning Failed while it has a target:
  -- delete | disable | keep.
  on_failed_vm = function(vm, target, ctx)
    return "delete"
  end,

  -- A running VM past the registration grace with no target:
  -- report | ignore.
  on_unregistered = function(vm, ctx)
    return "report"
  end,

  -- At most this many deletions and disables in one run ("N%" of the
  -- in-scope targets, or a count; at least 1). More is a safety stop.
  max_delete = "50%",
}
