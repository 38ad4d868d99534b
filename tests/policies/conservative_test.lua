-- policies/conservative.lua: disable instead of delete, longer graces,
-- max_delete = "10%".
local t = require "octoscale.testing"

local POLICY = "policies/conservative.lua"

t.test("conservative: scale-in disables, never deletes", function()
  local vms = t.vms(20)
  local targets = t.targets_for(vms)
  targets[#targets + 1] = t.target "web0000ZZ"
  local plan = t.plan {
    policy = POLICY, vms = vms, targets = targets,
    state = { orphaned_since = { ["Machines-web0000ZZ"] = t.ago "31m" } },
  }
  local a = t.expect_action(plan, "disable", "web0000ZZ")
  t.eq(a.reason, "VM gone 31m, grace 30m")
  t.expect_no_action(plan, "web0000ZZ", "delete")
end)

t.test("conservative: the orphan grace is 30m", function()
  local plan = t.plan {
    policy = POLICY,
    vms = t.vms(10),
    targets = { t.target "web000000", t.target "web0000ZZ" },
    state = { orphaned_since = { ["Machines-web0000ZZ"] = t.ago "29m" } },
  }
  t.expect_action(plan, "wait", "web0000ZZ")
end)

t.test("conservative: the registration grace is 20m", function()
  local plan = t.plan {
    policy = POLICY,
    vms = { t.vm { instance_id = 1, age = "15m" }, t.vm { instance_id = 2, age = "21m" } },
  }
  t.expect_action(plan, "wait", "web000001")
  t.expect_action(plan, "report", "web000002")
end)

t.test("conservative: a Failed VM's target is disabled", function()
  local vms = t.vms(10)
  vms[4].provisioning_state = "Failed"
  local plan = t.plan { policy = POLICY, vms = vms, targets = t.targets_for(vms) }
  t.expect_action(plan, "disable", "web000003")
end)

t.test("conservative: already-disabled orphans cost no budget", function()
  local plan = t.plan {
    policy = POLICY,
    vms = { t.vm(1) },
    targets = { t.target "web000001", t.target { name = "web000002", disabled = true } },
    state = { orphaned_since = { ["Machines-web000002"] = t.ago "2h" } },
  }
  t.expect_status(plan, "ok")
  t.expect_no_action(plan, "web000002")
end)

t.test("conservative: more than 10% at once is a safety stop", function()
  -- 20 targets: 10% is 2; three orphans past the grace exceed it.
  local vms = t.vms(17)
  local targets = t.targets_for(vms)
  local orphaned = {}
  for _, name in ipairs { "web0000X1", "web0000X2", "web0000X3" } do
    targets[#targets + 1] = t.target(name)
    orphaned["Machines-" .. name] = t.ago "1h"
  end
  local plan = t.plan {
    policy = POLICY, vms = vms, targets = targets,
    state = { orphaned_since = orphaned },
  }
  t.expect_status(plan, "safety_stop")
  local s = plan:summary()
  t.eq(s.budget, 2)
  t.eq(s.in_scope, 20)
end)

t.test("conservative: --force lifts the budget", function()
  local vms = t.vms(17)
  local targets = t.targets_for(vms)
  local orphaned = {}
  for _, name in ipairs { "web0000X1", "web0000X2", "web0000X3" } do
    targets[#targets + 1] = t.target(name)
    orphaned["Machines-" .. name] = t.ago "1h"
  end
  local plan = t.plan {
    policy = POLICY, vms = vms, targets = targets, force = true,
    state = { orphaned_since = orphaned },
  }
  t.expect_status(plan, "ok")
  t.expect_action(plan, "disable", "web0000X2")
end)
