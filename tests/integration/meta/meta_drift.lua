-- lua/_meta against what the API really pushes: run by t_meta.sh beside a
-- generated meta_text.lua (the stub files' text, and the method names the
-- C sources register). Prints "ok ..." / "FAIL ..." lines; returns the
-- number of failures.
--   meta_drift.lua SCALE_SET
local meta = require "meta_text"
local entry_name = arg[1]
local failures = 0
local function check(what, cond, detail)
  if cond then
    print("ok " .. what)
  else
    failures = failures + 1
    print("FAIL " .. what .. (detail and (": " .. tostring(detail)) or ""))
  end
end

-- ---- the stubs -------------------------------------------------------------
-- classes[name] = {fields = {name = {optional = bool}}, methods = {name = true}}
local classes = {}
local functions = {} -- ["azure.client"] = true
local function class(name)
  classes[name] = classes[name] or { fields = {}, methods = {} }
  return classes[name]
end
for file, text in pairs(meta.stubs) do
  local current, locals = nil, {}
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    local cname = line:match("^%-%-%- @class ([%w_%.]+)")
    local fname, opt = line:match("^%-%-%- @field ([%w_]+)(%??)")
    local var = line:match("^local (%w+) = {}")
    local recv, method = line:match("^function (%w+):([%w_]+)%(")
    local ns, fn = line:match("^function ([%w_]+)%.([%w_]+)%(")
    if cname then
      current = class(cname)
      current.file = file
    elseif fname and current then
      current.fields[fname] = { optional = opt == "?" }
    elseif var and current then
      locals[var] = current
    elseif recv and locals[recv] then
      locals[recv].methods[method] = true
    elseif ns then
      functions[ns .. "." .. fn] = true
    elseif not line:match("^%-%-") then
      current = nil
    end
  end
end

-- ---- comparing -------------------------------------------------------------
local seen = {} -- seen[class][field] = true
local function compare(cname, samples, what)
  local c = classes[cname]
  if not c then
    check(cname .. " is documented", false, "no @class " .. cname)
    return
  end
  check(what .. ": samples of " .. cname, #samples > 0, #samples)
  seen[cname] = seen[cname] or {}
  for i, v in ipairs(samples) do
    for k in pairs(v) do
      seen[cname][k] = true
      check(string.format("%s[%d].%s is documented in %s", what, i, k, c.file),
        c.fields[k] ~= nil)
    end
    for f, spec in pairs(c.fields) do
      if not spec.optional then
        check(string.format("%s[%d] has %s.%s", what, i, cname, f), v[f] ~= nil)
      end
    end
  end
end

local function methods_of(cname, object, registered)
  local c = classes[cname]
  for m in pairs(c.methods) do
    check(string.format("%s:%s exists", cname, m), type(object[m]) == "function")
  end
  for _, m in ipairs(registered) do
    check(string.format("%s:%s (registered in C) is documented", cname, m),
      c.methods[m] or m == "close" and c.methods.close)
  end
end

local function namespace(name, t)
  for k, v in pairs(t) do
    if type(v) == "function" then
      check(string.format("%s.%s is documented", name, k), functions[name .. "." .. k])
    end
  end
  for f in pairs(functions) do
    local ns, fn = f:match("^([%w_]+)%.([%w_]+)$")
    if ns == name then
      check(string.format("%s.%s exists", name, fn), type(t[fn]) == "function")
    end
  end
end

-- ---- what the API pushes -----------------------------------------------------
local az <close> = assert(azure.client())
local oc <close> = assert(octopus.client())
local set = assert(az:scale_set{ scale_set = entry_name })
compare("azure.ScaleSet", { set }, "az:scale_set")
local vms = assert(az:instances{ scale_set = entry_name })
compare("azure.Vm", vms, "az:instances")
local _, err = az:scale_set{ resource_group = "rg-web", vmss = "no-such-vmss" }
compare("octoscale.Error", { err }, "a failure")
local targets = assert(oc:targets{ scale_set = entry_name })
compare("octopus.Target", targets, "oc:targets")
local task = assert(oc:health_check{ target_ids = { targets[1].id }, timeout = "2m", poll = 1 })
compare("octopus.Task", { task }, "oc:health_check")
assert(oc:disable_target(targets[1].id))
assert(oc:enable_target(targets[1].id))
local events = assert(oc:events{ regarding = targets[1].id, take = 10 })
compare("octopus.Event", events, "oc:events")
compare("octoscale.ScaleSet", config.scale_sets(), "config.scale_sets()")

-- a live plan, its lists, and what hooks see (a what-if policy records it)
local hooks = { vm = {}, target = {}, ctx = {} }
local plan = assert(reconcile.plan{ scale_set = entry_name, policy = {
  target_name = function(vm, ctx)
    hooks.vm[#hooks.vm + 1], hooks.ctx[1] = vm, ctx
    return vm.computer_name
  end,
  owns = function(target)
    hooks.target[#hooks.target + 1] = target
    return false
  end,
} })
compare("octoscale.Vm", plan:vms(), "plan:vms()")
compare("octoscale.Target", plan:targets(), "plan:targets()")
compare("octoscale.Vm", hooks.vm, "a hook's vm")
compare("octoscale.Target", hooks.target, "a hook's target")
compare("octoscale.Ctx", hooks.ctx, "a hook's ctx")
compare("octoscale.ScaleSet", { hooks.ctx[1].scale_set }, "ctx.scale_set")
compare("octoscale.Action", plan:actions(), "plan:actions()")
compare("octoscale.Summary", { plan:summary() }, "plan:summary()")
compare("octoscale.Outputs", { plan:outputs() }, "plan:outputs()")

-- methods and namespaces
methods_of("octoscale.Plan", plan, meta.registered.plan)
methods_of("azure.Client", az, meta.registered.azure)
methods_of("octopus.Client", oc, meta.registered.octopus)
namespace("reconcile", reconcile)
namespace("azure", azure)
namespace("octopus", octopus)
namespace("script", script)
namespace("config", config)

-- the embedded library's modules that lua/_meta/octoscale.lua documents as
-- classes of fields (the others carry annotations in their own source):
-- each loads and has exactly the documented fields ("_x" is internal)
for name, c in pairs(classes) do
  local loaded, mod = false, nil
  if name:match("^octoscale%.%l+$") and c.file == "lua/_meta/octoscale.lua" then
    loaded, mod = pcall(require, name)
    check(string.format("documented module %s loads", name), loaded, mod)
  end
  if loaded and type(mod) == "table" then
    for k in pairs(mod) do
      check(string.format("%s.%s is documented", name, k),
        c.fields[k] ~= nil or tostring(k):sub(1, 1) == "_")
    end
    for f in pairs(c.fields) do
      check(string.format("%s.%s exists", name, f), mod[f] ~= nil)
    end
  end
end

-- a documented optional field no sample ever had is said, not failed
for cname, fields in pairs(seen) do
  for f, spec in pairs(classes[cname].fields) do
    if spec.optional and not fields[f] then
      print(string.format("note %s.%s (optional) not seen in this run", cname, f))
    end
  end
end
return failures
