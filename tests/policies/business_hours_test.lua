-- policies/examples/business_hours.lua
local t = require "octoscale.testing"

local POLICY = "policies/examples/business_hours.lua"

-- t.NOW is Friday 2026-11-27 10:00 UTC.
local FRIDAY_10 = t.NOW
local FRIDAY_19 = t.NOW + 9 * 3600
local SATURDAY_10 = t.NOW + 24 * 3600
local MONDAY_07 = t.NOW + 3 * 24 * 3600 - 3 * 3600

local function orphan_plan(now, settings)
  return t.plan {
    policy = POLICY,
    now = now,
    settings = settings,
    vms = { t.vm(1), t.vm(2) },
    targets = { t.target "web000001", t.target "web000002", t.target "web000009" },
    state = { orphaned_since = { ["Machines-web000009"] = now - 3600 } },
  }
end

t.test("business_hours: deletes on a Friday morning", function()
  t.expect_action(orphan_plan(FRIDAY_10), "delete", "web000009")
end)

t.test("business_hours: disables on a Friday evening", function()
  local plan = orphan_plan(FRIDAY_19)
  t.expect_action(plan, "disable", "web000009")
  t.expect_no_action(plan, "web000009", "delete")
end)

t.test("business_hours: disables on a Saturday", function()
  t.expect_action(orphan_plan(SATURDAY_10), "disable", "web000009")
end)

t.test("business_hours: Monday 07:00 is still outside", function()
  t.expect_action(orphan_plan(MONDAY_07), "disable", "web000009")
end)

t.test("business_hours: the window comes from settings", function()
  -- Open on Saturdays 09-12 in UTC+1.
  local settings = { business_days = { 6 }, business_start = 9, business_end = 12,
    utc_offset_hours = 1 }
  t.expect_action(orphan_plan(SATURDAY_10, settings), "delete", "web000009")
  t.expect_action(orphan_plan(FRIDAY_10, settings), "disable", "web000009")
end)

t.test("business_hours: outside = keep", function()
  local plan = orphan_plan(SATURDAY_10, { outside = "keep" })
  local a = t.expect_action(plan, "keep", "web000009")
  t.eq(a.reason, "VM gone 1h, kept by policy")
end)

t.test("business_hours: a bad outside setting stops the plan naming the hook", function()
  local plan = orphan_plan(SATURDAY_10, { outside = "nuke" })
  t.expect_status(plan, "error")
  t.ok(plan:message():find("business_hours.lua:%d+: on_scale_in: .*settings.outside"),
    plan:message())
  t.eq(plan:exit_code(), 3)
end)

t.test("business_hours: a target it disabled is enabled when its VM is back", function()
  local spec = {
    policy = POLICY,
    vms = { t.vm(1) },
    targets = { t.target { name = "web000001", disabled = true } },
    state = { disabled_since = { ["Machines-web000001"] = t.ago "3h" } },
  }
  t.expect_action(t.plan(spec), "enable", "web000001")
  -- one an operator disabled stays disabled
  spec.state = nil
  t.expect_action(t.plan(spec), "keep", "web000001")
end)
