-- C reads names as C text: "HOME\0x" would be read as "HOME".
local ok, err = pcall(function() return script.getenv("HOME\0x") end)
print(ok, err)
print(script.getenv("HOME"))
