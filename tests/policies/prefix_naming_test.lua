-- policies/examples/prefix_naming.lua
local t = require "octoscale.testing"

local POLICY = "policies/examples/prefix_naming.lua"

t.test("prefix_naming: default prefix prod-", function()
  local plan = t.plan {
    policy = POLICY,
    vms = { t.vm(3) },
    targets = { t.target "prod-web000003", t.target "prod-web000009",
                t.target "web000003" },
    state = { orphaned_since = { ["Machines-prod-web000009"] = t.ago "1h",
                                 ["Machines-web000003"] = t.ago "1h" } },
    capacity = 1,
  }
  t.expect_action(plan, "keep", "prod-web000003")
  -- A prefixed target whose VM is gone: an orphan, deleted after the grace.
  t.expect_action(plan, "delete", "prod-web000009")
  -- The unprefixed target is not this scale set's (owns): foreign, never
  -- touched.
  local a = t.expect_action(plan, "report", "web000003")
  t.eq(a.class, "foreign")
end)

t.test("prefix_naming: settings.prefix wins", function()
  local plan = t.plan {
    policy = POLICY,
    settings = { prefix = "stg-" },
    vms = { t.vm(1) },
    targets = { t.target "STG-WEB000001" },
  }
  -- Names compare case-insensitively.
  t.expect_action(plan, "keep", "stg-web000001")
  t.eq(plan:outputs().VMSSDeploymentTargetNames, "STG-WEB000001")
end)

t.test("prefix_naming: a new VM without its prefixed target waits", function()
  local plan = t.plan {
    policy = POLICY,
    vms = { t.vm { instance_id = 36, age = "1m" } },
  }
  local a = t.expect_action(plan, "wait", "web000010")
  t.eq(a.class, "provisioning")
end)
