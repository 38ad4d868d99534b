-- The offline test library loads the same policy as `check`.
local t = require "octoscale.testing"

t.test("the policy loads", function()
  t.plan { policy = "policy.lua" }
end)
