--- @meta
-- LuaCATS stubs for the `script` namespace of `octoscale run` scripts
-- (core/lua/osc_bind_script.c). Scripts also get `arg` (arg[0] the script,
-- arg[1..] its arguments, also `...`), a print() that writes to stdout,
-- reconcile.plan{scale_set = NAME [, policy = P] [, force = bool]
-- [, now = t]} (live; see lua/_meta/reconcile.lua) and `config`.

--- @class script
script = {}

--- Sleeps (0 to 86400 seconds, fractions allowed).
--- @param seconds number
function script.sleep(seconds) end

--- Unix seconds (OCTOSCALE_NOW when set).
--- @return integer
function script.time() end

--- Monotonic seconds, for timeouts.
--- @return number
function script.clock() end

--- An environment variable, or nil.
--- @param name string
--- @return string|nil
function script.getenv(name) end

--- @class config
config = {}

--- The configured scale set entries, in the file's order (an empty list
--- without a config file).
--- @return octoscale.ScaleSet[]
function config.scale_sets() end

return script
