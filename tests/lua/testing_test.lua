-- octoscale.testing builders and assertions, and the reconcile.plan
-- binding underneath them (core/lua/osc_bind_reconcile.c).
local t = require "octoscale.testing"
local policy = require "octoscale.policy"

local function line_here()
  local _, e = pcall(error, "@", 3)
  return tonumber(e:match(":(%d+): @$"))
end

t.test("testing: Uniform computer names are prefix + 6 base-36 digits", function()
  t.eq(t.computer_name("web", 0), "web000000")
  t.eq(t.computer_name("web", 3), "web000003")
  t.eq(t.computer_name("web", 35), "web00000Z")
  t.eq(t.computer_name("web", 36), "web000010")
  t.eq(t.computer_name("web", 36 ^ 6 - 1), "webZZZZZZ")
end)

t.test("testing: vm defaults", function()
  local vm = t.vm(3)
  t.eq(vm.instance_id, "3")
  t.eq(vm.name, "vmss-web_3")
  t.eq(vm.computer_name, "web000003")
  t.eq(vm.provisioning_state, "Succeeded")
  t.eq(vm.power_state, "running")
  t.eq(vm.created_at, t.NOW - 3600)
  t.ok(vm.id:find("/virtualMachineScaleSets/vmss%-web/virtualMachines/3$"), vm.id)
  t.eq(#t.vms(4), 4)
  t.eq(t.vms(2, { first = 10 })[2].computer_name, "web00000B")
end)

t.test("testing: builders refuse unknown fields at the caller's line", function()
  local msg = t.expect_error(function() t.vm { instance_id = 1, provisoning_state = "Failed" } end)
  t.ok(msg:find("^tests/lua/testing_test.lua:%d+: t.vm: unknown field 'provisoning_state'"), msg)
  t.expect_error(function() t.target { nmae = "x" } end, "t.target: unknown field 'nmae'")
  t.expect_error(function() t.plan { vm = {} } end, "t.plan: unknown field 'vm'")
  t.expect_error(function() t.vm {} end, "instance_id is required")
end)

t.test("testing: target defaults and targets_for", function()
  local tg = t.target "web000001"
  t.eq(tg.id, "Machines-web000001")
  t.eq(tg.roles, { "web-server" })
  t.eq(tg.environment_ids, { "Environments-1" })
  t.eq(tg.disabled, false)
  t.eq(tg.comm_style, "listening")
  local list = t.targets_for(t.vms(2), { disabled = true })
  t.eq(list[2].name, "web000001")
  t.eq(list[2].disabled, true)
end)

t.test("testing: ago and seconds", function()
  t.eq(t.ago "12m", t.NOW - 720)
  t.eq(t.seconds "1h30m", 5400)
  t.expect_error(function() t.ago "soon" end, "invalid duration")
end)

t.test("testing: assertion failures point at the test's line", function()
  local plan = t.plan { vms = { t.vm(1) }, targets = { t.target "web000001" } }
  local msg = t.expect_error(function() t.expect_action(plan, "delete", "web000001") end)
  t.ok(msg:find("^tests/lua/testing_test.lua:%d+: expected delete web000001; plan ok: keep web000001$"), msg)
  msg = t.expect_error(function() t.expect_status(plan, "safety_stop") end)
  t.ok(msg:find("expected status safety_stop, got plan ok"), msg)
  msg = t.expect_error(function() t.eq({ a = 1 }, { a = 2 }) end)
  t.ok(msg:find("value.a: expected 2, got 1"), msg)
  t.expect_error(function() t.expect_error(function() end) end, "expected an error, got none")
  t.expect_error(function() t.expect_error(function() error("x") end, "y") end,
    "expected an error matching 'y'")
  t.expect_error(function() t.ok(false, "custom") end, "custom")
end)

t.test("testing: expect_no_action ignores keep unless asked", function()
  local plan = t.plan { vms = { t.vm(1) }, targets = { t.target "web000001" } }
  t.expect_no_action(plan, "web000001")
  t.expect_error(function() t.expect_no_action(plan, "web000001", "keep") end,
    "expected no keep for web000001, got keep")
end)

t.test("reconcile.plan: actions, summary, outputs, status, exit code", function()
  local vms = { t.vm(1), t.vm(2), t.vm { instance_id = 3, provisioning_state = "Creating" } }
  local plan = t.plan {
    vms = vms,
    targets = { t.target "web000001", t.target { name = "web000002", disabled = true },
      t.target "web000009" },
    state = { orphaned_since = { ["Machines-web000009"] = t.ago "20m" } },
  }
  local acts = plan:actions()
  t.eq(#acts, 4)
  t.eq(t.actions_for(plan, "web000001")[1], { action = "keep", class = "in_sync", target_id = "Machines-web000001",
    target_name = "web000001", vm = "vmss-web_1", reason = "in sync" })
  local s = plan:summary()
  t.eq(s.status, "ok")
  t.eq(s.scale_set, "web-prod")
  t.eq(s.delete, 1)
  t.eq(s.wait, 1)
  t.eq(s.keep, 2)
  t.eq(s.vms, 3)
  t.eq(s.in_scope, 3)
  t.eq(s.changes, true)
  t.eq(s.classes.orphan, 1)
  t.eq(s.classes.provisioning, 1)
  t.eq(plan:outputs(), { VMSSHasServersToDeployTo = "True",
    VMSSDeploymentTargetIds = "Machines-web000001",
    VMSSDeploymentTargetNames = "web000001" })
  t.eq(plan:status(), "ok")
  t.eq(plan:exit_code(), 2)
  t.ok(tostring(plan):find("octoscale.Plan %(web%-prod: ok, 4 actions%)"))
end)

t.test("reconcile.plan: no deployable targets", function()
  local plan = t.plan {}
  t.eq(plan:outputs(), { VMSSHasServersToDeployTo = "False",
    VMSSDeploymentTargetIds = "", VMSSDeploymentTargetNames = "" })
  t.eq(plan:exit_code(), 0)
end)

t.test("reconcile.plan: safety rules 1 and 2", function()
  local plan = t.plan { vms = {}, targets = { t.target "web000001" }, capacity = 3 }
  t.expect_status(plan, "safety_stop")
  t.eq(plan:exit_code(), 4)
  plan = t.plan { vms = { t.vm(1) }, targets = { t.target "web000001" }, complete = false,
    incomplete_reason = "VM list page 2 missing" }
  t.expect_status(plan, "safety_stop")
  t.ok(plan:message():find("incomplete"), plan:message())
  t.eq(plan:summary().destructive, 0)
end)

t.test("reconcile.plan: scope keeps other environments, roles and tenants untouched", function()
  local plan = t.plan {
    vms = {},
    capacity = 0,
    targets = {
      t.target { name = "other-env", environment_ids = { "Environments-2" } },
      t.target { name = "missing-role", roles = { "db" } },
      t.target { name = "tenant", tenant_ids = { "Tenants-9" } },
    },
    scope = { tenant_id = "Tenants-1" },
  }
  t.eq(#plan:actions(), 0)
  t.eq(plan:summary().in_scope, 0)
end)

t.test("reconcile.plan: orphans() carries state to the next run", function()
  local spec = { vms = { t.vm(1) }, targets = { t.target "web000001", t.target "web000009" } }
  local first = t.plan(spec)
  t.eq(first:orphans(), { ["Machines-web000009"] = t.NOW })
  spec.state = { orphaned_since = first:orphans() }
  spec.now = t.NOW + 11 * 60
  t.expect_action(t.plan(spec), "delete", "web000009")
end)

t.test("reconcile.plan: misuse raises at the caller's line", function()
  local msg = t.expect_error(function() reconcile.plan "x" end); local line = line_here()
  t.eq(msg, "tests/lua/testing_test.lua:" .. line
    .. ": bad argument #1 to 'reconcile.plan' (expected a table, got string)")
  msg = t.expect_error(function() t.plan { vms = { { name = "a", tags = 3 } } } end); line = line_here()
  t.eq(msg, "tests/lua/testing_test.lua:" .. line
    .. ": bad argument #1 to 'reconcile.plan' (instances[1].tags: expected a table, got number)")
  t.expect_error(function() reconcile.plan { instances = {}, targets = { { id = "x" } } } end,
    "targets%[1%]: a target needs an id and a name")
  t.expect_error(function() reconcile.plan { instances = 5 } end,
    "instances: expected an array, got number")
  t.expect_error(function() reconcile.plan { instances = {}, policy = 5 } end,
    "policy: expected a table or a path, got number")
  t.expect_error(function() reconcile.plan { instances = {}, state = { orphaned_since = { x = "y" } } } end,
    "state.orphaned_since")
end)

t.test("reconcile.plan: the live form is a seam for later", function()
  t.expect_error(function() reconcile.plan { scale_set = "web-prod" } end,
    "reconcile.plan{scale_set = NAME} is not available here")
  local plan = t.plan {}
  t.expect_error(function() plan:apply() end, "Plan:apply%(%) is not available here")
end)

t.test("reconcile.plan: close is idempotent and a closed plan refuses use", function()
  local plan = t.plan {}
  plan:close()
  plan:close()
  t.expect_error(function() plan:actions() end, "attempt to use a closed plan")
  t.eq(tostring(plan), "octoscale.Plan (closed)")
  do
    local p <close> = t.plan {}
    t.eq(p:status(), "ok")
  end
  t.expect_error(function() reconcile.plan.actions({}) end)
  t.eq(getmetatable(plan), false)
end)

t.test("reconcile.plan: many VMs plan quickly", function()
  local vms = t.vms(2000)
  local plan = t.plan { vms = vms, targets = t.targets_for(vms),
    policy = { target_name = function(vm) return vm.computer_name end } }
  t.eq(plan:summary().keep, 2000)
end)

t.test("policy library: check and decision are the core's", function()
  t.eq(policy.check {}, true)
  t.eq(policy.check { grace = { orphan = "10m" }, max_delete = "10%", on_scale_in = "keep" }, true)
  local ok, err = policy.check { on_scalein = 1 }
  t.eq(ok, nil)
  t.eq(err, "policy: unknown field 'on_scalein' in the policy table (did you mean 'on_scale_in'?)")
  t.eq(select(2, policy.check { on_scale_in = "delet" }),
    "policy: on_scale_in is 'delet' (expected a function, or delete, disable or keep)")
  t.eq(select(2, policy.check { grace = { orphans = "1h" } }),
    "policy: unknown grace 'orphans' (did you mean 'orphan'?) (expected provisioning, registration or orphan)")
  t.eq(select(2, policy.check(42)), "policy: the policy returned number (expected a table of hooks)")
  t.eq(select(2, policy.decision("on_scale_in", "delet")),
    "on_scale_in returned 'delet' (expected delete, disable or keep)")
  t.eq(select(2, policy.decision("owns", "yes")), "owns returned 'yes' (expected true or false)")
  t.eq(select(2, policy.decision("target_name", "")), "target_name returned '' (expected a non-empty string)")
  t.eq(select(2, policy.decision("on_scalein", "keep")), "unknown hook 'on_scalein'")
  t.eq(policy.decision("on_unregistered", "ignore"), "ignore")
  t.eq(policy.decision("owns", false), false)
  t.eq(policy.parse_max_delete("10%"), { percent = true, value = 10 })
  t.eq(policy.parse_max_delete("12.5%"), { percent = true, value = 12.5 })
  t.eq(policy.parse_max_delete(3), { percent = false, value = 3 })
  t.eq(policy.parse_max_delete("0%"), { percent = true, value = 0 })
  t.eq(policy.parse_max_delete("101%"), nil)
  t.eq(policy.parse_max_delete(-1), nil)
  t.eq(policy.check { max_delete = function() return 0 end, min_delete_budget = 2 }, true)
  t.eq(select(2, policy.check { min_delete_budget = "2" }),
    "policy: min_delete_budget is '2' (expected a count, 0 or more)")
  t.eq(policy.hooks.on_scale_in, { "delete", "disable", "keep" })
  t.eq(policy.hooks.on_unregistered, { "report", "ignore" })
  t.eq(policy.hooks.target_name, false)
  t.eq(policy.graces, { "provisioning", "registration", "orphan" })
end)

t.test("policy library: check says what reconcile.plan says", function()
  for _, bad in ipairs { { on_scale_in = "delet" }, { on_scalein = "keep" },
      { grace = { orphan = "soon" } }, { max_delete = "lots" } } do
    local _, err = policy.check(bad)
    local plan_err = t.expect_error(function() reconcile.plan { policy = bad } end)
    t.eq(plan_err:sub(-#err), err)
  end
end)

t.test("testing: a scale set that scopes none of the targets warns", function()
  -- the warning goes to the log; the plan itself is what it is
  local plan = t.plan {
    scale_set = t.scale_set { environment = "Production" },
    vms = { t.vm(1) }, targets = { t.target "web000001" },
  }
  t.eq(plan:summary().in_scope, 0)
end)

t.test("testing: policy paths resolve beside the test file", function()
  -- policies/bad_value.lua is tests/lua/policies/bad_value.lua from here
  local plan = t.plan { policy = "policies/bad_value.lua", vms = {},
    targets = { t.target "web00000x" }, state = { orphaned_since = { ["Machines-web00000x"] = t.ago "1h" } } }
  t.ok(plan:message():find("^tests/lua/policies/bad_value.lua:3: on_scale_in returned 'delet'"), plan:message())
end)

t.test("testing: an error in t.plan points at the test's line", function()
  local ok, err = pcall(function() t.plan { policy = "policies/nope.lua" } end)
  t.eq(ok, false)
  t.ok(err:find("^tests/lua/testing_test.lua:%d+: policies/nope.lua: No such file"), err)
end)
