-- The demo's policy: the defaults, spelled out.
return {
  grace = { provisioning = "30m", registration = "10m", orphan = "10m" },
  on_scale_in = function(target, ctx)
    return "delete"
  end,
  max_delete = "50%",
}
