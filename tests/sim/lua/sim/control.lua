-- /_sim/...: the control surface for tests (no auth, never logged, never
-- subject to faults). Documented in tests/sim/README.md.
local json = require "sim.json"
local model = require "sim.model"
local scenario = require "sim.scenario"
local time = require "sim.time"
local util = require "sim.util"
local az = require "sim.azure_model"
local oc = require "sim.octo_model"
local faults = require "sim.faults"
local Check = require "sim.check"

local M = {}

local function resp(status, body)
  return { status = status, body = body, headers = {} }
end

local function err(status, msg)
  return resp(status, { error = msg })
end

local function clock(W, applied)
  local now = model.now(W)
  return {
    now = time.iso(now),
    unix = now // 1000,
    start = time.iso(W.cfg.start_ms),
    elapsed_seconds = (now - W.cfg.start_ms) / 1000,
    speed = W.clock.speed,
    next_step_at = model.next_step_at(W) or json.null,
    steps_remaining = #W.timeline - W.next_step + 1,
    pending_events = #W.pending,
    applied = applied and json.arr(applied) or nil,
  }
end

local function seconds_param(req)
  local v = util.qget(req.q, "seconds")
  if v == nil and req.body ~= "" then
    local b = json.decode(req.body)
    if type(b) == "table" then v = b.seconds end
  end
  if v == nil then return nil end
  return Check.parse_duration(tonumber(v) or v)
end

local function vm_state(W, vm)
  local m = oc.machine_for_vm(W, vm)
  return {
    instance_id = vm.instance_id, ordinal = vm.ordinal, name = vm.name, computer_name = vm.computer_name,
    vm_id = vm.vm_id, state = vm.state, power = vm.power, ip = vm.ip, zone = vm.zone or json.null,
    created = time.iso(vm.created_ms), overprovisioned = vm.overprovisioned or false,
    machine = m and m.id or json.null,
  }
end

function M.state(W)
  local sets = {}
  for _, set in ipairs(W.az.sets) do
    local vms = {}
    for _, vm in ipairs(set.vms) do vms[#vms + 1] = vm_state(W, vm) end
    sets[#sets + 1] = {
      subscription = set.sub.id, resource_group = set.rg.name, name = set.name, mode = set.mode,
      capacity = set.capacity, provisioning_state = az.provisioning_state(W, set), vm_count = #set.vms,
      vms = json.arr(vms),
    }
  end
  local machines = {}
  for _, m in ipairs(W.oc.machines) do
    local vm = oc.linked_vm(W, m)
    machines[#machines + 1] = {
      id = m.id, name = m.name, space = m.space_id, environment_ids = json.arr({ table.unpack(m.env_ids) }),
      roles = json.arr({ table.unpack(m.roles) }), tenant_ids = json.arr({ table.unpack(m.tenant_ids) }),
      health = m.health, disabled = m.disabled,
      comm_style = m.comm_style == "TentacleActive" and "polling" or "listening",
      vm = m.vm_set and { scale_set = m.vm_set, name = m.vm_name, exists = vm ~= nil } or json.null,
    }
  end
  local tasks = {}
  for _, t in ipairs(W.oc.tasks) do
    tasks[#tasks + 1] = { id = t.id, name = t.name, state = t.state, polls = t.polls }
  end
  return {
    scenario = W.cfg.name, clock = clock(W), scale_sets = json.arr(sets), machines = json.arr(machines),
    tasks = json.arr(tasks), events = #W.oc.events,
  }
end

local function requests(W, req)
  local since = util.int(util.qget(req.q, "since") or 0) or 0
  local method = util.qget(req.q, "method")
  local route = util.qget(req.q, "route")
  local path = util.qget(req.q, "path")
  local out = {}
  for _, e in ipairs(W.log) do
    if e.seq > since and (not method or e.method == method:upper()) and (not route or util.glob_match(route, e.route)) and
      (not path or util.contains_ci(e.path, path)) then
      out[#out + 1] = e
    end
  end
  return json.arr(out)
end

local ENDPOINTS = {
  "GET /_sim", "GET /_sim/clock", "POST /_sim/clock/advance?seconds=N", "POST /_sim/step",
  "GET /_sim/requests?since=&method=&route=&path=", "POST /_sim/requests/reset", "GET /_sim/state",
  "GET /_sim/history", "GET /_sim/faults", "POST /_sim/faults", "POST /_sim/actions",
}

function M.handle(W, req)
  local p = req.path:gsub("/+$", "")
  local m = req.method
  if p == "/_sim" and m == "GET" then
    local a = W.cfg.auth
    -- a test tool: tests read the credentials the scenario expects here
    return resp(200, { simulator = "octoscale-sim", scenario = W.cfg.name, endpoints = ENDPOINTS,
      auth = { tenant = a.tenant, client_id = a.client_id, client_secret = a.client_secret,
        federated_assertion = a.federated_assertion, identity_header = a.identity_header,
        api_key = a.api_keys[1] } })
  elseif p == "/_sim/clock" and m == "GET" then
    return resp(200, clock(W))
  elseif p == "/_sim/clock/advance" and m == "POST" then
    local ms = seconds_param(req)
    if not ms then return err(400, "give seconds=N (a number >= 0 or a duration like 90s, 10m)") end
    local ok, applied = pcall(model.advance, W, ms)
    if not ok then
      if type(applied) == "table" and applied.scenario then return err(409, applied.scenario) end
      error(applied, 0)
    end
    return resp(200, clock(W, applied))
  elseif p == "/_sim/step" and m == "POST" then
    local ok, what = pcall(model.step, W)
    if not ok then
      if type(what) == "table" and what.scenario then return err(409, what.scenario) end
      error(what, 0)
    end
    if not what then return err(409, "no timeline step left") end
    local c = clock(W)
    c.applied = json.arr({ what })
    return resp(200, c)
  elseif p == "/_sim/requests" and m == "GET" then
    return resp(200, requests(W, req))
  elseif p == "/_sim/requests/reset" and m == "POST" then
    local n = #W.log
    W.log = {}
    return resp(200, { cleared = n })
  elseif p == "/_sim/state" and m == "GET" then
    return resp(200, M.state(W))
  elseif p == "/_sim/history" and m == "GET" then
    return resp(200, json.arr(W.history))
  elseif p == "/_sim/faults" and m == "GET" then
    return resp(200, faults.describe(W))
  elseif p == "/_sim/faults" and m == "POST" then
    local body, e = json.decode(req.body)
    if body == nil then return err(400, "body must be JSON: " .. tostring(e)) end
    local rules, msg = scenario.from_json("faults", body, W.cfg)
    if not rules then return err(400, msg) end
    faults.replace(W, rules)
    model.note(W, "faults replaced (" .. #rules .. " rule(s))")
    return resp(200, faults.describe(W))
  elseif p == "/_sim/actions" and m == "POST" then
    local body, e = json.decode(req.body)
    if body == nil then return err(400, "body must be JSON: " .. tostring(e)) end
    local actions, msg = scenario.from_json("actions", body, W.cfg)
    if not actions then return err(400, msg) end
    local done = {}
    for _, a in ipairs(actions) do
      local ok, what = pcall(model.run_action, W, a)
      if not ok then
        if type(what) == "table" and what.scenario then return err(409, what.scenario) end
        error(what, 0)
      end
      done[#done + 1] = what
    end
    model.sync(W)
    return resp(200, { applied = json.arr(done) })
  end
  return err(404, "no control endpoint " .. m .. " " .. req.path .. "; see GET /_sim")
end

return M
