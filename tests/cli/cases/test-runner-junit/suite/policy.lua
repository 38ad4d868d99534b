return {
  on_scale_in = function(target, ctx)
    return "keep", "kept <on purpose> & \"quoted\""
  end,
  -- no test reaches this hook: --coverage lists its lines
  on_failed_vm = function(vm, target, ctx)
    local answer = "disable"
    return answer
  end,
}
