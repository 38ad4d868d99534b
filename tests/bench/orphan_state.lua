-- Writes an octoscale state file in which every orphaned target of the
-- simulator (a machine whose VM does not exist) has been orphaned since
-- SINCE, so the measured run finds them past their grace.
-- usage: lua5.4 orphan_state.lua SIM_STATE_JSON OUT SINCE SET=ENTRY...
local cjson = require "cjson"
local src, out, since = arg[1], arg[2], arg[3]
local entry_of = {}
for i = 4, #arg do
  local set, entry = arg[i]:match("^([^=]+)=(.+)$")
  entry_of[set:lower()] = entry
end
local f = assert(io.open(src, "rb"))
local J = cjson.decode(f:read("a"))
f:close()
local sets = {}
local n = 0
for _, m in ipairs(J.machines) do
  local vm = m.vm
  if type(vm) == "table" and vm.exists == false then
    local entry = entry_of[vm.scale_set:lower()]
    if entry then
      sets[entry] = sets[entry] or { orphans = {} }
      sets[entry].orphans[m.id] = since
      n = n + 1
    end
  end
end
local doc = { format_version = 1, updated_at = since, scale_sets = sets, runs = {} }
f = assert(io.open(out, "wb"))
-- cjson encodes an empty table as {}; runs must be an array
f:write((cjson.encode(doc):gsub('"runs":{}', '"runs":[]')), "\n")
f:close()
io.stderr:write(string.format("orphan_state: %d orphans since %s\n", n, since))
