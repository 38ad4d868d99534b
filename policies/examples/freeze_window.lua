-- Change freezes: no target is deleted or disabled during a freeze window
-- (year end, a launch), and the plan says why. Outside the windows the
-- default applies. The windows come from the scale set entry's settings,
-- checked by `octoscale check` and `plan` before anything runs:
--
--   settings:
--     freeze:
--       - name: year end
--         from: 2026-12-20T00:00:00Z
--         to: 2027-01-02T00:00:00Z
--     during_freeze: keep          # keep (default) | disable
local time = require "octoscale.time"

-- The window ctx.now falls in, or nil.
local function current_freeze(ctx)
  for _, w in ipairs(ctx.settings.freeze or {}) do
    if ctx.now >= time.parse(w.from) and ctx.now < time.parse(w.to) then
      return w
    end
  end
  return nil
end

local function during(ctx, answer)
  local w = current_freeze(ctx)
  if w == nil then
    return answer
  end
  return ctx.settings.during_freeze or "keep",
    string.format("freeze window '%s' until %s", w.name or "unnamed", w.to)
end

return {
  settings_schema = {
    freeze = { list = { fields = {
      name = "string",
      from = { type = "time", required = true },
      to = { type = "time", required = true },
    } } },
    during_freeze = { enum = { "keep", "disable" } },
  },

  -- What a schema cannot say: each window must end after it starts.
  validate_settings = function(settings)
    for i, w in ipairs(settings.freeze or {}) do
      if time.parse(w.to) <= time.parse(w.from) then
        error(string.format("freeze[%d] ('%s') ends before it starts", i,
          w.name or "unnamed"), 0)
      end
    end
  end,

  on_scale_in = function(target, ctx)
    return during(ctx, "delete")
  end,

  on_failed_vm = function(vm, target, ctx)
    return during(ctx, "delete")
  end,

  -- Nothing destructive while frozen, whatever the hooks say.
  max_delete = function(ctx)
    if current_freeze(ctx) and ctx.settings.during_freeze ~= "disable" then
      return 0
    end
    return "50%"
  end,
}
