local x = 1
error("the script failed on purpose")
