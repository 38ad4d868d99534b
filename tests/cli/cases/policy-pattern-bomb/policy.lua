-- A pattern that backtracks for minutes on 30 kB runs inside one VM
-- instruction: the matcher itself must stop at the budget, and pcall must
-- not be able to swallow it.
local s = string.rep("a", 30000)
while true do
  pcall(function()
    return s:find(".-.-.-.-.-.-b")
  end)
end
