local settings = nil
local prefix = settings.prefix
return {}
