local t = require "octoscale.testing"

t.test("keeps the orphan", function()
  local plan = t.plan { policy = "policy.lua", vms = {}, targets = { t.target "x" },
    state = { orphaned_since = { ["Machines-x"] = t.ago "1h" } } }
  t.expect_action(plan, "keep", "x")
end)

t.test("a failing test & <its> message", function()
  local plan = t.plan { policy = "policy.lua", vms = {}, targets = { t.target "x" },
    state = { orphaned_since = { ["Machines-x"] = t.ago "1h" } } }
  t.expect_action(plan, "delete", "x")
end)
