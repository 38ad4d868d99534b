-- Allocates without bound.
local chunks = {}
while true do
  chunks[#chunks + 2] = string.rep("x", 8 << 20) .. #chunks
end
