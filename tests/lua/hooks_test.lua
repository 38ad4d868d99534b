-- Policy hooks through reconcile.plan: arguments, validation of answers,
-- errors naming file, line, hook and value (core/lua/osc_policy.c).
local t = require "octoscale.testing"

local function orphan_plan(policy, extra)
  local spec = {
    policy = policy,
    vms = { t.vm(1) },
    targets = { t.target "web000001", t.target "web000009" },
    state = { orphaned_since = { ["Machines-web000009"] = t.ago "1h" } },
  }
  for k, v in pairs(extra or {}) do spec[k] = v end
  return t.plan(spec)
end

t.test("hooks: a bad answer names file, line of the hook, hook and value", function()
  local plan = orphan_plan("tests/lua/policies/bad_value.lua")
  t.expect_status(plan, "error")
  t.eq(plan:message(), "tests/lua/policies/bad_value.lua:3: on_scale_in "
    .. "returned 'delet' (expected delete, disable or keep)")
  t.eq(plan:exit_code(), 3)
  t.eq(#plan:actions(), 0)
end)

-- The line of the caller (error's level 3 from inside pcall).
local function line_here()
  local _, e = pcall(error, "@", 3)
  return tonumber(e:match(":(%d+): @$"))
end

t.test("hooks: a table policy's hook is named at its definition line", function()
  local policy = { on_scale_in = function() return 42 end }; local line = line_here()
  local plan = orphan_plan(policy)
  t.eq(plan:message(), "tests/lua/hooks_test.lua:" .. line
    .. ": on_scale_in returned 42 (expected delete, disable or keep)")
end)

t.test("hooks: every hook's answers are checked", function()
  local vm = t.vm { instance_id = 2, provisioning_state = "Failed" }
  local plan = t.plan {
    policy = { on_failed_vm = function() return "enable" end },
    vms = { vm }, targets = t.targets_for { vm },
  }
  t.ok(plan:message():find("on_failed_vm returned 'enable' %(expected delete, disable or keep%)"), plan:message())
  plan = t.plan {
    policy = { on_unregistered = function() return nil end },
    vms = { t.vm { instance_id = 3, age = "1h" } },
  }
  t.ok(plan:message():find("on_unregistered returned nil %(expected report or ignore%)"), plan:message())
  plan = t.plan {
    policy = { on_in_sync = function() return "delete" end },
    vms = { t.vm(1) }, targets = { t.target { name = "web000001", disabled = true } },
  }
  t.ok(plan:message():find("on_in_sync returned 'delete' %(expected keep or enable%)"), plan:message())
  plan = t.plan {
    policy = { target_name = function() return "" end },
    vms = { t.vm(1) },
  }
  t.ok(plan:message():find("target_name returned '' %(expected a non%-empty string%)"), plan:message())
  plan = t.plan {
    policy = { target_name = function() return {} end },
    vms = { t.vm(1) },
  }
  t.ok(plan:message():find("target_name returned a table value"), plan:message())
end)

t.test("hooks: a raising hook names file, line and hook", function()
  local plan = orphan_plan {
    on_scale_in = function(target) return target.nope.x end,
  }
  t.expect_status(plan, "error")
  t.ok(plan:message():find("^tests/lua/hooks_test.lua:%d+: on_scale_in: attempt to index a nil value %(field 'nope'%)$"),
    plan:message())
end)

t.test("hooks: constant answers are allowed and validated at load", function()
  t.expect_action(orphan_plan { on_scale_in = "disable" }, "disable", "web000009")
  t.expect_error(function() orphan_plan { on_scale_in = "delet" } end,
    "policy: on_scale_in is 'delet' %(expected a function, or delete, disable or keep%)")
end)

t.test("hooks: arguments carry the documented fields", function()
  local seen = {}
  local vm = t.vm { instance_id = 5, provisioning_state = "Failed", zone = "2",
    tags = { team = "web", env = "prod" }, private_ips = { "10.1.0.5", "10.1.0.6" } }
  local target = t.target { vm = vm, roles = { "web-server", "extra" },
    tenant_ids = { "Tenants-1" }, comm_style = "polling" }
  t.plan {
    policy = {
      on_failed_vm = function(v, tg, ctx)
        seen.vm, seen.target, seen.ctx = v, tg, ctx
        return "keep"
      end,
    },
    scale_set = t.scale_set { settings = { answer = 42, nested = { a = { 1, 2 } } } },
    vms = { vm }, targets = { target },
  }
  local v = seen.vm
  t.eq(v.id, vm.id)
  t.eq(v.name, "vmss-web_5")
  t.eq(v.instance_id, "5")
  t.eq(v.computer_name, "web000005")
  t.eq(v.provisioning_state, "Failed")
  t.eq(v.power_state, "running")
  t.eq(v.private_ips, { "10.1.0.5", "10.1.0.6" })
  t.eq(v.created_at, t.ago "1h")
  t.eq(v.zone, "2")
  t.eq(v.tags, { team = "web", env = "prod" })
  t.eq(v.scale_set, "vmss-web")
  local tg = seen.target
  t.eq(tg.id, "Machines-web000005")
  t.eq(tg.name, "web000005")
  t.eq(tg.roles, { "web-server", "extra" })
  t.eq(tg.environment_ids, { "Environments-1" })
  t.eq(tg.tenant_ids, { "Tenants-1" })
  t.eq(tg.health, "Healthy")
  t.eq(tg.disabled, false)
  t.eq(tg.comm_style, "polling")
  t.eq(tg.uri, "poll://web000005/")
  t.eq(type(tg.thumbprint), "string")
  local ctx = seen.ctx
  t.eq(ctx.now, t.NOW)
  t.eq(ctx.scale_set.name, "web-prod")
  t.eq(ctx.scale_set.vmss, "vmss-web")
  t.eq(ctx.scale_set.roles, { "web-server" })
  t.eq(ctx.settings.answer, 42)
  t.eq(ctx.settings.nested.a, { 1, 2 })
  t.eq(type(ctx.log), "function")
  ctx.log("ctx.log works")
end)

t.test("hooks: ctx.settings is read-only, a write raises at the hook's line", function()
  local settings = { answer = 42, nested = { list = { 1, 2 } } }
  local function plan_writing(write)
    return orphan_plan({ on_scale_in = function(target, ctx)
      write(ctx.settings)
      return "keep"
    end }, { settings = settings })
  end
  local writes = {
    function(s) s.answer = 43 end,
    function(s) s.added = true end,
    function(s) s.nested.list[3] = 3 end,
    function(s) table.insert(s.nested.list, 3) end,
    function(s) rawset(s, "answer", 43) end,
  }
  for i, write in ipairs(writes) do
    local plan = plan_writing(write)
    t.expect_status(plan, "error")
    t.ok(plan:message():find("^tests/lua/hooks_test%.lua:%d+: .*attempt to modify read%-only") ~= nil,
      "write " .. i .. ": " .. plan:message())
  end
  -- the line named is the line that wrote
  local here = tonumber(select(2, pcall(error, "", 2)):match(":(%d+):"))
  local msg = plan_writing(function(s) s.answer = 43 end):message()
  t.eq(msg, ("tests/lua/hooks_test.lua:%d: on_scale_in: attempt to modify read-only "
    .. "ctx.settings (copy it to change it)"):format(here + 1))
  -- the caller's table is untouched; reading works as before
  t.eq(settings, { answer = 42, nested = { list = { 1, 2 } } })
  local seen = {}
  orphan_plan({ on_scale_in = function(target, ctx)
    seen.n = #ctx.settings.nested.list
    for i, v in ipairs(ctx.settings.nested.list) do seen[i] = v end
    for k in pairs(ctx.settings) do seen[k] = true end
    seen.same = ctx.settings.nested == ctx.settings.nested
    seen.next = next(ctx.settings) ~= nil and next(ctx.settings.nested.list) == 1
    return "keep"
  end }, { settings = settings })
  t.eq(seen, { n = 2, 1, 2, answer = true, nested = true, same = true, next = true })
end)

t.test("hooks: on_scale_in sees orphaned_since", function()
  local since
  orphan_plan { on_scale_in = function(target) since = target.orphaned_since; return "keep" end }
  t.eq(since, t.ago "1h")
end)

t.test("hooks: grace functions get the subject and may return seconds", function()
  local subjects = {}
  local plan = orphan_plan {
    grace = {
      orphan = function(target, ctx)
        subjects[#subjects + 1] = target.name
        return target.name == "web000009" and 7200 or "10m"
      end,
    },
  }
  t.eq(subjects, { "web000009" })
  local a = t.expect_action(plan, "wait", "web000009")
  t.eq(a.reason, "VM gone 1h, grace 2h")
end)

t.test("hooks: a grace function's bad answer is an error naming it", function()
  local plan = orphan_plan { grace = { orphan = function() return "soon" end } }
  t.ok(plan:message():find("^tests/lua/hooks_test.lua:%d+: grace.orphan returned 'soon' %(expected a duration"),
    plan:message())
end)

t.test("hooks: policy validation names the field", function()
  t.expect_error(function() orphan_plan { on_scalein = "delete" } end,
    "unknown field 'on_scalein' in the policy table %(did you mean 'on_scale_in'%?%)")
  t.expect_error(function() orphan_plan { grace = { orphans = "1m" } } end,
    "unknown grace 'orphans' %(did you mean 'orphan'%?%)")
  t.expect_error(function() orphan_plan { grace = { orphan = "10 minutes" } } end,
    "grace.orphan is '10 minutes' %(expected a duration")
  t.expect_error(function() orphan_plan { grace = "10m" } end, "grace is a string value")
  t.expect_error(function() orphan_plan { [1] = "x" } end, "unexpected number key")
end)

t.test("hooks: max_delete takes a percentage or a count", function()
  local function budget(max_delete, n)
    local vms = t.vms(n)
    return t.plan { policy = { max_delete = max_delete }, vms = vms,
      targets = t.targets_for(vms) }:summary().budget
  end
  t.eq(budget("10%", 40), 4)
  t.eq(budget("10%", 5), 1) -- at least 1
  t.eq(budget(3, 40), 3)
  t.eq(budget("3", 40), 3)
  t.eq(budget("12.5%", 40), 5)
  t.eq(budget(0, 40), 0)
  t.eq(budget("0%", 40), 0)
  for _, bad in ipairs { "101%", "ten", "-1", -1, 1.5, "5%%", true, "-1%" } do
    t.expect_error(function() budget(bad, 2) end, "max_delete is .* %(expected a percentage")
  end
end)

-- n in-sync targets plus gone orphans past their grace.
local function scale_in_plan(policy, n_sync, n_gone, extra)
  local vms = t.vms(n_sync)
  local targets = t.targets_for(vms)
  local orphaned = {}
  for i = 1, n_gone do
    local name = string.format("webgone%02d", i)
    targets[#targets + 1] = t.target(name)
    orphaned["Machines-" .. name] = t.ago "1h"
  end
  local spec = { policy = policy, vms = vms, targets = targets,
    state = { orphaned_since = orphaned } }
  for k, v in pairs(extra or {}) do spec[k] = v end
  return t.plan(spec)
end

t.test("budget: max_delete = 0 never deletes or disables, even forced", function()
  for _, answer in ipairs { "delete", "disable" } do
    for _, force in ipairs { false, true } do
      local plan = scale_in_plan({ max_delete = 0, on_scale_in = answer }, 3, 1,
        { force = force })
      t.expect_status(plan, "safety_stop")
      t.eq(plan:message(), "deletion budget exceeded: 1 targets to delete or "
        .. "disable, max_delete 0 allows none (--force does not override a "
        .. "budget of 0)")
      t.eq(plan:exit_code(), 4)
    end
  end
  -- nothing destructive to do: 0 is no obstacle
  t.expect_status(scale_in_plan({ max_delete = "0%" }, 3, 0), "ok")
end)

t.test("budget: min_delete_budget lets a small set scale in", function()
  -- 20% of 6 is 1: a 2-VM scale-in stops on every run without it
  t.expect_status(scale_in_plan({ max_delete = "20%" }, 4, 2), "safety_stop")
  local plan = scale_in_plan({ max_delete = "20%", min_delete_budget = 2 }, 4, 2)
  t.expect_status(plan, "ok")
  t.eq(plan:summary().budget, 2)
  plan = scale_in_plan({ max_delete = "20%", min_delete_budget = 2 }, 3, 3)
  t.eq(plan:message(), "deletion budget exceeded: 3 targets to delete or "
    .. "disable, max_delete 20% of 6 in-scope targets (min_delete_budget 2) "
    .. "allows 2 (--force overrides)")
  -- 0 turns the floor off: 20% of 3 allows nothing
  t.eq(scale_in_plan({ max_delete = "20%", min_delete_budget = 0 }, 2, 1):summary().budget, 0)
  for _, bad in ipairs { -1, 1.5, "2", true } do
    t.expect_error(function() scale_in_plan({ min_delete_budget = bad }, 1, 0) end,
      "min_delete_budget is .* %(expected a count, 0 or more%)")
  end
end)

t.test("budget: max_delete may be computed from ctx", function()
  local seen
  local policy = {
    max_delete = function(ctx)
      seen = ctx
      return ctx.settings.budget
    end,
  }
  local plan = scale_in_plan(policy, 8, 2, { settings = { budget = "25%" } })
  t.expect_status(plan, "ok")
  t.eq(plan:summary().budget, 2)
  t.eq(seen.settings.budget, "25%")
  plan = scale_in_plan(policy, 8, 2, { settings = { budget = 1 } })
  t.expect_status(plan, "safety_stop")
  t.eq(scale_in_plan(policy, 8, 2, { settings = { budget = 0 } }):summary().budget, 0)
  policy = { max_delete = function() return "lots" end }; local line = line_here()
  plan = scale_in_plan(policy, 2, 1)
  t.expect_status(plan, "error")
  t.eq(plan:message(), "tests/lua/hooks_test.lua:" .. line .. ": max_delete "
    .. "returned 'lots' (expected a percentage such as \"10%\" or a count)")
  t.eq(plan:exit_code(), 3)
  plan = scale_in_plan({ max_delete = function() error("no budget") end }, 2, 1)
  t.ok(plan:message():find("^tests/lua/hooks_test.lua:%d+: max_delete: no budget$"), plan:message())
end)

t.test("hooks: a policy file's syntax error raises with its file and line", function()
  local msg = t.expect_error(function() orphan_plan "tests/lua/policies/syntax_error.lua" end)
  t.ok(msg:find("^tests/lua/policies/syntax_error.lua:5: '}' expected %(to close '{' at line 1%) near 'max_delete'$"), msg)
end)

t.test("hooks: a runtime error while loading names the policy line", function()
  local msg = t.expect_error(function() orphan_plan "tests/lua/policies/load_error.lua" end)
  t.eq(msg, "tests/lua/policies/load_error.lua:2: attempt to index a nil value (local 'settings')")
end)

t.test("hooks: a missing policy file", function()
  t.expect_error(function() orphan_plan "tests/lua/policies/nope.lua" end,
    "nope.lua: No such file or directory")
end)

t.test("hooks: owns decides which unclaimed targets are the scale set's", function()
  local asked = {}
  local policy = {
    owns = function(target, ctx)
      asked[#asked + 1] = target.name
      return target.name ~= "web000009"
    end,
  }
  local plan = orphan_plan(policy, {
    targets = { t.target "web000001", t.target "web000009", t.target "web000008" },
    state = { orphaned_since = { ["Machines-web000009"] = t.ago "1h",
                                 ["Machines-web000008"] = t.ago "1h" } },
  })
  table.sort(asked)
  -- never asked about web000001: a VM claims it
  t.eq(table.concat(asked, ","), "web000008,web000009")
  local a = t.expect_action(plan, "report", "web000009")
  t.eq(a.class, "foreign")
  t.expect_action(plan, "delete", "web000008")
end)

t.test("hooks: owns must answer true or false", function()
  local policy = { owns = function() return "yes" end }; local line = line_here()
  local plan = orphan_plan(policy)
  t.expect_status(plan, "error")
  t.eq(plan:message(), "tests/lua/hooks_test.lua:" .. line
    .. ": owns returned 'yes' (expected true or false)")
  t.eq(plan:exit_code(), 3)
end)

t.test("hooks: without owns, names outside the prefix are foreign", function()
  local plan = orphan_plan(nil, {
    targets = { t.target "web000001", t.target "web-legacy-01", t.target "fabrikam-web-01" },
    state = { orphaned_since = { ["Machines-web-legacy-01"] = t.ago "1d",
                                 ["Machines-fabrikam-web-01"] = t.ago "1d" } },
  })
  t.eq(t.expect_action(plan, "report", "web-legacy-01").class, "foreign")
  t.eq(t.expect_action(plan, "report", "fabrikam-web-01").class, "foreign")
  t.eq(plan:summary().destructive or 0, 0)
end)

t.test("reasons: a hook's second value explains the action", function()
  local plan = orphan_plan {
    on_scale_in = function() return "keep", "freeze window 'year end'" end,
  }
  local a = t.expect_action(plan, "keep", "web000009")
  t.eq(a.reason, "VM gone 1h, kept by policy: freeze window 'year end'")
  t.eq(a.policy_reason, "freeze window 'year end'")
  t.eq(a.kept_by_policy, true)
  t.eq(plan:summary().kept_by_policy, 1)
  -- a delete carries its reason too, and is not a keep
  plan = orphan_plan { on_scale_in = function() return "delete", "drained" end }
  a = t.expect_action(plan, "delete", "web000009")
  t.eq(a.reason, "VM gone 1h, grace 10m: drained")
  t.eq(a.kept_by_policy, nil)
  t.eq(plan:summary().kept_by_policy, 0)
  -- no reason: the engine's own
  plan = orphan_plan { on_scale_in = function() return "keep" end }
  a = t.expect_action(plan, "keep", "web000009")
  t.eq(a.reason, "VM gone 1h, kept by policy")
  t.eq(a.policy_reason, nil)
  -- a reason is one line
  plan = orphan_plan { on_scale_in = function() return "keep", "a\nb" end }
  t.eq(t.expect_action(plan, "keep", "web000009").policy_reason, "a b")
end)

t.test("reasons: every decision hook may give one; only strings", function()
  local vm = t.vm { instance_id = 2, provisioning_state = "Failed" }
  local plan = t.plan {
    policy = { on_failed_vm = function() return "disable", "rebuild pending" end },
    vms = { vm }, targets = t.targets_for { vm },
  }
  t.eq(t.expect_action(plan, "disable", vm.computer_name).policy_reason, "rebuild pending")
  plan = t.plan {
    policy = { on_unregistered = function() return "report", "bake image lacks tentacle" end },
    vms = { t.vm { instance_id = 3, age = "1h" } },
  }
  t.ok(plan:actions()[1].reason:find(": bake image lacks tentacle$"), plan:actions()[1].reason)
  plan = t.plan {
    policy = { on_in_sync = function() return "enable", "back in service" end },
    vms = { t.vm(1) }, targets = { t.target { name = "web000001", disabled = true } },
    state = { disabled_since = { ["Machines-web000001"] = t.ago "1h" } },
  }
  t.eq(t.expect_action(plan, "enable", "web000001").policy_reason, "back in service")
  local policy = { on_scale_in = function() return "keep", {} end }; local line = line_here()
  plan = orphan_plan(policy)
  t.expect_status(plan, "error")
  t.eq(plan:message(), "tests/lua/hooks_test.lua:" .. line
    .. ": on_scale_in returned the reason a table value (expected a string)")
end)

t.test("memory: hooks see disabled_since and disabled_by_octoscale", function()
  local seen = {}
  local policy = {
    on_scale_in = function(target)
      seen[target.name] = { target.disabled_since, target.disabled_by_octoscale }
      return "keep"
    end,
  }
  local plan = t.plan {
    policy = policy, vms = {},
    targets = { t.target { name = "webours01", disabled = true },
      t.target { name = "webtheirs", disabled = true },
      t.target { name = "webstale1", disabled = false } },
    state = {
      orphaned_since = { ["Machines-webours01"] = t.ago "2h", ["Machines-webtheirs"] = t.ago "2h",
        ["Machines-webstale1"] = t.ago "2h" },
      -- "webstale1" was re-enabled by someone since: the record no longer holds
      disabled_since = { ["Machines-webours01"] = t.ago "90m", ["Machines-webstale1"] = t.ago "3h" },
    },
  }
  t.eq(seen.webours01, { t.ago "90m", true })
  t.eq(seen.webtheirs, { nil, false })
  t.eq(seen.webstale1, { nil, false })
  -- what apply would keep remembering
  t.eq(plan:disabled(), { ["Machines-webours01"] = t.ago "90m" })
end)

t.test("memory: disable then delete costs the budget once", function()
  -- delete 24 h after octoscale disabled it; disable first
  local policy = {
    max_delete = 1,
    on_scale_in = function(target, ctx)
      if target.disabled_by_octoscale and ctx.now - target.disabled_since >= 86400 then
        return "delete", "disabled by octoscale 24h ago"
      end
      return "disable"
    end,
  }
  local targets = { t.target { name = "webaaaaaa", disabled = true }, t.target { name = "webbbbbbb" } }
  local state = {
    orphaned_since = { ["Machines-webaaaaaa"] = t.ago "2d", ["Machines-webbbbbbb"] = t.ago "1h" },
    disabled_since = { ["Machines-webaaaaaa"] = t.ago "25h" },
  }
  local plan = t.plan { policy = policy, vms = {}, targets = targets, state = state }
  t.expect_status(plan, "ok")
  t.eq(t.expect_action(plan, "delete", "webaaaaaa").reason, "VM gone 2d, grace 10m: disabled by octoscale 24h ago")
  t.expect_action(plan, "disable", "webbbbbbb")
  t.eq(plan:summary().destructive, 1) -- a's delete was paid for by its disable
  -- a target someone else disabled is not prepaid
  state.disabled_since = nil
  plan = t.plan { policy = { max_delete = 1, on_scale_in = "delete" }, vms = {},
    targets = targets, state = state }
  t.expect_status(plan, "safety_stop")
  t.eq(plan:summary().destructive, 2)
end)

t.test("memory: on_in_sync enables only what octoscale disabled", function()
  local vms = { t.vm(1), t.vm(2) }
  local targets = { t.target { name = "web000001", disabled = true },
    t.target { name = "web000002", disabled = true } }
  local state = { disabled_since = { ["Machines-web000001"] = t.ago "1h" } }
  local plan = t.plan { policy = { on_in_sync = "enable" }, vms = vms,
    targets = targets, state = state }
  t.expect_action(plan, "enable", "web000001")
  t.eq(t.expect_action(plan, "keep", "web000002").reason,
    "in sync, disabled outside octoscale: not enabled (enable_any_disabled allows it)")
  plan = t.plan { policy = { on_in_sync = "enable", enable_any_disabled = true },
    vms = vms, targets = targets, state = state }
  t.expect_action(plan, "enable", "web000001")
  t.expect_action(plan, "enable", "web000002")
  t.expect_error(function()
    t.plan { policy = { enable_any_disabled = "yes" }, vms = vms }
  end, "enable_any_disabled is a string value %(expected true or false%)")
end)

t.test("settings: settings_schema checks types, enums, durations, times, lists", function()
  local schema = {
    team = { type = "string", required = true },
    outside = { enum = { "keep", "disable" } },
    delete_after = "duration",
    size = "integer",
    freeze = { list = { fields = {
      name = "string",
      from = { type = "time", required = true },
      to = { type = "time", required = true },
    } } },
    tags = { map = "string" },
  }
  local function plan_with(settings)
    return t.plan { policy = { settings_schema = schema }, vms = { t.vm(1) },
      settings = settings }
  end
  t.expect_status(plan_with { team = "web", outside = "keep", delete_after = "1d",
    size = 3, freeze = { { name = "year end", from = "2026-12-20T00:00:00Z",
      to = "2027-01-02T00:00:00Z" } }, tags = { a = "b" } }, "ok")
  local cases = {
    { { team = "web", freeze = { { from = "27/11/2026", to = "2027-01-02T00:00:00Z" } } },
      "settings.freeze[1].from is '27/11/2026' (expected an RFC 3339 time such as 2026-11-27T10:00:00Z)" },
    { { outside = "keep" }, "settings.team is missing (settings_schema requires it)" },
    { { team = "web", outside = "nuke" }, "settings.outside is 'nuke' (expected 'keep' or 'disable')" },
    { { team = "web", delete_after = "a day" }, "settings.delete_after is 'a day' (expected a duration such as 10m or 1h30m)" },
    { { team = "web", tem = 1 }, "settings.tem is not a known setting (expected delete_after, freeze, outside, size, tags or team)" },
    { { team = "web", size = 1.5 }, "settings.size is 1.5 (expected an integer)" },
    { { team = "web", freeze = { x = 1 } }, "settings.freeze is a table (expected a list)" },
    { { team = "web", tags = { a = 1 } }, "settings.tags.a is 1 (expected a string)" },
  }
  for _, c in ipairs(cases) do
    local msg = t.expect_error(function() plan_with(c[1]) end)
    t.ok(msg:find(c[2], 1, true), msg)
    t.ok(msg:find("(settings_schema of policy)", 1, true), msg)
  end
end)

t.test("settings: a bad settings_schema fails at load", function()
  for _, c in ipairs {
    { { team = "strng" }, "settings_schema.team: unknown type 'strng'" },
    { { team = { tpye = "string" } }, "settings_schema.team: unknown spec key 'tpye'" },
    { { freeze = { list = { fields = { from = "tiem" } } } }, "settings_schema.freeze.from: unknown type 'tiem'" },
    { "string", "settings_schema is a string value" },
  } do
    t.expect_error(function()
      t.plan { policy = { settings_schema = c[1] }, vms = { t.vm(1) } }
    end, c[2]:gsub("[%.%[%]%(%)%-]", "%%%0"))
  end
end)

t.test("settings: validate_settings sees settings and the entry; a raise rejects", function()
  local got
  local policy = {
    validate_settings = function(settings, entry)
      got = { settings.window, entry.name }
      if settings.window == "never" then error("window 'never' is not a window") end
    end,
  }
  t.plan { policy = policy, vms = { t.vm(1) }, settings = { window = "always" } }
  t.eq(got, { "always", "web-prod" })
  local msg = t.expect_error(function()
    t.plan { policy = policy, vms = { t.vm(1) }, settings = { window = "never" } }
  end)
  t.ok(msg:find("settings rejected by tests/lua/hooks_test.lua:%d+: validate_settings: window 'never' is not a window"), msg)
end)
