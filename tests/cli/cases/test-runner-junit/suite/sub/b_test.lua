local t = require "octoscale.testing"

t.test("policy beside the parent directory", function()
  t.expect_error(function() t.plan { policy = "policy.lua" } end, "policy.lua: No such file")
end)
