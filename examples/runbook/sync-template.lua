-- Copies octoscale-step.sh into step-template.json as its script body,
-- changing nothing else in the file. Run after editing the script:
--   lua5.4 examples/runbook/sync-template.lua
-- (tests/integration/apply_runbook.sh checks the two agree.)
local dir = (arg[0]:match("^(.*)/[^/]*$") or ".")
local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local script = slurp(dir .. "/octoscale-step.sh")
local json = slurp(dir .. "/step-template.json")

local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
  ["\b"] = "\\b", ["\f"] = "\\f" }
local encoded = '"' .. script:gsub('[%c"\\]', function(c)
  return escapes[c] or string.format("\\u%04x", c:byte())
end) .. '"'

local key = '"Octopus.Action.Script.ScriptBody": '
local s = json:find(key, 1, true)
assert(s, "no ScriptBody in step-template.json")
local vstart = s + #key
assert(json:sub(vstart, vstart) == '"', "ScriptBody is not a string")
-- the end of the JSON string: the first quote not escaped
local i = vstart + 1
while true do
  local c = json:sub(i, i)
  assert(c ~= "", "unterminated ScriptBody string")
  if c == "\\" then
    i = i + 2
  elseif c == '"' then
    break
  else
    i = i + 1
  end
end
local out = json:sub(1, vstart - 1) .. encoded .. json:sub(i + 1)
if out == json then
  print("step-template.json is up to date")
else
  local f = assert(io.open(dir .. "/step-template.json", "wb"))
  f:write(out)
  f:close()
  print("step-template.json: script body updated")
end
