-- A custom report built from the reconcile engine: plans every named scale
-- set live (the configured policy, the state file's orphan times, every
-- safety rule) and prints a Markdown table per scale set plus the outputs
-- an Octopus step would set. Nothing is changed.
--
--   octoscale -c octoscale.yaml run examples/scripts/report.lua web-prod [...]
--
-- Exit code: the worst plan's `plan` exit code (0 nothing to do, 2 changes
-- pending, 4 safety stop, 1/3 errors), like `octoscale plan`.
if #arg == 0 then
  error("usage: report.lua SCALE_SET [SCALE_SET...]", 0)
end

-- The contract's precedence for several scale sets: 3, 1, 4, 5, 2, 0.
local rank = { [3] = 6, [1] = 5, [4] = 4, [5] = 3, [2] = 2, [0] = 1 }
local worst = 0

for _, name in ipairs(arg) do
  local plan, err = reconcile.plan{ scale_set = name }
  if not plan then
    print(string.format("## %s\n\nerror: %s\n", name, tostring(err)))
    worst = rank[1] > rank[worst] and 1 or worst
  else
    local s = plan:summary()
    print(string.format("## %s: %s", name, plan:status()))
    if plan:message() ~= "" then
      print("\n> " .. plan:message())
    end
    print(string.format("\n%d VMs, %d targets in scope, %d deployable, "
      .. "%d destructive (budget %d)\n", s.vms, s.in_scope, s.deployable,
      s.destructive, s.budget))
    print("| action | target | VM | reason |")
    print("|---|---|---|---|")
    for _, a in ipairs(plan:actions()) do
      print(string.format("| %s | %s | %s | %s |", a.action,
        a.target_name and (a.target_name .. " (" .. a.target_id .. ")") or "-",
        a.vm or "-", a.reason or ""))
    end
    local out = plan:outputs()
    print(string.format("\nVMSSHasServersToDeployTo=%s  targets: %s\n",
      out.VMSSHasServersToDeployTo, out.VMSSDeploymentTargetNames ~= ""
        and out.VMSSDeploymentTargetNames or "(none)"))
    octopus.set_output("VMSSHasServersToDeployTo." .. name,
      out.VMSSHasServersToDeployTo)
    local code = plan:exit_code()
    if rank[code] > rank[worst] then worst = code end
  end
end
return worst
