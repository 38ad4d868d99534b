-- Summarises octoscale-sim request logs (GET /_sim/requests) as key=value
-- pairs: requests per service, 429s, the list pages, deletions, events, and
-- the simulator's own time per request (time_ms - latency_ms: Lua work and
-- waiting for its lock, not the injected latency).
-- usage: lua5.4 logstat.lua AZURE_LOG.json OCTOPUS_LOG.json
local cjson = require "cjson"

local function load(path)
  local f = assert(io.open(path, "rb"))
  local j = cjson.decode(f:read("a"))
  f:close()
  return j
end

local s = { azure = 0, octopus = 0, other = 0, throttled = 0, vm_pages = 0, nic_pages = 0,
  machine_pages = 0, deletes = 0, events = 0, lookups = 0, server_ms = 0, server_max_ms = 0,
  octopus_server_ms = 0, tokens = 0, vmss_gets = 0, instance_views = 0, vm_lists = 0 }
for _, path in ipairs({ arg[1], arg[2] }) do
  for _, e in ipairs(load(path)) do
    local r = e.route or ""
    local family = r:match("^(%w+)%.") or ""
    if family == "octopus" then
      s.octopus = s.octopus + 1
    elseif family == "arm" or family == "entra" or family == "imds" or family == "appservice" then
      s.azure = s.azure + 1
    else
      s.other = s.other + 1
    end
    if e.status == 429 then s.throttled = s.throttled + 1 end
    if r == "arm.vm_list" then s.vm_pages = s.vm_pages + 1 end
    -- a full VM list starts with a page without $skiptoken
    if r == "arm.vm_list" and not tostring(e.query or ""):find("skiptoken", 1, true) then
      s.vm_lists = s.vm_lists + 1
    end
    if r == "arm.vmss_get" then s.vmss_gets = s.vmss_gets + 1 end
    if r == "arm.vmss_instance_view" then s.instance_views = s.instance_views + 1 end
    if family == "entra" then s.tokens = s.tokens + 1 end
    if r == "arm.nic_list" then s.nic_pages = s.nic_pages + 1 end
    if r == "octopus.machines_list" then s.machine_pages = s.machine_pages + 1 end
    if r == "octopus.machine_delete" and e.status and e.status < 300 then s.deletes = s.deletes + 1 end
    if r == "octopus.events_list" then s.events = s.events + 1 end
    if r == "octopus.spaces_list" or r == "octopus.environments_list" then s.lookups = s.lookups + 1 end
    local own = (tonumber(e.time_ms) or 0) - (tonumber(e.latency_ms) or 0)
    if own < 0 then own = 0 end
    s.server_ms = s.server_ms + own
    if family == "octopus" then s.octopus_server_ms = s.octopus_server_ms + own end
    if own > s.server_max_ms then s.server_max_ms = own end
  end
end
s.requests = s.azure + s.octopus + s.other
local keys = {}
for k in pairs(s) do keys[#keys + 1] = k end
table.sort(keys)
local out = {}
for _, k in ipairs(keys) do out[#out + 1] = k .. "=" .. string.format("%d", math.floor(s[k] + 0.5)) end
print(table.concat(out, " "))
