-- A policy with a typo in its answer (used by tests/lua/hooks_test.lua).
return {
  on_scale_in = function(target, ctx)
    return "delet"
  end,
}
