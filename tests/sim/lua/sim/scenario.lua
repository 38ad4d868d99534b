-- Reads a scenario (YAML via simc.yaml_load) into a validated, normalised
-- configuration table. The schema is documented in tests/sim/README.md;
-- keep the two in step. Unknown keys are errors, with file:line:col.
local simc = require "simc"
local Check = require "sim.check"

local M = {}

M.VM_STATES = { "Creating", "Updating", "Succeeded", "Failed", "Deleting", "Migrating" }
M.POWER_STATES = { "starting", "running", "stopping", "stopped", "deallocating", "deallocated", "unknown" }
M.HEALTH = { "Healthy", "Unavailable", "Unknown", "HasWarnings", "Unhealthy" }
M.COMM = { "listening", "polling" }
M.STATUSES = { 429, 500, 502, 503, 504 }

local DEFAULT_START = "2026-11-27T10:00:00Z"

-- Fields a machine (explicit, generated or registered later) may carry.
local MACHINE_FIELDS = { "roles", "environment", "environments", "tenant", "tenants",
  "tenant_tags", "participation", "health", "disabled", "comm_style", "os", "policy" }

local function machine_fields(c, t, out)
  out = out or {}
  out.roles = c:strlist(t, "roles")
  local envs = c:strlist(t, "environments") or c:strlist(t, "environment")
  if t.environment and t.environments then c:fail(t, "environments", "give environment or environments, not both") end
  out.environments = envs
  if t.tenant and t.tenants then c:fail(t, "tenants", "give tenant or tenants, not both") end
  out.tenants = c:strlist(t, "tenants") or c:strlist(t, "tenant")
  out.tenant_tags = c:strlist(t, "tenant_tags")
  out.participation = c:enum(t, "participation", { "Untenanted", "TenantedOrUntenanted", "Tenanted" })
  out.health = c:enum(t, "health", M.HEALTH)
  out.disabled = c:bool(t, "disabled")
  out.comm_style = c:enum(t, "comm_style", M.COMM)
  out.os = c:enum(t, "os", { "linux", "windows" })
  out.policy = c:str(t, "policy")
  return out
end
M.machine_fields = machine_fields

local function concat(a, b)
  local out = {}
  for _, v in ipairs(a) do out[#out + 1] = v end
  for _, v in ipairs(b) do out[#out + 1] = v end
  return out
end

-- ---- Azure -----------------------------------------------------------------

local function vm_spec(c, t)
  if type(t) ~= "table" then return { instance = t } end
  c:keys(t, { "instance", "name", "state", "power", "tags", "zone", "ip", "created" })
  local v = {
    instance = t.instance,
    name = c:str(t, "name"),
    state = c:enum(t, "state", M.VM_STATES),
    power = c:enum(t, "power", M.POWER_STATES),
    tags = c:strmap(t, "tags"),
    zone = c:str(t, "zone"),
    ip = c:str(t, "ip"),
    created_ms = t.created and c:time(t, "created") or nil,
  }
  if v.instance ~= nil and math.tointeger(v.instance) == nil and type(v.instance) ~= "string" then
    c:fail(t, "instance", "must be an instance id (Uniform) or an index or VM name (Flexible)")
  end
  return v
end

local function scale_set(c, t, rg)
  c:keys(t, { "name", "mode", "vms", "capacity", "overprovision", "computer_name_prefix",
    "location", "zones", "sku", "tier", "scale_in_policy", "page_size", "nic_name", "timing",
    "auto_register", "overrides", "provisioning_state", "tags", "os", "vm_size" })
  local s = {
    name = c:str(t, "name", nil, true),
    mode = c:enum(t, "mode", { "Uniform", "Flexible" }, "Uniform"),
    overprovision = c:bool(t, "overprovision", false),
    location = c:str(t, "location", rg.location),
    zones = c:strlist(t, "zones"),
    sku = c:str(t, "sku"),
    tier = c:str(t, "tier", "Standard"),
    scale_in_policy = c:enum(t, "scale_in_policy", { "Default", "NewestVM", "OldestVM" }, "Default"),
    page_size = c:int(t, "page_size", nil, 1, 10000),
    nic_name = c:str(t, "nic_name", "nic01"),
    provisioning_state = c:str(t, "provisioning_state"),
    tags = c:strmap(t, "tags") or {},
    os = c:enum(t, "os", { "linux", "windows" }, "linux"),
    vm_size = c:str(t, "vm_size", "Standard_D2s_v3"),
  }
  if not s.name:match("^[%w][%w%-%._]*$") or #s.name > 64 then
    c:fail(t, "name", "not a valid scale set name")
  end
  s.computer_name_prefix = c:str(t, "computer_name_prefix", s.name:gsub("[^%w%-]", ""):sub(1, 9))
  if #s.computer_name_prefix < 1 or #s.computer_name_prefix > 15 then
    c:fail(t, "computer_name_prefix", "must be 1 to 15 characters (Azure's limit)")
  end
  if s.overprovision and s.mode == "Flexible" then
    c:fail(t, "overprovision", "Flexible scale sets do not support overprovisioning")
  end
  s.sku = s.sku or (s.mode == "Flexible" and "Mix" or s.vm_size)

  -- vms: a count, or a list of instances / VM mappings
  local vms = t.vms
  if vms == nil then
    s.vm_count = 0
  elseif type(vms) == "number" then
    s.vm_count = c:int(t, "vms", 0, 0, 100000)
  else
    local list = c:list(t, "vms")
    s.vm_list = {}
    for i, v in ipairs(list) do s.vm_list[i] = vm_spec(c, v) end
  end
  local n = s.vm_list and #s.vm_list or s.vm_count
  s.capacity = c:int(t, "capacity", n, 0, 100000)

  local tm = c:map(t, "timing") or {}
  c:keys(tm, { "create_seconds", "delete_seconds", "overprovision_extra", "overprovision_cleanup_seconds" })
  s.timing = {
    create_ms = c:duration(tm, "create_seconds", 60000),
    delete_ms = c:duration(tm, "delete_seconds", 30000),
    extra = c:amount(tm, "overprovision_extra") or { percent = 50 },
    cleanup_ms = c:duration(tm, "overprovision_cleanup_seconds", 20000),
  }

  local ar = c:map(t, "auto_register")
  if ar then
    c:keys(ar, concat({ "delay_seconds", "name" }, MACHINE_FIELDS))
    s.auto_register = machine_fields(c, ar)
    s.auto_register.delay_ms = c:duration(ar, "delay_seconds", 30000)
    s.auto_register.name = c:str(ar, "name")
  end

  s.overrides = {}
  for _, o in ipairs(c:list(t, "overrides") or {}) do
    local v = vm_spec(c, o)
    if v.instance == nil then c:fail(o, "instance", "required") end
    s.overrides[#s.overrides + 1] = v
  end
  return s
end

local function azure(c, t, cfg)
  c:keys(t, { "page_size", "nic_api_versions", "quirks", "subscriptions" })
  local a = {
    page_size = c:int(t, "page_size", 100, 1, 10000),
    nic_api_versions = c:strlist(t, "nic_api_versions", { "2017-03-30", "2018-10-01", "2018-11-01" }),
    subscriptions = {},
  }
  local q = c:map(t, "quirks") or {}
  c:keys(q, { "unencoded_filter_next_link" })
  a.quirks = { unencoded_filter_next_link = c:bool(q, "unencoded_filter_next_link", false) }

  local names = {}
  for _, st in ipairs(c:list(t, "subscriptions") or {}) do
    c:keys(st, { "id", "resource_groups" })
    local sub = { id = c:str(st, "id", nil, true), resource_groups = {} }
    for _, rt in ipairs(c:list(st, "resource_groups") or {}) do
      c:keys(rt, { "name", "location", "scale_sets" })
      local rg = { name = c:str(rt, "name", nil, true), location = c:str(rt, "location", "westeurope"), scale_sets = {} }
      for _, ss in ipairs(c:list(rt, "scale_sets") or {}) do
        local s = scale_set(c, ss, rg)
        if names[s.name:lower()] then
          c:fail(ss, "name", "scale set names must be unique in a scenario (timeline and machines refer to them by name)")
        end
        names[s.name:lower()] = s
        s.where = c:loc(ss, "name")
        rg.scale_sets[#rg.scale_sets + 1] = s
      end
      sub.resource_groups[#sub.resource_groups + 1] = rg
    end
    a.subscriptions[#a.subscriptions + 1] = sub
  end
  cfg.scale_set_names = names
  return a
end

-- ---- Octopus ---------------------------------------------------------------

local function machine_entry(c, t, cfg)
  if t.from_scale_set ~= nil then
    c:keys(t, concat({ "from_scale_set", "except", "only", "name", "orphans", "orphan_health" }, MACHINE_FIELDS))
    local g = machine_fields(c, t)
    g.from_scale_set = c:str(t, "from_scale_set")
    if not cfg.scale_set_names[g.from_scale_set:lower()] then
      c:fail(t, "from_scale_set", "no scale set named %s", g.from_scale_set)
    end
    g.except = c:list(t, "except") or {}
    g.only = c:list(t, "only")
    g.name = c:str(t, "name")
    g.orphans = c:amount(t, "orphans")
    g.orphan_health = c:enum(t, "orphan_health", M.HEALTH, "Unavailable")
    g.where = c:loc(t, "from_scale_set")
    return g
  end
  c:keys(t, concat({ "id", "name", "thumbprint", "uri", "vm", "reachable", "created" }, MACHINE_FIELDS))
  local m = machine_fields(c, t)
  m.id = c:str(t, "id")
  m.name = c:str(t, "name", nil, true)
  m.thumbprint = c:str(t, "thumbprint")
  m.uri = c:str(t, "uri")
  m.reachable = c:bool(t, "reachable")
  m.created_ms = t.created and c:time(t, "created") or nil
  if t.vm ~= nil then
    if t.vm == "none" then
      m.vm = "none"
    else
      local v = c:map(t, "vm", true)
      c:keys(v, { "scale_set", "instance" })
      m.vm = { scale_set = c:str(v, "scale_set", nil, true), instance = v.instance }
      if not cfg.scale_set_names[m.vm.scale_set:lower()] then
        c:fail(v, "scale_set", "no scale set named %s", m.vm.scale_set)
      end
    end
  end
  m.where = c:loc(t, "name")
  return m
end

local function named_list(c, t, key, extra_keys)
  local out = {}
  for _, e in ipairs(c:list(t, key) or {}) do
    if type(e) ~= "table" then e = { name = e } end
    c:keys(e, concat({ "id", "name", "description" }, extra_keys or {}))
    out[#out + 1] = { id = c:str(e, "id"), name = c:str(e, "name", nil, true),
      description = c:str(e, "description", ""), raw = e }
  end
  return out
end

local function octopus(c, t, cfg)
  c:keys(t, { "version", "max_take", "tasks", "username", "spaces" })
  local o = {
    version = c:str(t, "version", "2026.3.4567"),
    max_take = c:int(t, "max_take", 0, 0),
    username = c:str(t, "username", "octoscale"),
    spaces = {},
  }
  local tk = c:map(t, "tasks") or {}
  c:keys(tk, { "complete_after_polls", "complete_after_seconds" })
  o.tasks = {
    complete_after_polls = c:int(tk, "complete_after_polls", 2, 0),
    complete_after_ms = c:duration(tk, "complete_after_seconds", 0),
  }
  local spaces = c:list(t, "spaces") or { { name = "Default" } }
  for i, st in ipairs(spaces) do
    c:keys(st, { "id", "name", "description", "default", "environments", "tenants", "machines" })
    local sp = {
      id = c:str(st, "id"),
      name = c:str(st, "name", nil, true),
      description = c:str(st, "description", ""),
      default = c:bool(st, "default", i == 1),
      environments = named_list(c, st, "environments"),
      tenants = named_list(c, st, "tenants", { "tags" }),
      machines = {},
    }
    for _, te in ipairs(sp.tenants) do te.tags = c:strlist(te.raw, "tags", {}) end
    for _, mt in ipairs(c:list(st, "machines") or {}) do
      sp.machines[#sp.machines + 1] = machine_entry(c, mt, cfg)
    end
    o.spaces[i] = sp
  end
  return o
end

-- ---- timeline and faults -----------------------------------------------------

M.ACTIONS = { "scale", "vm_state", "register", "delete_vm", "remove_machine", "machine", "faults" }

-- instance: an integer (Uniform id / Flexible index) or a VM name.
local function instance_refs(c, t)
  local list = t.instance ~= nil and { t.instance } or c:list(t, "instances")
  for i, ref in ipairs(list or {}) do
    if math.tointeger(ref) == nil and type(ref) ~= "string" then
      c:fail(t, t.instance ~= nil and "instance" or "instances", "item %d: an instance id, index or VM name", i)
    end
  end
  return list
end

local function ref_scale_set(c, t, cfg)
  local name = c:str(t, "scale_set", nil, true)
  if cfg.scale_set_names and not cfg.scale_set_names[name:lower()] then
    c:fail(t, "scale_set", "no scale set named %s", name)
  end
  return name
end

-- One action: {kind = "scale", ...}. Shared with POST /_sim/actions.
function M.action(c, kind, t, cfg)
  if kind == "scale" then
    c:keys(t, { "scale_set", "capacity", "fail" })
    return { kind = kind, scale_set = ref_scale_set(c, t, cfg),
      capacity = c:int(t, "capacity", nil, 0, 100000) or c:fail(t, "capacity", "required"),
      fail = c:int(t, "fail", 0, 0) }
  elseif kind == "vm_state" then
    c:keys(t, { "scale_set", "instance", "state", "power" })
    local refs = instance_refs(c, t)
    local a = { kind = kind, scale_set = ref_scale_set(c, t, cfg), instance = refs and refs[1],
      state = c:enum(t, "state", M.VM_STATES), power = c:enum(t, "power", M.POWER_STATES) }
    if t.instance == nil then c:fail(t, "instance", "required") end
    if not a.state and not a.power then c:fail(t, "state", "give state and/or power") end
    return a
  elseif kind == "register" then
    c:keys(t, concat({ "scale_set", "instance", "instances", "all_new", "name" }, MACHINE_FIELDS))
    local a = machine_fields(c, t)
    a.kind, a.scale_set = kind, ref_scale_set(c, t, cfg)
    a.instances = instance_refs(c, t)
    a.all_new = c:bool(t, "all_new", false)
    a.name = c:str(t, "name")
    if not a.instances and not a.all_new then c:fail(t, "all_new", "give instance, instances or all_new: true") end
    return a
  elseif kind == "delete_vm" then
    c:keys(t, { "scale_set", "instance", "instances", "immediate" })
    local a = { kind = kind, scale_set = ref_scale_set(c, t, cfg),
      instances = instance_refs(c, t),
      immediate = c:bool(t, "immediate", false) }
    if not a.instances then c:fail(t, "instance", "required") end
    return a
  elseif kind == "remove_machine" or kind == "machine" then
    c:keys(t, kind == "machine" and { "id", "name", "health", "disabled", "reachable" } or { "id", "name" })
    local a = { kind = kind, id = c:str(t, "id"), name = c:str(t, "name") }
    if not a.id and not a.name then c:fail(t, "name", "give id or name") end
    if kind == "machine" then
      a.health = c:enum(t, "health", M.HEALTH)
      a.disabled = c:bool(t, "disabled")
      a.reachable = c:bool(t, "reachable")
    end
    return a
  elseif kind == "faults" then
    c:keys(t, { "add", "remove", "clear" })
    local a = { kind = kind, clear = c:bool(t, "clear", false), remove = c:strlist(t, "remove", {}), add = {} }
    for i, r in ipairs(c:list(t, "add", false, true) or {}) do a.add[i] = M.fault(c, r) end
    return a
  end
  c:fail(t, nil, "unknown action %s (expected one of: %s)", tostring(kind), table.concat(M.ACTIONS, ", "))
end

-- A timeline entry or an /_sim/actions item holds exactly one action key,
-- or `actions:` with a list of such single-key mappings.
function M.actions_of(c, t, cfg, extra_keys)
  local out = {}
  local keys = {}
  for k in pairs(t) do
    local skip = false
    for _, e in ipairs(extra_keys or {}) do if e == k then skip = true end end
    if not skip then keys[#keys + 1] = k end
  end
  table.sort(keys)
  if #keys == 1 and keys[1] == "actions" then
    for _, item in ipairs(c:list(t, "actions")) do
      for _, a in ipairs(M.actions_of(c, item, cfg)) do out[#out + 1] = a end
    end
    return out
  end
  if #keys ~= 1 then
    c:fail(t, keys[2] or nil, "an entry holds exactly one action (%s) or `actions:` with a list",
      table.concat(M.ACTIONS, ", "))
  end
  local kind = keys[1]
  local body = t[kind]
  if type(body) ~= "table" then c:fail(t, kind, "must be a mapping") end
  c:enter(t, kind, body)
  local a = M.action(c, kind, body, cfg)
  a.where = c:loc(t, kind)
  out[1] = a
  return out
end

function M.fault(c, t)
  if type(t) ~= "table" or not Check.is_map(t) then error({ scenario = "a fault rule must be a mapping" }, 0) end
  c:keys(t, { "name", "route", "method", "path", "page", "count", "after", "status", "retry_after",
    "body", "headers", "latency_ms", "slow_body_ms", "reset", "rate_limit",
    "next_link", "drop_items", "remove", "set", "query", "html", "empty", "truncate", "oversize" })
  local f = {
    name = c:str(t, "name"),
    route = c:str(t, "route"),
    method = t.method and c:str(t, "method"):upper() or nil,
    path = c:str(t, "path"),
    query = c:str(t, "query"),
    page = c:int(t, "page", nil, 1),
    after = c:int(t, "after", 0, 0),
    status = c:int(t, "status", nil, 100, 599),
    latency_ms = c:int(t, "latency_ms", 0, 0),
    slow_body_ms = c:int(t, "slow_body_ms", 0, 0),
    reset = c:bool(t, "reset", false),
    headers = c:map(t, "headers"),
    next_link = c:enum(t, "next_link", { "self" }),
    drop_items = c:int(t, "drop_items", nil, 1),
    remove = c:strlist(t, "remove"),
    set = c:map(t, "set"),
  }
  f.mangle = f.next_link or f.drop_items or f.remove or f.set
  if t.count == nil or t.count == "always" then
    f.count = nil
  else
    f.count = c:int(t, "count", nil, 0)
  end
  for _, key in ipairs({ "path", "query" }) do
    if f[key] then
      local ok, err = simc.re_match(f[key], "")
      if ok == nil then c:fail(t, key, "bad regular expression: %s", err) end
    end
  end
  M.fault_answer_kinds(c, t, f)
  local ra = t.retry_after
  if ra ~= nil then
    if type(ra) == "number" then
      f.retry_after = { seconds = c:int(t, "retry_after", nil, 0) }
    elseif type(ra) == "string" and ra:match("^date%+%d+$") then
      f.retry_after = { date_in = tonumber(ra:match("%d+")) }
    elseif type(ra) == "string" then
      f.retry_after = { literal = ra }
    else
      c:fail(t, "retry_after", "must be seconds, date+SECONDS or a literal header value")
    end
  end
  if t.body ~= nil then
    if type(t.body) ~= "string" and type(t.body) ~= "table" then c:fail(t, "body", "must be a string or a mapping") end
    f.body = t.body
  end
  local rl = c:map(t, "rate_limit")
  if rl then
    c:keys(rl, { "per_minute", "burst" })
    f.rate_limit = { per_minute = c:num(rl, "per_minute", 200, 0.001), burst = nil }
    f.rate_limit.burst = c:num(rl, "burst", f.rate_limit.per_minute, 1)
  end
  if f.status and (f.reset or f.rate_limit or f.empty or f.text_fault) then
    c:fail(t, "status", "a rule either answers with a status, resets, rate-limits, or breaks a 200 answer")
  end
  if not (f.status or f.reset or f.rate_limit or f.latency_ms > 0 or f.slow_body_ms > 0 or f.mangle or
    f.html or f.empty or f.text_fault) then
    c:fail(t, nil, "the rule does nothing: give status, reset, rate_limit, latency_ms, slow_body_ms, next_link, drop_items, remove or set")
  end
  return f
end

-- Answers that replace the route's (`html`, `empty`) or break its encoded
-- body (`truncate`, `oversize`: f.text_fault, one of them).
function M.fault_answer_kinds(c, t, f)
  f.html = c:bool(t, "html", false)
  f.empty = c:bool(t, "empty", false)
  if f.html and f.empty then c:fail(t, "html", "a rule answers with html or empty, not both") end
  local tr = t.truncate
  if tr ~= nil then
    local bytes = type(tr) == "number" and math.tointeger(tr)
    local pct = type(tr) == "string" and tonumber(tr:match("^(%d+%.?%d*)%%$"))
    if tr == true then pct = 50 end
    if not (bytes and bytes >= 0) and not (pct and pct < 100) then
      c:fail(t, "truncate", "must be true (half), a byte count >= 0 or a percentage below 100%%")
    end
    f.truncate = bytes and { bytes = bytes } or { percent = pct }
    f.text_fault = "truncate"
  end
  if t.oversize ~= nil then
    if f.text_fault then c:fail(t, "oversize", "a rule either truncates or pads the body") end
    f.oversize = c:int(t, "oversize", nil, 1)
    f.text_fault = "oversize"
  end
  if (f.html or f.empty) and (f.text_fault or f.mangle) then
    c:fail(t, f.html and "html" or "empty", "html and empty replace the body; they do not combine with a body change")
  end
end

-- ---- top level -----------------------------------------------------------------

local function load(c, root, path)
  c:keys(root, { "name", "description", "start", "seed", "latency_ms", "log_limit", "auth", "azure", "octopus",
    "timeline", "faults" })
  local cfg = {
    path = path,
    name = c:str(root, "name", (path:match("([^/]+)%.ya?ml$") or path)),
    start_ms = c:time(root, "start", DEFAULT_START),
    seed = c:int(root, "seed", 1),
    latency_ms = c:int(root, "latency_ms", 0, 0),
    log_limit = c:int(root, "log_limit", 200000, 1),
  }
  c:str(root, "description")

  local au = c:map(root, "auth") or {}
  c:keys(au, { "tenant", "client_id", "client_secret", "federated_assertion", "identity_header",
    "api_key", "token_lifetime", "enforce_expiry", "managed_identity" })
  cfg.auth = {
    tenant = c:str(au, "tenant", "00000000-0000-4000-8000-00000000aaaa"),
    client_id = c:str(au, "client_id", "00000000-0000-4000-8000-00000000c11e"),
    client_secret = c:str(au, "client_secret", "sim-client-secret"),
    federated_assertion = c:str(au, "federated_assertion", "sim-federated-assertion"),
    identity_header = c:str(au, "identity_header", "sim-identity-header"),
    api_keys = c:strlist(au, "api_key", { "API-SIMULATOR0000000000000000000" }),
    token_lifetime = c:int(au, "token_lifetime", 3599, 1),
    enforce_expiry = c:bool(au, "enforce_expiry", false),
    managed_identity = c:bool(au, "managed_identity", true),
  }

  cfg.azure = azure(c, c:map(root, "azure") or {}, cfg)
  cfg.octopus = octopus(c, c:map(root, "octopus") or {}, cfg)

  cfg.timeline = {}
  for _, e in ipairs(c:list(root, "timeline") or {}) do
    if not Check.is_map(e) then c:fail(e, nil, "a timeline entry must be a mapping") end
    if e.at == nil then c:fail(e, "at", "required (seconds after start, or a duration like 2m)") end
    local at = c:duration(e, "at", 0)
    for _, a in ipairs(M.actions_of(c, e, cfg, { "at" })) do
      cfg.timeline[#cfg.timeline + 1] = { at_ms = at, action = a }
    end
  end
  -- stable: entries at the same time keep file order
  for i, e in ipairs(cfg.timeline) do e.order = i end
  table.sort(cfg.timeline, function(a, b)
    if a.at_ms ~= b.at_ms then return a.at_ms < b.at_ms end
    return a.order < b.order
  end)

  cfg.faults = {}
  for i, f in ipairs(c:list(root, "faults") or {}) do cfg.faults[i] = M.fault(c, f) end
  return cfg
end

-- Returns cfg, or nil and "file:line:col: message".
function M.load_file(path)
  local root, pos = simc.yaml_load(path)
  if root == nil then return nil, pos end
  if not Check.is_map(root) then return nil, path .. ": the scenario must be a mapping" end
  local c = Check.new(path, pos)
  local ok, res = pcall(load, c, root, path)
  if ok then return res end
  if type(res) == "table" and res.scenario then return nil, res.scenario end
  error(res, 0)
end

-- Validates fault rules or actions posted as JSON (no positions).
function M.from_json(kind, value, cfg)
  local c = Check.new("request body")
  local ok, res = pcall(function()
    if kind == "faults" then
      local list = value
      if Check.is_map(value) and value.faults then list = value.faults end
      if not Check.is_array(list) then error({ scenario = "expected a list of fault rules or {\"faults\": [...]}" }, 0) end
      local out = {}
      for i, f in ipairs(list) do
        c:enter(list, i, f)
        out[i] = M.fault(c, f)
      end
      return out
    end
    local list = Check.is_array(value) and value or { value }
    local out = {}
    for i, item in ipairs(list) do
      if not Check.is_map(item) then error({ scenario = "each action must be an object" }, 0) end
      c:enter(list, i, item)
      for _, a in ipairs(M.actions_of(c, item, cfg)) do out[#out + 1] = a end
    end
    return out
  end)
  if ok then return res end
  if type(res) == "table" and res.scenario then return nil, res.scenario end
  error(res, 0)
end

return M
