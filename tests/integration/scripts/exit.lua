return tonumber(arg[1]) or 0
