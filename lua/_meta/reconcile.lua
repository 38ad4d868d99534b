--- @meta
-- LuaCATS stubs for the `reconcile` namespace implemented in C
-- (core/lua/osc_bind_reconcile.c), for editors and lua-language-server.

--- @class octoscale.Vm
--- @field id string ARM resource id
--- @field name string resource name ("vmss-web_3")
--- @field instance_id string
--- @field computer_name? string host name
--- @field vm_id? string Azure's GUID
--- @field provisioning_state string "Succeeded", "Creating", "Failed", "Deleting", ... (ARM's casing, always)
--- @field power_state? string "running", "deallocated", ...
--- @field private_ips string[]
--- @field created_at? integer Unix seconds
--- @field zone? string
--- @field tags table<string, string>
--- @field scale_set string VMSS name

--- @class octoscale.Target
--- @field id string "Machines-N"
--- @field name string
--- @field roles string[]
--- @field environment_ids string[]
--- @field tenant_ids string[]
--- @field health? string "Healthy", "Unavailable", ...
--- @field disabled boolean
--- @field comm_style "listening"|"polling"|"other"
--- @field uri? string
--- @field thumbprint? string
--- @field orphaned_since? integer Unix seconds (on_scale_in only)
--- @field disabled_since? integer Unix seconds: when octoscale disabled it (policy hooks only)
--- @field disabled_by_octoscale? boolean true when octoscale disabled it (policy hooks only)

--- A config entry: ctx.scale_set in hooks, an item of config.scale_sets()
--- in scripts.
--- @class octoscale.ScaleSet
--- @field name string
--- @field resource_group string
--- @field vmss string
--- @field subscription? string
--- @field environment string name or Environments-N
--- @field roles string[]
--- @field tenant? string
--- @field policy? string
--- @field settings table (nil values absent; an entry without settings: {})

--- @class octoscale.Ctx
--- @field now integer Unix seconds: the only clock a policy may use
--- @field scale_set octoscale.ScaleSet
--- @field settings table the entry's settings, read-only: a write raises at its line (copy the table to change it); pairs, ipairs, next and # work, rawget and rawlen see an empty table
--- @field log fun(...: any) logs like print, tagged with the scale set

--- @alias octoscale.Duration string|integer "90s", "10m", "1h30m" or seconds

--- @class octoscale.Policy
--- @field target_name? fun(vm: octoscale.Vm, ctx: octoscale.Ctx): string
--- @field grace? { provisioning?: octoscale.Duration|fun(vm: octoscale.Vm, ctx: octoscale.Ctx): octoscale.Duration, registration?: octoscale.Duration|fun(vm: octoscale.Vm, ctx: octoscale.Ctx): octoscale.Duration, orphan?: octoscale.Duration|fun(target: octoscale.Target, ctx: octoscale.Ctx): octoscale.Duration }
--- @field on_scale_in? "delete"|"disable"|"keep"|fun(target: octoscale.Target, ctx: octoscale.Ctx): "delete"|"disable"|"keep"
--- @field on_failed_vm? "delete"|"disable"|"keep"|fun(vm: octoscale.Vm, target: octoscale.Target, ctx: octoscale.Ctx): "delete"|"disable"|"keep"
--- @field on_unregistered? "report"|"ignore"|fun(vm: octoscale.Vm, ctx: octoscale.Ctx): "report"|"ignore"
--- @field on_in_sync? "keep"|"enable"|fun(vm: octoscale.Vm, target: octoscale.Target, ctx: octoscale.Ctx): "keep"|"enable"
--- @field owns? fun(target: octoscale.Target, ctx: octoscale.Ctx): boolean is this in-scope target, which no VM claims by name, the scale set's? (default: its name follows the computerNamePrefix)
--- @field max_delete? string|integer|fun(ctx: octoscale.Ctx): string|integer "50%", a count, or a function; 0 = none
--- @field min_delete_budget? integer the least a percentage budget allows (default 1)
--- @field enable_any_disabled? boolean on_in_sync may enable targets octoscale did not disable
--- @field settings_schema? table field specs the entry's settings must match (checked by check and plan)
--- @field validate_settings? fun(settings: table, entry: octoscale.ScaleSet) raise to reject the settings

--- @class octoscale.Action
--- @field action "delete"|"disable"|"enable"|"keep"|"wait"|"report"
--- @field class "in_sync"|"provisioning"|"unregistered"|"failed_vm"|"orphan"|"conflict"|"foreign"
--- @field target_id? string
--- @field target_name? string
--- @field vm? string VM resource name
--- @field reason string "VM gone 12m, grace 10m" (and ": " the policy's reason)
--- @field policy_reason? string the reason the hook returned beside its answer
--- @field kept_by_policy? boolean a keep where the default would have acted
--- @field done? boolean after apply
--- @field result_message? string

--- @class octoscale.Summary
--- @field scale_set string
--- @field status "ok"|"safety_stop"|"error"|"timeout"
--- @field message string
--- @field actions integer
--- @field delete integer
--- @field disable integer
--- @field enable integer
--- @field keep integer
--- @field wait integer
--- @field report integer
--- @field vms integer
--- @field in_scope integer
--- @field destructive integer deletes + disables
--- @field budget integer deletes + disables allowed
--- @field kept_by_policy integer keeps the policy chose where the default acts
--- @field deployable integer
--- @field changes boolean
--- @field classes table<string, integer>

--- @class octoscale.Outputs
--- @field VMSSHasServersToDeployTo "True"|"False"
--- @field VMSSDeploymentTargetIds string comma-separated
--- @field VMSSDeploymentTargetNames string comma-separated

--- A plan (userdata "octoscale.Plan"); closing it is idempotent and
--- `local p <close> = reconcile.plan{...}` frees it at scope end.
--- @class octoscale.Plan
local Plan = {}

--- @return octoscale.Action[]
function Plan:actions() end

--- @return octoscale.Summary
function Plan:summary() end

--- @return octoscale.Outputs
function Plan:outputs() end

--- @return "ok"|"safety_stop"|"error"|"timeout"
function Plan:status() end

--- @return string
function Plan:message() end

--- The exit code `octoscale plan` would give: 0, 2, 3, 4 ...
--- @return integer
function Plan:exit_code() end

--- Targets orphaned now and since when, to feed the next plan's state.
--- @return table<string, integer>
function Plan:orphans() end

--- {[target_id] = disabled_since} of the targets octoscale disabled that
--- are still disabled: the policy memory apply keeps (plus its own disables).
--- @return table<string, integer>
function Plan:disabled() end

--- Acts on the plan, as `octoscale apply` does for its scale set: takes the
--- state file's lock, reads Azure and Octopus again, executes only the
--- deletions and disables this plan contained (anything new waits for the
--- next run), records state, and returns the plan with results (`done`).
--- Live plans only (`reconcile.plan{scale_set = NAME}`); raises offline.
--- Returns nil, err when the lock is held, a read failed (safety stop) or
--- an action failed. `only` (target ids) or `filter` (a function of an
--- action, true to keep it) applies a subset of the plan's deletes and
--- disables; a selected action the fresh read no longer has is skipped with
--- a warning. An id that is no delete or disable of the plan, both keys, or
--- an unknown key raise at the caller's line.
--- @param opts? {only_new?: boolean|string, force?: boolean, now?: integer, only?: string[], filter?: fun(action: octoscale.Action): boolean}
--- @return octoscale.Plan|nil plan
--- @return octoscale.Error|nil err
function Plan:apply(opts) end

--- The VMs the plan was made from (copies; the same fields hooks see).
--- @return octoscale.Vm[]
function Plan:vms() end

--- The targets in the scale set's scope the plan was made from (copies).
--- @return octoscale.Target[]
function Plan:targets() end

--- Frees the plan; later calls raise.
function Plan:close() end

--- @class octoscale.PlanArgs
--- @field instances? octoscale.Vm[] offline form: the VMs
--- @field targets? octoscale.Target[] every target of the environment
--- @field policy? octoscale.Policy|string a table or a path (nil: defaults)
--- @field now? integer Unix seconds (default: OCTOSCALE_NOW or the clock)
--- @field state? { orphaned_since?: table<string, integer>, disabled_since?: table<string, integer> }
--- @field scope? { environment_id?: string, roles?: string[], tenant_id?: string }
--- @field scale_set? octoscale.ScaleSet|string the entry (ctx.scale_set); without instances and targets, a name or an entry asks the live binding
--- @field settings? table ctx.settings (default: scale_set.settings)
--- @field capacity? integer the VMSS capacity (default: the number of instances; -1: unknown)
--- @field computer_name_prefix? string the VMSS computerNamePrefix (the default ownership rule: prefix + 6 base-36 characters)
--- @field complete? boolean false: a read failed (safety stop)
--- @field incomplete_reason? string
--- @field force? boolean lift the deletion budget

reconcile = {}

--- @class octoscale.LivePlanArgs
--- @field scale_set string|octoscale.ScaleSet a config entry's name, or the entry (config.scale_sets()) (`octoscale run` only)
--- @field policy? octoscale.Policy|string plan with this policy instead of the configured one: a what-if, read-only like every plan; plan:apply() refuses it. The policy sees the entry as ctx.scale_set and its settings.
--- @field force? boolean lift the deletion budget
--- @field now? integer Unix seconds

--- Plans with the engine, the safety rules and the policy. Offline (with
--- `instances`) it always returns a plan. Live (`scale_set = NAME` or an
--- entry, and neither `instances` nor `targets`) it collects like `octoscale plan -s NAME` and returns
--- nil, err when that fails (authentication, a read that failed). Misuse
--- raises at the caller's line: a wrong type, an unknown scale set, an
--- unknown key in any option table ("did you mean" when one is close).
--- @param args octoscale.PlanArgs|octoscale.LivePlanArgs
--- @return octoscale.Plan|nil plan
--- @return octoscale.Error|nil err
function reconcile.plan(args) end

return reconcile
