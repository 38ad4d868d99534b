-- Octopus Deploy routes: /api root, spaces, environments, tenants,
-- machines (paged with Links["Page.Next"], filters, GET/PUT/DELETE),
-- tasks (Health) and events. Envelopes follow the 2023.1 fixtures.
local json = require "sim.json"
local model = require "sim.model"
local time = require "sim.time"
local util = require "sim.util"
local oc = require "sim.octo_model"

local M = {}

local NULL = json.null
local MAX_TAKE_ALL = 2147483647

local function resp(status, body, headers)
  return { status = status, body = body, headers = headers or {} }
end

local function octo_error(status, message, errors)
  return resp(status, { ErrorMessage = message, Errors = json.arr(errors or {}) })
end

local function not_found(what)
  return octo_error(404, "The resource you requested was not found.",
    what and { "The resource '" .. what .. "' was not found." } or nil)
end

local function bad_request(errors)
  return octo_error(400, "There was a problem with your request.", errors)
end

local function copy(list)
  local out = {}
  for i, v in ipairs(list or {}) do out[i] = v end
  return json.arr(out)
end

-- ---- resources -------------------------------------------------------------------

local STATUS = { Healthy = "Online", HasWarnings = "Online", Unhealthy = "Online", Unavailable = "Offline",
  Unknown = "Unknown" }

function M.machine_resource(W, m)
  local base = "/api/" .. m.space_id .. "/machines/" .. m.id
  local endpoint = {
    CommunicationStyle = m.comm_style,
    Uri = m.uri,
    Thumbprint = m.thumbprint,
    TentacleVersionDetails = { UpgradeLocked = false, Version = m.tentacle_version, UpgradeSuggested = false,
      UpgradeRequired = false, UpgradeAvailable = false },
    CertificateSignatureAlgorithm = "sha256RSA",
    Id = NULL,
    LastModifiedOn = NULL,
    LastModifiedBy = NULL,
    Links = {},
  }
  if m.comm_style == "TentaclePassive" then endpoint.ProxyId = NULL end
  return {
    Id = m.id,
    Name = m.name,
    SpaceId = m.space_id,
    EnvironmentIds = copy(m.env_ids),
    Roles = copy(m.roles),
    TenantIds = copy(m.tenant_ids),
    TenantTags = copy(m.tenant_tags),
    TenantedDeploymentParticipation = m.participation,
    IsDisabled = m.disabled,
    HealthStatus = m.health,
    Status = m.disabled and "Disabled" or (STATUS[m.health] or "Unknown"),
    StatusSummary = m.status_summary,
    HasLatestCalamari = true,
    IsInProcess = false,
    MachinePolicyId = m.policy_id,
    Thumbprint = m.thumbprint,
    Uri = m.uri,
    Endpoint = endpoint,
    OperatingSystem = m.os_name,
    ShellName = m.shell,
    ShellVersion = m.shell_version,
    Architecture = m.arch,
    Slug = m.slug,
    SkipInitialHealthCheck = m.skip_initial_health_check,
    LastModifiedOn = time.octopus(m.modified_ms),
    LastModifiedBy = m.modified_by,
    Links = {
      Self = base,
      Connection = base .. "/connection",
      TasksTemplate = base .. "/tasks{?skip,take}",
    },
  }
end

local function space_resource(W, sp)
  return {
    Id = sp.id, Name = sp.name, Slug = util.slug(sp.name), Description = sp.description,
    IsDefault = sp.default and true or false, IsPrivate = false, TaskQueueStopped = false,
    SpaceManagersTeams = { "teams-administrators" }, SpaceManagersTeamMembers = json.arr({}), Icon = NULL,
    ExtensionSettings = json.arr({}),
    LastModifiedOn = time.octopus(W.cfg.start_ms - 90 * 86400000), LastModifiedBy = "admin",
    Links = {
      Self = "/api/spaces/" .. sp.id, SpaceHome = "/api/" .. sp.id, Web = "/app#/spaces/" .. sp.id,
      Logo = "/api/spaces/" .. sp.id .. "/logo", Search = "/api/spaces/" .. sp.id .. "/search",
    },
  }
end

local function environment_resource(W, e)
  local base = "/api/" .. e.space_id .. "/environments/" .. e.id
  return {
    Id = e.id, Name = e.name, Description = e.description, SortOrder = e.sort_order, UseGuidedFailure = false,
    AllowDynamicInfrastructure = true, SpaceId = e.space_id, ExtensionSettings = json.arr({}), Slug = util.slug(e.name),
    Links = { Self = base, Machines = base .. "/machines{?skip,take,partialName,roles,isDisabled,healthStatuses,commStyles,tenantIds,tenantTags,shellNames}",
      SinglyScopedVariableDetails = base .. "/singlyScopedVariableDetails", Metadata = base .. "/metadata",
      Web = "/app#/" .. e.space_id .. "/infrastructure/environments/" .. e.id },
  }
end

local function tenant_resource(W, t)
  local base = "/api/" .. t.space_id .. "/tenants/" .. t.id
  return {
    Id = t.id, Name = t.name, Description = t.description, TenantTags = copy(t.tags), ProjectEnvironments = {},
    SpaceId = t.space_id, ClonedFromTenantId = NULL, Slug = util.slug(t.name), IsDisabled = false,
    Links = { Self = base, Variables = base .. "/variables", Logo = base .. "/logo",
      Web = "/app#/" .. t.space_id .. "/tenants/" .. t.id .. "/overview" },
  }
end

local function event_resource(W, ev)
  local html = ev.message
  local refs = {}
  for i, r in ipairs(ev.refs) do
    refs[i] = { ReferencedDocumentId = r.id, StartIndex = r.start, Length = r.len }
  end
  if ev.refs[1] then
    local r = ev.refs[1]
    local text = ev.message:sub(r.start + 1, r.start + r.len)
    html = ev.message:sub(1, r.start) .. "<a href='#/" .. ev.space_id .. "/infrastructure/machines/" .. r.id ..
      "'>" .. text .. "</a>" .. ev.message:sub(r.start + r.len + 1)
  end
  return {
    Id = ev.id, RelatedDocumentIds = copy(ev.related), Category = ev.category,
    UserId = ev.username == "system" and "users-system" or (ev.username == W.cfg.octopus.username and "Users-1" or "Users-2"),
    Username = ev.username, IsService = ev.username:match("^svc%-") ~= nil, IdentityEstablishedWith = "API key",
    UserAgent = "octoscale-sim", Occurred = time.octopus(ev.occurred_ms), Message = ev.message,
    MessageHtml = html, MessageReferences = json.arr(refs), Comments = NULL, Details = NULL,
    ChangeDetails = { DocumentContext = NULL, Differences = NULL }, IpAddress = NULL, SpaceId = ev.space_id,
    Links = { Self = "/api/events/" .. ev.id },
  }
end

local function duration_text(ms)
  local s = ms // 1000
  if s < 60 then return s .. " second" .. (s == 1 and "" or "s") end
  local m = s // 60
  return m .. " minute" .. (m == 1 and "" or "s")
end

function M.task_resource(W, t)
  local id = t.id
  local done = t.state == "Success" or t.state == "Failed" or t.state == "Canceled"
  local args = {}
  for k, v in pairs(t.arguments) do args[k] = v end
  if type(args.MachineIds) == "table" then args.MachineIds = copy(args.MachineIds) end
  local now = model.now(W)
  return {
    Id = id, SpaceId = t.space_id, Name = t.name, Description = t.description, Arguments = args,
    State = t.state,
    Completed = done and time.human(t.complete_ms) or (t.state == "Queued" and "Queued..." or "Executing..."),
    QueueTime = time.octopus(t.queue_ms), QueueTimeExpiry = NULL,
    StartTime = t.start_ms and time.octopus(t.start_ms) or NULL,
    LastUpdatedTime = time.octopus(done and t.complete_ms or now),
    CompletedTime = done and time.octopus(t.complete_ms) or NULL,
    ServerNode = t.state ~= "Queued" and "octoscale-sim" or NULL,
    Duration = duration_text((done and t.complete_ms or now) - (t.start_ms or t.queue_ms)),
    ErrorMessage = t.error or "",
    HasBeenPickedUpByProcessor = t.state ~= "Queued",
    IsCompleted = done,
    FinishedSuccessfully = t.state == "Success",
    HasPendingInterruptions = false,
    HasPendingPreconditions = false,
    CanRerun = done,
    HasWarningsOrErrors = t.state == "Failed",
    EstimatedRemainingQueueDurationSeconds = 0,
    ProjectId = NULL,
    Links = {
      Self = "/api/tasks/" .. id, Web = "/app#/" .. t.space_id .. "/tasks/" .. id, Raw = "/api/tasks/" .. id .. "/raw",
      Rerun = "/api/tasks/rerun/" .. id, Cancel = "/api/tasks/" .. id .. "/cancel",
      QueuedBehind = "/api/tasks/" .. id .. "/queued-behind{?skip}", Details = "/api/tasks/" .. id .. "/details{?verbose,tail}",
      Artifacts = "/api/artifacts?regarding=" .. id, Interruptions = "/api/interruptions?regarding=" .. id,
    },
  }
end

-- ---- paging -----------------------------------------------------------------------

local function int_param(req, name, default)
  local v = util.qget(req.q, name)
  if v == nil or v == "" then return default end
  return util.int(v)
end

-- The ResourceCollection envelope. `filters` is an ordered list of
-- {name, value} that Page.* links repeat.
local function collection(W, req, item_type, items, build, path, template, filters)
  local skip = int_param(req, "skip", 0)
  local take = int_param(req, "take", 30)
  if not skip or skip < 0 then return bad_request({ "skip must be a non-negative integer" }) end
  if not take or take < 0 then return bad_request({ "take must be a non-negative integer" }) end
  local max_take = W.cfg.octopus.max_take
  if max_take > 0 and take > max_take then take = max_take end
  local total = #items
  local page = {}
  for i = skip + 1, math.min(skip + take, total) do page[#page + 1] = build(items[i]) end
  local pages = take > 0 and math.max(1, math.ceil(total / take)) or 1
  local function link(s, t)
    local parts = { "skip=" .. s }
    for _, f in ipairs(filters or {}) do parts[#parts + 1] = f[1] .. "=" .. util.url_encode(f[2], ",") end
    parts[#parts + 1] = "take=" .. t
    return path .. "?" .. table.concat(parts, "&")
  end
  local links = {
    Self = link(skip, take),
    Template = template,
    ["Page.All"] = link(0, MAX_TAKE_ALL),
    ["Page.Current"] = link(skip, take),
    ["Page.Last"] = link((pages - 1) * take, take),
  }
  if take > 0 and skip + take < total then links["Page.Next"] = link(skip + take, take) end
  if skip > 0 then links["Page.Previous"] = link(math.max(0, skip - take), take) end
  return resp(200, {
    ItemType = item_type, TotalResults = total, ItemsPerPage = take, NumberOfPages = pages,
    LastPageNumber = pages - 1, Items = json.arr(page), Links = links,
  })
end

local function by_name(a, b)
  local la, lb = a.name:lower(), b.name:lower()
  if la ~= lb then return la < lb end
  return a.id < b.id
end

-- name (exact, case-insensitive), partialName (contains), ids
local function name_filters(req, list)
  local name, partial = util.qget(req.q, "name"), util.qget(req.q, "partialName")
  local ids = util.qlist(req.q, "ids")
  local idset = ids and util.lset(ids)
  local out, filters = {}, {}
  if name then filters[#filters + 1] = { "name", name } end
  if ids then filters[#filters + 1] = { "ids", table.concat(ids, ",") } end
  if partial then filters[#filters + 1] = { "partialName", partial } end
  for _, e in ipairs(list) do
    if (not name or e.name:lower() == name:lower()) and (not partial or util.contains_ci(e.name, partial)) and
      (not idset or idset[e.id:lower()]) then
      out[#out + 1] = e
    end
  end
  return out, filters
end

-- ---- handlers ------------------------------------------------------------------------

local function root_links(sp)
  local s = sp.id
  return {
    Self = "/api",
    Environments = "/api/" .. s .. "/environments{/id}{?name,skip,ids,take,partialName}",
    Events = "/api/events{/id}{?skip,regarding,regardingAny,user,users,projects,projectGroups,environments,eventGroups,eventCategories,eventAgents,tags,tenants,from,to,internal,fromAutoId,toAutoId,documentTypes,asCsv,take,ids,spaces,includeSystem,excludeDifference}",
    EventCategories = "/api/events/categories{?appliesTo}",
    MachinePolicies = "/api/" .. s .. "/machinepolicies{/id}{?skip,take,ids,partialName}",
    MachineRoles = "/api/" .. s .. "/machineroles/all",
    Machines = "/api/" .. s .. "/machines{/id}{?skip,take,name,ids,partialName,roles,isDisabled,healthStatuses,commStyles,tenantIds,tenantTags,environmentIds,thumbprint,deploymentId,shellNames,deploymentTargetTypes}",
    SpaceHome = "/api/{spaceId}",
    Spaces = "/api/spaces{/id}{?skip,ids,take,partialName}",
    Tasks = "/api/tasks{/id}{?skip,active,environment,tenant,runbook,project,name,node,running,states,hasPendingInterruptions,hasWarningsOrErrors,take,ids,partialName,spaces,includeSystem,description,fromCompletedDate,toCompletedDate,fromQueueDate,toQueueDate,fromStartDate,toStartDate}",
    Tenants = "/api/" .. s .. "/tenants{/id}{?skip,projectId,name,tags,take,ids,clone,partialName,clonedFromTenantId}",
    Web = "/app",
  }
end

function M.root(W, req)
  return resp(200, {
    Application = "Octopus Deploy",
    Version = W.cfg.octopus.version,
    ApiVersion = "3.0.0",
    InstallationId = W.oc.installation_id,
    HasLongTermSupport = false,
    Links = root_links(W.oc.default_space),
  })
end

function M.space_home(W, req, route)
  local s = route.space.id
  return resp(200, { Links = {
    Self = "/api/" .. s,
    Environments = "/api/" .. s .. "/environments{/id}{?name,skip,ids,take,partialName}",
    Machines = "/api/" .. s .. "/machines{/id}{?skip,take,name,ids,partialName,roles,isDisabled,healthStatuses,commStyles,tenantIds,tenantTags,environmentIds,thumbprint,deploymentId,shellNames,deploymentTargetTypes}",
    Tenants = "/api/" .. s .. "/tenants{/id}{?skip,projectId,name,tags,take,ids,clone,partialName,clonedFromTenantId}",
    Tasks = "/api/" .. s .. "/tasks{/id}{?skip,active,environment,tenant,name,running,states,take,ids,partialName}",
    Events = "/api/" .. s .. "/events{/id}{?skip,regarding,regardingAny,eventCategories,documentTypes,take,ids,from,to}",
  } })
end

function M.spaces_list(W, req)
  local list = {}
  for _, sp in ipairs(W.oc.spaces) do list[#list + 1] = sp end
  table.sort(list, by_name)
  local items, filters = name_filters(req, list)
  return collection(W, req, "Space", items, function(sp) return space_resource(W, sp) end, "/api/spaces",
    "/api/spaces{?skip,ids,take,partialName}", filters)
end

function M.spaces_all(W)
  local out = {}
  for _, sp in ipairs(W.oc.spaces) do out[#out + 1] = space_resource(W, sp) end
  return resp(200, json.arr(out))
end

function M.space_get(W, req, route)
  return resp(200, space_resource(W, route.space))
end

local function in_space(list, space)
  local out = {}
  for _, e in ipairs(list) do
    if e.space_id == space.id then out[#out + 1] = e end
  end
  return out
end

function M.environments_list(W, req, route)
  local list = in_space(W.oc.envs, route.space)
  table.sort(list, function(a, b) return a.sort_order < b.sort_order end)
  local items, filters = name_filters(req, list)
  return collection(W, req, "Environment", items, function(e) return environment_resource(W, e) end,
    "/api/" .. route.space.id .. "/environments", "/api/" .. route.space.id .. "/environments{?name,skip,ids,take,partialName}",
    filters)
end

function M.environments_all(W, req, route)
  local out = {}
  for _, e in ipairs(in_space(W.oc.envs, route.space)) do out[#out + 1] = environment_resource(W, e) end
  return resp(200, json.arr(out))
end

local function find_in(list, space, id)
  for _, e in ipairs(list) do
    if e.space_id == space.id and e.id:lower() == id:lower() then return e end
  end
  return nil
end

function M.environment_get(W, req, route)
  local e = find_in(W.oc.envs, route.space, route.id)
  if not e then return not_found(route.id) end
  return resp(200, environment_resource(W, e))
end

function M.tenants_list(W, req, route)
  local list = in_space(W.oc.tenants, route.space)
  table.sort(list, by_name)
  local items, filters = name_filters(req, list)
  return collection(W, req, "Tenant", items, function(t) return tenant_resource(W, t) end,
    "/api/" .. route.space.id .. "/tenants", "/api/" .. route.space.id .. "/tenants{?skip,projectId,name,tags,take,ids,partialName}",
    filters)
end

function M.tenants_all(W, req, route)
  local out = {}
  for _, t in ipairs(in_space(W.oc.tenants, route.space)) do out[#out + 1] = tenant_resource(W, t) end
  return resp(200, json.arr(out))
end

function M.tenant_get(W, req, route)
  local t = find_in(W.oc.tenants, route.space, route.id)
  if not t then return not_found(route.id) end
  return resp(200, tenant_resource(W, t))
end

-- Machine list filters. Array filters match when the machine has ANY of
-- the given values (roles=a,b returns machines with role a or role b);
-- clients that need ALL roles re-check client-side, as Octopus's own VMSS
-- step template does. The server's real semantics are undocumented.
local MACHINE_FILTERS = {
  { "name" }, { "ids" }, { "partialName" }, { "roles", "Roles" }, { "isDisabled" },
  { "healthStatuses", "HealthStatus" }, { "commStyles", "CommStyle" }, { "tenantIds", "TenantIds" },
  { "tenantTags", "TenantTags" }, { "environmentIds", "EnvironmentIds" }, { "thumbprint" },
  { "shellNames", "ShellName" }, { "deploymentTargetTypes", "CommStyle" },
}

local function machine_values(m, field)
  if field == "Roles" then return m.roles end
  if field == "TenantIds" then return m.tenant_ids end
  if field == "TenantTags" then return m.tenant_tags end
  if field == "EnvironmentIds" then return m.env_ids end
  if field == "HealthStatus" then return { m.health } end
  if field == "CommStyle" then return { m.comm_style } end
  if field == "ShellName" then return { m.shell } end
  return {}
end

local function any_of(values, wanted)
  for _, v in ipairs(values) do
    if wanted[v:lower()] then return true end
  end
  return false
end

local function filter_machines(W, req, space, env_id)
  local q = req.q
  local filters, checks = {}, {}
  for _, f in ipairs(MACHINE_FILTERS) do
    local key, field = f[1], f[2]
    if field then
      local vals = util.qlist(q, key)
      if vals then
        filters[#filters + 1] = { key, table.concat(vals, ",") }
        local wanted = util.lset(vals)
        checks[#checks + 1] = function(m) return any_of(machine_values(m, field), wanted) end
      end
    else
      local v = util.qget(q, key)
      if v and v ~= "" then
        if key == "ids" then
          local vals = util.qlist(q, key)
          filters[#filters + 1] = { key, table.concat(vals, ",") }
          local wanted = util.lset(vals)
          checks[#checks + 1] = function(m) return wanted[m.id:lower()] end
        else
          filters[#filters + 1] = { key, v }
          if key == "name" then
            checks[#checks + 1] = function(m) return m.name:lower() == v:lower() end
          elseif key == "partialName" then
            checks[#checks + 1] = function(m) return util.contains_ci(m.name, v) end
          elseif key == "thumbprint" then
            checks[#checks + 1] = function(m) return m.thumbprint:lower() == v:lower() end
          elseif key == "isDisabled" then
            local b = v:lower()
            if b ~= "true" and b ~= "false" then return nil, "isDisabled must be true or false" end
            checks[#checks + 1] = function(m) return m.disabled == (b == "true") end
          end
        end
      end
    end
  end
  local out = {}
  for _, m in ipairs(oc.sorted_machines(W)) do
    local ok = m.space_id == space.id
    if ok and env_id then
      ok = false
      for _, e in ipairs(m.env_ids) do if e == env_id then ok = true end end
    end
    for _, c in ipairs(checks) do
      if not ok then break end
      ok = c(m)
    end
    if ok then out[#out + 1] = m end
  end
  return out, filters
end

function M.machines_list(W, req, route)
  local items, filters = filter_machines(W, req, route.space, route.env and route.env.id)
  if not items then return bad_request({ filters }) end
  local path = "/api/" .. route.space.id .. "/machines"
  if route.env then path = "/api/" .. route.space.id .. "/environments/" .. route.env.id .. "/machines" end
  return collection(W, req, "Machine", items, function(m) return M.machine_resource(W, m) end, path,
    "/api/" .. route.space.id .. "/machines{?skip,take,name,ids,partialName,roles,isDisabled,healthStatuses,commStyles,tenantIds,tenantTags,environmentIds,thumbprint,deploymentId,shellNames,deploymentTargetTypes}",
    filters)
end

function M.environment_machines(W, req, route)
  local e = find_in(W.oc.envs, route.space, route.id)
  if not e then return not_found(route.id) end
  route.env = e
  return M.machines_list(W, req, route)
end

function M.machines_all(W, req, route)
  local items = filter_machines(W, req, route.space)
  local out = {}
  for _, m in ipairs(items or {}) do out[#out + 1] = M.machine_resource(W, m) end
  return resp(200, json.arr(out))
end

local function space_machine(W, route)
  local m = oc.machine(W, route.id)
  if m and m.space_id == route.space.id then return m end
  return nil
end

function M.machine_get(W, req, route)
  local m = space_machine(W, route)
  if not m then return not_found(route.id) end
  return resp(200, M.machine_resource(W, m))
end

local ARRAY_FIELDS = { "EnvironmentIds", "Roles", "TenantIds", "TenantTags" }

-- PUT takes the whole resource back. The trap this catches: a client that
-- decoded "TenantIds": [] with lua-cjson and encoded it back as {}.
function M.machine_put(W, req, route)
  local m = space_machine(W, route)
  if not m then return not_found(route.id) end
  local body, err = json.decode(req.body)
  local kinds = json.top_level_kinds(req.body or "")
  if type(body) ~= "table" or not kinds then
    return bad_request({ "The request body could not be parsed as a JSON object: " .. tostring(err or "not an object") })
  end
  local errors = {}
  for _, f in ipairs(ARRAY_FIELDS) do
    local k = kinds[f]
    local nullable = f == "TenantIds" or f == "TenantTags"
    if k ~= nil and k ~= "[" and not (nullable and k == "n") then
      errors[#errors + 1] = "Cannot deserialize the current JSON " .. (k == "{" and "object (e.g. {\"name\":\"value\"})" or "value") ..
        " into type 'ReferenceCollection' because the type requires a JSON array (e.g. [1,2,3]) to deserialize correctly. Path '" ..
        f .. "'."
    elseif k == "[" then
      for _, v in ipairs(body[f]) do
        if type(v) ~= "string" then errors[#errors + 1] = f .. " must be an array of strings" break end
      end
    end
  end
  if #errors > 0 then return bad_request(errors) end
  if body.Id ~= nil and (type(body.Id) ~= "string" or body.Id:lower() ~= m.id:lower()) then
    return bad_request({ "The Id in the request body (" .. tostring(body.Id) .. ") does not match the Id in the URL (" .. m.id .. ")." })
  end
  local name = body.Name
  if type(name) ~= "string" or util.trim(name) == "" then errors[#errors + 1] = "Please provide a name for this deployment target." end
  local envs = type(body.EnvironmentIds) == "table" and body.EnvironmentIds or {}
  if kinds.EnvironmentIds == nil or #envs == 0 then
    errors[#errors + 1] = "Please specify at least one environment."
  end
  for _, e in ipairs(envs) do
    if type(e) == "string" and not find_in(W.oc.envs, route.space, e) then
      errors[#errors + 1] = "The environment '" .. e .. "' does not exist."
    end
  end
  local roles = type(body.Roles) == "table" and body.Roles or {}
  if kinds.Roles == nil or #roles == 0 then errors[#errors + 1] = "Please specify at least one target tag." end
  local tenants = type(body.TenantIds) == "table" and body.TenantIds or {}
  for _, t in ipairs(tenants) do
    if type(t) == "string" and not find_in(W.oc.tenants, route.space, t) then
      errors[#errors + 1] = "The tenant '" .. t .. "' does not exist."
    end
  end
  local part = body.TenantedDeploymentParticipation
  if part ~= nil and part ~= "Untenanted" and part ~= "TenantedOrUntenanted" and part ~= "Tenanted" then
    errors[#errors + 1] = "TenantedDeploymentParticipation must be Untenanted, TenantedOrUntenanted or Tenanted."
  end
  if body.IsDisabled ~= nil and type(body.IsDisabled) ~= "boolean" then
    errors[#errors + 1] = "IsDisabled must be true or false."
  end
  if type(name) == "string" then
    local other = oc.machine_by_name(W, route.space, name)
    if other and other ~= m then
      errors[#errors + 1] = "A deployment target with the name '" .. name .. "' already exists in this space."
    end
  end
  if #errors > 0 then return bad_request(errors) end

  local was_disabled = m.disabled
  oc.rename_machine(W, m, name)
  m.env_ids = { table.unpack(envs) }
  m.roles = { table.unpack(roles) }
  m.tenant_ids = { table.unpack(tenants) }
  if type(body.TenantTags) == "table" then m.tenant_tags = { table.unpack(body.TenantTags) } end
  if part then m.participation = part end
  if body.IsDisabled ~= nil then m.disabled = body.IsDisabled end
  if type(body.MachinePolicyId) == "string" then m.policy_id = body.MachinePolicyId end
  if type(body.SkipInitialHealthCheck) == "boolean" then m.skip_initial_health_check = body.SkipInitialHealthCheck end
  if type(body.Slug) == "string" and body.Slug ~= "" then m.slug = body.Slug end
  local ep = type(body.Endpoint) == "table" and body.Endpoint or {}
  local uri = ep.Uri or body.Uri
  if type(uri) == "string" then m.uri = uri end
  local thumb = ep.Thumbprint or body.Thumbprint
  if type(thumb) == "string" then m.thumbprint = thumb end
  m.modified_ms = model.now(W)
  m.modified_by = W.cfg.octopus.username
  local note = ""
  if was_disabled ~= m.disabled then note = m.disabled and " (disabled)" or " (enabled)" end
  oc.add_event(W, m.space_id, "Modified", { m.id }, "Deployment target " .. m.name .. " has been modified" .. note,
    { refs = { { m.id, m.name } } })
  model.note(W, "PUT " .. m.id .. " " .. m.name .. note)
  return resp(200, M.machine_resource(W, m))
end

function M.machine_delete(W, req, route)
  local m = space_machine(W, route)
  if not m then return not_found(route.id) end
  oc.delete_machine(W, m, W.cfg.octopus.username)
  model.note(W, "DELETE " .. m.id .. " " .. m.name)
  return resp(200, "")
end

function M.task_create(W, req, route)
  local body, err = json.decode(req.body)
  if type(body) ~= "table" then
    return bad_request({ "The request body could not be parsed as a JSON object: " .. tostring(err) })
  end
  local space = route.space
  if route.unscoped and type(body.SpaceId) == "string" then
    space = oc.space(W, body.SpaceId)
    if not space then return bad_request({ "The space '" .. body.SpaceId .. "' does not exist." }) end
  elseif type(body.SpaceId) == "string" and body.SpaceId:lower() ~= space.id:lower() then
    return bad_request({ "The SpaceId in the body does not match the space in the URL." })
  end
  if type(body.Name) ~= "string" or body.Name == "" then return bad_request({ "Please provide a task Name." }) end
  local args = type(body.Arguments) == "table" and body.Arguments or {}
  local errors = {}
  if args.MachineIds ~= nil then
    if type(args.MachineIds) ~= "table" then
      errors[#errors + 1] = "Arguments.MachineIds must be an array of machine ids."
    else
      for _, id in ipairs(args.MachineIds) do
        local mm = type(id) == "string" and oc.machine(W, id)
        if not mm then errors[#errors + 1] = "The machine '" .. tostring(id) .. "' does not exist." end
      end
    end
  end
  if args.EnvironmentId ~= nil and (type(args.EnvironmentId) ~= "string" or not find_in(W.oc.envs, space, args.EnvironmentId)) then
    errors[#errors + 1] = "The environment '" .. tostring(args.EnvironmentId) .. "' does not exist."
  end
  if #errors > 0 then return bad_request(errors) end
  local t = oc.create_task(W, space, body)
  model.note(W, "task " .. t.id .. " (" .. t.name .. ") queued")
  local r = resp(201, M.task_resource(W, t))
  r.headers[#r.headers + 1] = { "Location", "/api/tasks/" .. t.id }
  return r
end

local function find_task(W, route)
  local t = W.oc.task_by_id[route.id:lower()]
  if not t or (route.space and not route.unscoped and t.space_id ~= route.space.id) then return nil end
  return t
end

function M.task_get(W, req, route)
  local t = find_task(W, route)
  if not t then return not_found(route.id) end
  oc.progress_task(W, t, true)
  return resp(200, M.task_resource(W, t))
end

function M.task_cancel(W, req, route)
  local t = find_task(W, route)
  if not t then return not_found(route.id) end
  if not (t.state == "Success" or t.state == "Failed") then
    t.state = "Canceled"
    t.complete_ms = model.now(W)
  end
  return resp(200, M.task_resource(W, t))
end

-- Events, newest first. regarding and regardingAny both match events
-- related to ANY of the given ids (their difference is undocumented).
function M.events_list(W, req, route)
  local q = req.q
  local filters, checks = {}, {}
  local function list_filter(key, get)
    local vals = util.qlist(q, key)
    if not vals then return end
    filters[#filters + 1] = { key, table.concat(vals, ",") }
    local wanted = util.lset(vals)
    checks[#checks + 1] = function(ev) return any_of(get(ev), wanted) end
  end
  list_filter("regarding", function(ev) return ev.related end)
  list_filter("regardingAny", function(ev) return ev.related end)
  list_filter("eventCategories", function(ev) return { ev.category } end)
  list_filter("spaces", function(ev) return { ev.space_id } end)
  list_filter("ids", function(ev) return { ev.id } end)
  list_filter("users", function(ev) return { ev.username } end)
  list_filter("documentTypes", function(ev)
    local types = {}
    for _, id in ipairs(ev.related) do types[#types + 1] = id:match("^(.-)%-%d+$") or id end
    return types
  end)
  for _, key in ipairs({ "from", "to" }) do
    local v = util.qget(q, key)
    if v then
      local ms = time.parse(v)
      if not ms then return bad_request({ key .. " must be an ISO 8601 date-time with an offset" }) end
      filters[#filters + 1] = { key, v }
      if key == "from" then
        checks[#checks + 1] = function(ev) return ev.occurred_ms >= ms end
      else
        checks[#checks + 1] = function(ev) return ev.occurred_ms <= ms end
      end
    end
  end
  for _, key in ipairs({ "includeSystem", "excludeDifference", "internal" }) do
    local v = util.qget(q, key)
    if v then filters[#filters + 1] = { key, v } end
  end
  local out = {}
  for _, ev in ipairs(oc.sorted_events(W)) do
    local ok = not route.space or route.unscoped or ev.space_id == route.space.id
    for _, c in ipairs(checks) do
      if not ok then break end
      ok = c(ev)
    end
    if ok then out[#out + 1] = ev end
  end
  local path = (route.space and not route.unscoped) and ("/api/" .. route.space.id .. "/events") or "/api/events"
  return collection(W, req, "Event", out, function(ev) return event_resource(W, ev) end, path,
    path .. "{?skip,regarding,regardingAny,user,users,projects,projectGroups,environments,eventGroups,eventCategories,eventAgents,tags,tenants,from,to,internal,fromAutoId,toAutoId,documentTypes,asCsv,take,ids,spaces,includeSystem,excludeDifference}",
    filters)
end

function M.event_get(W, req, route)
  for _, ev in ipairs(W.oc.events) do
    if ev.id:lower() == route.id:lower() then return resp(200, event_resource(W, ev)) end
  end
  return not_found(route.id)
end

-- ---- routing ----------------------------------------------------------------------------------

local function is_space_id(s)
  return s and s:lower():match("^spaces%-%d+$") ~= nil
end

-- Routes under a space: rest = segments after /api/{space}.
local function space_route(r, method, rest)
  local a, b, c = rest[1] and rest[1]:lower(), rest[2], rest[3] and rest[3]:lower()
  local n = #rest
  local function m(meth, name, handler, page)
    if method == meth then r.name, r.handler, r.page = name, handler, page end
  end
  local function paged_page(req)
    local skip = util.int(util.qget(req.q, "skip") or 0) or 0
    local take = util.int(util.qget(req.q, "take") or 30) or 30
    if take <= 0 then return 1 end
    return skip // take + 1
  end
  if n == 0 then
    m("GET", "octopus.space_home", M.space_home)
  elseif a == "machines" and n == 1 then
    m("GET", "octopus.machines_list", M.machines_list, paged_page)
  elseif a == "machines" and n == 2 and b:lower() == "all" then
    m("GET", "octopus.machines_all", M.machines_all)
  elseif a == "machines" and n == 2 then
    r.id = b
    m("GET", "octopus.machine_get", M.machine_get)
    m("PUT", "octopus.machine_put", M.machine_put)
    m("DELETE", "octopus.machine_delete", M.machine_delete)
  elseif a == "environments" and n == 1 then
    m("GET", "octopus.environments_list", M.environments_list, paged_page)
  elseif a == "environments" and n == 2 and b:lower() == "all" then
    m("GET", "octopus.environments_all", M.environments_all)
  elseif a == "environments" and n == 2 then
    r.id = b
    m("GET", "octopus.environment_get", M.environment_get)
  elseif a == "environments" and n == 3 and c == "machines" then
    r.id = b
    m("GET", "octopus.environment_machines", M.environment_machines, paged_page)
  elseif a == "tenants" and n == 1 then
    m("GET", "octopus.tenants_list", M.tenants_list, paged_page)
  elseif a == "tenants" and n == 2 and b:lower() == "all" then
    m("GET", "octopus.tenants_all", M.tenants_all)
  elseif a == "tenants" and n == 2 then
    r.id = b
    m("GET", "octopus.tenant_get", M.tenant_get)
  elseif a == "tasks" and n == 1 then
    m("POST", "octopus.task_create", M.task_create)
  elseif a == "tasks" and n == 2 then
    r.id = b
    m("GET", "octopus.task_get", M.task_get)
  elseif a == "tasks" and n == 3 and c == "cancel" then
    r.id = b
    m("POST", "octopus.task_cancel", M.task_cancel)
  elseif a == "events" and n == 1 then
    m("GET", "octopus.events_list", M.events_list, paged_page)
  elseif a == "events" and n == 2 then
    r.id = b
    m("GET", "octopus.event_get", M.event_get)
  else
    return false
  end
  if not r.name then
    r.name = "octopus.method_not_allowed"
    r.handler = function() return octo_error(405, "The requested resource does not support http method '" .. method .. "'.") end
  end
  return true
end

function M.resolve(W, req)
  local s = req.segs
  if not s[1] or s[1]:lower() ~= "api" then return nil end
  local r = { family = "octopus" }
  local rest = { table.unpack(s, 2) }
  local found = false
  local lower1 = rest[1] and rest[1]:lower()
  if #rest == 0 then
    if req.method == "GET" then r.name, r.handler, r.anonymous = "octopus.root", M.root, true end
    found = true
  elseif lower1 == "spaces" and #rest == 1 then
    if req.method == "GET" then r.name, r.handler, r.page = "octopus.spaces_list", M.spaces_list, nil end
    found = true
  elseif lower1 == "spaces" and #rest == 2 and rest[2]:lower() == "all" then
    if req.method == "GET" then r.name, r.handler = "octopus.spaces_all", M.spaces_all end
    found = true
  elseif lower1 == "spaces" and #rest == 2 then
    r.space_ref = rest[2]
    if req.method == "GET" then r.name, r.handler = "octopus.space_get", M.space_get end
    found = true
  elseif lower1 == "spaces" and #rest >= 3 then
    r.space_ref = rest[2]
    found = space_route(r, req.method, { table.unpack(rest, 3) })
  elseif is_space_id(rest[1]) then
    r.space_ref = rest[1]
    found = space_route(r, req.method, { table.unpack(rest, 2) })
  elseif lower1 == "events" or lower1 == "tasks" then
    -- /api/events and /api/tasks span spaces
    r.unscoped = true
    found = space_route(r, req.method, rest)
  else
    -- /api/machines etc.: the default space
    found = space_route(r, req.method, rest)
  end
  if not found then
    r.name, r.handler = "octopus.unknown", function() return not_found(req.path) end
  elseif not r.name then
    r.name = "octopus.method_not_allowed"
    r.handler = function() return octo_error(405, "The requested resource does not support http method '" .. req.method .. "'.") end
  end
  local inner = r.handler
  r.handler = function(w, q, route)
    if not route.anonymous then
      local key = q.headers["x-octopus-apikey"] or util.qget(q.q, "apikey")
      local ok = false
      for _, k in ipairs(w.cfg.auth.api_keys) do if key == k then ok = true end end
      if not ok then
        return octo_error(401, "You must be logged in to perform this action. Please provide a valid API key or log in again.")
      end
    end
    if route.space_ref then
      route.space = oc.space(w, route.space_ref)
      if not route.space then return not_found(route.space_ref) end
    else
      route.space = w.oc.default_space
    end
    return inner(w, q, route)
  end
  return r
end

return M
