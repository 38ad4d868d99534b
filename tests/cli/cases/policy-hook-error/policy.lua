-- The hook raises: settings has no `teams` table.
return {
  on_scale_in = function(target, ctx)
    local team = ctx.settings.teams[target.name]
    return team and "disable" or "delete"
  end,
}
