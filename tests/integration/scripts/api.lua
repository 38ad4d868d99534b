-- Exercises the script API against the tenanted scenario; prints one
-- "ok <what>" line per check and returns the number of failures.
local failures = 0
local function check(what, cond, detail)
  if cond then
    print("ok " .. what)
  else
    failures = failures + 1
    print("FAIL " .. what .. (detail and (": " .. tostring(detail)) or ""))
  end
end

local az <close> = assert(azure.client())
local oc <close> = assert(octopus.client())
check("clients are userdata", type(az) == "userdata" and type(oc) == "userdata")
check("client names", tostring(az):find("octoscale.AzureClient", 1, true)
  and tostring(oc):find("octoscale.OctopusClient", 1, true))

-- azure
local set = assert(az:scale_set{ scale_set = "web-prod" })
check("scale_set typed fields", set.mode == "Uniform" and set.capacity == 3
  and set.name == "vmss-web" and type(set.body) == "table", set.mode)
local vms = assert(az:instances{ resource_group = "rg-web", vmss = "vmss-web" })
check("instances by resource group", #vms == 3)
local vm = vms[1]
check("vm fields as policies see them", type(vm.id) == "string"
  and vm.instance_id == "0" and vm.computer_name == "web000000"
  and vm.provisioning_state == "Succeeded" and vm.power_state == "running"
  and #vm.private_ips == 1 and type(vm.created_at) == "number"
  and type(vm.tags) == "table" and vm.scale_set == "vmss-web")

local none, err = az:scale_set{ resource_group = "rg-web", vmss = "vmss-none" }
check("operational failure: nil, err", none == nil and type(err) == "table")
check("err fields", err.status == 404 and err.code == "ResourceNotFound"
  and #err.request_id > 0 and err.message:find("vmss-none", 1, true), err.message)
check("err __tostring is one line", tostring(err):find("HTTP 404 ResourceNotFound", 1, true)
  and not tostring(err):find("\n"), tostring(err))

local status, body = az:request("GET",
  "/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-web")
check("raw request adds api-version and decodes", status == 200 and body.name == "vmss-web", status)
status, body = az:request("GET",
  "/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/nope?api-version=2024-11-01")
check("raw request returns non-2xx as status, body", status == 404 and body.error.code == "ResourceNotFound", status)

-- misuse raises at the caller's line
local ok, msg = pcall(function() return az:instances(42) end)
check("misuse raises with file:line", not ok and msg:find("api.lua:%d+: bad argument #1 to 'instances'") ~= nil, msg)
ok, msg = pcall(function() return az:instances{ scale_set = "no-such-entry" } end)
check("unknown entry is misuse", not ok and msg:find("no scale set named 'no-such-entry'", 1, true), msg)

-- octopus
-- web-prod's scope is Production + web-server (any tenant): the three VMs'
-- targets and contoso-web-01
local targets = assert(oc:targets{ scale_set = "web-prod" })
check("in-scope targets of the entry", #targets == 4, #targets)
local by_name = {}
for _, x in ipairs(targets) do by_name[x.name] = x end
local t = by_name.web000000
check("target fields", type(t.id) == "string" and t.name == "web000000"
  and t.roles[1] == "web-server" and t.environment_ids[1] == "Environments-1"
  and #t.tenant_ids == 0 and t.disabled == false and t.comm_style == "listening")
local tenanted = assert(oc:targets{ environment = "Production", roles = { "web-server" }, tenant = "Contoso" })
check("targets by environment, roles and tenant", #tenanted == 1 and tenanted[1].name == "contoso-web-01", #tenanted)
local all = assert(oc:targets{ environment = "Production", all = true })
check("all targets of the environment", #all == 4, #all)
check("space id", oc:space_id() == "Spaces-1")

local done, changed = oc:disable_target(t.id)
check("disable", done == true and changed == true)
done, changed = oc:disable_target(t.id)
check("disable again is a no-op (no PUT)", done == true and changed == false)
local after = assert(oc:targets{ environment = "Production", roles = "web-server" })
local disabled_now
for _, x in ipairs(after) do if x.id == t.id then disabled_now = x.disabled end end
check("target now disabled", disabled_now == true)
done, changed = oc:enable_target(t.id)
check("enable", done == true and changed == true)

local st, machine = oc:request("GET", "/api/Spaces-1/machines/" .. t.id)
check("raw Octopus request", st == 200 and machine.Id == t.id, st)

local task = oc:health_check{ target_ids = { t.id, by_name.web000001.id }, timeout = "2m", poll = 1 }
check("health check completes", task and task.completed and task.succeeded
  and task.id:find("^ServerTasks%-"), task and task.state)

local events = oc:events{ regarding = t.id, eventCategories = "Modified", take = 10 }
check("events query", type(events) == "table", events)

local gone_ok, gone = oc:delete_target(by_name.web000002.id)
check("delete", gone_ok == true and gone == false)
gone_ok, gone = oc:delete_target(by_name.web000002.id)
check("delete again: 404 counts as done", gone_ok == true and gone == true)

local bad, berr = oc:disable_target("Machines-99999")
check("disable of a missing machine: nil, err", bad == nil and berr.status == 404, berr and tostring(berr))

-- one casing: provisioning states as ARM documents them, on the scale set
-- (whose ARM body says "succeeded") and on its VMs alike
check("scale set provisioning_state as ARM documents it",
  set.provisioning_state == "Succeeded", set.provisioning_state)
check("VM provisioning_state in the same casing",
  vm.provisioning_state == set.provisioning_state, vm.provisioning_state)

-- events: normalised tables, snake_case keys, Unix times
check("events: a list of events", events and #events >= 1, events and #events)
local ev = events and events[1] or {}
check("event fields", type(ev.id) == "string" and type(ev.category) == "string"
  and math.type(ev.occurred) == "integer" and ev.occurred > 1500000000
  and type(ev.message) == "string" and type(ev.related_document_ids) == "table",
  ev.id)
local pascal
for _, e in ipairs(events or {}) do
  for k in pairs(e) do if k:find("%u") then pascal = k end end
end
check("no PascalCase key in any event", pascal == nil, pascal)
local since = oc:events{ regarding = t.id, from = ev.occurred or 0, take = 10 }
check("events from = Unix seconds", since and #since >= 1, since and #since)

-- config.scale_sets(): the configured entries
local entries = config.scale_sets()
check("config.scale_sets lists the entries", #entries == 1
  and entries[1].name == "web-prod" and entries[1].vmss == "vmss-web"
  and entries[1].resource_group == "rg-web"
  and entries[1].environment == "Production"
  and entries[1].roles[1] == "web-server"
  and type(entries[1].settings) == "table", #entries)

-- an entry from config.scale_sets() names the scale set to plan live
local by_entry = assert(reconcile.plan{ scale_set = entries[1] })
check("reconcile.plan{scale_set = entry} plans live", by_entry:summary().scale_set == "web-prod"
  and #by_entry:vms() == 3, by_entry:summary().scale_set)

-- plan:vms() and plan:targets(): what a live plan was made from
local lp = assert(reconcile.plan{ scale_set = "web-prod" })
local pv, pt = lp:vms(), lp:targets()
check("plan:vms() the scale set's VMs", #pv == 3 and pv[1].scale_set == "vmss-web"
  and pv[1].provisioning_state == "Succeeded", #pv)
check("plan:targets() the targets in scope (one deleted above)", #pt == 3 and type(pt[1].id) == "string", #pt)
pv[1].name = "changed"
check("plan:vms() gives copies", lp:vms()[1].name ~= "changed")

-- unknown keys in option tables raise at this line, with a hint
local function raises(fn, pattern)
  local ok_, m = pcall(fn)
  return not ok_ and tostring(m):find(pattern) ~= nil, m
end
check("reconcile.plan{scaleset=}", raises(function() return reconcile.plan{ scaleset = "web-prod" } end,
  "^[^:]*api%.lua:%d+: reconcile%.plan: unknown option 'scaleset' %(did you mean 'scale_set'%?%)"))
check("reconcile.plan{scale_set=, polcy=}", raises(function() return reconcile.plan{ scale_set = "web-prod", polcy = {} } end,
  "api%.lua:%d+: reconcile%.plan: unknown option 'polcy' %(did you mean 'policy'%?%)"))
check("offline scope typo", raises(function() return reconcile.plan{ instances = {}, scope = { enviroment_id = "x" } } end,
  "api%.lua:%d+: reconcile%.plan: scope: unknown option 'enviroment_id'"))
check("oc:targets{enviroment=}", raises(function() return oc:targets{ enviroment = "Production" } end,
  "api%.lua:%d+: targets: unknown option 'enviroment' %(did you mean 'environment'%?%)"))
check("oc:health_check typo", raises(function() return oc:health_check{ target_id = { "x" } } end,
  "api%.lua:%d+: health_check: unknown option 'target_id' %(did you mean 'target_ids'%?%)"))
check("oc:events typo", raises(function() return oc:events{ regardin = "x" } end,
  "api%.lua:%d+: events: unknown option 'regardin' %(did you mean 'regarding'%?%)"))
check("az:instances typo", raises(function() return az:instances{ scale_sett = "web-prod" } end,
  "api%.lua:%d+: instances: unknown option 'scale_sett' %(did you mean 'scale_set'%?%)"))
check("az:set_capacity typo", raises(function() return az:set_capacity{ scale_set = "web-prod", capcity = 3 } end,
  "api%.lua:%d+: set_capacity: unknown option 'capcity' %(did you mean 'capacity'%?%)"))
check("azure.client typo", raises(function() return azure.client{ subscripton = "x" } end,
  "api%.lua:%d+: azure%.client: unknown option 'subscripton' %(did you mean 'subscription'%?%)"))
check("octopus.client takes no options", raises(function() return octopus.client{ url = "x" } end,
  "api%.lua:%d+: octopus%.client: unknown option 'url' %(it takes none%)"))
check("a key far from any: the list", raises(function() return oc:targets{ zzz = 1 } end,
  "unknown option 'zzz' %(expected scale_set, environment, roles, tenant or all%)"))

-- closed clients
az:close()
ok, msg = pcall(az.instances, az, { scale_set = "web-prod" })
check("closed client raises", not ok and msg:find("closed", 1, true), msg)

octopus.set_output("Checked", #vms)
octopus.set_output("Answer", "forty two")
octopus.set_output("Checked", "again")
return failures
