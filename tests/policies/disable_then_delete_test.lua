-- policies/examples/disable_then_delete.lua: disable, then delete a day
-- later, keyed on the policy memory (target.disabled_since).
local t = require "octoscale.testing"

local POLICY = "policies/examples/disable_then_delete.lua"

local function plan_for(target, state, settings)
  return t.plan {
    policy = POLICY, vms = { t.vm(1) },
    targets = { t.target "web000001", target },
    state = state, settings = settings,
  }
end

t.test("disable_then_delete: a target whose VM is gone is disabled first", function()
  local plan = plan_for(t.target "web000009",
    { orphaned_since = { ["Machines-web000009"] = t.ago "1h" } })
  t.eq(t.expect_action(plan, "disable", "web000009").policy_reason,
    "deleted 1d after disabling")
end)

t.test("disable_then_delete: kept while disabled less than delete_after", function()
  local plan = plan_for(t.target { name = "web000009", disabled = true }, {
    orphaned_since = { ["Machines-web000009"] = t.ago "5h" },
    disabled_since = { ["Machines-web000009"] = t.ago "4h" },
  })
  local a = t.expect_action(plan, "keep", "web000009")
  t.eq(a.policy_reason, "disabled by octoscale 4h ago, deleted after 1d")
  t.eq(plan:summary().kept_by_policy, 1)
end)

t.test("disable_then_delete: deleted once disabled long enough, budget spent once", function()
  local plan = plan_for(t.target { name = "web000009", disabled = true }, {
    orphaned_since = { ["Machines-web000009"] = t.ago "2d" },
    disabled_since = { ["Machines-web000009"] = t.ago "25h" },
  })
  t.eq(t.expect_action(plan, "delete", "web000009").policy_reason,
    "disabled by octoscale 1d1h ago")
  t.eq(plan:summary().destructive, 0)
  -- settings.delete_after shortens the wait
  plan = plan_for(t.target { name = "web000009", disabled = true }, {
    orphaned_since = { ["Machines-web000009"] = t.ago "2h" },
    disabled_since = { ["Machines-web000009"] = t.ago "1h" },
  }, { delete_after = "30m" })
  t.expect_action(plan, "delete", "web000009")
end)

t.test("disable_then_delete: a target someone else disabled is theirs", function()
  local plan = plan_for(t.target { name = "web000009", disabled = true },
    { orphaned_since = { ["Machines-web000009"] = t.ago "3d" } })
  t.eq(t.expect_action(plan, "keep", "web000009").policy_reason,
    "disabled outside octoscale: left to whoever did it")
end)

t.test("disable_then_delete: a bad delete_after names the policy line", function()
  local plan = plan_for(t.target "web000009",
    { orphaned_since = { ["Machines-web000009"] = t.ago "1h" } }, { delete_after = "a day" })
  t.expect_status(plan, "error")
  t.ok(plan:message():find("disable_then_delete.lua:%d+: on_scale_in: "), plan:message())
end)
