-- Validation helpers for scenario input (YAML with positions, or JSON
-- posted to /_sim/faults without them). Every error names the place:
-- "scenario.yaml:12:5: azure.subscriptions[1]...capcity: unknown key".
-- Errors are raised as {scenario = message} so the loader can tell them
-- from simulator bugs.
local time = require "sim.time"

local Check = {}
Check.__index = Check

function Check.new(file, pos)
  return setmetatable({
    file = file or "input",
    pos = pos or {},
    tloc = setmetatable({}, { __mode = "k" }),
    tpath = setmetatable({}, { __mode = "k" }),
  }, Check)
end

function Check:loc(t, key)
  local p = self.pos[t]
  local lc = p and key ~= nil and p[key]
  if lc then return self.file .. ":" .. lc end
  return self.tloc[t] or self.file
end

function Check:path(t, key)
  local base = self.tpath[t] or ""
  if key == nil then return base == "" and "(top)" or base end
  if type(key) == "number" then return base .. "[" .. key .. "]" end
  return base == "" and key or base .. "." .. key
end

function Check:fail(t, key, fmt, ...)
  error({ scenario = string.format("%s: %s: " .. fmt, self:loc(t, key), self:path(t, key), ...) }, 0)
end

-- Registers where a nested table came from, for its own errors.
function Check:enter(t, key, v)
  if type(v) == "table" then
    self.tloc[v] = self:loc(t, key)
    self.tpath[v] = self:path(t, key)
  end
  return v
end

local function is_array(v)
  if type(v) ~= "table" then return false end
  local n = 0
  for k in pairs(v) do
    if math.type(k) ~= "integer" then return false end
    n = n + 1
  end
  return n == #v
end

local function is_map(v)
  if type(v) ~= "table" then return false end
  for k in pairs(v) do
    if type(k) ~= "string" then return next(v) == nil end
  end
  return true
end
Check.is_array, Check.is_map = is_array, is_map

function Check:keys(t, allowed)
  local set = {}
  for _, k in ipairs(allowed) do set[k] = true end
  for k in pairs(t) do
    if not set[k] then
      local names = {}
      for _, a in ipairs(allowed) do names[#names + 1] = a end
      self:fail(t, k, "unknown key (expected one of: %s)", table.concat(names, ", "))
    end
  end
end

function Check:map(t, key, required)
  local v = t[key]
  if v == nil then
    if required then self:fail(t, key, "required mapping is missing") end
    return nil
  end
  if not is_map(v) then self:fail(t, key, "must be a mapping") end
  return self:enter(t, key, v)
end

-- A mapping of strings (Azure tags): scalar values become strings.
function Check:strmap(t, key)
  local m = self:map(t, key)
  if not m then return nil end
  local out = {}
  for k, v in pairs(m) do
    if type(v) == "number" then v = tostring(math.tointeger(v) or v) end
    if type(v) == "boolean" then v = tostring(v) end
    if type(v) ~= "string" then self:fail(m, k, "must be a string") end
    out[k] = v
  end
  return out
end

-- A list; a single mapping or scalar is taken as a list of one when
-- `single` is set.
function Check:list(t, key, required, single)
  local v = t[key]
  if v == nil then
    if required then self:fail(t, key, "required list is missing") end
    return nil
  end
  if not is_array(v) then
    if single then
      v = { v }
      t[key] = v
    else
      self:fail(t, key, "must be a list")
    end
  end
  self:enter(t, key, v)
  for i, item in ipairs(v) do self:enter(v, i, item) end
  return v
end

function Check:str(t, key, default, required)
  local v = t[key]
  if v == nil then
    if required then self:fail(t, key, "required") end
    return default
  end
  if type(v) == "number" then v = tostring(math.tointeger(v) or v) end
  if type(v) ~= "string" then self:fail(t, key, "must be a string") end
  return v
end

function Check:int(t, key, default, min, max)
  local v = t[key]
  if v == nil then return default end
  local i = type(v) == "number" and math.tointeger(v) or nil
  if i == nil then self:fail(t, key, "must be an integer") end
  if (min and i < min) or (max and i > max) then
    self:fail(t, key, "must be between %s and %s", tostring(min or "-inf"), tostring(max or "inf"))
  end
  return i
end

function Check:num(t, key, default, min, max)
  local v = t[key]
  if v == nil then return default end
  if type(v) ~= "number" then self:fail(t, key, "must be a number") end
  if (min and v < min) or (max and v > max) then
    self:fail(t, key, "must be between %s and %s", tostring(min or "-inf"), tostring(max or "inf"))
  end
  return v
end

function Check:bool(t, key, default)
  local v = t[key]
  if v == nil then return default end
  if type(v) ~= "boolean" then self:fail(t, key, "must be true or false") end
  return v
end

-- Case-insensitive; returns the canonical spelling from `values`.
function Check:enum(t, key, values, default)
  local v = t[key]
  if v == nil then return default end
  if type(v) ~= "string" then v = tostring(v) end
  for _, c in ipairs(values) do
    if c:lower() == v:lower() then return c end
  end
  self:fail(t, key, "must be one of: %s", table.concat(values, ", "))
end

-- A string or a list of strings -> list (nil when absent).
function Check:strlist(t, key, default)
  local v = t[key]
  if v == nil then return default end
  if type(v) == "string" or type(v) == "number" then return { tostring(v) } end
  if not is_array(v) then self:fail(t, key, "must be a string or a list of strings") end
  local out = {}
  for i, s in ipairs(v) do
    if type(s) == "number" then s = tostring(math.tointeger(s) or s) end
    if type(s) ~= "string" then
      self:enter(t, key, v)
      self:fail(v, i, "must be a string")
    end
    out[i] = s
  end
  return out
end

-- Seconds as a number, or a duration "90s", "10m", "1h30m" -> milliseconds.
function Check.parse_duration(v)
  if type(v) == "number" then
    if v < 0 then return nil end
    return math.floor(v * 1000 + 0.5)
  end
  if type(v) ~= "string" or v == "" then return nil end
  local total, rest = 0, v
  while rest ~= "" do
    local n, unit, more = rest:match("^(%d+%.?%d*)([smhd]?)(.*)$")
    if not n then return nil end
    local mult = ({ s = 1, m = 60, h = 3600, d = 86400 })[unit ~= "" and unit or "s"]
    total = total + tonumber(n) * mult
    rest = more
    if unit == "" and rest ~= "" then return nil end
  end
  return math.floor(total * 1000 + 0.5)
end

function Check:duration(t, key, default_ms)
  local v = t[key]
  if v == nil then return default_ms end
  local ms = Check.parse_duration(v)
  if ms == nil then self:fail(t, key, "must be seconds or a duration like 90s, 10m, 1h30m") end
  return ms
end

function Check:time(t, key, default)
  local v = t[key]
  if v == nil then v = default end
  local ms, err = time.parse(v)
  if not ms then self:fail(t, key, "%s", err) end
  return ms
end

-- "30%" -> {percent = 30}; 12 -> {count = 12}.
function Check:amount(t, key)
  local v = t[key]
  if v == nil then return nil end
  if type(v) == "number" then
    local i = math.tointeger(v)
    if not i or i < 0 then self:fail(t, key, "must be a count >= 0 or a percentage like 30%%") end
    return { count = i }
  end
  local p = type(v) == "string" and tonumber(v:match("^(%d+%.?%d*)%%$"))
  if not p then self:fail(t, key, "must be a count >= 0 or a percentage like 30%%") end
  return { percent = p }
end

return Check
