-- policies/examples/freeze_window.lua: settings_schema, validate_settings,
-- reasons and a budget of 0 during a freeze.
local t = require "octoscale.testing"

local POLICY = "policies/examples/freeze_window.lua"
local YEAR_END = { name = "year end", from = "2026-12-20T00:00:00Z", to = "2027-01-02T00:00:00Z" }
local IN_FREEZE = 1798200000 -- 2026-12-25

local function orphan_plan(now, settings)
  return t.plan {
    policy = POLICY, now = now, vms = { t.vm(1) },
    targets = { t.target "web000001", t.target "web000009" },
    state = { orphaned_since = { ["Machines-web000009"] = now - 3600 } },
    settings = settings,
  }
end

t.test("freeze_window: outside a window, the default", function()
  t.expect_action(orphan_plan(t.NOW, { freeze = { YEAR_END } }), "delete", "web000009")
end)

t.test("freeze_window: inside, kept with the window as the reason", function()
  local plan = orphan_plan(IN_FREEZE, { freeze = { YEAR_END } })
  local a = t.expect_action(plan, "keep", "web000009")
  t.eq(a.policy_reason, "freeze window 'year end' until 2027-01-02T00:00:00Z")
  t.eq(plan:summary().kept_by_policy, 1)
  t.eq(plan:summary().budget, 0)
end)

t.test("freeze_window: during_freeze = disable disables instead", function()
  local plan = orphan_plan(IN_FREEZE, { freeze = { YEAR_END }, during_freeze = "disable" })
  t.expect_action(plan, "disable", "web000009")
  t.expect_status(plan, "ok")
end)

t.test("freeze_window: bad settings are refused before any hook runs", function()
  t.expect_error(function()
    orphan_plan(t.NOW, { freeze = { { name = "x", from = "27/11/2026", to = "2027-01-02T00:00:00Z" } } })
  end, "settings%.freeze%[1%]%.from is '27/11/2026' %(expected an RFC 3339 time")
  t.expect_error(function() orphan_plan(t.NOW, { during_freeze = "delete" }) end,
    "settings%.during_freeze is 'delete' %(expected 'keep' or 'disable'%)")
  t.expect_error(function()
    orphan_plan(t.NOW, { freeze = { { name = "x", from = "2027-01-02T00:00:00Z", to = "2026-12-20T00:00:00Z" } } })
  end, "validate_settings: freeze%[1%] %('x'%) ends before it starts")
end)
