-- policies/examples/windows_hostname.lua
local t = require "octoscale.testing"

local POLICY = "policies/examples/windows_hostname.lua"

t.test("windows_hostname: long prefixes are cut to 15 upper-case characters", function()
  local vm = t.vm { instance_id = 71, prefix = "webfrontend" } -- webfrontend00001Z
  t.eq(vm.computer_name, "webfrontend00001Z")
  local plan = t.plan {
    policy = POLICY,
    vms = { vm },
    targets = { t.target "WEBFRONTEND0000" },
  }
  t.expect_action(plan, "keep", "WEBFRONTEND0000")
  t.eq(plan:outputs().VMSSHasServersToDeployTo, "True")
end)

t.test("windows_hostname: short names are upper-cased only", function()
  local plan = t.plan {
    policy = POLICY,
    vms = { t.vm { instance_id = 2, prefix = "app" } },
    targets = { t.target "APP000002" },
  }
  t.expect_action(plan, "keep", "APP000002")
end)

t.test("windows_hostname: two VMs cut to one name are a conflict, not a guess", function()
  local a = t.vm { instance_id = 1, prefix = "webfrontend", computer_name = "webfrontendaa0001" }
  local b = t.vm { instance_id = 2, prefix = "webfrontend", computer_name = "webfrontendaa0002" }
  local plan = t.plan {
    policy = POLICY,
    vms = { a, b },
    targets = { t.target "WEBFRONTENDAA00" },
  }
  t.expect_action(plan, "report", "webfrontendaa0001")
  t.expect_no_action(plan, "WEBFRONTENDAA00")
  for _, act in ipairs(plan:actions()) do
    t.ok(act.class == "conflict", "every action is a conflict report")
  end
end)
