-- A conservative policy for production scale sets: never delete, only
-- disable (a person or a later run removes disabled targets), wait longer
-- before calling a target orphaned, and touch at most 10% of the targets
-- in one run.

return {
  grace = {
    provisioning = "45m",
    registration = "20m",
    orphan = "30m",
  },

  -- Scale-in: keep the target's history and configuration; a disabled
  -- target is skipped by deployments and health checks.
  on_scale_in = function(target, ctx)
    return "disable"
  end,

  -- A Failed VM may be repaired (reimage, redeploy); disable its target
  -- rather than lose it.
  on_failed_vm = function(vm, target, ctx)
    return "disable"
  end,

  on_unregistered = function(vm, ctx)
    return "report"
  end,

  max_delete = "10%",
}
