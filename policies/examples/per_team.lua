-- One policy file for many teams: each scale set entry's settings choose
-- the behaviour, so teams differ by configuration, not by code.
--
--   scale_sets:
--     - name: payments-prod
--       policy: policies/examples/per_team.lua
--       settings:
--         team: payments
--         scale_in: disable        # delete | disable | keep
--         failed_vm: disable       # delete | disable | keep
--         orphan_grace: 30m
--         registration_grace: 15m
--         ignore_unregistered: false
--         protected_tag: keep      # VMs tagged keep=true are never touched
--
-- Unknown teams get the defaults below. A typo in an action is an error at
-- plan time naming this file and the hook, never a silent default.

local duration = require "octoscale.duration"

local DEFAULTS = {
  scale_in = "delete",
  failed_vm = "delete",
  orphan_grace = "10m",
  registration_grace = "10m",
}

local function setting(ctx, key)
  local v = ctx.settings[key]
  if v == nil then
    return DEFAULTS[key]
  end
  return v
end

local function grace(key)
  return function(subject, ctx)
    local v = setting(ctx, key)
    -- Validate here so a bad value names the setting.
    local seconds, err = duration.parse(v)
    if not seconds then
      error("settings." .. key .. ": " .. err)
    end
    return seconds
  end
end

local function protected(vm, ctx)
  local tag = ctx.settings.protected_tag
  return tag ~= nil and vm ~= nil and vm.tags[tag] == "true"
end

return {
  grace = {
    orphan = grace("orphan_grace"),
    registration = grace("registration_grace"),
  },

  on_scale_in = function(target, ctx)
    if ctx.settings.team then
      ctx.log("team " .. ctx.settings.team .. ": " .. target.name
        .. " is orphaned")
    end
    return setting(ctx, "scale_in")
  end,

  on_failed_vm = function(vm, target, ctx)
    if protected(vm, ctx) then
      return "keep"
    end
    return setting(ctx, "failed_vm")
  end,

  on_unregistered = function(vm, ctx)
    if ctx.settings.ignore_unregistered then
      return "ignore"
    end
    return "report"
  end,
}
