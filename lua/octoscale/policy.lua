-- What a policy may contain and what its hooks may answer (docs/design.md §7), for
-- scripts and tests that want to check a policy table the way the core
-- does when it loads one (core/lua/osc_policy.c).
--
--   local policy = require "octoscale.policy"
--   assert(policy.check(require_my_policy()))
--   policy.decision("on_scale_in", "delet")
--     --> nil, "on_scale_in returned 'delet' (expected delete, disable or keep)"

local duration = require "octoscale.duration"

local M = {}

--- The answers each hook accepts, in the order messages list them.
M.hooks = {
  target_name = false, -- a non-empty string
  on_scale_in = { "delete", "disable", "keep" },
  on_failed_vm = { "delete", "disable", "keep" },
  on_unregistered = { "report", "ignore" },
  on_in_sync = { "keep", "enable" },
}

--- The documented defaults of every optional field.
M.defaults = {
  target_name = function(vm)
    return vm.computer_name or vm.name
  end,
  grace = { provisioning = "30m", registration = "10m", orphan = "10m" },
  on_scale_in = "delete",
  on_failed_vm = "delete",
  on_unregistered = "report",
  on_in_sync = "keep",
  max_delete = "50%",
  min_delete_budget = 1,
}

M.graces = { "provisioning", "registration", "orphan" }

local function expected(list)
  if #list == 2 then
    return list[1] .. " or " .. list[2]
  end
  return table.concat(list, ", ", 1, #list - 1) .. " or " .. list[#list]
end

local function show(v)
  if type(v) == "string" then
    return "'" .. v .. "'"
  elseif v == nil or type(v) == "boolean" or type(v) == "number" then
    return tostring(v)
  end
  return "a " .. type(v) .. " value"
end

--- Checks one hook answer. Returns the value, or nil and the message the
--- core would give (without the file:line the core adds).
function M.decision(hook, value)
  local allowed = M.hooks[hook]
  if allowed == nil then
    return nil, "unknown hook '" .. tostring(hook) .. "'"
  end
  if allowed == false then
    if type(value) == "string" and value ~= "" then
      return value
    end
    return nil, string.format(
      "%s returned %s (expected a non-empty string)", hook, show(value))
  end
  for _, a in ipairs(allowed) do
    if value == a then
      return value
    end
  end
  return nil, string.format("%s returned %s (expected %s)", hook, show(value),
    expected(allowed))
end

--- "N%" (0 <= N <= 100) or a count -> {percent = bool, value = n}, or nil.
--- 0 in either form allows no deletion at all.
function M.parse_max_delete(v)
  if math.type(v) == "integer" and v >= 0 then
    return { percent = false, value = v }
  end
  if type(v) == "string" then
    local n, pct = v:match("^(%d+%.?%d*)(%%?)$")
    n = tonumber(n)
    if n and pct == "%" and n >= 0 and n <= 100 then
      return { percent = true, value = n }
    elseif n and pct == "" and n == math.floor(n) then
      return { percent = false, value = math.tointeger(n) }
    end
  end
  return nil
end

--- Validates a policy table like the core. Returns true, or nil and a
--- message naming the field.
function M.check(p)
  if type(p) ~= "table" then
    return nil, "the policy returned " .. show(p)
      .. " (expected a table of hooks)"
  end
  for k, v in pairs(p) do
    if k == "grace" then
      if type(v) ~= "table" then
        return nil, "grace is " .. show(v) .. " (expected a table)"
      end
      for g, d in pairs(v) do
        local known = false
        for _, name in ipairs(M.graces) do
          known = known or g == name
        end
        if not known then
          return nil, "unknown grace '" .. tostring(g) .. "'"
        end
        if type(d) ~= "function" and not duration.parse(d) then
          return nil, "grace." .. g .. " is " .. show(d)
            .. " (expected a duration such as 10m or 1h30m, a number of "
            .. "seconds, or a function)"
        end
      end
    elseif k == "max_delete" then
      if type(v) ~= "function" and not M.parse_max_delete(v) then
        return nil, "max_delete is " .. show(v)
          .. " (expected a percentage such as \"10%\", a count, or a function)"
      end
    elseif k == "settings_schema" or k == "validate_settings"
        or k == "enable_any_disabled" then
      local want = ({ settings_schema = "table", validate_settings = "function",
        enable_any_disabled = "boolean" })[k]
      if type(v) ~= want then
        return nil, k .. " is " .. show(v) .. " (expected a " .. want .. ")"
      end
    elseif k == "min_delete_budget" then
      if math.type(v) ~= "integer" or v < 0 then
        return nil, "min_delete_budget is " .. show(v)
          .. " (expected a count, 0 or more)"
      end
    elseif M.hooks[k] ~= nil then
      if type(v) ~= "function" and (M.hooks[k] == false
          or not M.decision(k, v)) then
        return nil, k .. " is " .. show(v) .. " (expected a function)"
      end
    else
      return nil, "unknown field '" .. tostring(k) .. "' in the policy table"
    end
  end
  return true
end

return M
