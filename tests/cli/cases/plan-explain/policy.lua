-- A policy that explains itself: reasons beside its answers. --explain
-- names the `return` that answered (line 8), not the hook's first line.
return {
  on_scale_in = function(target, ctx)
    if target.name == "never-orphaned" then
      return "delete", "not this one"
    end
    return "keep", "freeze window 'year end' until 2027-01-02"
  end,
  on_failed_vm = function(vm, target, ctx)
    return "delete", "failed VMs are rebuilt by the scale set"
  end,
}
