-- Disable first, delete later: when a target's VM is gone, octoscale
-- disables the target (deployments skip it, its history stays), and
-- deletes it once it has been disabled by octoscale for
-- settings.delete_after (default 24h). A target someone else disabled is
-- theirs: kept. If the VM comes back in the meantime, the target is
-- enabled again (only the ones octoscale disabled).
--
--   settings: { delete_after: 24h }
--
-- The budget counts each target once: the disable spends it, the later
-- delete of the same target does not.
local duration = require "octoscale.duration"

local function delete_after(ctx)
  return duration.check(ctx.settings.delete_after or "24h")
end

return {
  grace = { orphan = "10m" },

  on_scale_in = function(target, ctx)
    local after = delete_after(ctx)
    if not target.disabled then
      return "disable", "deleted " .. duration.format(after) .. " after disabling"
    end
    if not target.disabled_by_octoscale then
      return "keep", "disabled outside octoscale: left to whoever did it"
    end
    local waited = ctx.now - target.disabled_since
    if waited >= after then
      return "delete", "disabled by octoscale " .. duration.format(waited) .. " ago"
    end
    return "keep", "disabled by octoscale " .. duration.format(waited)
      .. " ago, deleted after " .. duration.format(after)
  end,

  -- The VM is back (Azure reused the instance): undo our disable.
  on_in_sync = "enable",
}
