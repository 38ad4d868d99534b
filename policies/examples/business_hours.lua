-- No deletions outside business hours: a scale-in that happens at night or
-- on a weekend disables the orphaned target (it stops receiving
-- deployments and health checks at once), and the first run inside
-- business hours deletes it.
--
-- The window is Monday to Friday, 08:00 to 18:00 UTC unless the scale
-- set's settings say otherwise:
--   settings: { business_days: [1, 2, 3, 4, 5], business_start: 8,
--               business_end: 18, utc_offset_hours: 0, outside: disable }
-- (days: 1 = Monday ... 7 = Sunday; `outside` is disable or keep).
-- Time comes from ctx.now only, so plans are reproducible.

local DAY = 86400

-- Day of the week (1 = Monday) and hour of a Unix time.
local function weekday_hour(t)
  local days = t // DAY
  -- 1970-01-01 was a Thursday (4).
  local weekday = (days + 3) % 7 + 1
  local hour = (t % DAY) // 3600
  return weekday, hour
end

local function in_business_hours(ctx)
  local s = ctx.settings
  local offset = (s.utc_offset_hours or 0) * 3600
  local weekday, hour = weekday_hour(ctx.now + offset)
  local days = s.business_days or { 1, 2, 3, 4, 5 }
  local open = false
  for _, d in ipairs(days) do
    open = open or d == weekday
  end
  return open and hour >= (s.business_start or 8)
    and hour < (s.business_end or 18)
end

local function outside_action(ctx)
  local a = ctx.settings.outside or "disable"
  if a ~= "disable" and a ~= "keep" then
    error("settings.outside must be disable or keep, not '"
      .. tostring(a) .. "'")
  end
  return a
end

return {
  on_scale_in = function(target, ctx)
    if in_business_hours(ctx) then
      return "delete"
    end
    return outside_action(ctx)
  end,

  on_failed_vm = function(vm, target, ctx)
    if in_business_hours(ctx) then
      return "delete"
    end
    return outside_action(ctx)
  end,

  -- Disabled out of hours, enabled again if its VM comes back: a target
  -- this policy disabled must not stay disabled once its VM is in sync.
  on_in_sync = function(vm, target, ctx)
    if target.disabled and ctx.settings.reenable ~= false then
      return "enable"
    end
    return "keep"
  end,
}
