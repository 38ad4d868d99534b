local common = require "team.common"
return {
  on_scale_in = function(target, ctx) return "keep", common.keep_reason(ctx) end,
}
