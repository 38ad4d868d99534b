--- @meta
-- LuaCATS stubs for the embedded octoscale.* library and the sandbox's
-- globals. The modules written in Lua are in lua/octoscale/ and carry their
-- own annotations; this file declares what is not written in Lua
-- (octoscale.duration, octoscale.policy and octoscale.time are C).

--- The sandbox's print: logs to stderr tagged with "file:LINE" (stdout
--- belongs to the command's output).
--- @param ... any
function print(...) end

--- Text chunks only; the default environment is a fresh strict one.
--- @param chunk string|fun(): string?
--- @param chunkname? string
--- @param mode? "t"
--- @param env? table
--- @return function?
--- @return string? err
function load(chunk, chunkname, mode, env) end

--- Serves the embedded library ("octoscale.duration", "octoscale.validate",
--- "octoscale.policy", "octoscale.testing", "octoscale.time") and the host
--- namespaces ("reconcile"). Any other name is a module beside the
--- requiring file: "team.common" -> team/common.lua, inside that file's
--- directory tree. OCTOSCALE_LUA_PATH=DIR loads DIR/octoscale/x.lua
--- instead (development).
--- @param name string
--- @return any
function require(name) end

--- Durations as the core reads them (core/osc_time.c): "90s", "10m", "2h",
--- "1d", "1h30m"; a non-negative integer is seconds.
--- @class octoscale.duration
--- @field parse fun(text: string|integer): integer?, string? seconds, or nil and the core's message
--- @field check fun(text: string|integer): integer raises the message at the caller's line
--- @field format fun(seconds: number): string 5400 -> "1h30m", -90 -> "-1m30s"

--- The policy contract (docs/design.md §7), answered by the core's own
--- validation (core/lua/osc_policy.c): the messages are those `check` and
--- `plan` give.
--- @class octoscale.policy
--- @field check fun(policy: table): true?, string? nil and "policy: on_scale_in is 'delet' (expected a function, or delete, disable or keep)"
--- @field decision fun(hook: string, value: any): any, string? the value, or nil and "on_scale_in returned 'delet' (expected delete, disable or keep)"
--- @field parse_max_delete fun(v: string|integer): { percent: boolean, value: number }?
--- @field hooks table<string, string[]|false> the answers each hook accepts (false: not a word)
--- @field graces string[] "provisioning", "registration", "orphan"

--- @class octoscale.time
--- @field parse fun(text: string): integer?, string? RFC 3339 -> Unix seconds
--- @field format fun(t: integer): string "2026-11-27T10:00:00Z"
--- @field date fun(t: integer, utc_offset?: integer|string): { year: integer, month: integer, day: integer, hour: integer, min: integer, sec: integer, weekday: integer }
--- @field hour fun(t: integer, utc_offset?: integer|string): integer
--- @field weekday fun(t: integer, utc_offset?: integer|string): integer 1 = Monday .. 7 = Sunday
--- @field time fun(date: { year: integer, month: integer, day: integer, hour?: integer, min?: integer, sec?: integer }): integer UTC
--- @field duration fun(text: string|integer): integer?, string?
--- @field format_duration fun(seconds: integer): string

--- @class octoscale.testing
--- @field NOW integer 2026-11-27T10:00:00Z
--- @field test fun(name: string, fn: fun())
--- @field vm fun(spec: integer|table): octoscale.Vm
--- @field vms fun(n: integer, spec?: table): octoscale.Vm[]
--- @field target fun(spec: string|table): octoscale.Target
--- @field targets_for fun(vms: octoscale.Vm[], spec?: table): octoscale.Target[]
--- @field scale_set fun(spec?: table): octoscale.ScaleSet
--- @field plan fun(spec: table): octoscale.Plan
--- @field ago fun(d: string|integer, now?: integer): integer
--- @field seconds fun(d: string|integer): integer
--- @field computer_name fun(prefix: string, instance_id: integer|string): string
--- @field expect_action fun(plan: octoscale.Plan, kind: string, name: string): octoscale.Action
--- @field expect_no_action fun(plan: octoscale.Plan, name: string, kind?: string)
--- @field expect_status fun(plan: octoscale.Plan, status: string)
--- @field expect_error fun(fn: fun(), pattern?: string): string
--- @field actions_for fun(plan: octoscale.Plan, name: string): octoscale.Action[]
--- @field describe fun(plan: octoscale.Plan): string
--- @field eq fun(actual: any, expected: any, msg?: string)
--- @field ok fun(v: any, msg?: string): any
