-- A typo in the answer: "delet" is not delete, disable or keep.
return {
  on_scale_in = function(target, ctx)
    return "delet"
  end,
}
