return {
  grace = { orphan = "0s" },
  -- web000006 expects web000000's name: two VMs claim one target
  target_name = function(vm, ctx)
    if vm.computer_name == "web000006" then return "web000000" end
    return vm.computer_name
  end,
  on_scale_in = function(target, ctx)
    if target.name == "web00000A" then return "disable" end
    return "delete"
  end,
  on_in_sync = function(vm, target, ctx) return "enable" end,
  enable_any_disabled = true, -- the scenario disabled it, not octoscale
  max_delete = 10,
}
