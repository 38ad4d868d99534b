--- @meta
-- LuaCATS stubs for the `octopus` namespace of `octoscale run` scripts
-- (core/lua/osc_bind_octopus.c). See lua/_meta/azure.lua for octoscale.Error.

--- @class octopus.Target the same fields a policy's hooks see
--- @field id string Machines-N
--- @field name string
--- @field roles string[]
--- @field environment_ids string[]
--- @field tenant_ids string[]
--- @field health? string Healthy, Unavailable, Unknown, HasWarnings, Unhealthy
--- @field disabled boolean
--- @field comm_style "listening"|"polling"|"other"
--- @field uri? string
--- @field thumbprint? string

--- @class octopus.TargetSpec
--- @field scale_set? string a config entry: its environment, ALL its roles, its tenant
--- @field environment? string name or Environments-N, instead of `scale_set`
--- @field roles? string|string[] the target must carry ALL of them (case-insensitive)
--- @field tenant? string name or Tenants-N
--- @field all? boolean every target of the environment, scope not applied

--- @class octopus.Task
--- @field id string ServerTasks-N
--- @field state string Queued, Executing, Success, Failed, TimedOut, Canceled, ...
--- @field completed boolean
--- @field succeeded boolean
--- @field error_message? string

--- An audit event, normalised: Octopus's PascalCase keys in snake_case
--- (nested ones too), JSON nulls and Links left out, Occurred in Unix
--- seconds.
--- @class octopus.Event
--- @field id string Events-N
--- @field category string Created, Modified, MachineHealthy, DeploymentStarted, ...
--- @field occurred integer Unix seconds
--- @field message string
--- @field message_html? string
--- @field message_references? table[] {referenced_document_id, start_index, length}
--- @field related_document_ids string[]
--- @field user_id? string
--- @field username? string
--- @field is_service? boolean
--- @field identity_established_with? string
--- @field user_agent? string
--- @field space_id? string
--- @field comments? string
--- @field details? string
--- @field change_details? table
--- @field ip_address? string

--- @class octopus.Client: userdata
local Client = {}

--- Targets (all pages of the environment's machines, scope applied here).
--- @param spec octopus.TargetSpec
--- @return octopus.Target[]|nil targets
--- @return octoscale.Error|nil err
function Client:targets(spec) end

--- DELETE the machine; a 404 counts as done (`was_gone` true).
--- @param id string
--- @return true|nil ok
--- @return boolean|octoscale.Error was_gone_or_err
function Client:delete_target(id) end

--- GET the full machine and PUT it back with IsDisabled = true (unknown
--- fields and empty arrays unchanged); no PUT when already disabled.
--- @param id string
--- @return true|nil ok
--- @return boolean|octoscale.Error changed_or_err
function Client:disable_target(id) end

--- Like disable_target, with IsDisabled = false.
--- @param id string
--- @return true|nil ok
--- @return boolean|octoscale.Error changed_or_err
function Client:enable_target(id) end

--- Starts a connectivity Health task for the targets and (by default)
--- waits for it, polling every `poll` (default 4 s) up to `timeout` + 60 s.
--- @param opts {target_ids: string[], timeout?: integer|string, environment?: string, wait?: boolean, poll?: integer|string}
--- @return octopus.Task|nil task
--- @return octoscale.Error|nil err `code == "Timeout"` when it did not finish
function Client:health_check(opts) end

--- GET /api/{space}/events with the given query (arrays comma-joined),
--- e.g. {regarding = "Machines-1", eventCategories = "Created", take = 30};
--- `from` and `to` may be Unix seconds. The keys are Octopus's: skip,
--- take, regarding, regardingAny, user, users, projects, projectGroups,
--- environments, eventGroups, eventCategories, eventAgents, tags, tenants,
--- from, to, internal, fromAutoId, toAutoId, documentTypes, ids, spaces,
--- includeSystem, excludeDifference; any other raises.
--- @param query? table<string, string|number|boolean|string[]>
--- @return octopus.Event[]|nil events the page's events, newest first
--- @return octoscale.Error|nil err
function Client:events(query) end

--- A raw request with the API key; `path` starts with "/api/". Any HTTP
--- status is returned; nil, err only when no response came back.
--- @param method "GET"|"PUT"|"POST"|"PATCH"|"DELETE"
--- @param path string
--- @param body? string|table
--- @return integer|nil status
--- @return any body decoded JSON, or the error
function Client:request(method, path, body) end

--- The resolved space id (Spaces-N).
--- @return string|nil id
--- @return octoscale.Error|nil err
function Client:space_id() end

--- Closes the client; idempotent.
function Client:close() end

--- @class octopus
octopus = {}

--- A client on the run's session (it takes no options: the URL and key
--- come from the configuration). Returns nil, err without an Octopus URL.
--- @return octopus.Client|nil client
--- @return octoscale.Error|nil err
function octopus.client() end

--- Sets an output variable. With `run --octopus-output` or
--- OCTOSCALE_OCTOPUS_OUTPUT=1 (a step running under Octopus) it prints
--- ##octopus[setVariable name='<b64>' value='<b64>'] at once; otherwise the
--- value is recorded and `run` prints "name=value" lines after the script.
--- @param name string
--- @param value any converted with tostring
function octopus.set_output(name, value) end

return octopus
