-- Durations as octoscale writes them: "90s", "10m", "2h", "1d" and
-- combinations such as "1h30m" (units in descending order, each at most
-- once; a bare "0" is zero). Mirrors osc_duration_parse/format in
-- core/osc_time.c, so a policy can compute with the same values the core
-- reads from `grace`.
--
--   local duration = require "octoscale.duration"
--   duration.parse("1h30m")  --> 5400
--   duration.format(5400)    --> "1h30m"

local M = {}

local UNITS = { { "d", 86400 }, { "h", 3600 }, { "m", 60 }, { "s", 1 } }

local function invalid(text)
  return nil, string.format(
    "invalid duration '%s' (expected e.g. 90s, 10m, 2h, 1d or 1h30m)",
    tostring(text))
end

--- Parses a duration. Numbers are taken as seconds (non-negative
--- integers). Returns seconds, or nil and a message.
function M.parse(text)
  if math.type(text) == "integer" and text >= 0 then
    return text
  end
  if type(text) ~= "string" or text == "" then
    return invalid(text)
  end
  if text == "0" then
    return 0
  end
  local total, next_unit, pos = 0, 1, 1
  while pos <= #text do
    local digits, unit, after = text:match("^(%d+)(%a?)()", pos)
    if not digits then
      return invalid(text)
    end
    -- The C parser refuses a component once it passes 10^9 before its
    -- last digit, i.e. anything above 10000000009.
    local n = tonumber(digits)
    if n > 10000000009 then
      return invalid(text)
    end
    n = math.tointeger(n)
    local found
    for i = next_unit, #UNITS do
      if UNITS[i][1] == unit then
        found = i
        break
      end
    end
    if not found then
      return invalid(text)
    end
    total = total + n * UNITS[found][2]
    next_unit = found + 1
    pos = after
  end
  return total
end

--- Like parse, but raises at the caller's line on a bad value.
function M.check(text)
  local seconds, err = M.parse(text)
  if not seconds then
    error(err, 2)
  end
  return seconds
end

--- Formats seconds compactly: 0 -> "0s", 5400 -> "1h30m",
--- 90061 -> "1d1h1m1s"; negative values get a leading "-".
function M.format(seconds)
  seconds = math.tointeger(seconds) or math.floor(seconds)
  local sign = ""
  if seconds < 0 then
    sign, seconds = "-", -seconds
  end
  if seconds == 0 then
    return sign .. "0s"
  end
  local parts = {}
  for _, u in ipairs(UNITS) do
    local n = seconds // u[2]
    if n > 0 then
      parts[#parts + 1] = string.format("%d%s", n, u[1])
      seconds = seconds - n * u[2]
    end
  end
  return sign .. table.concat(parts)
end

return M
