-- Never terminates; pcall must not be able to swallow the budget.
local n = 0
while true do
  pcall(function()
    while true do n = n + 1 end
  end)
end
