return {
  on_scale_in = function(target, ctx)
    return "delete"
  end
  max_delete = "10%",
}
