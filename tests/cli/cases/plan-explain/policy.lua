-- A policy that explains itself: reasons beside its answers.
return {
  on_scale_in = function(target, ctx)
    return "keep", "freeze window 'year end' until 2027-01-02"
  end,
  on_failed_vm = function(vm, target, ctx)
    return "delete", "failed VMs are rebuilt by the scale set"
  end,
}
