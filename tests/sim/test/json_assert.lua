-- JSON assertions for the simulator's shell tests (lua-cjson, no jq):
--   lua5.4 json_assert.lua eval  FILE EXPR      print EXPR (J = the JSON)
--   lua5.4 json_assert.lua check FILE EXPR      exit 1 unless EXPR is truthy
--   lua5.4 json_assert.lua keys  FIXTURE FPATH FILE PATH [OPTIONAL,KEYS]
-- Paths are dotted ("value.1.properties", "." for the root). Helpers
-- available to EXPR: count(t), keys(t), find(list, field, value), all(list,
-- fn), ids(list, field) -> set, uniq(list, field) and distinct(list, fn)
-- -> number of distinct values, null.
local cjson = require "cjson"

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  s = s:gsub("^\239\187\191", "") -- the task fixtures start with a BOM
  local ok, v = pcall(cjson.decode, s)
  if not ok then
    io.stderr:write(path .. ": not JSON: " .. tostring(v) .. "\n" .. s:sub(1, 300) .. "\n")
    os.exit(2)
  end
  return v
end

local function at(v, path)
  if path == "." or path == "" then return v end
  for part in path:gmatch("[^.]+") do
    if type(v) ~= "table" then return nil end
    local n = tonumber(part)
    v = v[n or part]
  end
  return v
end

local env = setmetatable({}, { __index = _G })
function env.count(t)
  local n = 0
  for _ in pairs(t or {}) do n = n + 1 end
  return n
end
function env.keys(t)
  local k = {}
  for key in pairs(t or {}) do k[#k + 1] = tostring(key) end
  table.sort(k)
  return table.concat(k, ",")
end
function env.find(list, field, value)
  for _, x in ipairs(list or {}) do
    if x[field] == value then return x end
  end
  return nil
end
function env.all(list, fn)
  for _, x in ipairs(list or {}) do
    if not fn(x) then return false end
  end
  return true
end
function env.ids(list, field)
  local s = {}
  for _, x in ipairs(list or {}) do s[x[field]] = true end
  return s
end
-- number of distinct values of field
function env.uniq(list, field)
  return env.count(env.ids(list, field))
end
-- number of distinct values of fn(item)
function env.distinct(list, fn)
  local s = {}
  for _, x in ipairs(list or {}) do s[fn(x)] = true end
  return env.count(s)
end
env.null = cjson.null

local cmd, a, b, c, d, e = ...
if cmd == "eval" or cmd == "check" then
  env.J = read(a)
  local fn, err = load("return " .. b, "=expr", "t", env)
  if not fn then
    io.stderr:write(err .. "\n")
    os.exit(2)
  end
  local ok, v = pcall(fn)
  if not ok then
    io.stderr:write(tostring(v) .. "\n")
    os.exit(1)
  end
  if cmd == "eval" then
    if type(v) == "table" then v = cjson.encode(v) end
    print(v == nil and "nil" or tostring(v))
    return
  end
  if not v then
    io.stderr:write("expected " .. b .. "\n")
    os.exit(1)
  end
  return
end
if cmd == "keys" then
  local fx, ours = at(read(a), b), at(read(c), d)
  if type(fx) ~= "table" then
    io.stderr:write("fixture path " .. b .. " is not an object\n")
    os.exit(2)
  end
  if type(ours) ~= "table" then
    io.stderr:write("path " .. d .. " is not an object in " .. c .. "\n")
    os.exit(1)
  end
  local optional = {}
  for k in (e or ""):gmatch("[^,]+") do optional[k] = true end
  local missing = {}
  for k in pairs(fx) do
    if type(k) == "string" and ours[k] == nil and not optional[k] then missing[#missing + 1] = k end
  end
  table.sort(missing)
  if #missing > 0 then
    io.stderr:write("missing keys at " .. d .. ": " .. table.concat(missing, ", ") .. "\n")
    os.exit(1)
  end
  return
end
io.stderr:write("usage: json_assert.lua eval|check|keys ...\n")
os.exit(2)
