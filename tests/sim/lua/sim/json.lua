-- JSON through lua-cjson, with the two things Debian's cjson 2.1.0 gets in
-- the way of:
--  * it encodes an empty table as {} — Octopus arrays ("TenantIds": [])
--    and ARM arrays must stay [] — so builders wrap every array in
--    json.arr(), which swaps an empty one for a marker replaced after
--    encoding;
--  * it decodes [] and {} alike, so the machine PUT check reads the raw
--    text (json.top_level_kinds) to catch "TenantIds": {}.
-- It also escapes "/" as "\/"; we undo that so ids read like Azure's.
local cjson = require "cjson"
local cjson_safe = require "cjson.safe"

local M = {}

local EMPTY = "@@sim-empty-array@@"
M.null = cjson.null

cjson.encode_sparse_array(false, 2, 10)
cjson.encode_number_precision(14)
cjson_safe.decode_max_depth(64)

M.EMPTY_ARRAY = EMPTY

function M.arr(t)
  if t == nil or next(t) == nil then return EMPTY end
  return t
end

function M.encode(v)
  local s = cjson.encode(v)
  if s:find(EMPTY, 1, true) then
    s = s:gsub('"' .. EMPTY:gsub("%p", "%%%0") .. '"', "[]")
  end
  -- cjson only ever emits "/" as the escape \/, so this cannot touch an
  -- escaped backslash (see the note in README "Implementation").
  return (s:gsub("\\/", "/"))
end

-- Returns value or nil, message.
function M.decode(s)
  if type(s) ~= "string" or s == "" then return nil, "empty body" end
  return cjson_safe.decode(s)
end

-- For a JSON object text, maps each top-level key to the first character
-- of its value ("[", "{", '"', "n", "t", "f" or a digit/"-"). Returns nil
-- when the text is not an object.
function M.top_level_kinds(s)
  local i, n = 1, #s
  local function ws()
    i = s:find("[^ \t\r\n]", i) or n + 1
  end
  local function skip_string()
    -- at the opening quote
    i = i + 1
    while i <= n do
      local c = s:sub(i, i)
      if c == "\\" then
        i = i + 2
      elseif c == '"' then
        i = i + 1
        return true
      else
        i = i + 1
      end
    end
    return false
  end
  local function skip_value()
    local c = s:sub(i, i)
    if c == '"' then return skip_string() end
    if c == "{" or c == "[" then
      local depth = 0
      while i <= n do
        c = s:sub(i, i)
        if c == '"' then
          if not skip_string() then return false end
        else
          if c == "{" or c == "[" then depth = depth + 1
          elseif c == "}" or c == "]" then depth = depth - 1 end
          i = i + 1
          if depth == 0 then return true end
        end
      end
      return false
    end
    i = s:find("[,}%]%s]", i) or n + 1
    return true
  end
  ws()
  if s:sub(i, i) ~= "{" then return nil end
  i = i + 1
  local kinds = {}
  while true do
    ws()
    local c = s:sub(i, i)
    if c == "}" then return kinds end
    if c ~= '"' then return nil end
    local start = i
    if not skip_string() then return nil end
    local key = M.decode(s:sub(start, i - 1))
    ws()
    if s:sub(i, i) ~= ":" then return nil end
    i = i + 1
    ws()
    if type(key) == "string" then kinds[key] = s:sub(i, i) end
    if not skip_value() then return nil end
    ws()
    c = s:sub(i, i)
    if c == "," then
      i = i + 1
    elseif c == "}" then
      return kinds
    else
      return nil
    end
  end
end

return M
