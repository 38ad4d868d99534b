-- Deterministic identifiers (vmId GUIDs, Flexible name suffixes,
-- thumbprints): splitmix64 seeded from the scenario seed and a name, so
-- the same scenario always produces the same ids and adding a scale set
-- does not reshuffle another's.
local M = {}
M.__index = M

local function mix(z)
  z = (z ~ (z >> 30)) * -4658895280553007687 -- 0xBF58476D1CE4E5B9
  z = (z ~ (z >> 27)) * -7723592293110705685 -- 0x94D049BB133111EB
  return z ~ (z >> 31)
end

-- FNV-1a, 64-bit.
function M.hash(s)
  local h = -3750763034362895579 -- 0xcbf29ce484222325
  for i = 1, #s do
    h = (h ~ s:byte(i)) * 1099511628211
  end
  return h
end

function M.new(seed, name)
  return setmetatable({ state = mix(M.hash(tostring(seed) .. "/" .. (name or ""))) }, M)
end

function M:next()
  self.state = self.state + -7046029254386353131 -- 0x9E3779B97F4A7C15
  return mix(self.state)
end

function M:hex(n)
  local out = {}
  while #out * 16 < n do
    out[#out + 1] = string.format("%016x", self:next())
  end
  return table.concat(out):sub(1, n)
end

function M:guid()
  local h = self:hex(32)
  -- version 4, variant 10xx, so it looks like what Azure hands out
  local variant = string.format("%x", 8 + (tonumber(h:sub(17, 17), 16) % 4))
  return h:sub(1, 8) .. "-" .. h:sub(9, 12) .. "-4" .. h:sub(14, 16) .. "-" ..
    variant .. h:sub(18, 20) .. "-" .. h:sub(21, 32)
end

return M
