-- Indexing nil while the policy loads.
local defaults = nil
local grace = defaults.grace
return { grace = grace }
