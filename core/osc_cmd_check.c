/* `octoscale check`: the config, every policy it names and the state
 * file, offline (core/osc_commands.h). */
#include "core/osc_commands.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/lua/osc_policy.h"
#include "core/osc_log.h"
#include "core/osc_state.h"
#include "core/osc_time.h"

/* A policy whose target_name renames targets cannot rely on the
 * computerNamePrefix ownership rule (README "Safety"): without owns, its
 * targets that no VM claims are all foreign. target_name is probed with a
 * VM named like a scale set's; a name it changes beyond case (or a probe
 * that fails) earns the warning. */
static void warn_ownership(const struct osc_config_scale_set *e,
                           struct osc_policy *policy) {
  const struct osc_policy_ops *ops = osc_policy_get_ops(policy);
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_vm vm;
  char name[512];

  if (ops->target_name == NULL || ops->owns != NULL)
    return;
  memset(&vm, 0, sizeof(vm));
  vm.id = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Compute/"
          "virtualMachineScaleSets/vmss/virtualMachines/10";
  vm.name = "vmss_10";
  vm.instance_id = "10";
  vm.computer_name = "probe00000A";
  vm.provisioning_state = "Succeeded";
  vm.state = OSC_VM_SUCCEEDED;
  vm.power_state = "running";
  vm.scale_set = e->vmss;
  if (ops->target_name(ops->ud, &vm, name, sizeof(name), &err) == OSC_OK &&
      strcasecmp(name, vm.computer_name) == 0)
    return;
  osc_log_warn("%s: %s renames targets (target_name) but defines no owns: "
               "targets no VM claims whose names do not follow the scale "
               "set's computerNamePrefix are foreign and never deleted; "
               "define owns(target, ctx)",
               e->name, osc_policy_name(policy));
}

/* The state file must be readable as it is (a corrupt one, a FIFO or a
 * directory stops every run later): an exit code, 0 when it is fine. A
 * state blob is not read (check needs no network). */
static int check_state(const struct osc_config *cfg) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_state *state = NULL;

  if (cfg->state == NULL)
    return 0; /* a state blob: check stays offline */
  if (osc_state_load(cfg->state, &state, &err) < 0) {
    fprintf(stderr, "octoscale: error: %s\n", err.msg);
    return osc_error_exit_code(err.code);
  }
  osc_state_free(state);
  return 0;
}

int osc_cmd_check_main(const struct osc_cmd_options *o) {
  struct osc_config *cfg = NULL;
  size_t i;
  size_t j;
  size_t checked = 0;
  int64_t now = 0;
  int code;

  code = osc_cmd_load_config(o, &cfg);
  if (code != 0)
    return code;
  for (i = 0; i < o->n_scale_sets; i++) {
    if (osc_config_find(cfg, o->scale_sets[i]) == NULL) {
      fprintf(stderr, "octoscale: error: no scale set named '%s' in %s\n",
              o->scale_sets[i], cfg->path);
      code = 3;
      goto done;
    }
  }
  code = check_state(cfg);
  if (code != 0)
    goto done;
  osc_time_now(&now, NULL);
  for (i = 0; i < cfg->n_scale_sets; i++) {
    const struct osc_config_scale_set *e = &cfg->scale_sets[i];
    struct osc_error err = OSC_ERROR_INIT;
    struct osc_policy *policy = NULL;
    bool wanted = o->n_scale_sets == 0;

    for (j = 0; j < o->n_scale_sets && !wanted; j++)
      wanted = strcasecmp(o->scale_sets[j], e->name) == 0;
    if (!wanted)
      continue;
    if (osc_policy_load(e->policy, e, now, &policy, &err) < 0) {
      fprintf(stderr, "octoscale: error: %s\n", err.msg);
      code = osc_error_exit_code(err.code);
      goto done;
    }
    warn_ownership(e, policy);
    osc_policy_free(policy);
    checked++;
  }
  if (o->verbosity >= 0)
    printf("%s: ok (%zu scale set%s, policies loaded)\n", cfg->path, checked,
           checked == 1 ? "" : "s");
done:
  osc_config_free(cfg);
  return code;
}
