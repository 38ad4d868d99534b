-- Offline policy tests, run by `octoscale test FILE...` (docs/design.md §7).
--
--   local t = require "octoscale.testing"
--
--   t.test("scale-in deletes after the orphan grace", function()
--     local plan = t.plan {
--       policy = "policies/default.lua",
--       vms = { t.vm(1) },
--       targets = { t.target "web000001", t.target "web000003" },
--       state = { orphaned_since = { ["Machines-web000003"] = t.ago "12m" } },
--     }
--     t.expect_action(plan, "delete", "web000003")
--     t.expect_no_action(plan, "web000001")
--   end)
--
-- Each registered test runs in its own protected call with its own
-- instruction and time budget; the runner prints "ok - name" or
-- "not ok - name: file:line: message" and finally "N passed, N failed".
-- Builders fill in sensible defaults for one scale set, "web-prod"
-- (VMSS "vmss-web", environment "Environments-1", role "web-server"), so a
-- test spells out only what it is about. Unknown builder fields raise, so
-- a typo cannot silently test the defaults.

local duration = require "octoscale.duration"

local M = {}

--- The fixed clock of tests: 2026-11-27T10:00:00Z, a Friday (the CLI
--- golden tests use the same OCTOSCALE_NOW).
M.NOW = 1795773600

local SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"

local tests = {}

-- plan -> {[lower(computer name)] = VM name}, so assertions can name a VM
-- by its computer name (VM-only actions carry the VM's resource name).
local vm_names = setmetatable({}, { __mode = "k" })

local function fail(msg, level)
  error(msg, (level or 1) + 2)
end

local function check_keys(what, spec, allowed, level)
  for k in pairs(spec) do
    if not allowed[k] then
      local names = {}
      for a in pairs(allowed) do
        names[#names + 1] = a
      end
      table.sort(names)
      fail(string.format("%s: unknown field '%s' (known: %s)", what,
        tostring(k), table.concat(names, ", ")), (level or 1) + 1)
    end
  end
end

local function copy(v)
  if type(v) ~= "table" then
    return v
  end
  local c = {}
  for k, x in pairs(v) do
    c[k] = copy(x)
  end
  return c
end

--- Registers a test.
function M.test(name, fn)
  if type(name) ~= "string" or type(fn) ~= "function" then
    fail("t.test(name, function): expected a name and a function")
  end
  tests[#tests + 1] = { name = name, fn = fn }
end

--- For the runner: the registered tests, and forget them.
function M._take_tests()
  local list = tests
  tests = {}
  return list
end

-- --- time -------------------------------------------------------------------

--- Seconds of a duration ("12m") or a number of seconds.
function M.seconds(d)
  local s, err = duration.parse(d)
  if not s then
    fail(err)
  end
  return s
end

--- M.NOW minus a duration: t.ago "12m".
function M.ago(d, now)
  return (now or M.NOW) - M.seconds(d)
end

-- --- builders -----------------------------------------------------------------

local BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

--- Azure's Uniform computer names: prefix .. the instance id in base 36,
--- upper case, zero-padded to 6 characters (instance 35 -> "web00000Z").
function M.computer_name(prefix, instance_id)
  local n = math.tointeger(tonumber(instance_id))
  if not n or n < 0 then
    fail("t.computer_name: instance id must be a non-negative integer")
  end
  local digits = {}
  repeat
    local d = n % 36
    table.insert(digits, 1, BASE36:sub(d + 1, d + 1))
    n = n // 36
  until n == 0
  local s = table.concat(digits)
  return prefix .. string.rep("0", 6 - #s) .. s
end

--- The default scale set entry (the config entry's shape, ctx.scale_set).
function M.scale_set(spec)
  spec = spec or {}
  check_keys("t.scale_set", spec, {
    name = true, resource_group = true, vmss = true, subscription = true,
    environment = true, roles = true, tenant = true, policy = true,
    settings = true,
  })
  local ss = {
    name = "web-prod",
    resource_group = "rg-web",
    vmss = "vmss-web",
    subscription = SUBSCRIPTION,
    environment = "Environments-1",
    roles = { "web-server" },
    settings = {},
  }
  for k, v in pairs(spec) do
    ss[k] = copy(v)
  end
  return ss
end

local VM_FIELDS = {
  id = true, name = true, instance_id = true, computer_name = true,
  vm_id = true, provisioning_state = true, power_state = true,
  private_ips = true, created_at = true, zone = true, tags = true,
  scale_set = true,
  -- builder-only
  prefix = true, age = true, resource_group = true,
}

--- A VMSS VM: t.vm(3) or t.vm{instance_id = 3, provisioning_state =
--- "Failed", age = "2m", tags = {team = "a"}}. `prefix` (default "web")
--- makes the computer name; `age` (default "1h") sets created_at from
--- t.NOW.
function M.vm(spec)
  if type(spec) ~= "table" then
    spec = { instance_id = spec }
  end
  check_keys("t.vm", spec, VM_FIELDS)
  local iid = spec.instance_id
  if iid == nil then
    fail("t.vm: instance_id is required (t.vm(3) or t.vm{instance_id = 3})")
  end
  iid = tostring(math.tointeger(iid) or iid)
  local vmss = spec.scale_set or "vmss-web"
  local prefix = spec.prefix or "web"
  local computer_name = spec.computer_name
  if computer_name == nil and iid:match("^%d+$") then
    computer_name = M.computer_name(prefix, iid)
  end
  local n = tonumber(iid) or 0
  local vm = {
    id = spec.id or string.format(
      "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/"
        .. "virtualMachineScaleSets/%s/virtualMachines/%s",
      SUBSCRIPTION, spec.resource_group or "rg-web", vmss, iid),
    name = spec.name or (vmss .. "_" .. iid),
    instance_id = iid,
    computer_name = computer_name,
    vm_id = spec.vm_id
      or string.format("00000000-0000-4000-8000-%012d", math.floor(n)),
    provisioning_state = spec.provisioning_state or "Succeeded",
    power_state = spec.power_state or "running",
    private_ips = copy(spec.private_ips)
      or { string.format("10.0.%d.%d", (n + 4) // 250, (n + 4) % 250) },
    created_at = spec.created_at or M.ago(spec.age or "1h"),
    zone = spec.zone,
    tags = copy(spec.tags) or {},
    scale_set = vmss,
  }
  return vm
end

--- n VMs with instance ids first .. first + n - 1 (first defaults to 0);
--- spec is passed to each t.vm.
function M.vms(n, spec)
  local list = {}
  spec = spec or {}
  local first = spec.first or 0
  for i = 0, n - 1 do
    local s = copy(spec)
    s.first = nil
    s.instance_id = first + i
    list[#list + 1] = M.vm(s)
  end
  return list
end

local TARGET_FIELDS = {
  id = true, name = true, roles = true, environment_ids = true,
  tenant_ids = true, health = true, disabled = true, comm_style = true,
  comm_style_raw = true, uri = true, thumbprint = true,
  -- builder-only
  vm = true,
}

--- An Octopus deployment target: t.target "web000003",
--- t.target{vm = some_vm, disabled = true}, t.target{name = "x",
--- roles = {"db"}}. Defaults put it in the default scale set's scope; the
--- id defaults to "Machines-<name>".
function M.target(spec)
  if type(spec) == "string" then
    spec = { name = spec }
  end
  if type(spec) ~= "table" then
    fail("t.target: expected a name or a table")
  end
  check_keys("t.target", spec, TARGET_FIELDS)
  local name = spec.name
  if name == nil and spec.vm ~= nil then
    name = spec.vm.computer_name or spec.vm.name
  end
  if name == nil then
    fail("t.target: name (or vm) is required")
  end
  local style = spec.comm_style or "listening"
  return {
    id = spec.id or ("Machines-" .. name),
    name = name,
    roles = copy(spec.roles) or { "web-server" },
    environment_ids = copy(spec.environment_ids) or { "Environments-1" },
    tenant_ids = copy(spec.tenant_ids) or {},
    health = spec.health or "Healthy",
    disabled = spec.disabled or false,
    comm_style = style,
    comm_style_raw = spec.comm_style_raw,
    uri = spec.uri or (style == "polling"
      and ("poll://" .. name:lower() .. "/")
      or ("https://" .. name:lower() .. ":10933/")),
    thumbprint = spec.thumbprint or "A1B2C3D4E5F60718293A4B5C6D7E8F9012345678",
  }
end

--- One target per VM (named after its computer name); spec applies to
--- each.
function M.targets_for(vms, spec)
  local list = {}
  for _, vm in ipairs(vms) do
    local s = copy(spec or {})
    s.vm = vm
    list[#list + 1] = M.target(s)
  end
  return list
end

local PLAN_FIELDS = {
  policy = true, vms = true, instances = true, targets = true, state = true,
  now = true, scale_set = true, settings = true, scope = true,
  capacity = true, complete = true, incomplete_reason = true, force = true,
  computer_name_prefix = true,
}

--- Plans offline with reconcile.plan: t.plan{policy = "policies/x.lua" or
--- a table, vms = {...}, targets = {...}, state = {orphaned_since =
--- {[id] = t}}, now = t.NOW, scale_set = t.scale_set{...}, settings =
--- {...}, capacity = #vms, complete = true, force = false,
--- computer_name_prefix = "web"} (the builders' default prefix: targets
--- named otherwise are foreign unless the policy defines owns).
function M.plan(spec)
  spec = spec or {}
  check_keys("t.plan", spec, PLAN_FIELDS)
  local ss = spec.scale_set or M.scale_set()
  if spec.settings ~= nil then
    ss = copy(ss)
    ss.settings = spec.settings
  end
  local vms = spec.vms or spec.instances or {}
  local ok, plan = pcall(require("reconcile").plan, {
    instances = vms,
    targets = spec.targets or {},
    policy = spec.policy,
    now = spec.now or M.NOW,
    state = spec.state,
    scale_set = ss,
    settings = ss.settings,
    scope = spec.scope,
    capacity = spec.capacity or #vms,
    computer_name_prefix = spec.computer_name_prefix or "web",
    complete = spec.complete,
    incomplete_reason = spec.incomplete_reason,
    force = spec.force,
  })
  if not ok then
    -- An error placed in this file means the test's call: say so there.
    local msg = tostring(plan)
    msg = msg:match("^lua/octoscale/testing%.lua:%d+: (.*)$") or msg
    -- a message with a place of its own (a policy's line) keeps it
    error(msg, msg:find("^[^:\n]+:%d+: ") and 0 or 2)
  end
  local targets = spec.targets or {}
  if #targets > 0 and plan:summary().in_scope == 0 then
    local _, here = pcall(error, "", 3) -- "tests/x_test.lua:12: "
    print(string.format("WARNING: %st.plan: none of the %d targets is in the "
      .. "scale set's scope (environment %s, roles %s%s): the plan tests "
      .. "nothing about them", here, #targets, tostring(ss.environment),
      table.concat(ss.roles or {}, ", "),
      ss.tenant and (", tenant " .. ss.tenant) or ""))
  end
  local names = {}
  for _, vm in ipairs(vms) do
    if vm.computer_name and vm.name then
      names[vm.computer_name:lower()] = vm.name
    end
  end
  vm_names[plan] = names
  return plan
end

-- --- assertions -------------------------------------------------------------

local function same_name(a, b)
  return a ~= nil and b ~= nil and a:lower() == b:lower()
end

local function about(plan, action, name)
  if same_name(action.target_name, name) or same_name(action.vm, name)
      or action.target_id == name then
    return true
  end
  local names = vm_names[plan]
  return action.target_name == nil and names ~= nil
    and same_name(action.vm, names[name:lower()])
end

--- A one-line description of a plan, for failure messages.
function M.describe(plan)
  local parts = {}
  for _, a in ipairs(plan:actions()) do
    parts[#parts + 1] = string.format("%s %s", a.action,
      a.target_name or a.vm or a.target_id or "?")
  end
  local s = "plan " .. plan:status()
  if plan:message() ~= "" then
    s = s .. " (" .. plan:message() .. ")"
  end
  if #parts == 0 then
    return s .. ", no actions"
  end
  return s .. ": " .. table.concat(parts, ", ")
end

--- The actions of plan about name (a target name, VM name or target id).
function M.actions_for(plan, name)
  local list = {}
  for _, a in ipairs(plan:actions()) do
    if about(plan, a, name) then
      list[#list + 1] = a
    end
  end
  return list
end

--- Asserts an action of kind for name; returns it.
function M.expect_action(plan, kind, name)
  for _, a in ipairs(plan:actions()) do
    if a.action == kind and about(plan, a, name) then
      return a
    end
  end
  fail(string.format("expected %s %s; %s", kind, name, M.describe(plan)))
end

local CHANGES = { delete = true, disable = true, enable = true }

--- Asserts that name gets no change (delete, disable or enable); with kind,
--- no action of that kind.
function M.expect_no_action(plan, name, kind)
  for _, a in ipairs(plan:actions()) do
    if about(plan, a, name) and (kind == nil and CHANGES[a.action]
        or a.action == kind) then
      fail(string.format("expected no %s for %s, got %s (%s); %s",
        kind or "change", name, a.action, a.reason or "", M.describe(plan)))
    end
  end
end

--- Asserts the plan's status ("ok", "safety_stop", "error").
function M.expect_status(plan, status)
  if plan:status() ~= status then
    fail(string.format("expected status %s, got %s", status,
      M.describe(plan)))
  end
end

local function show(v)
  if type(v) == "string" then
    return string.format("%q", v)
  end
  return tostring(v)
end

local function deep_eq(a, b, path)
  if a == b then
    return true
  end
  if type(a) ~= "table" or type(b) ~= "table" then
    return false, string.format("%s: expected %s, got %s", path, show(b),
      show(a))
  end
  for k, v in pairs(a) do
    local ok, why = deep_eq(v, b[k], path .. "." .. tostring(k))
    if not ok then
      return false, why
    end
  end
  for k, v in pairs(b) do
    if a[k] == nil then
      return false, string.format("%s.%s: expected %s, got nil", path,
        tostring(k), show(v))
    end
  end
  return true
end

--- Deep equality: t.eq(actual, expected [, message]).
function M.eq(actual, expected, msg)
  local ok, why = deep_eq(actual, expected, "value")
  if not ok then
    fail((msg and (msg .. ": ") or "") .. why)
  end
end

--- Asserts a truthy value.
function M.ok(v, msg)
  if not v then
    fail(msg or "expected a true value, got " .. show(v))
  end
  return v
end

--- Asserts that fn raises; pattern (a Lua pattern) must match the message.
--- Returns the message.
function M.expect_error(fn, pattern)
  local ok, err = pcall(fn)
  if ok then
    fail("expected an error" .. (pattern and (" matching '" .. pattern
      .. "'") or "") .. ", got none")
  end
  err = tostring(err)
  if pattern and not err:find(pattern) then
    fail(string.format("expected an error matching '%s', got: %s", pattern,
      err))
  end
  return err
end

return M
