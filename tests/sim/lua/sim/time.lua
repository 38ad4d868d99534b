-- Calendar arithmetic in UTC without os.time's local-time traps: RFC 3339
-- parsing and the three timestamp spellings the real services use.
local M = {}

-- Howard Hinnant's days_from_civil / civil_from_days.
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = (153 * mp + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

local function civil_from_days(z)
  z = z + 719468
  local era = (z >= 0 and z or z - 146096) // 146097
  local doe = z - era * 146097
  local yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
  local mp = (5 * doy + 2) // 153
  local d = doy - (153 * mp + 2) // 5 + 1
  local m = mp < 10 and mp + 3 or mp - 9
  if m <= 2 then y = y + 1 end
  return y, m, d
end

-- "2026-11-27T10:00:00Z", with optional fraction and +hh:mm offset ->
-- milliseconds since the epoch; nil, message otherwise.
function M.parse(s)
  if type(s) ~= "string" then return nil, "not a string" end
  local y, mo, d, h, mi, sec, rest =
    s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)[Tt ](%d%d):(%d%d):(%d%d)(.*)$")
  if not y then return nil, "not an RFC 3339 time: " .. s end
  local frac = 0
  local f = rest:match("^%.(%d+)")
  if f then
    frac = tonumber(("0." .. f)) * 1000
    rest = rest:sub(#f + 2)
  end
  local offset = 0
  if rest == "Z" or rest == "z" then
    offset = 0
  else
    local sign, oh, om = rest:match("^([%+%-])(%d%d):(%d%d)$")
    if not sign then return nil, "missing time zone in " .. s end
    offset = (tonumber(oh) * 60 + tonumber(om)) * 60 * (sign == "+" and 1 or -1)
  end
  y, mo, d, h, mi, sec = tonumber(y), tonumber(mo), tonumber(d),
    tonumber(h), tonumber(mi), tonumber(sec)
  if mo < 1 or mo > 12 or d < 1 or d > 31 or h > 23 or mi > 59 or sec > 60 then
    return nil, "out-of-range field in " .. s
  end
  local secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset
  return secs * 1000 + math.floor(frac)
end

local function parts(ms)
  local secs = ms // 1000
  local days = secs // 86400
  local rem = secs - days * 86400
  local y, m, d = civil_from_days(days)
  return y, m, d, rem // 3600, (rem % 3600) // 60, rem % 60, ms % 1000, days
end

-- 2026-11-27T10:00:00Z
function M.iso(ms)
  local y, m, d, h, mi, s = parts(ms)
  return string.format("%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, h, mi, s)
end

-- ARM: 2026-11-27T10:00:00.0000000+00:00
function M.azure(ms)
  local y, m, d, h, mi, s, frac = parts(ms)
  return string.format("%04d-%02d-%02dT%02d:%02d:%02d.%03d0000+00:00", y, m, d, h, mi, s, frac)
end

-- Octopus: 2026-11-27T10:00:00.000+00:00
function M.octopus(ms)
  local y, m, d, h, mi, s, frac = parts(ms)
  return string.format("%04d-%02d-%02dT%02d:%02d:%02d.%03d+00:00", y, m, d, h, mi, s, frac)
end

local DAYS = { "Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed" }
local MONTHS = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" }

-- RFC 7231 IMF-fixdate: Fri, 27 Nov 2026 10:00:00 GMT
function M.http_date(ms)
  local y, m, d, h, mi, s, _, days = parts(ms)
  return string.format("%s, %02d %s %04d %02d:%02d:%02d GMT", DAYS[days % 7 + 1], d,
    MONTHS[m], y, h, mi, s)
end

-- Octopus's human "Completed" text: Friday, 27 November 2026 10:00 AM
local LONG_DAYS = { "Thursday", "Friday", "Saturday", "Sunday", "Monday", "Tuesday", "Wednesday" }
local LONG_MONTHS = { "January", "February", "March", "April", "May", "June", "July",
  "August", "September", "October", "November", "December" }
function M.human(ms)
  local y, m, d, h, mi, _, _, days = parts(ms)
  local h12 = h % 12
  if h12 == 0 then h12 = 12 end
  return string.format("%s, %02d %s %04d %d:%02d %s", LONG_DAYS[days % 7 + 1], d,
    LONG_MONTHS[m], y, h12, mi, h < 12 and "AM" or "PM")
end

return M
