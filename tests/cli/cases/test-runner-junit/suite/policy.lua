return { on_scale_in = function(target, ctx) return "keep", "kept <on purpose> & \"quoted\"" end }
