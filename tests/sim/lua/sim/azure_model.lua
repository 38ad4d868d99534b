-- Azure state: subscriptions, resource groups, scale sets and their VMs,
-- and how scale operations play out over simulated time (Creating ->
-- Succeeded, overprovisioned extras created then deleted, scale-in per
-- policy, Deleting -> gone).
local model = require "sim.model"
local rand = require "sim.rand"

local M = {}

local DAY_MS = 86400000

local function bad(fmt, ...)
  error({ scenario = string.format(fmt, ...) }, 0)
end

-- Uniform computer names: prefix + instance id in base 36, upper case,
-- zero-padded to six digits (85 -> "00002D"), wrapping after ZZZZZZ.
function M.base36(n)
  local digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
  n = n % 2176782336 -- 36^6
  local out = {}
  for i = 6, 1, -1 do
    local d = n % 36
    out[i] = digits:sub(d + 1, d + 1)
    n = n // 36
  end
  return table.concat(out)
end

local function default_power(state)
  if state == "Creating" then return "starting" end
  if state == "Deleting" then return "stopping" end
  if state == "Failed" then return "stopped" end
  return "running"
end

local function alloc_ip(set)
  local n = set.ip_counter
  set.ip_counter = n + 1
  return string.format("10.0.%d.%d", (set.idx * 16 + n // 250) % 256, 4 + n % 250)
end

-- Creates a VM in `set`. o: ordinal, name, state, power, ip, zone, tags,
-- created_ms.
function M.new_vm(W, set, o)
  o = o or {}
  local ordinal = o.ordinal or set.next_ordinal
  if ordinal >= set.next_ordinal then set.next_ordinal = ordinal + 1 end
  local vm = { set = set, ordinal = ordinal }
  if set.mode == "Uniform" then
    vm.instance_id = tostring(ordinal)
    vm.name = set.name .. "_" .. vm.instance_id
    vm.computer_name = set.prefix .. M.base36(ordinal)
  else
    local name = o.name
    while not name or set.by_name[name:lower()] do
      name = set.name .. "_" .. set.rng:hex(8)
    end
    vm.name = name
    vm.instance_id = name
    vm.computer_name = set.prefix .. set.rng:hex(6)
  end
  if set.by_name[vm.name:lower()] then bad("scale set %s: duplicate VM %s", set.name, vm.name) end
  vm.vm_id = set.rng:guid()
  vm.mac = ("00-0D-3A-" .. set.rng:hex(6):upper():gsub("(%x%x)(%x%x)(%x%x)", "%1-%2-%3"))
  vm.state = o.state or "Succeeded"
  vm.power = o.power or default_power(vm.state)
  vm.ip = o.ip or alloc_ip(set)
  if o.zone then
    vm.zone = o.zone
  elseif set.zones and #set.zones > 0 then
    vm.zone = set.zones[ordinal % #set.zones + 1]
  end
  vm.tags = o.tags or {}
  vm.created_ms = o.created_ms or model.now(W)
  set.vms[#set.vms + 1] = vm
  set.by_name[vm.name:lower()] = vm
  return vm
end

function M.remove_vm(set, vm)
  for i, v in ipairs(set.vms) do
    if v == vm then
      table.remove(set.vms, i)
      break
    end
  end
  set.by_name[vm.name:lower()] = nil
  vm.gone = true
end

-- A VM by reference: a Uniform instance id, a Flexible index (creation
-- order, from 0), or a VM or computer name.
function M.find_vm(set, ref)
  local n = math.tointeger(ref) or (type(ref) == "string" and math.tointeger(tonumber(ref)))
  if n then
    for _, vm in ipairs(set.vms) do
      if vm.ordinal == n then return vm end
    end
    return nil
  end
  if type(ref) ~= "string" then return nil end
  local l = ref:lower()
  local vm = set.by_name[l]
  if vm then return vm end
  for _, v in ipairs(set.vms) do
    if v.computer_name:lower() == l then return v end
  end
  return nil
end

function M.live_vms(set)
  local out = {}
  for _, vm in ipairs(set.vms) do
    if vm.state ~= "Deleting" then out[#out + 1] = vm end
  end
  return out
end

function M.busy(W, set)
  if model.now(W) < set.busy_until then return true end
  for _, vm in ipairs(set.vms) do
    if vm.state == "Creating" or vm.state == "Deleting" then return true end
  end
  return false
end

-- Real Uniform sets report "succeeded" in lower case when steady (the
-- fixture quirk); "Updating" while a scale operation runs.
function M.provisioning_state(W, set)
  if M.busy(W, set) then return "Updating" end
  return set.steady_state
end

local function build_set(W, s, sub, rg)
  local cfg = W.cfg
  local set = {
    idx = #W.az.sets, cfg = s, sub = sub, rg = rg, name = s.name, mode = s.mode,
    capacity = s.capacity, overprovision = s.overprovision, prefix = s.computer_name_prefix,
    location = s.location, zones = s.zones, sku = s.sku, tier = s.tier,
    scale_in_policy = s.scale_in_policy, page_size = s.page_size or cfg.azure.page_size,
    nic_name = s.nic_name, timing = s.timing, auto_register = s.auto_register, tags = s.tags,
    os = s.os, vm_size = s.vm_size,
    vms = {}, by_name = {}, next_ordinal = 0, ip_counter = 0, busy_until = 0,
    rng = rand.new(cfg.seed, s.name),
  }
  set.unique_id = set.rng:guid()
  set.created_ms = cfg.start_ms - 30 * DAY_MS
  set.steady_state = s.provisioning_state or (s.mode == "Uniform" and "succeeded" or "Succeeded")
  local function created(ordinal)
    return cfg.start_ms - DAY_MS + (ordinal % 1200) * 60000
  end
  if s.vm_list then
    for i, v in ipairs(s.vm_list) do
      local ordinal = math.tointeger(v.instance) or
        (type(v.instance) == "string" and math.tointeger(tonumber(v.instance)))
      local name = nil
      if ordinal == nil and v.instance ~= nil then name = tostring(v.instance) end
      if ordinal == nil and set.mode == "Uniform" and name then
        bad("scale set %s: VM %d: Uniform instance ids are integers", s.name, i)
      end
      if ordinal and set.mode == "Uniform" then
        for _, vm in ipairs(set.vms) do
          if vm.ordinal == ordinal then bad("scale set %s: instance %d listed twice", s.name, ordinal) end
        end
      end
      ordinal = (set.mode == "Uniform" and ordinal) or nil
      local o = { ordinal = ordinal, name = v.name or name, state = v.state, power = v.power,
        ip = v.ip, zone = v.zone, tags = v.tags }
      local vm = M.new_vm(W, set, o)
      vm.created_ms = v.created_ms or created(vm.ordinal)
    end
  else
    for _ = 1, s.vm_count do
      local vm = M.new_vm(W, set, {})
      vm.created_ms = created(vm.ordinal)
    end
  end
  for _, o in ipairs(s.overrides) do
    local vm = M.find_vm(set, o.instance)
    if not vm then bad("%s: scale set %s: override for instance %s: no such VM", s.where, s.name, tostring(o.instance)) end
    if o.state then
      vm.state = o.state
      vm.power = o.power or default_power(o.state)
    end
    if o.power then vm.power = o.power end
    if o.ip then vm.ip = o.ip end
    if o.zone then vm.zone = o.zone end
    if o.tags then vm.tags = o.tags end
    if o.created_ms then vm.created_ms = o.created_ms end
  end
  return set
end

function M.build(W)
  local cfg = W.cfg
  W.az = { subs = {}, sets = {}, sets_by_name = {}, tokens = {}, ops = {}, op_seq = 0, quota = {} }
  for _, sc in ipairs(cfg.azure.subscriptions) do
    local sub = { id = sc.id, rgs = {} }
    W.az.subs[sc.id:lower()] = sub
    for _, rc in ipairs(sc.resource_groups) do
      local rg = { name = rc.name, location = rc.location, sets = {}, sub = sub }
      sub.rgs[rc.name:lower()] = rg
      for _, s in ipairs(rc.scale_sets) do
        local set = build_set(W, s, sub, rg)
        W.az.sets[#W.az.sets + 1] = set
        W.az.sets_by_name[set.name:lower()] = set
        rg.sets[set.name:lower()] = set
      end
    end
  end
end

function M.set_named(W, name)
  local set = W.az.sets_by_name[tostring(name):lower()]
  if not set then bad("no scale set named %s", tostring(name)) end
  return set
end

-- ---- operations ----------------------------------------------------------------

local function extra_for(set, k)
  local e = set.timing.extra
  if e.count then return e.count end
  if k <= 0 or e.percent <= 0 then return 0 end
  return math.max(1, math.ceil(k * e.percent / 100))
end

-- Tracks an ARM long-running operation (Azure-AsyncOperation / Location).
function M.new_operation(W, set, done_ms)
  W.az.op_seq = W.az.op_seq + 1
  local op = { id = set.rng:guid(), start_ms = model.now(W), done_ms = done_ms, location = set.location }
  W.az.ops[op.id] = op
  return op
end

local function on_succeeded(W, vm)
  require("sim.octo_model").vm_succeeded(W, vm)
end

function M.set_vm_state(W, vm, state, power)
  local was = vm.state
  if state then
    vm.state = state
    vm.power = power or default_power(state)
  end
  if power then vm.power = power end
  if state == "Succeeded" and was ~= "Succeeded" then on_succeeded(W, vm) end
end

-- Marks VMs Deleting; they disappear delete_ms later (or now).
function M.delete_vms(W, set, vms, opts)
  opts = opts or {}
  local now = model.now(W)
  local done = now + (opts.immediate and 0 or set.timing.delete_ms)
  local doomed = {}
  for _, vm in ipairs(vms) do
    if not vm.gone then
      if opts.immediate then
        M.remove_vm(set, vm)
      elseif vm.state ~= "Deleting" then
        vm.state, vm.power = "Deleting", "stopping"
        doomed[#doomed + 1] = vm
      end
    end
  end
  if opts.decrement then set.capacity = math.max(0, set.capacity - #vms) end
  if #doomed > 0 then
    model.schedule(W, done, string.format("%s: %d VM(s) deleted", set.name, #doomed), function()
      for _, vm in ipairs(doomed) do
        if not vm.gone then M.remove_vm(set, vm) end
      end
    end)
  end
  set.busy_until = math.max(set.busy_until, done)
  return done
end

-- Scale-in victims: Default balances zones and then takes the highest
-- instance id (Azure's documented default); NewestVM / OldestVM go by
-- timeCreated.
function M.pick_victims(set, live, n)
  local pool = {}
  for _, vm in ipairs(live) do pool[#pool + 1] = vm end
  local out = {}
  if set.scale_in_policy == "Default" then
    while #out < n and #pool > 0 do
      local per_zone = {}
      for _, vm in ipairs(pool) do
        local z = vm.zone or ""
        per_zone[z] = (per_zone[z] or 0) + 1
      end
      local best, best_i
      for i, vm in ipairs(pool) do
        local z = vm.zone or ""
        if not best or per_zone[z] > per_zone[best.zone or ""] or
          (per_zone[z] == per_zone[best.zone or ""] and vm.ordinal > best.ordinal) then
          best, best_i = vm, i
        end
      end
      out[#out + 1] = best
      table.remove(pool, best_i)
    end
    return out
  end
  local newest = set.scale_in_policy == "NewestVM"
  table.sort(pool, function(a, b)
    if a.created_ms ~= b.created_ms then
      if newest then return a.created_ms > b.created_ms end
      return a.created_ms < b.created_ms
    end
    return a.ordinal > b.ordinal
  end)
  for i = 1, math.min(n, #pool) do out[i] = pool[i] end
  return out
end

-- Sets the capacity and plays the operation out on the timeline, as a
-- PATCH of sku.capacity does. opts.fail: how many of the new VMs end
-- Failed. Returns the time the operation settles.
function M.scale(W, set, capacity, opts)
  opts = opts or {}
  local now = model.now(W)
  set.capacity = capacity
  local live = M.live_vms(set)
  local settle = now
  if capacity > #live then
    local k = capacity - #live
    local extra = (set.mode == "Uniform" and set.overprovision) and extra_for(set, k) or 0
    local created, extras = {}, {}
    for i = 1, k + extra do
      local vm = M.new_vm(W, set, { state = "Creating", power = "starting" })
      created[#created + 1] = vm
      if i > k then
        vm.overprovisioned = true
        extras[#extras + 1] = vm
      elseif i > k - (opts.fail or 0) then
        vm.will_fail = true
      end
    end
    local done = now + set.timing.create_ms
    model.schedule(W, done, string.format("%s: %d VM(s) provisioned", set.name, #created), function(w)
      for _, vm in ipairs(created) do
        if not vm.gone and vm.state == "Creating" then
          if vm.will_fail then
            M.set_vm_state(w, vm, "Failed", "stopped")
          else
            M.set_vm_state(w, vm, "Succeeded", "running")
          end
        end
      end
    end)
    settle = done
    if #extras > 0 then
      -- Azure deletes the extras once the requested VMs have succeeded;
      -- by then the extras ran their extensions too (and may have
      -- registered a Tentacle).
      local cleanup = done + set.timing.cleanup_ms
      model.schedule(W, cleanup, string.format("%s: deleting %d overprovisioned VM(s)", set.name, #extras),
        function(w) M.delete_vms(w, set, extras) end)
      settle = cleanup + set.timing.delete_ms
    end
  elseif capacity < #live then
    settle = M.delete_vms(W, set, M.pick_victims(set, live, #live - capacity))
  end
  set.busy_until = math.max(set.busy_until, settle)
  return settle
end

function M.run_action(W, a)
  local set = M.set_named(W, a.scale_set)
  if a.kind == "scale" then
    local before = #M.live_vms(set)
    M.scale(W, set, a.capacity, { fail = a.fail })
    return string.format("%s: scale %d -> %d", set.name, before, a.capacity)
  elseif a.kind == "vm_state" then
    local vm = M.find_vm(set, a.instance)
    if not vm then bad("scale set %s has no VM %s", set.name, tostring(a.instance)) end
    M.set_vm_state(W, vm, a.state, a.power)
    return string.format("%s: %s -> %s%s", set.name, vm.name, a.state or vm.state,
      a.power and ("/" .. a.power) or "")
  elseif a.kind == "delete_vm" then
    local vms = {}
    for _, ref in ipairs(a.instances) do
      local vm = M.find_vm(set, ref)
      if not vm then bad("scale set %s has no VM %s", set.name, tostring(ref)) end
      vms[#vms + 1] = vm
    end
    M.delete_vms(W, set, vms, { immediate = a.immediate, decrement = true })
    local names = {}
    for _, vm in ipairs(vms) do names[#names + 1] = vm.name end
    return string.format("%s: delete %s", set.name, table.concat(names, ", "))
  end
end

return M
