-- Azure routes: Entra ID v2 token, IMDS and App Service managed identity,
-- and the ARM calls octoscale makes (VMSS GET/PATCH, VM lists with
-- nextLink paging, NICs, instance delete and its async operation). Bodies
-- follow tests/fixtures/api/azure, quirks included: lowercase "succeeded" on
-- a steady Uniform VMSS, IMDS numbers as strings.
local simc = require "simc"
local json = require "sim.json"
local model = require "sim.model"
local time = require "sim.time"
local util = require "sim.util"
local az = require "sim.azure_model"

local M = {}

local CT = "application/json; charset=utf-8"
local ARM_AUDIENCES = { ["https://management.azure.com/"] = true, ["https://management.core.windows.net/"] = true }

local function resp(status, body, headers)
  return { status = status, body = body, headers = headers or {} }
end

local function arm_error(status, code, message, extra)
  local e = { code = code, message = message }
  for k, v in pairs(extra or {}) do e[k] = v end
  return resp(status, { error = e })
end

-- ---- tokens -----------------------------------------------------------------------

-- "https://management.azure.com/.default" and the common
-- "https://management.azure.com//.default" both mean ARM.
local function audience(resource)
  local a = resource:gsub("/%.default$", ""):gsub("/+$", "")
  return a .. "/"
end

local JWT_HEADER = util.base64(json.encode({ typ = "JWT", alg = "RS256", kid = "sim" }), true)

local function issue_token(W, aud, kind)
  local cfg = W.cfg.auth
  local wall = os.time()
  local payload = json.encode({
    aud = aud, iss = "https://sts.windows.net/" .. cfg.tenant .. "/", iat = wall, nbf = wall,
    exp = wall + cfg.token_lifetime, appid = cfg.client_id, tid = cfg.tenant, idtyp = "app",
    oid = W.rng:guid(), sub = kind, ver = "1.0",
  })
  local token = JWT_HEADER .. "." .. util.base64(payload, true) .. "." .. util.base64(W.rng:hex(64), true)
  W.az.tokens[token] = { aud = aud, kind = kind, exp_ms = model.now(W) + cfg.token_lifetime * 1000,
    wall = wall }
  return token, wall
end

local function entra_error(W, status, err, code, msg)
  local now = model.now(W)
  local stamp = time.iso(now):gsub("T", " ")
  local trace, corr = W.rng:guid(), W.rng:guid()
  return resp(status, {
    error = err,
    error_description = string.format("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s",
      code, msg, trace, corr, stamp),
    error_codes = { code },
    timestamp = stamp,
    trace_id = trace,
    correlation_id = corr,
    error_uri = "https://login.microsoftonline.com/error?code=" .. code,
  })
end

function M.entra_token(W, req, route)
  local cfg = W.cfg.auth
  if req.method ~= "POST" then
    return entra_error(W, 400, "invalid_request", 900561, "The endpoint only accepts POST requests. Received a GET request.")
  end
  if route.tenant:lower() ~= cfg.tenant:lower() then
    return entra_error(W, 400, "invalid_request", 90002, "Tenant '" .. route.tenant ..
      "' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.")
  end
  local form = util.parse_query(req.body)
  local client_id, secret = util.qget(form, "client_id"), util.qget(form, "client_secret")
  -- RFC 6749 2.3.1: the credentials may come as HTTP Basic instead
  local basic = (req.headers["authorization"] or ""):match("^[Bb]asic%s+(%S+)")
  if basic then
    local pair = util.unbase64(basic) or ""
    local id, sec = pair:match("^([^:]*):(.*)$")
    client_id = client_id or (id and util.url_decode(id, true))
    secret = secret or (sec and util.url_decode(sec, true))
  end
  local grant = util.qget(form, "grant_type")
  if not grant then
    return entra_error(W, 400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
  end
  if grant ~= "client_credentials" then
    return entra_error(W, 400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '" .. grant .. "'.")
  end
  if not client_id then
    return entra_error(W, 400, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
  end
  if client_id:lower() ~= cfg.client_id:lower() then
    return entra_error(W, 400, "unauthorized_client", 700016, "Application with identifier '" .. client_id ..
      "' was not found in the directory '" .. cfg.tenant .. "'.")
  end
  local scope = util.qget(form, "scope")
  if not scope then
    return entra_error(W, 400, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'.")
  end
  if not scope:match("/%.default$") then
    return entra_error(W, 400, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid. The scope " ..
      scope .. " is not valid.")
  end
  local atype, assertion = util.qget(form, "client_assertion_type"), util.qget(form, "client_assertion")
  local kind
  if secret then
    if secret ~= cfg.client_secret then
      return entra_error(W, 401, "invalid_client", 7000215,
        "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, " ..
        "not the client secret ID, for a secret added to app '" .. cfg.client_id .. "'.")
    end
    kind = "client_secret"
  elseif assertion then
    if atype ~= "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" then
      return entra_error(W, 400, "invalid_request", 50027, "The client_assertion_type is not supported: " .. tostring(atype))
    end
    if util.trim(assertion) ~= util.trim(cfg.federated_assertion) then
      return entra_error(W, 400, "invalid_client", 700213,
        "No matching federated identity record found for presented assertion subject. Please check your federated identity credential configuration.")
    end
    kind = "workload_identity"
  else
    return entra_error(W, 401, "invalid_client", 7000218,
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
  end
  local token = issue_token(W, audience(scope), kind)
  return resp(200, { token_type = "Bearer", expires_in = cfg.token_lifetime, ext_expires_in = cfg.token_lifetime,
    access_token = token })
end

local function mi_error(status, msg)
  return resp(status, { error = "invalid_request", error_description = msg })
end

function M.imds_token(W, req)
  if req.method ~= "GET" then return mi_error(405, "Method not allowed") end
  if req.headers["metadata"] ~= "true" then return mi_error(400, "Required metadata header not specified") end
  if not util.qget(req.q, "api-version") then return mi_error(400, "Required query variable 'api-version' is missing") end
  local resource = util.qget(req.q, "resource")
  if not resource then return mi_error(400, "Required audience parameter not specified") end
  if not W.cfg.auth.managed_identity then return mi_error(400, "Identity not found") end
  local life = W.cfg.auth.token_lifetime
  local token, wall = issue_token(W, audience(resource), "managed_identity")
  -- every number is a string here: the documented IMDS quirk
  return resp(200, {
    access_token = token, refresh_token = "", expires_in = tostring(life), expires_on = tostring(wall + life),
    not_before = tostring(wall), resource = resource, token_type = "Bearer", client_id = W.cfg.auth.client_id,
  })
end

function M.appservice_token(W, req)
  if req.method ~= "GET" then return mi_error(405, "Method not allowed") end
  local h = req.headers["x-identity-header"]
  if not h or h ~= W.cfg.auth.identity_header then
    return mi_error(401, "The X-IDENTITY-HEADER header is missing or does not match IDENTITY_HEADER")
  end
  local v = util.qget(req.q, "api-version")
  if v ~= "2019-08-01" then return mi_error(400, "api-version must be 2019-08-01, got " .. tostring(v)) end
  local resource = util.qget(req.q, "resource")
  if not resource then return mi_error(400, "Required query parameter 'resource' is missing") end
  local life = W.cfg.auth.token_lifetime
  local token, wall = issue_token(W, audience(resource), "app_service")
  return resp(200, { access_token = token, expires_on = tostring(wall + life), resource = resource,
    token_type = "Bearer", client_id = W.cfg.auth.client_id, not_before = tostring(wall) })
end

-- ---- ARM authentication ------------------------------------------------------------

local function arm_auth(W, req)
  local h = req.headers["authorization"]
  local www = 'Bearer authorization_uri="https://login.microsoftonline.com/' .. W.cfg.auth.tenant ..
    '", error="invalid_token", error_description="The authentication failed because of missing \'Authorization\' header."'
  if not h then
    local r = arm_error(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
    r.headers[#r.headers + 1] = { "WWW-Authenticate", www }
    return r
  end
  local token = h:match("^[Bb]earer%s+(%S+)%s*$")
  if not token then
    return arm_error(401, "AuthenticationFailedInvalidHeader",
      "Authentication failed. The 'Authorization' header is provided in an invalid format.")
  end
  local t = W.az.tokens[token]
  if not t then
    return arm_error(401, "InvalidAuthenticationToken", "The access token is invalid.")
  end
  if not ARM_AUDIENCES[t.aud] then
    return arm_error(401, "InvalidAuthenticationTokenAudience",
      "The access token has been obtained for wrong audience or resource '" .. t.aud ..
      "'. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/','https://management.azure.com/'.")
  end
  if W.cfg.auth.enforce_expiry and model.now(W) >= t.exp_ms then
    return arm_error(401, "ExpiredAuthenticationToken", "The access token expiry UTC time '" ..
      time.iso(t.exp_ms) .. "' is earlier than current UTC time '" .. time.iso(model.now(W)) .. "'.")
  end
  return nil
end

-- ---- ids and shared pieces ---------------------------------------------------------

local function rg_id(set)
  return "/subscriptions/" .. set.sub.id .. "/resourceGroups/" .. set.rg.name
end

local function set_id(set)
  return rg_id(set) .. "/providers/Microsoft.Compute/virtualMachineScaleSets/" .. set.name
end

local function vmss_vm_id(vm)
  return set_id(vm.set) .. "/virtualMachines/" .. vm.instance_id
end

local function flex_vm_id(vm)
  return rg_id(vm.set) .. "/providers/Microsoft.Compute/virtualMachines/" .. vm.name
end

local function subnet_id(set)
  return rg_id(set) .. "/providers/Microsoft.Network/virtualNetworks/vnet-" .. set.rg.name:lower() .. "/subnets/default"
end

local function nsg_id(set)
  return rg_id(set) .. "/providers/Microsoft.Network/networkSecurityGroups/nsg-" .. set.name
end

local function flex_nic_name(vm)
  return vm.name .. "-" .. vm.set.nic_name
end

local function nic_id(vm)
  if vm.set.mode == "Uniform" then
    return vmss_vm_id(vm) .. "/networkInterfaces/" .. vm.set.nic_name
  end
  return rg_id(vm.set) .. "/providers/Microsoft.Network/networkInterfaces/" .. flex_nic_name(vm)
end

local function image(set)
  if set.os == "windows" then
    return { publisher = "MicrosoftWindowsServer", offer = "WindowsServer", sku = "2022-datacenter-azure-edition",
      version = "latest" }
  end
  return { publisher = "canonical", offer = "0001-com-ubuntu-server-jammy", sku = "22_04-lts-gen2", version = "latest" }
end

local function os_config(set)
  if set.os == "windows" then
    return "windowsConfiguration", { provisionVMAgent = true, enableAutomaticUpdates = true }
  end
  return "linuxConfiguration", { disablePasswordAuthentication = true, provisionVMAgent = true }
end

local function nic_configurations(set)
  return { {
    name = set.nic_name,
    properties = {
      primary = true,
      enableAcceleratedNetworking = false,
      disableTcpStateTracking = false,
      networkSecurityGroup = { id = nsg_id(set) },
      dnsSettings = { dnsServers = json.arr({}) },
      enableIPForwarding = false,
      ipConfigurations = { {
        name = "ipconfig1",
        properties = { primary = true, subnet = { id = subnet_id(set) }, privateIPAddressVersion = "IPv4" },
      } },
    },
  } }
end

local POWER_TEXT = {
  starting = "VM starting", running = "VM running", stopping = "VM stopping", stopped = "VM stopped",
  deallocating = "VM deallocating", deallocated = "VM deallocated",
}

local function statuses(vm)
  local lower = vm.state:lower()
  local code = "ProvisioningState/" .. lower
  if vm.state == "Failed" then code = code .. "/InternalOperationError" end
  local st = { {
    code = code,
    level = vm.state == "Failed" and "Error" or "Info",
    displayStatus = "Provisioning " .. lower,
    time = time.azure(vm.created_ms + 90000),
  } }
  if POWER_TEXT[vm.power] then
    st[2] = { code = "PowerState/" .. vm.power, level = "Info", displayStatus = POWER_TEXT[vm.power] }
  end
  return st
end

local function instance_view(vm)
  local ready = vm.state == "Succeeded" or vm.state == "Updating"
  return {
    platformUpdateDomain = vm.ordinal % 5,
    platformFaultDomain = vm.ordinal % 2,
    computerName = vm.computer_name,
    osName = vm.set.os == "windows" and "Windows Server 2022 Datacenter Azure Edition" or "ubuntu",
    osVersion = vm.set.os == "windows" and "10.0.20348.2849" or "22.04",
    vmAgent = {
      vmAgentVersion = "2.11.1.12",
      statuses = { {
        code = "ProvisioningState/succeeded", level = "Info",
        displayStatus = ready and "Ready" or "Not Ready",
        message = ready and "Guest Agent is running" or "VM status blob is found but not yet populated.",
        time = time.azure(vm.created_ms + 120000),
      } },
      extensionHandlers = json.arr({}),
    },
    disks = { {
      name = vm.name .. "_OsDisk_1",
      statuses = { { code = "ProvisioningState/succeeded", level = "Info", displayStatus = "Provisioning succeeded",
        time = time.azure(vm.created_ms + 30000) } },
    } },
    statuses = statuses(vm),
  }
end

local function storage_profile(vm)
  local disk = vm.name .. "_OsDisk_1_" .. vm.vm_id:gsub("%-", "")
  return {
    imageReference = image(vm.set),
    osDisk = {
      osType = vm.set.os == "windows" and "Windows" or "Linux",
      name = disk,
      createOption = "FromImage",
      caching = "ReadWrite",
      managedDisk = { storageAccountType = "Premium_LRS",
        id = rg_id(vm.set) .. "/providers/Microsoft.Compute/disks/" .. disk },
      diskSizeGB = 30,
    },
    dataDisks = json.arr({}),
    diskControllerType = "SCSI",
  }
end

local function os_profile(vm)
  local key, conf = os_config(vm.set)
  local p = {
    computerName = vm.computer_name,
    adminUsername = "azureuser",
    secrets = json.arr({}),
    allowExtensionOperations = true,
    requireGuestProvisionSignal = true,
  }
  p[key] = conf
  return p
end

local function tentacle_extension(vm)
  return {
    name = "OctopusTentacle",
    id = flex_vm_id(vm) .. "/extensions/OctopusTentacle",
    type = "Microsoft.Compute/virtualMachines/extensions",
    location = vm.set.location,
    properties = {
      autoUpgradeMinorVersion = true,
      provisioningState = vm.state == "Creating" and "Creating" or (vm.state == "Failed" and "Failed" or "Succeeded"),
      publisher = "Microsoft.Azure.Extensions",
      type = "CustomScript",
      typeHandlerVersion = "2.1",
    },
  }
end

local function zones_of(vm)
  return vm.zone and { vm.zone } or nil
end

-- ---- bodies ---------------------------------------------------------------------------

function M.vmss_body(W, set)
  local key, conf = os_config(set)
  local os_profile_model = { computerNamePrefix = set.prefix, adminUsername = "azureuser",
    secrets = json.arr({}) }
  os_profile_model[key] = conf
  local props = {
    singlePlacementGroup = false,
    upgradePolicy = { mode = "Manual" },
    scaleInPolicy = { rules = { set.scale_in_policy }, forceDeletion = false },
    virtualMachineProfile = {
      osProfile = os_profile_model,
      storageProfile = {
        imageReference = image(set),
        osDisk = { createOption = "FromImage", caching = "ReadWrite",
          managedDisk = { storageAccountType = "Premium_LRS" }, diskSizeGB = 30 },
        dataDisks = json.arr({}),
      },
      networkProfile = { networkInterfaceConfigurations = nic_configurations(set) },
      timeCreated = time.azure(set.created_ms),
    },
    provisioningState = az.provisioning_state(W, set),
    platformFaultDomainCount = 1,
    uniqueId = set.unique_id,
    timeCreated = time.azure(set.created_ms),
  }
  local sku = { name = set.sku, capacity = set.capacity }
  if set.mode == "Uniform" then
    -- orchestrationMode is absent on a Uniform GET (fixture vmss-get-uniform)
    props.overprovision = set.overprovision
    props.doNotRunExtensionsOnOverprovisionedVMs = false
    sku.tier = set.tier
  else
    props.orchestrationMode = "Flexible"
    props.virtualMachineProfile.networkProfile.networkApiVersion = "2020-11-01"
    if set.sku ~= "Mix" then sku.tier = set.tier end
  end
  return {
    name = set.name,
    id = set_id(set),
    type = "Microsoft.Compute/virtualMachineScaleSets",
    location = set.location,
    tags = set.tags,
    zones = set.zones and #set.zones > 0 and set.zones or nil,
    sku = sku,
    etag = '"' .. (set.etag or 1) .. '"',
    properties = props,
  }
end

local function expands(req)
  local e = util.qget(req.q, "$expand") or ""
  return util.lset(util.split(e, ","))
end

-- A Uniform instance, as in VirtualMachineScaleSetVMs_List.
function M.uniform_vm_body(W, vm, expand)
  local set = vm.set
  local props = {
    latestModelApplied = true,
    modelDefinitionApplied = "VirtualMachineScaleSet",
    networkProfileConfiguration = { networkInterfaceConfigurations = nic_configurations(set) },
    provisioningState = vm.state,
    hardwareProfile = { vmSize = set.vm_size },
    vmId = vm.vm_id,
    storageProfile = storage_profile(vm),
    osProfile = os_profile(vm),
    securityProfile = { uefiSettings = { secureBootEnabled = true, vTpmEnabled = true }, securityType = "TrustedLaunch" },
    networkProfile = { networkInterfaces = { { id = nic_id(vm) } } },
    diagnosticsProfile = { bootDiagnostics = { enabled = true } },
    timeCreated = time.azure(vm.created_ms),
  }
  if expand and expand["instanceview"] then props.instanceView = instance_view(vm) end
  if expand and expand["resiliencyview"] then props.resilientVMDeletionStatus = "Disabled" end
  return {
    name = vm.name,
    id = vmss_vm_id(vm),
    type = "Microsoft.Compute/virtualMachineScaleSets/virtualMachines",
    location = set.location,
    tags = vm.tags,
    zones = zones_of(vm),
    instanceId = vm.instance_id,
    sku = { name = set.vm_size, tier = "Standard" },
    properties = props,
    etag = '"' .. (vm.etag or 1) .. '"',
    resources = { tentacle_extension(vm) },
  }
end

-- A Flexible member seen through the VMSS VMs list (2025-11-01 example).
local function flex_vmss_vm_body(vm)
  return {
    name = vm.name,
    id = set_id(vm.set) .. "/virtualMachines/" .. vm.name,
    type = "Microsoft.Compute/virtualMachineScaleSets/virtualMachines",
    location = vm.set.location,
    zones = zones_of(vm),
    instanceId = vm.name,
    etag = '"' .. (vm.etag or 1) .. '"',
    properties = { virtualMachineResourceId = flex_vm_id(vm) },
  }
end

-- A Flexible member as a standard VM (VirtualMachines_List / _Get).
function M.flex_vm_body(W, vm, expand)
  local set = vm.set
  local props = {
    vmId = vm.vm_id,
    hardwareProfile = { vmSize = set.vm_size },
    storageProfile = storage_profile(vm),
    osProfile = os_profile(vm),
    networkProfile = { networkInterfaces = { { id = nic_id(vm), properties = { primary = true, deleteOption = "Delete" } } } },
    virtualMachineScaleSet = { id = set_id(set) },
    platformFaultDomain = vm.ordinal % 3,
    provisioningState = vm.state,
    timeCreated = time.azure(vm.created_ms),
  }
  if expand and expand["instanceview"] then props.instanceView = instance_view(vm) end
  return {
    name = vm.name,
    id = flex_vm_id(vm),
    type = "Microsoft.Compute/virtualMachines",
    location = set.location,
    tags = vm.tags,
    zones = zones_of(vm),
    properties = props,
    resources = { tentacle_extension(vm) },
  }
end

function M.nic_body(W, vm, standalone)
  local set = vm.set
  local id = nic_id(vm)
  local b = {
    name = standalone and flex_nic_name(vm) or set.nic_name,
    id = id,
    properties = {
      provisioningState = "Succeeded",
      ipConfigurations = { {
        name = "ipconfig1",
        id = id .. "/ipConfigurations/ipconfig1",
        properties = {
          provisioningState = "Succeeded",
          privateIPAddress = vm.ip,
          privateIPAllocationMethod = "Dynamic",
          subnet = { id = subnet_id(set) },
          primary = true,
          privateIPAddressVersion = "IPv4",
          loadBalancerBackendAddressPools = json.arr({}),
          loadBalancerInboundNatRules = json.arr({}),
        },
      } },
      dnsSettings = { dnsServers = json.arr({}), appliedDnsServers = json.arr({}),
        internalDomainNameSuffix = "sim" .. set.unique_id:sub(1, 8) .. ".internal.cloudapp.net" },
      macAddress = vm.mac,
      enableAcceleratedNetworking = false,
      enableIPForwarding = false,
      networkSecurityGroup = { id = nsg_id(set) },
      primary = true,
      virtualMachine = { id = set.mode == "Uniform" and vmss_vm_id(vm) or flex_vm_id(vm) },
    },
  }
  if standalone then
    b.etag = 'W/"' .. vm.vm_id .. '"'
    b.type = "Microsoft.Network/networkInterfaces"
    b.location = set.location
  end
  return b
end

-- ---- paging ----------------------------------------------------------------------------

-- Skip tokens are opaque to clients; ours carry the offset and page size.
local function skiptoken(offset, size)
  return util.base64("sim:" .. offset .. ":" .. size, true)
end

local function parse_skiptoken(tok)
  local s = tok and util.unbase64(tok)
  local o, n = (s or ""):match("^sim:(%d+):(%d+)$")
  if not o then return nil end
  return math.tointeger(tonumber(o)), math.tointeger(tonumber(n))
end

-- 1-based page index of a list request, for fault rules.
function M.page_of(req)
  local tok = util.qget(req.q, "$skiptoken")
  if not tok then return 1 end
  local o, n = parse_skiptoken(tok)
  if not o or n == 0 then return nil end
  return o // n + 1
end

local function next_link(W, req, offset, size)
  local parts = {}
  for _, kv in ipairs(req.q.list) do
    local k, v = kv[1], kv[2]
    if k:lower() ~= "$skiptoken" then
      local ev
      if k:lower() == "$filter" and W.cfg.azure.quirks.unencoded_filter_next_link then
        ev = v -- the Azure bug: the filter comes back unencoded (spaces, quotes)
      else
        ev = util.url_encode(v, "/,")
      end
      parts[#parts + 1] = util.url_encode(k, "$") .. "=" .. ev
    end
  end
  parts[#parts + 1] = "$skiptoken=" .. skiptoken(offset, size)
  return req.base .. req.path_raw .. "?" .. table.concat(parts, "&")
end

local function paged(W, req, items, size, build)
  local offset = 0
  local tok = util.qget(req.q, "$skiptoken")
  if tok then
    local o, n = parse_skiptoken(tok)
    if not o or n ~= size then
      return arm_error(400, "InvalidParameter", "The request URL is not valid.", { target = "$skiptoken" })
    end
    offset = o
  end
  local value = {}
  for i = offset + 1, math.min(offset + size, #items) do value[#value + 1] = build(items[i]) end
  local body = { value = json.arr(value) }
  if offset + size < #items then body.nextLink = next_link(W, req, offset + size, size) end
  return resp(200, body)
end

local function by_ordinal(a, b) return a.ordinal < b.ordinal end

local function sorted_vms(set)
  local out = {}
  for _, vm in ipairs(set.vms) do out[#out + 1] = vm end
  table.sort(out, by_ordinal)
  return out
end

-- ---- ARM handlers -------------------------------------------------------------------------

local function not_found_set(route)
  return arm_error(404, "ResourceNotFound", "The Resource 'Microsoft.Compute/virtualMachineScaleSets/" ..
    route.vmss .. "' under resource group '" .. route.rg .. "' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix")
end

local function parent_not_found(route)
  return arm_error(404, "ParentResourceNotFound", "Can not perform requested operation on nested resource. Parent resource '" ..
    route.vmss .. "' not found.")
end

function M.vmss_get(W, req, route)
  if not route.set then return not_found_set(route) end
  return resp(200, M.vmss_body(W, route.set))
end

function M.vmss_patch(W, req, route)
  if not route.set then return not_found_set(route) end
  local body = json.decode(req.body)
  if type(body) ~= "table" then
    return arm_error(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized.")
  end
  local set = route.set
  local cap = type(body.sku) == "table" and body.sku.capacity
  local settle = model.now(W)
  if cap ~= nil then
    local n = util.int(cap)
    if not n or n < 0 or n > 1000 then
      return arm_error(400, "InvalidParameter", "The value of parameter sku.capacity is invalid.", { target = "sku.capacity" })
    end
    set.etag = (set.etag or 1) + 1
    settle = az.scale(W, set, n, {})
    model.note(W, string.format("%s: PATCH sku.capacity=%d", set.name, n))
  end
  local r = resp(200, M.vmss_body(W, set))
  local op = az.new_operation(W, set, settle)
  r.headers[#r.headers + 1] = { "Azure-AsyncOperation", M.operation_url(W, req, set, op, false) }
  return r
end

-- VirtualMachineScaleSets_GetInstanceView: the scale set's status and a
-- count of its VMs per status code (ProvisioningState/..., PowerState/...).
-- Flexible has none: ARM answers 400 OperationNotAllowed.
function M.vmss_instance_view(W, req, route)
  local set = route.set
  if not set then return not_found_set(route) end
  if set.mode == "Flexible" then
    return arm_error(400, "OperationNotAllowed",
      "Operation 'GetInstanceView' is not supported for Virtual Machine Scale Sets with Flexible orchestration mode.")
  end
  local counts, order = {}, {}
  for _, vm in ipairs(sorted_vms(set)) do
    for _, st in ipairs(statuses(vm)) do
      if not counts[st.code] then order[#order + 1] = st.code end
      counts[st.code] = (counts[st.code] or 0) + 1
    end
  end
  local summary = {}
  for i, code in ipairs(order) do summary[i] = { code = code, count = counts[code] } end
  local state = az.provisioning_state(W, set)
  return resp(200, {
    virtualMachine = { statusesSummary = json.arr(summary) },
    extensions = json.arr({}),
    statuses = { {
      code = "ProvisioningState/" .. state:lower(),
      level = "Info",
      displayStatus = "Provisioning " .. state:lower(),
      time = time.azure(model.now(W)),
    } },
    orchestrationServices = json.arr({}),
  })
end

function M.vm_list(W, req, route)
  local set = route.set
  if not set then return parent_not_found(route) end
  local expand = expands(req)
  local size = set.page_size
  if set.mode == "Flexible" then
    return paged(W, req, sorted_vms(set), size, function(vm) return flex_vmss_vm_body(vm) end)
  end
  return paged(W, req, sorted_vms(set), size, function(vm) return M.uniform_vm_body(W, vm, expand) end)
end

local function find_vmss_vm(route)
  local set = route.set
  if set.mode == "Uniform" then
    local n = math.tointeger(tonumber(route.instance))
    return n and az.find_vm(set, n) or nil
  end
  return set.by_name[route.instance:lower()]
end

function M.vmss_vm_get(W, req, route)
  if not route.set then return parent_not_found(route) end
  local vm = find_vmss_vm(route)
  if not vm then
    return arm_error(404, "NotFound", "The entity was not found in this Azure location.")
  end
  if route.set.mode == "Flexible" then return resp(200, flex_vmss_vm_body(vm)) end
  return resp(200, M.uniform_vm_body(W, vm, expands(req)))
end

function M.operation_url(W, req, set, op, monitor)
  local base = req.base .. "/subscriptions/" .. set.sub.id .. "/providers/Microsoft.Compute/locations/" ..
    set.location .. "/operations/" .. op.id
  local v = util.qget(req.q, "api-version") or "2024-11-01"
  if monitor then return base .. "?monitor=true&api-version=" .. v end
  return base .. "?api-version=" .. v
end

local function accepted(W, req, set, done)
  local op = az.new_operation(W, set, done)
  local r = resp(202, "")
  r.headers = {
    { "Location", M.operation_url(W, req, set, op, true) },
    { "Azure-AsyncOperation", M.operation_url(W, req, set, op, false) },
  }
  return r
end

function M.vm_delete(W, req, route)
  if not route.set then return parent_not_found(route) end
  local vm = route.flex_vm or find_vmss_vm(route)
  if not vm then return resp(204, "") end -- already gone
  local done = az.delete_vms(W, route.set, { vm }, { decrement = true })
  model.note(W, string.format("%s: DELETE %s", route.set.name, vm.name))
  return accepted(W, req, route.set, done)
end

function M.vmss_delete_instances(W, req, route)
  if not route.set then return not_found_set(route) end
  local body = json.decode(req.body)
  local ids = type(body) == "table" and body.instanceIds
  if type(ids) ~= "table" or #ids == 0 then
    return arm_error(400, "InvalidParameter", "Required parameter 'instanceIds' is missing (null).", { target = "instanceIds" })
  end
  local vms = {}
  for _, id in ipairs(ids) do
    local vm = find_vmss_vm({ set = route.set, instance = tostring(util.int(id) or id) })
    if vm then vms[#vms + 1] = vm end
  end
  local done = az.delete_vms(W, route.set, vms, { decrement = true })
  model.note(W, string.format("%s: delete instances %s", route.set.name, table.concat(ids, ",")))
  return accepted(W, req, route.set, done)
end

function M.operation(W, req, route)
  local op = W.az.ops[route.op]
  if not op then return arm_error(404, "NotFound", "The operation was not found.") end
  local done = model.now(W) >= op.done_ms
  if util.qget(req.q, "monitor") == "true" then
    return resp(done and 200 or 202, "")
  end
  local b = { startTime = time.azure(op.start_ms), status = done and "Succeeded" or "InProgress", name = op.id }
  if done then b.endTime = time.azure(op.done_ms) end
  return resp(200, b)
end

function M.nic_list(W, req, route)
  local set = route.set
  if not set then return parent_not_found(route) end
  if set.mode == "Flexible" then
    -- the VMSS NIC API does not know Flexible sets (fixture
    -- arm-error-vmss-nics-flex-not-found-404)
    return arm_error(404, "NotFound", "Resource " .. set_id(set) .. " not found.", { details = json.arr({}) })
  end
  local vms = sorted_vms(set)
  if route.instance then
    local vm = find_vmss_vm(route)
    vms = vm and { vm } or {}
  end
  return paged(W, req, vms, set.page_size, function(vm) return M.nic_body(W, vm, false) end)
end

-- $filter='virtualMachineScaleSet/id' eq '/subscriptions/.../{vmss}'
local function filter_set_id(f)
  local l = util.trim(f):lower()
  local id = l:match("^'?virtualmachinescaleset/id'?%s+eq%s+'([^']+)'$")
  return id
end

function M.flex_vm_list(W, req, route)
  local expand = expands(req)
  local filter = util.qget(req.q, "$filter")
  local wanted
  if filter then
    wanted = filter_set_id(filter)
    if not wanted then
      return arm_error(400, "InvalidParameter", "The value of parameter $filter is invalid.", { target = "$filter" })
    end
  elseif expand["instanceview"] then
    return arm_error(400, "InvalidParameter",
      "The $expand=instanceView query option can only be specified if a valid $filter option is specified.",
      { target = "$expand" })
  end
  local vms = {}
  for _, set in ipairs(W.az.sets) do
    if set.mode == "Flexible" and set.rg == route.rg_obj and (not wanted or set_id(set):lower() == wanted) then
      for _, vm in ipairs(sorted_vms(set)) do vms[#vms + 1] = vm end
    end
  end
  return paged(W, req, vms, route.page_size, function(vm) return M.flex_vm_body(W, vm, expand) end)
end

function M.flex_vm_get(W, req, route)
  if not route.flex_vm then
    return arm_error(404, "ResourceNotFound", "The Resource 'Microsoft.Compute/virtualMachines/" .. route.res_name ..
      "' under resource group '" .. route.rg .. "' was not found.")
  end
  return resp(200, M.flex_vm_body(W, route.flex_vm, expands(req)))
end

-- NetworkInterfaces_List: the resource group's standard NICs (Flexible
-- members'; Uniform VMSS NICs live under the scale set), paged. Clients
-- join them to VMs on properties.virtualMachine.id instead of one GET per
-- VM. (Added for octoscale's Flexible private-IP read.)
function M.nic_rg_list(W, req, route)
  local vms = {}
  for _, set in ipairs(W.az.sets) do
    if set.mode == "Flexible" and set.rg == route.rg_obj then
      for _, vm in ipairs(sorted_vms(set)) do vms[#vms + 1] = vm end
    end
  end
  return paged(W, req, vms, route.page_size, function(vm) return M.nic_body(W, vm, true) end)
end

function M.nic_get(W, req, route)
  for _, set in ipairs(W.az.sets) do
    if set.mode == "Flexible" and set.rg == route.rg_obj then
      for _, vm in ipairs(set.vms) do
        if flex_nic_name(vm):lower() == route.res_name:lower() then return resp(200, M.nic_body(W, vm, true)) end
      end
    end
  end
  return arm_error(404, "ResourceNotFound", "The Resource 'Microsoft.Network/networkInterfaces/" .. route.res_name ..
    "' under resource group '" .. route.rg .. "' was not found.")
end

-- ---- routing --------------------------------------------------------------------------------

local function method_not_allowed(req)
  return function()
    return arm_error(405, "MethodNotAllowed", "The requested resource does not support http method '" .. req.method .. "'.")
  end
end

-- Resolves an ARM path (segments already split; comparisons lowercase).
local function arm_route(req)
  local s, l = req.segs, req.lsegs
  local r = { family = "arm" }
  local function m(method, name, handler, page)
    if req.method == method then
      r.name, r.handler, r.page = name, handler, page
    end
  end
  if l[1] ~= "subscriptions" or not s[2] then return nil end
  r.sub = s[2]
  -- /subscriptions/{sub}/providers/Microsoft.Compute/locations/{loc}/operations/{id}
  if l[3] == "providers" and l[4] == "microsoft.compute" and l[5] == "locations" and l[7] == "operations" and s[8] and #s == 8 then
    r.op = s[8]
    m("GET", "arm.operation", M.operation)
  elseif l[3] == "resourcegroups" and s[4] and l[5] == "providers" then
    r.rg = s[4]
    local ns, typ = l[6], l[7]
    if ns == "microsoft.compute" and typ == "virtualmachinescalesets" and s[8] then
      r.vmss = s[8]
      if #s == 8 then
        m("GET", "arm.vmss_get", M.vmss_get)
        m("PATCH", "arm.vmss_patch", M.vmss_patch)
      elseif #s == 9 and l[9] == "virtualmachines" then
        m("GET", "arm.vm_list", M.vm_list, M.page_of)
      elseif #s == 9 and l[9] == "instanceview" then
        m("GET", "arm.vmss_instance_view", M.vmss_instance_view)
      elseif #s == 10 and l[9] == "virtualmachines" then
        r.instance = s[10]
        m("GET", "arm.vmss_vm_get", M.vmss_vm_get)
        m("DELETE", "arm.vm_delete", M.vm_delete)
      elseif #s == 9 and l[9] == "networkinterfaces" then
        m("GET", "arm.nic_list", M.nic_list, M.page_of)
      elseif #s == 11 and l[9] == "virtualmachines" and l[11] == "networkinterfaces" then
        r.instance = s[10]
        m("GET", "arm.vm_nic_list", M.nic_list, M.page_of)
      elseif #s == 9 and l[9] == "delete" then
        m("POST", "arm.vmss_delete_instances", M.vmss_delete_instances)
      else
        return nil
      end
    elseif ns == "microsoft.compute" and typ == "virtualmachines" then
      if #s == 7 then
        m("GET", "arm.flex_vm_list", M.flex_vm_list, M.page_of)
      elseif #s == 8 then
        r.res_name = s[8]
        m("GET", "arm.flex_vm_get", M.flex_vm_get)
        m("DELETE", "arm.flex_vm_delete", M.vm_delete)
      else
        return nil
      end
    elseif ns == "microsoft.network" and typ == "networkinterfaces" and #s == 7 then
      m("GET", "arm.nic_rg_list", M.nic_rg_list, M.page_of)
    elseif ns == "microsoft.network" and typ == "networkinterfaces" and #s == 8 then
      r.res_name = s[8]
      m("GET", "arm.nic_get", M.nic_get)
    else
      return nil
    end
  else
    return nil
  end
  if not r.name then
    r.name, r.handler = "arm.method_not_allowed", method_not_allowed(req)
  end
  return r
end

-- The checks every ARM request passes before its handler, in ARM's order:
-- authentication, api-version, subscription, resource group, then the
-- resource itself.
local function arm_guard(W, req, r)
  local denied = arm_auth(W, req)
  if denied then return denied end
  local v = util.qget(req.q, "api-version")
  if not v or v == "" then
    return arm_error(400, "MissingApiVersionParameter",
      "The api-version query parameter (?api-version=) is required for all requests.")
  end
  if not v:match("^%d%d%d%d%-%d%d%-%d%d") then
    return arm_error(400, "InvalidApiVersionParameter", "The api-version '" .. v .. "' is invalid. The supported versions are '2024-11-01,2025-04-01,2025-11-01'.")
  end
  if req.query_raw:find("[ \"]") then
    -- what a client sends when it follows the unencoded-filter nextLink raw
    return arm_error(400, "BadRequest", "The request URL is not valid.")
  end
  local sub = W.az.subs[r.sub:lower()]
  if not sub then
    return arm_error(404, "SubscriptionNotFound", "The subscription '" .. r.sub .. "' could not be found.")
  end
  if r.rg then
    local rg = sub.rgs[r.rg:lower()]
    if not rg then
      return arm_error(404, "ResourceGroupNotFound", "Resource group '" .. r.rg .. "' could not be found.")
    end
    r.rg_obj = rg
    r.page_size = W.cfg.azure.page_size
    if r.vmss then r.set = rg.sets[r.vmss:lower()] end
    if r.name == "arm.flex_vm_get" or r.name == "arm.flex_vm_delete" then
      for _, set in ipairs(W.az.sets) do
        if set.rg == rg and set.mode == "Flexible" and set.by_name[r.res_name:lower()] then
          r.set, r.flex_vm = set, set.by_name[r.res_name:lower()]
        end
      end
      if r.name == "arm.flex_vm_delete" and not r.set then return resp(204, "") end
    end
    if r.name == "arm.nic_list" or r.name == "arm.vm_nic_list" then
      -- these paths take only the old Network api-version (docs/api-notes.md §3)
      local ok = false
      for _, a in ipairs(W.cfg.azure.nic_api_versions) do if a == v then ok = true end end
      if not ok then
        return arm_error(400, "NoRegisteredProviderFound", "No registered resource provider found for location '" ..
          (r.set and r.set.location or rg.location) .. "' and API version '" .. v ..
          "' for type 'virtualMachineScaleSets/networkInterfaces'. The supported api-versions are '" ..
          table.concat(W.cfg.azure.nic_api_versions, ", ") .. "'.")
      end
    end
  end
  return nil
end

function M.resolve(W, req)
  local l = req.lsegs
  -- Entra ID v2: /{tenant}/oauth2/v2.0/token
  if #l == 4 and l[2] == "oauth2" and l[3] == "v2.0" and l[4] == "token" then
    return { family = "entra", name = "entra.token", tenant = req.segs[1], handler = M.entra_token }
  end
  if req.path:lower() == "/metadata/identity/oauth2/token" then
    return { family = "imds", name = "imds.token", handler = M.imds_token }
  end
  if req.path:lower() == "/msi/token" then
    return { family = "appservice", name = "appservice.token", handler = M.appservice_token }
  end
  if l[1] ~= "subscriptions" then return nil end
  local r = arm_route(req)
  if not r then
    r = { family = "arm", name = "arm.unknown", handler = function()
      return arm_error(404, "InvalidResourceType", "The resource type could not be found for path '" .. req.path .. "'.")
    end }
    return r
  end
  local inner = r.handler
  r.handler = function(w, q, route)
    local denied = arm_guard(w, q, route)
    if denied then return denied end
    return inner(w, q, route)
  end
  return r
end

-- The remaining-quota headers count down like ARM's legacy hourly limits
-- (12,000 reads, 1,200 writes) and refill over real time, so a client that
-- paces itself on them sees plausible numbers and never a dead end.
local function quota(W, kind, per_hour)
  local q = W.az.quota[kind]
  local now = simc.monotonic_ms()
  if not q then
    q = { left = per_hour, t = now }
    W.az.quota[kind] = q
  end
  q.left = math.min(per_hour, q.left + (now - q.t) * per_hour / 3600000)
  q.t = now
  q.left = math.max(0, q.left - 1)
  return tostring(math.floor(q.left))
end

-- Headers every ARM response carries.
function M.decorate(W, req, r)
  r.headers[#r.headers + 1] = { "x-ms-request-id", W.rng:guid() }
  r.headers[#r.headers + 1] = { "x-ms-correlation-request-id", W.rng:guid() }
  if req.method == "GET" then
    r.headers[#r.headers + 1] = { "x-ms-ratelimit-remaining-subscription-reads", quota(W, "reads", 12000) }
  else
    r.headers[#r.headers + 1] = { "x-ms-ratelimit-remaining-subscription-writes", quota(W, "writes", 1200) }
  end
  r.headers[#r.headers + 1] = { "Cache-Control", "no-cache" }
end

M.CONTENT_TYPE = CT
return M
