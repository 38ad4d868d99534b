-- target_name never returns.
return {
  target_name = function(vm, ctx)
    while true do end
  end,
}
