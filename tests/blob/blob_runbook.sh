#!/usr/bin/env bash
# The runbook step (examples/runbook/octoscale-step.sh, substituted as
# Octopus would) with a State Storage URL: on "dynamic workers" (a fresh
# HOME and task directory each run) the state lives in a blob per space,
# environment and scale set under the container URL; the account key stays
# in the environment, never in the config; with Exclude Pre-Existing = Yes
# each project has its own baseline: a second run of one project sees
# nothing new, another project sees the targets once.
# Usage: bash tests/blob/blob_runbook.sh BUILD_DIR
source "$(dirname "$0")/blob_lib.sh" "$1"

b_start apply-outputs.yaml || exit 1
W=$A_WORK
T="$A_REPO/examples/runbook/step-template.json"
mkdir -p "$W/bin" "$W/tmp"
cat >"$W/bin/octoscale-wrapper" <<EOF
#!/usr/bin/env bash
prev=""
for a in "\$@"; do
  [[ \$prev == -c ]] && cp "\$a" "$W/seen-config.yaml"
  prev=\$a
done
exec "$OCTOSCALE" "\$@"
EOF
chmod +x "$W/bin/octoscale-wrapper"

values() { # values PROJECT
  cat >"$W/values.txt" <<EOF
Octopus.Space.Id=Spaces-1
Octopus.Environment.Id=Environments-1
Octopus.Project.Id=$1
VMSS.ScaleSet.Name=vmss-web
VMSS.ResourceGroup.Name=rg-web
VMSS.Azure.Account.SubscriptionNumber=00000000-0000-4000-8000-000000000001
VMSS.Azure.Account.Client=$(sim_auth client_id)
VMSS.Azure.Account.Password=$(sim_auth client_secret)
VMSS.Azure.Account.TenantId=$(sim_auth tenant)
VMSS.Azure.Account.AzureEnvironment=AzureCloud
VMSS.Azure.Account.ResourceManagementEndpointBaseUri=$SIM_URL/
VMSS.Azure.Account.ActiveDirectoryEndpointBaseUri=$SIM_URL/
VMSS.DeploymentTarget.Roles=web-server
VMSS.Octopus.Url=$SIM_URL
VMSS.Octopus.ApiKey=$(sim_auth api_key)
VMSS.Timeout.Value=0
VMSS.OldServers.ExcludeFromOutput=Yes
Octoscale.Report=False
Octoscale.StateStorageUrl=$AZ_ENDPOINT/state
Octoscale.StateStorageAccountKey=$AZ_KEY
Octoscale.Executable=$W/bin/octoscale-wrapper
EOF
}
# Octostache, as far as this script needs; undefined expressions stay.
substitute() {
  lua5.4 - "$T" "$W/values.txt" "$W/step.sh" <<'LUA'
local cjson = require "cjson"
local f = assert(io.open(arg[1], "rb"))
local body = cjson.decode(f:read("a")).Properties["Octopus.Action.Script.ScriptBody"]
f:close()
local vars = {}
for line in io.lines(arg[2]) do
  local k, v = line:match("^([^=]+)=(.*)$")
  if k then vars[k] = v end
end
local out = assert(io.open(arg[3], "wb"))
out:write((body:gsub("#{([^}]*)}", function(name) return vars[name] end)))
out:close()
LUA
}
step() { # step WORKER: a fresh HOME and task directory
  substitute
  OUT="$W/step.out.$((++A_N))"
  ERR="$W/step.err.$A_N"
  mkdir -p "$W/$1/home" "$W/$1/task"
  (cd "$W/$1/task" && HOME="$W/$1/home" TMPDIR="$W/tmp" bash "$W/step.sh" >"$OUT" 2>"$ERR")
  RC=$?
}

values Projects-7
step worker1
expect_rc "the step with a State Storage URL" 0
expect_eq "new targets the first time" True "$(a_output "$OUT" VMSSHasServersToDeployTo)"
expect_in "the config's state is the blob under the container" "$W/seen-config.yaml" \
  "url: '$AZ_ENDPOINT/state/Spaces-1/Environments-1/rg-web-vmss-web.json'"
expect_in "authorized with the account key" "$W/seen-config.yaml" "auth: shared_key"
expect_in "the key comes from the environment" "$W/seen-config.yaml" 'account_key: ${OCTOSCALE_STEP_STORAGE_KEY}'
expect_not_in "the config holds no key" "$W/seen-config.yaml" "$AZ_KEY"
expect_not_in "the log holds no key" "$OUT" "$AZ_KEY"
check "nothing kept on the worker" test ! -e "$W/worker1/home/.octoscale"
expect_eq "the blob exists" 200 "$(az_req GET /state/Spaces-1/Environments-1/rg-web-vmss-web.json)"
a_check "with the project's baseline" "$AZ_OUT" \
  "J.format_version == 2 and join(keys(J.scale_sets['vmss-web'].baselines)) == 'Projects-7'"

step worker2
expect_rc "the same project on another worker" 0
expect_eq "nothing new: the baseline came from the blob" False "$(a_output "$OUT" VMSSHasServersToDeployTo)"

values Projects-8
step worker3
expect_rc "another project" 0
expect_eq "it sees the targets once" True "$(a_output "$OUT" VMSSHasServersToDeployTo)"
step worker4
expect_eq "and then nothing" False "$(a_output "$OUT" VMSSHasServersToDeployTo)"

stop_sim
finish
