#!/usr/bin/env bash
# examples/runbook/:
#  - step-template.json is valid JSON in the shape Octopus exports (Id,
#    Name, Description, ActionType Octopus.Script, Version, Properties with
#    an inline Bash script, Parameters with Id/Name/Label/HelpText/
#    DefaultValue/DisplaySettings, $Meta of Type ActionTemplate), its
#    parameters mirror the "Check VMSS Provision Status" template's (same
#    names, labels, control types and defaults), its script body is
#    octoscale-step.sh byte for byte, every variable expression in it is a
#    parameter, a property of the Azure account parameter or an Octopus
#    system variable, and it references the octoscale package (built-in
#    feed, extracted) whose bin/octoscale it runs;
#  - the script, with its expressions substituted as Octopus would (the
#    template defaults, a tenant left undefined), runs octoscale against
#    the simulator: the config it writes holds no secret, the outputs
#    decode as expected, Exclude Pre-Existing = Yes gives the new targets
#    after a scale-out and False when the trigger fires again, the report
#    is attached, the temp directory is removed, and octoscale's exit code
#    is passed through (4 on a safety stop, 3 on a missing parameter); the
#    binary is the extracted package's, else octoscale on the PATH.
# Usage: bash tests/integration/apply_runbook.sh BUILD_DIR
source "$(dirname "$0")/apply_lib.sh" "$1"

RB="$A_REPO/examples/runbook"
T="$RB/step-template.json"
W=$A_WORK

# ---- the step template ----------------------------------------------------------------
check "step-template.json exists" test -s "$T"
check "octoscale-step.sh exists" test -s "$RB/octoscale-step.sh"
a_check "step-template.json is valid JSON (an object)" "$T" "type(J) == 'table'"
GUID="'^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$'"
a_check "top level: Id (GUID), Name, Description, ActionType Octopus.Script, Version" "$T" \
  "type(J.Id) == 'string' and J.Id:match($GUID) and type(J.Name) == 'string' and #J.Name > 0 and type(J.Description) == 'string' and #J.Description > 0 and J.ActionType == 'Octopus.Script' and math.tointeger(J.Version) ~= nil"
a_check "Properties: inline Bash script" "$T" \
  "J.Properties['Octopus.Action.Script.ScriptSource'] == 'Inline' and J.Properties['Octopus.Action.Script.Syntax'] == 'Bash' and type(J.Properties['Octopus.Action.Script.ScriptBody']) == 'string'"
a_check "\$Meta: ActionTemplate, ExportedAt, OctopusVersion" "$T" \
  "J['\$Meta'].Type == 'ActionTemplate' and tostring(J['\$Meta'].ExportedAt):match('^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d') and tostring(J['\$Meta'].OctopusVersion):match('^%d+%.%d+')"
a_check "every parameter has Id (GUID, unique), Name (unique), Label, HelpText, DefaultValue, a known control type" "$T" \
  "(function()
    local known = { SingleLineText = 1, MultiLineText = 1, Select = 1, Checkbox = 1, Sensitive = 1, AzureAccount = 1 }
    local ids, names = {}, {}
    for _, p in ipairs(J.Parameters) do
      if type(p.Id) ~= 'string' or not p.Id:match($GUID) or ids[p.Id] then return false end
      if type(p.Name) ~= 'string' or names[p.Name] then return false end
      ids[p.Id], names[p.Name] = true, true
      if type(p.Label) ~= 'string' or type(p.HelpText) ~= 'string' or type(p.DefaultValue) ~= 'string' then return false end
      local c = p.DisplaySettings and p.DisplaySettings['Octopus.ControlType']
      if not known[c] then return false end
      if c == 'Select' and type(p.DisplaySettings['Octopus.SelectOptions']) ~= 'string' then return false end
    end
    return #J.Parameters > 0
  end)()"
# name|label|control|default of the "Check VMSS Provision Status" template
while IFS='|' read -r name label control default; do
  a_check "mirrors $name ($label, $control${default:+, default $default})" "$T" \
    "(function() for _, p in ipairs(J.Parameters) do if p.Name == '$name' then return p.Label == '$label' and p.DisplaySettings['Octopus.ControlType'] == '$control' and p.DefaultValue == '$default' end end return false end)()"
done <<'EOF'
VMSS.ScaleSet.Name|VMSS Name|SingleLineText|
VMSS.ResourceGroup.Name|VMSS Resource Group Name|SingleLineText|
VMSS.Azure.Account|Azure Account|AzureAccount|
VMSS.DeploymentTarget.Roles|Deployment Target Roles|SingleLineText|
VMSS.Octopus.Url|Octopus URL|SingleLineText|#{Octopus.Web.ServerUri}
VMSS.Octopus.ApiKey|Octopus API Key|Sensitive|
VMSS.Timeout.Value|Timeout (In Minutes)|SingleLineText|30
VMSS.Timeout.ErrorHandle|Timeout Error|Select|Proceed
VMSS.OldServers.ExcludeFromOutput|Exclude Pre-Existing Servers from Output|Select|No
EOF
a_check "Timeout Error offers Proceed and Error; Exclude offers No and Yes" "$T" \
  "(function() local o = {} for _, p in ipairs(J.Parameters) do o[p.Name] = p.DisplaySettings['Octopus.SelectOptions'] end return o['VMSS.Timeout.ErrorHandle'] == 'Proceed|Proceed\nError|Error' and o['VMSS.OldServers.ExcludeFromOutput'] == 'No|No\nYes|Yes' end)()"
a_check "one package reference: octoscale from the built-in feed, extracted on the worker" "$T" \
  "#J.Packages == 1 and J.Packages[1].Name == 'octoscale' and J.Packages[1].PackageId == 'octoscale' and J.Packages[1].FeedId == 'feeds-builtin' and J.Packages[1].AcquisitionLocation == 'ExecutionTarget' and J.Packages[1].Properties.Extract == 'True' and J.Packages[1].Id:match($GUID)"
a_check "the script runs the package's bin/octoscale" "$T" \
  "J.Properties['Octopus.Action.Script.ScriptBody']:find('#{Octopus.Action.Package[octoscale].ExtractedPath}', 1, true) ~= nil"
a_eval "$T" "J.Properties['Octopus.Action.Script.ScriptBody']" >"$W/body.sh"
truncate -s -1 "$W/body.sh" # print's newline
if cmp -s "$W/body.sh" "$RB/octoscale-step.sh"; then
  ok "ScriptBody is octoscale-step.sh, byte for byte"
else
  not_ok "ScriptBody differs from octoscale-step.sh: run lua5.4 examples/runbook/sync-template.lua"
fi
check "the script parses (bash -n)" bash -n "$RB/octoscale-step.sh"
a_check "every variable expression in the script is a parameter, an account property or a system variable" "$T" \
  "(function()
    local params = {}
    for _, p in ipairs(J.Parameters) do params[p.Name] = true end
    local body = J.Properties['Octopus.Action.Script.ScriptBody']
    local n = 0
    for expr in body:gmatch('#{([^}]*)}') do
      n = n + 1
      local ok = params[expr] or expr:match('^Octopus%.') or expr:match('^VMSS%.Azure%.Account%.')
      if not ok then io.stderr:write('unknown: ' .. expr .. '\n') return false end
    end
    return n > 0
  end)()"

# ---- the script, substituted as Octopus would, against the simulator ---------------------
a_start apply-outputs.yaml || exit 1
# A wrapper keeps a copy of the config octoscale is given.
mkdir -p "$W/bin" "$W/tmp" "$W/task" "$W/states"
cat >"$W/bin/octoscale-wrapper" <<EOF
#!/usr/bin/env bash
printf '%s\n' "\$@" >"$W/seen-args"
prev=""
for a in "\$@"; do
  [[ \$prev == -c ]] && cp "\$a" "$W/seen-config.yaml"
  prev=\$a
done
exec "$OCTOSCALE" "\$@"
EOF
chmod +x "$W/bin/octoscale-wrapper"

API_KEY=$(sim_auth api_key)
SECRET=$(sim_auth client_secret)
# values: the template's defaults, then what this run overrides
a_eval "$T" "(function() local o = {} for _, p in ipairs(J.Parameters) do if not p.DefaultValue:find('\\n') then o[#o + 1] = p.Name .. '=' .. p.DefaultValue end end return table.concat(o, '\\n') end)()" >"$W/defaults.txt"
substitute() { # substitute VALUES_FILE OUT: Octostache, as far as this script needs
  lua5.4 - "$T" "$1" "$2" <<'LUA'
local cjson = require "cjson"
local f = assert(io.open(arg[1], "rb"))
local body = cjson.decode(f:read("a")).Properties["Octopus.Action.Script.ScriptBody"]
f:close()
local vars = {}
for line in io.lines(arg[2]) do
  local k, v = line:match("^([^=]+)=(.*)$")
  if k then vars[k] = v end
end
local function eval(s, depth)
  return (s:gsub("#{([^}]*)}", function(name)
    local v = vars[name]
    if v == nil or depth > 5 then return nil end -- left as it is
    return eval(v, depth + 1)
  end))
end
local out = assert(io.open(arg[3], "wb"))
out:write(eval(body, 0))
out:close()
LUA
}
values() { # values EXCLUDE [EXTRA]: writes $W/values.txt
  {
    cat "$W/defaults.txt"
    cat <<EOF
Octopus.Space.Id=Spaces-1
Octopus.Environment.Id=Environments-1
Octopus.Project.Id=Projects-1
Octopus.Web.ServerUri=$SIM_URL
VMSS.ScaleSet.Name=vmss-web
VMSS.ResourceGroup.Name=rg-web
VMSS.Azure.Account=Accounts-1
VMSS.Azure.Account.SubscriptionNumber=00000000-0000-4000-8000-000000000001
VMSS.Azure.Account.Client=$(sim_auth client_id)
VMSS.Azure.Account.Password=$SECRET
VMSS.Azure.Account.TenantId=$(sim_auth tenant)
VMSS.Azure.Account.AzureEnvironment=AzureCloud
VMSS.Azure.Account.ResourceManagementEndpointBaseUri=$SIM_URL/
VMSS.Azure.Account.ActiveDirectoryEndpointBaseUri=$SIM_URL/
VMSS.DeploymentTarget.Roles=web-server
VMSS.Octopus.ApiKey=$API_KEY
VMSS.OldServers.ExcludeFromOutput=$1
Octoscale.Policy=return { grace = { orphan = "10m" } }
Octoscale.StateFile=$W/states/vmss-web.json
Octoscale.Executable=$W/bin/octoscale-wrapper
Octoscale.ExtraArgs=${2:-}
EOF
  } >"$W/values.txt"
}
step() { # runs the substituted script in a fresh task directory; RC, OUT, ERR
  substitute "$W/values.txt" "$W/step.sh"
  OUT="$W/step.out.$((++A_N))"
  ERR="$W/step.err.$A_N"
  rm -rf "$W/task" && mkdir -p "$W/task"
  (cd "$W/task" && TMPDIR="$W/tmp" OCTOSCALE_NOW=${NOW:-} bash "$W/step.sh" >"$OUT" 2>"$ERR")
  RC=$?
}

T0=$(a_now)
values Yes
NOW=$T0 step
expect_rc "the step, first run" 0
expect_eq "the substituted script has no expression left but the undefined tenant, OIDC token and package" \
  "#{Octopus.Action.Package[octoscale].ExtractedPath} #{Octopus.Deployment.Tenant.Id} #{VMSS.Azure.Account.OpenIdConnect.Jwt}" "$(grep -o '#{[^}]*}' "$W/step.sh" | sort -u | paste -sd' ' -)"
expect_not_in "the config holds no API key" "$W/seen-config.yaml" "$API_KEY"
expect_not_in "the config holds no client secret" "$W/seen-config.yaml" "$SECRET"
expect_in "the API key comes from the environment" "$W/seen-config.yaml" 'api_key: ${OCTOSCALE_STEP_API_KEY}'
expect_in "the client secret comes from the environment" "$W/seen-config.yaml" 'client_secret: ${OCTOSCALE_STEP_CLIENT_SECRET}'
expect_in "space from Octopus.Space.Id" "$W/seen-config.yaml" "space: 'Spaces-1'"
expect_in "environment from Octopus.Environment.Id" "$W/seen-config.yaml" "environment: 'Environments-1'"
expect_not_in "no tenant for an untenanted run" "$W/seen-config.yaml" "tenant: 'Tenants"
check "the state file is where the parameter says" test -s "$W/states/vmss-web.json"
check "the temp directory is removed" test -z "$(ls -A "$W/tmp")"
a_sim_state "$W/s0.json"
expect_eq "outputs: the 3 in-sync targets" "$(a_ids_where "$W/s0.json" 'm.vm.exists')" \
  "$(a_decode_outputs_sorted "$OUT" | sed -n 's/^VMSSDeploymentTargetIds=//p')"
expect_eq "per-entry output named after the scale set" "True" "$(a_output "$OUT" VMSSHasServersToDeployTo.vmss-web)"
check "the report is attached" grep -q "^##octopus\[createArtifact path='$(printf '%s' "$(cd "$W/task" && pwd -P)/octoscale-vmss-web.html" | base64 -w0)'" "$OUT"
check "the report is in the task directory" test -s "$W/task/octoscale-vmss-web.html"

# a trigger after a scale-out by 2
OLD=$(a_ids_where "$W/s0.json" 'm.vm.exists')
a_action '{"scale":{"scale_set":"vmss-web","capacity":5}}' || exit 1
sim_advance 40
a_sim_state "$W/s1.json"
NEW=$(a_ids_where "$W/s1.json" "m.vm.exists and not has('$OLD', m.id)")
NOW=$(date -u -d "$T0 + 1 minute" +%Y-%m-%dT%H:%M:%SZ) step
expect_rc "the triggered step" 0
expect_eq "Exclude Pre-Existing = Yes: the 2 new targets" "$NEW" \
  "$(a_decode_outputs_sorted "$OUT" | sed -n 's/^VMSSDeploymentTargetIds=//p')"
expect_eq "octoscale's arguments: one baseline per project" "apply --octopus-output --on-timeout proceed --wait=30m --only-new=Projects-1 --report octoscale-vmss-web.html" \
  "$(tail -n +3 "$W/seen-args" | paste -sd' ' -)"
NOW=$(date -u -d "$T0 + 2 minutes" +%Y-%m-%dT%H:%M:%SZ) step
expect_rc "the trigger fires again" 0
expect_eq "VMSSHasServersToDeployTo = False" "False" "$(a_output "$OUT" VMSSHasServersToDeployTo)"

# another run (a scheduled reconcile) holds the state file: the step waits
STATE=$W/states/vmss-web.json ENTRIES="  - name: vmss-web
    resource_group: rg-web
    vmss: vmss-web
    environment: Production
    roles: [web-server]" a_config "$W/holder.yaml"
a_faults '[{"name":"slow-list","route":"octopus.machines_list","latency_ms":4000,"count":1}]' || exit 1
OCTOSCALE_NOW=$(date -u -d "$T0 + 150 seconds" +%Y-%m-%dT%H:%M:%SZ) "$OCTOSCALE" -c "$W/holder.yaml" apply >"$W/holder.out" 2>&1 </dev/null &
HOLDER=$!
A_BG_PIDS+=("$HOLDER")
for ((i = 0; i < 300; i++)); do
  a_log "$W/lh.json" "route=octopus.machines_list"
  [[ $(a_eval "$W/lh.json" '#J') -ge 1 ]] && break
  sleep 0.01
done
export OCTOSCALE_STEP_LOCK_RETRY_SECONDS=0.3
t0=$(date +%s%3N)
NOW=$(date -u -d "$T0 + 160 seconds" +%Y-%m-%dT%H:%M:%SZ) step
t1=$(date +%s%3N)
unset OCTOSCALE_STEP_LOCK_RETRY_SECONDS
expect_rc "the step while another apply holds the state file" 0
expect_in "it said it would retry" "$OUT" "another run holds the state file; retrying in 0.3s"
wait "$HOLDER"
expect_eq "the other apply completed" 0 "$?"
if ((t1 - t0 >= 1000)); then ok "the step waited its turn ($((t1 - t0)) ms)"; else not_ok "the step took $((t1 - t0)) ms"; fi
expect_eq "and still saw nothing new" "False" "$(a_output "$OUT" VMSSHasServersToDeployTo)"
a_faults '[]' || exit 1

# exit codes pass through: a scale set that is not there (ARM 404)
values Yes "--poll-interval 1s"
sed -i 's/^VMSS.ScaleSet.Name=vmss-web$/VMSS.ScaleSet.Name=vmss-gone/' "$W/values.txt"
NOW=$(date -u -d "$T0 + 3 minutes" +%Y-%m-%dT%H:%M:%SZ) step
expect_rc "a safety stop passes through" 4
expect_in "with a one-line explanation" "$ERR" "safety stop (exit 4)"
expect_eq "ExtraArgs are passed on" "--poll-interval 1s" "$(tail -n 2 "$W/seen-args" | paste -sd' ' -)"
sed -i '/^VMSS.ResourceGroup.Name=/d' "$W/values.txt"
step
expect_rc "a missing required parameter" 3
expect_in "names it" "$ERR" "resource_group"

# which binary: the extracted package, else octoscale on the PATH, unless
# Octoscale.Executable names one
mkdir -p "$W/pkg/bin" "$W/pathbin"
cp "$W/bin/octoscale-wrapper" "$W/pkg/bin/octoscale"
chmod -x "$W/pkg/bin/octoscale" # as an extraction that drops the mode might
cp "$W/bin/octoscale-wrapper" "$W/pathbin/octoscale"
values No
sed -i 's/^Octoscale.Executable=.*/Octoscale.Executable=octoscale/' "$W/values.txt"
echo "Octopus.Action.Package[octoscale].ExtractedPath=$W/pkg/" >>"$W/values.txt"
rm -f "$W/seen-args"
NOW=$(date -u -d "$T0 + 4 minutes" +%Y-%m-%dT%H:%M:%SZ) step
expect_rc "the step with the octoscale package" 0
expect_in "runs the package's binary" "$OUT" "octoscale: running $W/pkg/bin/octoscale"
check "which ran apply" test -s "$W/seen-args"
sed -i '/^Octopus.Action.Package\[octoscale\]/d' "$W/values.txt"
rm -f "$W/seen-args"
PATH="$W/pathbin:$PATH" NOW=$(date -u -d "$T0 + 5 minutes" +%Y-%m-%dT%H:%M:%SZ) step
expect_rc "the step without a package" 0
expect_in "runs octoscale from the PATH" "$OUT" "octoscale: running octoscale"
check "which ran apply" test -s "$W/seen-args"
echo "Octopus.Action.Package[octoscale].ExtractedPath=$W/nothing-here" >>"$W/values.txt"
step
expect_rc "a package without bin/octoscale" 3
expect_in "says so" "$ERR" "has no bin/octoscale"

stop_sim
finish
