-- Argument checks in the style of Neovim's vim.validate:
--
--   local validate = require "octoscale.validate"
--   validate("name", name, "string")
--   validate("grace", grace, { "string", "number", "function" }, true)
--   validate("mode", mode, function(v) return v == "a" or v == "b", "a or b" end)
--   validate { name = { name, "string" }, count = { count, "number", true } }
--
-- A failed check raises "name: expected string, got number" at the line
-- that called the function doing the validation (level 3), so misuse is
-- reported where it happens.

local M = {}

local TYPE_NAMES = {
  ["nil"] = true, boolean = true, number = true, string = true,
  table = true, ["function"] = true, userdata = true, thread = true,
  integer = true, callable = true,
}

local function is_callable(v)
  if type(v) == "function" then
    return true
  end
  local mt = getmetatable(v)
  return type(mt) == "table" and type(rawget(mt, "__call")) == "function"
end

local function matches(value, spec)
  if spec == "callable" then
    return is_callable(value)
  elseif spec == "integer" then
    return math.type(value) == "integer"
  end
  return type(value) == spec
end

-- Returns ok, message.
local function check(name, value, spec, optional)
  if value == nil and optional then
    return true
  end
  local t = type(spec)
  if t == "string" then
    assert(TYPE_NAMES[spec], "validate: unknown type name '" .. spec .. "'")
    if matches(value, spec) then
      return true
    end
    return false, string.format("%s: expected %s, got %s", name, spec,
      value == nil and "nil" or type(value))
  elseif t == "table" then
    for _, s in ipairs(spec) do
      if matches(value, s) then
        return true
      end
    end
    return false, string.format("%s: expected %s, got %s", name,
      table.concat(spec, " or "), value == nil and "nil" or type(value))
  elseif t == "function" then
    local ok, expected = spec(value)
    if ok then
      return true
    end
    local shown = type(value) == "string" and ("'" .. value .. "'")
      or tostring(value)
    return false, string.format("%s: expected %s, got %s", name,
      expected or "a valid value", shown)
  end
  error("validate: bad spec for '" .. tostring(name) .. "'", 3)
end

--- validate(name, value, spec [, optional]) or validate{name = {value,
--- spec, optional}, ...}; raises on failure.
function M.validate(name, value, spec, optional)
  if type(name) == "table" then
    local keys = {}
    for k in pairs(name) do
      keys[#keys + 1] = k
    end
    table.sort(keys)
    for _, k in ipairs(keys) do
      local e = name[k]
      local ok, err = check(k, e[1], e[2], e[3])
      if not ok then
        error(err, 3)
      end
    end
    return true
  end
  local ok, err = check(name, value, spec, optional)
  if not ok then
    error(err, 3)
  end
  return true
end

--- Like validate, but returns ok, message instead of raising.
function M.check(name, value, spec, optional)
  return check(name, value, spec, optional)
end

--- A spec accepting one of the given strings:
--- validate("action", a, validate.one_of { "delete", "disable", "keep" })
function M.one_of(list)
  local set, words = {}, {}
  for i, v in ipairs(list) do
    set[v] = true
    words[i] = v
  end
  local expected
  if #words > 1 then
    expected = table.concat(words, ", ", 1, #words - 1) .. " or "
      .. words[#words]
  else
    expected = words[1] or "nothing"
  end
  return function(v)
    return set[v] == true, expected
  end
end

return setmetatable(M, {
  __call = function(_, ...)
    return M.validate(...)
  end,
})
