-- "delete\0x" must not read as "delete" where C reads the answer.
return {
  on_scale_in = function(target, ctx)
    return "delete\0x"
  end,
}
