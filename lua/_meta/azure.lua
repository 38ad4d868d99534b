--- @meta
-- LuaCATS stubs for the `azure` namespace of `octoscale run` scripts
-- (core/lua/osc_bind_azure.c). Policies do not get it: they have no network.
--
-- Operational failures (HTTP errors, timeouts, an incomplete list) return
-- `nil, err`; misuse (bad arguments, a closed client, an unknown scale set
-- name, an unknown key in an option table) raises at the caller's line.
--
-- Casing: a state of an Azure or Octopus resource is spelt as the service
-- documents it, whatever case a response used (provisioning_state
-- "Succeeded" on scale sets and VMs alike, mode "Uniform", health
-- "Healthy", task state "Success"; ARM's power state code "running");
-- octoscale's own words are lower-case (actions, classes, statuses,
-- comm_style). Times are Unix seconds.

--- @class octoscale.Error
--- @field status? integer HTTP status (absent when no response came back)
--- @field code? string service error code: ResourceNotFound, invalid_client, Incomplete, Timeout, ...
--- @field message string the service's message (first line)
--- @field request_id? string x-ms-request-id or Entra correlation id
--- @field text string the whole one-line description; also what tostring(err) returns

--- @class azure.ScaleSetSpec
--- @field scale_set? string a config entry's name (uses its resource group, VMSS and subscription)
--- @field resource_group? string with `vmss`, instead of `scale_set`
--- @field vmss? string
--- @field subscription? string default: the client's, else azure.subscription

--- @class azure.Vm the same fields a policy's hooks see
--- @field id string ARM resource id
--- @field name string resource name (vmss_3, vmss_ab12cd34)
--- @field instance_id string "3" (Uniform) or the VM name (Flexible)
--- @field computer_name? string
--- @field vm_id? string Azure's GUID
--- @field provisioning_state? string Creating, Succeeded, Failed, Deleting, ... (ARM's casing, always)
--- @field power_state? string running, stopped, deallocated, ... (nil when unknown)
--- @field private_ips string[] primary NIC's primary IPv4 first
--- @field created_at? integer Unix seconds
--- @field zone? string
--- @field tags table<string, string>
--- @field scale_set string VMSS name

--- @class azure.ScaleSet
--- @field id string
--- @field name string
--- @field mode "Uniform"|"Flexible"
--- @field provisioning_state? string "Succeeded", ... (ARM's casing, even where its body says "succeeded")
--- @field capacity? integer sku.capacity
--- @field overprovision boolean
--- @field computer_name_prefix? string
--- @field body table the decoded ARM VMSS GET body

--- @class azure.Client: userdata
local Client = {}

--- The scale set (VMSS GET).
--- @param spec azure.ScaleSetSpec
--- @return azure.ScaleSet|nil set
--- @return octoscale.Error|nil err
function Client:scale_set(spec) end

--- Every instance (all pages; private IPs from the NIC list). An incomplete
--- read is an error (`err.code == "Incomplete"`), never a partial list.
--- @param spec azure.ScaleSetSpec
--- @return azure.Vm[]|nil vms
--- @return octoscale.Error|nil err
function Client:instances(spec) end

--- PATCH sku.capacity (returns once ARM accepted it; poll :instances to wait).
--- @param spec azure.ScaleSetSpec|{capacity: integer}
--- @return true|nil ok
--- @return octoscale.Error|nil err
function Client:set_capacity(spec) end

--- A raw ARM request with the client's token. `path` starts with "/" (or is
--- an absolute URL on the management endpoint); api-version is added when
--- missing. A table body is JSON-encoded (note: an empty table becomes {}).
--- Any HTTP status is returned; nil, err only when no response came back.
--- @param method "GET"|"PUT"|"POST"|"PATCH"|"DELETE"
--- @param path string
--- @param body? string|table
--- @return integer|nil status
--- @return any body decoded JSON (nil when empty or not JSON), or the error
function Client:request(method, path, body) end

--- Closes the client (also `local c <close> = azure.client()`); idempotent.
function Client:close() end

--- @class azure
azure = {}

--- A client on the run's session (token cached and refreshed for the whole
--- run). Returns nil, err when no configuration allows one.
--- @param opts? {subscription?: string}
--- @return azure.Client|nil client
--- @return octoscale.Error|nil err
function azure.client(opts) end

return azure
