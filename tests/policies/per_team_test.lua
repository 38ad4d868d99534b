-- policies/examples/per_team.lua
local t = require "octoscale.testing"

local POLICY = "policies/examples/per_team.lua"

local function scale_in(settings, age)
  return t.plan {
    policy = POLICY,
    settings = settings,
    vms = { t.vm(1), t.vm(2) },
    targets = { t.target "web000001", t.target "web000002", t.target "web000003" },
    state = { orphaned_since = { ["Machines-web000003"] = t.ago(age) } },
  }
end

t.test("per_team: defaults without settings", function()
  t.expect_action(scale_in({}, "11m"), "delete", "web000003")
  t.expect_action(scale_in({}, "9m"), "wait", "web000003")
end)

t.test("per_team: settings choose action and grace", function()
  local settings = { team = "payments", scale_in = "disable", orphan_grace = "30m" }
  t.expect_action(scale_in(settings, "20m"), "wait", "web000003")
  local a = t.expect_action(scale_in(settings, "31m"), "disable", "web000003")
  t.eq(a.reason, "VM gone 31m, grace 30m")
end)

t.test("per_team: a typo in scale_in is an error naming file, hook and value", function()
  local plan = scale_in({ scale_in = "delet" }, "1h")
  t.expect_status(plan, "error")
  t.ok(plan:message():find(
    "^policies/examples/per_team.lua:%d+: on_scale_in returned 'delet' %(expected delete, disable or keep%)$"),
    plan:message())
end)

t.test("per_team: a bad grace setting names the setting", function()
  local plan = scale_in({ orphan_grace = "ten minutes" }, "1h")
  t.expect_status(plan, "error")
  t.ok(plan:message():find("grace.orphan: .*settings.orphan_grace: invalid duration 'ten minutes'"),
    plan:message())
end)

t.test("per_team: protected VMs keep their target when they fail", function()
  local vms = { t.vm(1), t.vm { instance_id = 2, provisioning_state = "Failed", tags = { keep = "true" } },
    t.vm { instance_id = 3, provisioning_state = "Failed" } }
  local plan = t.plan {
    policy = POLICY,
    settings = { protected_tag = "keep", failed_vm = "disable" },
    vms = vms, targets = t.targets_for(vms),
  }
  t.expect_action(plan, "keep", "web000002")
  t.expect_action(plan, "disable", "web000003")
end)

t.test("per_team: unregistered VMs can be ignored", function()
  local plan = t.plan {
    policy = POLICY,
    settings = { ignore_unregistered = true },
    vms = { t.vm { instance_id = 5, age = "1h" } },
  }
  t.eq(#t.actions_for(plan, "web000005"), 0)
  t.eq(plan:summary().classes.unregistered, 1)
end)
