-- on_scale_in is a function or one of delete, disable or keep.
return {
  on_scale_in = "delet",
}
