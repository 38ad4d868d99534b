-- Octopus state: spaces, environments, tenants, deployment targets
-- (machines), the audit events they produce, and Health tasks. Machines
-- generated from a scale set stay linked to their VM, which is how a Health
-- task knows a target's VM is gone.
local model = require "sim.model"
local rand = require "sim.rand"
local util = require "sim.util"
local az = require "sim.azure_model"

local M = {}

local TENTACLE_VERSION = "8.3.2745"
local REGISTRAR = "svc-tentacle-registration"

local function bad(fmt, ...)
  error({ scenario = string.format(fmt, ...) }, 0)
end

local function next_id(W, kind, prefix)
  W.oc.n[kind] = W.oc.n[kind] + 1
  return prefix .. W.oc.n[kind]
end

-- Explicit ids ("Machines-10") keep the counters ahead of them.
local function claim_id(W, kind, id)
  local n = math.tointeger(tonumber(id:match("%-(%d+)$") or ""))
  if n and n > W.oc.n[kind] then W.oc.n[kind] = n end
end

function M.vm_key(set_name, vm_name)
  return set_name:lower() .. "/" .. vm_name:lower()
end

-- ---- lookups -------------------------------------------------------------------

function M.space(W, ref)
  if ref == nil then return W.oc.default_space end
  local s = W.oc.space_by_id[ref:lower()]
  if s then return s end
  for _, sp in ipairs(W.oc.spaces) do
    if sp.name:lower() == ref:lower() then return sp end
  end
  return nil
end

local function find_named(list, space, ref)
  local l = ref:lower()
  for _, e in ipairs(list) do
    if e.space_id == space.id and (e.id:lower() == l or e.name:lower() == l) then return e end
  end
  return nil
end

function M.resolve_envs(W, space, refs, what)
  local out = {}
  for _, r in ipairs(refs or {}) do
    local e = find_named(W.oc.envs, space, r)
    if not e then bad("%s: no environment %s in %s", what, r, space.name) end
    out[#out + 1] = e.id
  end
  return out
end

function M.resolve_tenants(W, space, refs, what)
  local out = {}
  for _, r in ipairs(refs or {}) do
    local t = find_named(W.oc.tenants, space, r)
    if not t then bad("%s: no tenant %s in %s", what, r, space.name) end
    out[#out + 1] = t.id
  end
  return out
end

function M.machine(W, ref)
  if ref == nil then return nil end
  return W.oc.machine_by_id[ref:lower()]
end

local function name_key(space_id, name)
  return space_id:lower() .. "/" .. name:lower()
end

-- Names are unique per space (case-insensitively), so they are indexed.
function M.machine_by_name(W, space, name)
  return W.oc.machine_by_name[name_key(space.id, name)]
end

function M.rename_machine(W, m, name)
  W.oc.machine_by_name[name_key(m.space_id, m.name)] = nil
  m.name = name
  W.oc.machine_by_name[name_key(m.space_id, name)] = m
  W.oc.machines_version = W.oc.machines_version + 1
end

-- All machines sorted by name (case-insensitive, then id), as every list
-- returns them. Cached until a machine is added, removed or renamed: a
-- 3,900-target list is paged 30 at a time, and re-sorting per page would
-- make the simulator the bottleneck of a benchmark.
function M.sorted_machines(W)
  local oc = W.oc
  if oc.sorted_version ~= oc.machines_version then
    local list, keys = {}, {}
    for i, m in ipairs(oc.machines) do
      list[i] = m
      keys[m] = m.name:lower()
    end
    table.sort(list, function(a, b)
      local ka, kb = keys[a], keys[b]
      if ka ~= kb then return ka < kb end
      return a.id < b.id
    end)
    oc.sorted, oc.sorted_version = list, oc.machines_version
  end
  return oc.sorted
end

-- Events newest first (by Occurred, then id); events are only appended.
function M.sorted_events(W)
  local oc = W.oc
  if oc.events_sorted_n ~= #oc.events then
    local list = {}
    for i, ev in ipairs(oc.events) do list[i] = ev end
    table.sort(list, function(a, b)
      if a.occurred_ms ~= b.occurred_ms then return a.occurred_ms > b.occurred_ms end
      return a.num > b.num
    end)
    oc.events_sorted, oc.events_sorted_n = list, #oc.events
  end
  return oc.events_sorted
end

-- The VM a machine was registered from, if it still exists.
function M.linked_vm(W, m)
  if not m.vm_set then return nil end
  local set = W.az.sets_by_name[m.vm_set]
  return set and set.by_name[m.vm_name] or nil
end

-- What a Health task would find: the Tentacle answers when its VM exists,
-- is Succeeded (or Updating) and running. Machines with no VM answer unless
-- marked unreachable.
function M.reachable(W, m)
  if m.reachable ~= nil then return m.reachable end
  if m.vm_set then
    local vm = M.linked_vm(W, m)
    return vm ~= nil and (vm.state == "Succeeded" or vm.state == "Updating") and vm.power == "running"
  end
  return true
end

-- ---- events ----------------------------------------------------------------------

-- Adds an audit event. refs: {{id, text}} whose text occurs in message.
function M.add_event(W, space_id, category, related, message, opts)
  opts = opts or {}
  local ev = {
    id = next_id(W, "event", "Events-"),
    num = W.oc.n.event,
    space_id = space_id,
    category = category,
    related = related,
    message = message,
    refs = {},
    occurred_ms = opts.occurred_ms or model.now(W),
    username = opts.username or W.cfg.octopus.username,
  }
  for _, r in ipairs(opts.refs or {}) do
    local s = message:find(r[2], 1, true)
    if s then ev.refs[#ev.refs + 1] = { id = r[1], start = s - 1, len = #r[2] } end
  end
  W.oc.events[#W.oc.events + 1] = ev
  return ev
end

-- ---- machines ----------------------------------------------------------------------

local function link(W, m, vm)
  if m.vm_set then W.oc.machine_by_vm[M.vm_key(m.vm_set, m.vm_name)] = nil end
  if vm then
    m.vm_set, m.vm_name = vm.set.name:lower(), vm.name:lower()
    W.oc.machine_by_vm[M.vm_key(m.vm_set, m.vm_name)] = m
  else
    m.vm_set, m.vm_name = nil, nil
  end
end

function M.machine_for_vm(W, vm)
  return W.oc.machine_by_vm[M.vm_key(vm.set.name, vm.name)]
end

local OS = {
  linux = { "Linux", "Bash", "5.2.15", "x64" },
  windows = { "Microsoft Windows Server 2022 Datacenter", "PowerShell", "5.1.20348.2849", "x64" },
}

-- Creates a machine. spec: name, roles, environments, tenants, tenant_tags,
-- participation, health, disabled, comm_style, os, policy, thumbprint, uri,
-- id, created_ms, reachable; vm (a VM object to link) or orphan_link
-- {set, vm_name}.
function M.add_machine(W, space, spec, what)
  what = what or ("machine " .. spec.name)
  if M.machine_by_name(W, space, spec.name) then
    bad("%s: a machine named %s already exists in %s", what, spec.name, space.name)
  end
  local env_ids = M.resolve_envs(W, space, spec.environments, what)
  if #env_ids == 0 then bad("%s: an environment is required (Octopus rejects a target without one)", what) end
  local tenant_ids = M.resolve_tenants(W, space, spec.tenants, what)
  local id = spec.id or next_id(W, "machine", "Machines-")
  if spec.id then
    if W.oc.machine_by_id[id:lower()] then bad("%s: duplicate id %s", what, id) end
    claim_id(W, "machine", id)
  end
  local os = OS[spec.os or "linux"]
  local comm = spec.comm_style or "listening"
  local created = spec.created_ms or model.now(W)
  local m = {
    id = id,
    space_id = space.id,
    name = spec.name,
    env_ids = env_ids,
    roles = spec.roles or {},
    tenant_ids = tenant_ids,
    tenant_tags = spec.tenant_tags or {},
    participation = spec.participation or (#tenant_ids > 0 and "Tenanted" or "Untenanted"),
    disabled = spec.disabled or false,
    health = spec.health or "Healthy",
    comm_style = comm == "polling" and "TentacleActive" or "TentaclePassive",
    thumbprint = spec.thumbprint or W.oc.rng:hex(40):upper(),
    policy_id = spec.policy or "MachinePolicies-1",
    os_name = os[1], shell = os[2], shell_version = os[3], arch = os[4],
    slug = util.slug(spec.name),
    skip_initial_health_check = false,
    created_ms = created,
    modified_ms = created,
    modified_by = spec.username or REGISTRAR,
    reachable = spec.reachable,
    tentacle_version = TENTACLE_VERSION,
  }
  if spec.uri then
    m.uri = spec.uri
  elseif comm == "polling" then
    local letters = {}
    for i = 1, 20 do
      local n = W.oc.rng:next() % 26
      letters[i] = string.char(97 + n)
    end
    m.uri = "poll://" .. table.concat(letters) .. "/"
  else
    m.uri = "https://" .. spec.name:lower() .. ":10933/"
  end
  m.status_summary = m.health == "Healthy" and
    "Octopus was able to successfully establish a connection with this machine." or
    "This machine was recently added. Please perform a health check."
  W.oc.machines[#W.oc.machines + 1] = m
  W.oc.machine_by_id[id:lower()] = m
  W.oc.machine_by_name[name_key(space.id, m.name)] = m
  W.oc.machines_version = W.oc.machines_version + 1
  if spec.vm then
    link(W, m, spec.vm)
  elseif spec.orphan_link then
    m.vm_set, m.vm_name = spec.orphan_link[1]:lower(), spec.orphan_link[2]:lower()
  end
  local related = { m.id }
  for _, e in ipairs(env_ids) do related[#related + 1] = e end
  for _, t in ipairs(tenant_ids) do related[#related + 1] = t end
  M.add_event(W, space.id, "Created", related, "Deployment target " .. m.name .. " has been created",
    { occurred_ms = created, username = m.modified_by, refs = { { m.id, m.name } } })
  return m
end

function M.delete_machine(W, m, username)
  for i, x in ipairs(W.oc.machines) do
    if x == m then
      table.remove(W.oc.machines, i)
      break
    end
  end
  W.oc.machine_by_id[m.id:lower()] = nil
  W.oc.machine_by_name[name_key(m.space_id, m.name)] = nil
  W.oc.machines_version = W.oc.machines_version + 1
  if m.vm_set then
    local key = M.vm_key(m.vm_set, m.vm_name)
    if W.oc.machine_by_vm[key] == m then W.oc.machine_by_vm[key] = nil end
  end
  M.add_event(W, m.space_id, "Deleted", { m.id }, "Deployment target " .. m.name .. " has been deleted",
    { username = username, refs = { { m.id, m.name } } })
end

-- ---- registration ----------------------------------------------------------------------

local function fill_name(template, vm)
  if not template then return vm.computer_name end
  return (template:gsub("{([%w_]+)}", function(k)
    if k == "computer_name" then return vm.computer_name end
    if k == "computer_name_lower" then return vm.computer_name:lower() end
    if k == "vm_name" then return vm.name end
    if k == "instance_id" then return vm.instance_id end
    if k == "ip" then return vm.ip end
    return "{" .. k .. "}"
  end))
end

local function merged(base, over)
  local out = {}
  for k, v in pairs(base or {}) do out[k] = v end
  for k, v in pairs(over or {}) do
    if v ~= nil and k ~= "kind" and k ~= "where" then out[k] = v end
  end
  return out
end

-- Registers the Tentacle of each VM, as `tentacle register-with --force`
-- does: an existing machine with the same name is modified in place (same
-- id, no new Created event).
function M.register(W, set, vms, spec)
  local space = W.oc.default_space
  spec = merged(set.register_defaults, spec)
  if set.register_defaults and set.register_defaults.space then space = set.register_defaults.space end
  local names = {}
  for _, vm in ipairs(vms) do
    local name = fill_name(spec.name, vm)
    local existing = M.machine_by_name(W, space, name)
    if existing then
      existing.env_ids = M.resolve_envs(W, space, spec.environments, "register " .. name)
      existing.roles = spec.roles or existing.roles
      link(W, existing, vm)
      existing.modified_ms = model.now(W)
      M.add_event(W, space.id, "Modified", { existing.id }, "Deployment target " .. name .. " has been modified",
        { username = REGISTRAR, refs = { { existing.id, name } } })
    else
      local s = merged(spec, { name = name, vm = vm, os = set.os, health = spec.health or "Healthy",
        id = false, created_ms = false })
      s.id, s.created_ms = nil, nil
      M.add_machine(W, space, s, "register " .. name)
    end
    names[#names + 1] = name
  end
  return names
end

function M.vm_succeeded(W, vm)
  local set = vm.set
  local ar = set.auto_register
  if not ar then return end
  model.schedule(W, model.now(W) + ar.delay_ms, "auto-register " .. vm.computer_name, function(w)
    if not vm.gone and not M.machine_for_vm(w, vm) then
      local ok, err = pcall(M.register, w, set, { vm }, ar)
      if not ok then model.note(w, "auto-register failed: " .. (type(err) == "table" and err.scenario or tostring(err))) end
    end
  end)
end

-- ---- tasks ------------------------------------------------------------------------------

function M.create_task(W, space, body)
  local args = type(body.Arguments) == "table" and body.Arguments or {}
  local t = {
    id = next_id(W, "task", "ServerTasks-"),
    space_id = space.id,
    name = body.Name,
    description = type(body.Description) == "string" and body.Description or "",
    arguments = args,
    state = "Queued",
    queue_ms = model.now(W),
    polls = 0,
  }
  W.oc.tasks[#W.oc.tasks + 1] = t
  W.oc.task_by_id[t.id:lower()] = t
  M.progress_task(W, t, false)
  return t
end

local function task_machines(W, t)
  local ids = t.arguments.MachineIds
  local out = {}
  if type(ids) == "table" and #ids > 0 then
    for _, id in ipairs(ids) do
      local m = M.machine(W, tostring(id))
      if m then out[#out + 1] = m end
    end
    return out
  end
  local env = t.arguments.EnvironmentId
  for _, m in ipairs(W.oc.machines) do
    if m.space_id == t.space_id and not m.disabled then
      local in_env = env == nil
      for _, e in ipairs(m.env_ids) do if e == env then in_env = true end end
      if in_env then out[#out + 1] = m end
    end
  end
  return out
end

local function complete_task(W, t)
  local now = model.now(W)
  local failed = {}
  local checked = task_machines(W, t)
  if t.name == "Health" then
    for _, m in ipairs(checked) do
      if M.reachable(W, m) then
        m.health = "Healthy"
        m.status_summary = "Octopus was able to successfully establish a connection with this machine."
      else
        m.health = "Unavailable"
        m.status_summary = "The machine is unavailable."
        failed[#failed + 1] = m.name
      end
    end
  end
  t.start_ms = t.start_ms or now
  t.complete_ms = now
  t.checked = #checked
  if #failed > 0 then
    t.state = "Failed"
    t.error = "The health check failed. One or more deployment targets were not available: " ..
      table.concat(failed, ", ")
  else
    t.state = "Success"
  end
end

-- Moves a task on: a GET counts as a poll; it completes after the
-- configured number of polls or simulated seconds, whichever comes first.
function M.progress_task(W, t, is_poll)
  if t.state == "Success" or t.state == "Failed" or t.state == "Canceled" then return end
  if is_poll then t.polls = t.polls + 1 end
  local cfg = W.cfg.octopus.tasks
  local now = model.now(W)
  if t.polls >= cfg.complete_after_polls or
    (cfg.complete_after_ms > 0 and now - t.queue_ms >= cfg.complete_after_ms) then
    complete_task(W, t)
  elseif is_poll then
    t.state = "Executing"
    t.start_ms = t.start_ms or now
  end
end

-- ---- build ------------------------------------------------------------------------------------

local function generate(W, space, g)
  local set = az.set_named(W, g.from_scale_set)
  local skip = util.lset(g.except)
  local only = g.only and util.lset(g.only) or nil
  local spec = {
    roles = g.roles, environments = g.environments, tenants = g.tenants, tenant_tags = g.tenant_tags,
    participation = g.participation, health = g.health, disabled = g.disabled, comm_style = g.comm_style,
    os = g.os or set.os, policy = g.policy, name = g.name, space = space,
  }
  if not set.register_defaults then set.register_defaults = spec end
  local what = g.where .. ": machines from " .. set.name
  local count = 0
  for _, vm in ipairs(set.vms) do
    local keys = { tostring(vm.ordinal), vm.name:lower(), vm.computer_name:lower() }
    local skipped = skip[keys[1]] or skip[keys[2]] or skip[keys[3]]
    local wanted = not only or only[keys[1]] or only[keys[2]] or only[keys[3]]
    if wanted and not skipped then
      local s = merged(spec, { name = fill_name(g.name, vm), vm = vm,
        created_ms = math.min(vm.created_ms + 120000, W.cfg.start_ms) })
      s.space = nil
      M.add_machine(W, space, s, what)
      count = count + 1
    end
  end
  if g.orphans then
    local n = g.orphans.count or math.floor(#set.vms * g.orphans.percent / 100 + 0.5)
    for j = 1, n do
      local name, vm_name
      if set.mode == "Uniform" then
        local ordinal = set.next_ordinal
        set.next_ordinal = ordinal + 1
        name = set.prefix .. az.base36(ordinal)
        vm_name = set.name .. "_" .. ordinal
      else
        name = set.prefix .. set.rng:hex(6)
        vm_name = set.name .. "_" .. set.rng:hex(8)
      end
      if g.name then name = fill_name(g.name, { computer_name = name, name = vm_name, instance_id = "", ip = "" }) end
      local s = merged(spec, { name = name, orphan_link = { set.name, vm_name },
        health = g.orphan_health, created_ms = W.cfg.start_ms - 2 * 86400000 + j * 60000 })
      s.space = nil
      M.add_machine(W, space, s, what .. " (orphans)")
    end
  end
end

local function explicit(W, space, mc)
  local spec = merged(mc, {})
  spec.where, spec.vm = nil, nil
  local what = mc.where .. ": machine " .. mc.name
  if type(mc.vm) == "table" then
    local set = az.set_named(W, mc.vm.scale_set)
    local vm = az.find_vm(set, mc.vm.instance)
    if not vm then bad("%s: scale set %s has no VM %s", what, set.name, tostring(mc.vm.instance)) end
    spec.vm = vm
  elseif mc.vm == nil then
    -- no link given: a VM whose computer name is this machine's name
    for _, set in ipairs(W.az.sets) do
      for _, vm in ipairs(set.vms) do
        if vm.computer_name:lower() == mc.name:lower() then spec.vm = vm end
      end
    end
  end
  spec.created_ms = mc.created_ms or (spec.vm and math.min(spec.vm.created_ms + 120000, W.cfg.start_ms)) or
    (W.cfg.start_ms - 7 * 86400000)
  spec.username = "admin"
  M.add_machine(W, space, spec, what)
end

function M.build(W)
  local oc = W.cfg.octopus
  W.oc = {
    spaces = {}, space_by_id = {}, envs = {}, tenants = {}, machines = {}, machine_by_id = {}, machine_by_name = {},
    machine_by_vm = {}, events = {}, tasks = {}, task_by_id = {}, machines_version = 0,
    n = { space = 0, env = 0, tenant = 0, machine = 0, event = 0, task = 0 },
    rng = rand.new(W.cfg.seed, "octopus"),
  }
  W.oc.installation_id = W.oc.rng:guid()
  for _, sc in ipairs(oc.spaces) do
    local id = sc.id or next_id(W, "space", "Spaces-")
    if sc.id then claim_id(W, "space", id) end
    if W.oc.space_by_id[id:lower()] then bad("space %s: duplicate id", id) end
    local sp = { id = id, name = sc.name, description = sc.description, default = sc.default }
    W.oc.spaces[#W.oc.spaces + 1] = sp
    W.oc.space_by_id[id:lower()] = sp
    if sp.default and not W.oc.default_space then W.oc.default_space = sp end
    for i, e in ipairs(sc.environments) do
      local eid = e.id or next_id(W, "env", "Environments-")
      if e.id then claim_id(W, "env", eid) end
      W.oc.envs[#W.oc.envs + 1] = { id = eid, name = e.name, description = e.description, sort_order = i,
        space_id = id }
    end
    for _, t in ipairs(sc.tenants) do
      local tid = t.id or next_id(W, "tenant", "Tenants-")
      if t.id then claim_id(W, "tenant", tid) end
      W.oc.tenants[#W.oc.tenants + 1] = { id = tid, name = t.name, description = t.description, tags = t.tags,
        space_id = id }
    end
  end
  W.oc.default_space = W.oc.default_space or W.oc.spaces[1]
  for i, sc in ipairs(oc.spaces) do
    local sp = W.oc.spaces[i]
    for _, mc in ipairs(sc.machines) do
      if mc.from_scale_set then generate(W, sp, mc) else explicit(W, sp, mc) end
    end
  end
end

-- ---- actions ------------------------------------------------------------------------------------

local function find_machine(W, a)
  local m
  if a.id then
    m = M.machine(W, a.id)
  else
    for _, x in ipairs(W.oc.machines) do
      if x.name:lower() == a.name:lower() then m = x end
    end
  end
  if not m then bad("no machine %s", a.id or a.name) end
  return m
end

function M.run_action(W, a)
  if a.kind == "register" then
    local set = az.set_named(W, a.scale_set)
    local vms = {}
    if a.all_new then
      for _, vm in ipairs(set.vms) do
        if (vm.state == "Succeeded" or vm.state == "Updating") and not M.machine_for_vm(W, vm) then
          vms[#vms + 1] = vm
        end
      end
    else
      for _, ref in ipairs(a.instances) do
        local vm = az.find_vm(set, ref)
        if not vm then bad("scale set %s has no VM %s", set.name, tostring(ref)) end
        vms[#vms + 1] = vm
      end
    end
    local names = M.register(W, set, vms, a)
    return string.format("%s: registered %d machine(s)%s%s", set.name, #names, #names > 0 and ": " or "",
      table.concat(names, ", "))
  elseif a.kind == "remove_machine" then
    local m = find_machine(W, a)
    M.delete_machine(W, m, "admin")
    return "removed machine " .. m.name .. " (" .. m.id .. ")"
  elseif a.kind == "machine" then
    local m = find_machine(W, a)
    if a.health then m.health = a.health end
    if a.disabled ~= nil then m.disabled = a.disabled end
    if a.reachable ~= nil then m.reachable = a.reachable end
    return "updated machine " .. m.name
  end
end

return M
