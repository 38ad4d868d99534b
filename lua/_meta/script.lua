--- @meta
-- LuaCATS stubs for the `script` namespace of `octoscale run` scripts
-- (core/lua/osc_bind_script.c). Scripts also get `arg` (arg[0] the script,
-- arg[1..] its arguments, also `...`), a print() that writes to stdout, and
-- reconcile.plan{scale_set = NAME [, force = bool] [, now = t]} (live).

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

return script
