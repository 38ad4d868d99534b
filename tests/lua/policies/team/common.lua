-- A helper module shared by a team's policies (required as "team.common").
local M = {}
function M.keep_reason(ctx) return "kept for team " .. ctx.settings.team end
return M
