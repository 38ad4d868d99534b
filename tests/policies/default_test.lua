-- policies/default.lua: the documented defaults.
local t = require "octoscale.testing"

local POLICY = "policies/default.lua"

t.test("default: in-sync targets are kept and deployable", function()
  local vms = t.vms(3)
  local plan = t.plan { policy = POLICY, vms = vms, targets = t.targets_for(vms) }
  t.expect_status(plan, "ok")
  t.expect_action(plan, "keep", "web000000")
  t.eq(plan:outputs(), {
    VMSSHasServersToDeployTo = "True",
    VMSSDeploymentTargetIds = "Machines-web000000,Machines-web000001,Machines-web000002",
    VMSSDeploymentTargetNames = "web000000,web000001,web000002",
  })
  t.eq(plan:exit_code(), 0)
end)

t.test("default: scale-in deletes after the 10m orphan grace", function()
  local plan = t.plan {
    policy = POLICY,
    vms = { t.vm(1), t.vm(2) },
    targets = { t.target "web000001", t.target "web000002", t.target "web000003" },
    state = { orphaned_since = { ["Machines-web000003"] = t.ago "12m" } },
  }
  local a = t.expect_action(plan, "delete", "web000003")
  t.eq(a.class, "orphan")
  t.eq(a.reason, "VM gone 12m, grace 10m")
  t.expect_no_action(plan, "web000001")
  t.eq(plan:exit_code(), 2)
end)

t.test("default: a newly orphaned target waits out the grace", function()
  local plan = t.plan {
    policy = POLICY,
    vms = { t.vm(1) },
    targets = { t.target "web000001", t.target "web000003" },
  }
  t.expect_action(plan, "wait", "web000003")
  t.expect_no_action(plan, "web000003")
  -- The first sighting is what the state file keeps.
  t.eq(plan:orphans(), { ["Machines-web000003"] = t.NOW })
end)

t.test("default: a Failed VM's target is deleted", function()
  local vm = t.vm { instance_id = 4, provisioning_state = "Failed" }
  local plan = t.plan { policy = POLICY, vms = { vm, t.vm(5) },
    targets = t.targets_for { vm, t.vm(5) } }
  t.expect_action(plan, "delete", "web000004")
end)

t.test("default: a VM without a target is reported after 10m", function()
  local plan = t.plan {
    policy = POLICY,
    vms = { t.vm { instance_id = 7, age = "11m" }, t.vm { instance_id = 8, age = "2m" } },
  }
  t.expect_action(plan, "report", "web000007")
  t.expect_action(plan, "wait", "web000008")
end)

t.test("default: deleting more than half the targets is a safety stop", function()
  local plan = t.plan {
    policy = POLICY,
    vms = { t.vm(1) },
    targets = { t.target "web000001", t.target "web000002", t.target "web000003",
      t.target "web000004" },
    state = { orphaned_since = {
      ["Machines-web000002"] = t.ago "1h",
      ["Machines-web000003"] = t.ago "1h",
      ["Machines-web000004"] = t.ago "1h",
    } },
  }
  t.expect_status(plan, "safety_stop")
  t.eq(plan:exit_code(), 4)
  t.ok(plan:message():find("3"), "the message gives the numbers")
end)

t.test("default: behaves like an empty policy", function()
  local spec = {
    vms = { t.vm(1), t.vm { instance_id = 2, provisioning_state = "Failed" } },
    targets = { t.target "web000001", t.target "web000002", t.target "web000009" },
    state = { orphaned_since = { ["Machines-web000009"] = t.ago "1h" } },
    capacity = 2,
  }
  spec.policy = POLICY
  local a = t.plan(spec)
  spec.policy = {}
  local b = t.plan(spec)
  t.eq(a:actions(), b:actions())
end)
