-- Small helpers: strings, URLs, query strings, base64, globs.
local M = {}

function M.trim(s)
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

-- Splits on a plain separator; keeps empty fields.
function M.split(s, sep)
  local out, i = {}, 1
  while true do
    local j = s:find(sep, i, true)
    if not j then
      out[#out + 1] = s:sub(i)
      return out
    end
    out[#out + 1] = s:sub(i, j - 1)
    i = j + #sep
  end
end

function M.url_decode(s, plus_is_space)
  if plus_is_space then s = s:gsub("+", " ") end
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- RFC 3986 unreserved characters stay; everything else is %XX. `keep` adds
-- characters to leave alone (e.g. "/" inside a path).
function M.url_encode(s, keep)
  keep = keep or ""
  return (tostring(s):gsub("[^%w%-%._~" .. keep:gsub("%p", "%%%0") .. "]", function(c)
    return string.format("%%%02X", c:byte())
  end))
end

-- Parses a raw query string. Returns {list = {{k, v, raw_k, raw_v}...},
-- map = {lower(k) = {v...}}}: ARM and Octopus treat parameter names
-- case-insensitively, and Octopus repeats array parameters.
function M.parse_query(raw)
  local q = { list = {}, map = {}, raw = raw or "" }
  if not raw or raw == "" then return q end
  for part in raw:gmatch("[^&]+") do
    local rk, rv = part:match("^([^=]*)=(.*)$")
    if not rk then rk, rv = part, "" end
    local k, v = M.url_decode(rk, true), M.url_decode(rv, true)
    q.list[#q.list + 1] = { k, v, rk, rv }
    local lk = k:lower()
    q.map[lk] = q.map[lk] or {}
    table.insert(q.map[lk], v)
  end
  return q
end

-- First value of a parameter, or nil.
function M.qget(q, key)
  local vs = q.map[key:lower()]
  return vs and vs[1]
end

-- All values of an array parameter: repeated and/or comma-separated, empty
-- items dropped. Returns nil when the parameter is absent or empty.
function M.qlist(q, key)
  local vs = q.map[key:lower()]
  if not vs then return nil end
  local out = {}
  for _, v in ipairs(vs) do
    for item in v:gmatch("[^,]+") do
      item = M.trim(item)
      if item ~= "" then out[#out + 1] = item end
    end
  end
  if #out == 0 then return nil end
  return out
end

-- A set of lowercased strings.
function M.lset(list)
  local s = {}
  for _, v in ipairs(list or {}) do s[tostring(v):lower()] = true end
  return s
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

function M.base64(s, url)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = (a << 16) | ((b or 0) << 8) | (c or 0)
    local chunk = {}
    for k = 1, 4 do
      local idx = (n >> (6 * (4 - k))) & 63
      chunk[k] = B64:sub(idx + 1, idx + 1)
    end
    if not b then chunk[3], chunk[4] = "=", "=" elseif not c then chunk[4] = "=" end
    out[#out + 1] = table.concat(chunk)
  end
  local r = table.concat(out)
  if url then r = r:gsub("+", "-"):gsub("/", "_"):gsub("=", "") end
  return r
end

-- Returns nil for anything that is not base64 (either alphabet).
function M.unbase64(s)
  s = s:gsub("-", "+"):gsub("_", "/"):gsub("=", "")
  if s:find("[^%w%+/]") then return nil end
  local out, bits, n = {}, 0, 0
  for i = 1, #s do
    local idx = B64:find(s:sub(i, i), 1, true) - 1
    bits = (bits << 6) | idx
    n = n + 6
    if n >= 8 then
      n = n - 8
      out[#out + 1] = string.char((bits >> n) & 255)
    end
  end
  return table.concat(out)
end

-- "arm.*" -> Lua pattern; only * is special.
function M.glob_match(glob, s)
  local pat = "^" .. glob:gsub("[%^%$%(%)%%%.%[%]%+%-%?]", "%%%0"):gsub("%*", ".*") .. "$"
  return s:match(pat) ~= nil
end

function M.sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks, function(a, b) return tostring(a) < tostring(b) end)
  return ks
end

-- Integer from a number or numeric string (JSON numbers decode as floats).
function M.int(v)
  if type(v) == "string" then v = tonumber(v) end
  if type(v) ~= "number" then return nil end
  return math.tointeger(v)
end

function M.contains_ci(hay, needle)
  return hay:lower():find(needle:lower(), 1, true) ~= nil
end

-- Lowercase slug as Octopus makes them ("Web 01" -> "web-01").
function M.slug(s)
  return (s:lower():gsub("[^%w]+", "-"):gsub("^%-+", ""):gsub("%-+$", ""))
end

return M
