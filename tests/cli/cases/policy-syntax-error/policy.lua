-- A missing comma between two fields.
return {
  on_scale_in = function(target, ctx)
    return "disable"
  end
  max_delete = "10%",
}
