local t = require "octoscale.testing"

t.test("keeps the orphan", function()
  local plan = t.plan { policy = "policy.lua", vms = {}, targets = { t.target "webxxxxxx" },
    state = { orphaned_since = { ["Machines-webxxxxxx"] = t.ago "1h" } } }
  t.expect_action(plan, "keep", "webxxxxxx")
end)

t.test("a failing test & <its> message", function()
  local plan = t.plan { policy = "policy.lua", vms = {}, targets = { t.target "webxxxxxx" },
    state = { orphaned_since = { ["Machines-webxxxxxx"] = t.ago "1h" } } }
  t.expect_action(plan, "delete", "webxxxxxx")
end)
