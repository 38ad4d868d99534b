/* `octoscale run SCRIPT.lua [ARGS...]` (see core/osc_commands.h). */
#include "core/osc_commands.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/lua/osc_bind_azure.h"
#include "core/lua/osc_bind_common.h"
#include "core/lua/osc_bind_octopus.h"
#include "core/lua/osc_bind_reconcile.h"
#include "core/lua/osc_bind_script.h"
#include "core/osc_collect.h"
#include "core/osc_log.h"
#include "core/lua/osc_sandbox.h"

/* Automation scripts wait on Azure and Octopus: no practical instruction
 * or time limit (30 days), 1 GiB of Lua memory. */
#define RUN_LIMITS                                                             \
  { (size_t)1 << 30, UINT64_MAX, INT64_C(30) * 24 * 3600 * 1000 }

static const char *env_or(const char *name, const char *fallback) {
  const char *v = getenv(name);

  return (v != NULL && v[0] != '\0') ? v : fallback;
}

/* Without a config file, clients come from the environment (the Azure SDK
 * and Octopus CLI names) with public-cloud endpoints. */
static void env_config(struct osc_config *cfg) {
  memset(cfg, 0, sizeof(*cfg));
  cfg->path = "(environment)";
  cfg->dir = ".";
  cfg->octopus.url = env_or("OCTOPUS_URL", NULL);
  cfg->octopus.api_key = env_or("OCTOPUS_API_KEY", NULL);
  cfg->octopus.space = env_or("OCTOPUS_SPACE", "Default");
  cfg->azure.subscription = env_or("AZURE_SUBSCRIPTION_ID", NULL);
  cfg->azure.tenant = env_or("AZURE_TENANT_ID", NULL);
  cfg->azure.client_id = env_or("AZURE_CLIENT_ID", NULL);
  cfg->azure.client_secret = env_or("AZURE_CLIENT_SECRET", NULL);
  cfg->azure.auth = OSC_AUTH_AUTO;
  cfg->azure.cloud = osc_azure_clouds[0].name;
  cfg->azure.login_endpoint =
      env_or("AZURE_AUTHORITY_HOST", osc_azure_clouds[0].login);
  cfg->azure.management_endpoint = osc_azure_clouds[0].management;
  cfg->azure.imds_endpoint = OSC_AZURE_IMDS_ENDPOINT;
  cfg->azure.api_version = OSC_AZURE_COMPUTE_API_VERSION;
  cfg->azure.network_api_version = OSC_AZURE_NETWORK_API_VERSION;
  cfg->state = ".octoscale/state.json";
  cfg->policy = "policies/default.lua";
}

struct setup_args {
  const struct osc_config *cfg;
  struct osc_session *s;
  const char *why;
  bool service_messages;
};

/* Registry settings, in protected mode like every other setup step. */
static int setup_l(lua_State *L) {
  struct setup_args *a = lua_touserdata(L, 1);

  osc_bind_set_session(L, a->s, a->why);
  osc_bind_script_set_config(L, a->cfg);
  osc_bind_octopus_service_messages(L, a->service_messages);
  return 0;
}

static bool env_true(const char *name) {
  const char *v = getenv(name);

  return v != NULL && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 ||
                       strcmp(v, "True") == 0);
}

int osc_cmd_run(const struct osc_config *cfg, const char *script, int argc,
                char **argv, bool octopus_output, int *out_exit,
                struct osc_error *err) {
  static const struct osc_sandbox_lib libs[] = {
      {"reconcile", osc_bind_reconcile_open},
      {"azure", luaopen_osc_azure},
      {"octopus", luaopen_osc_octopus},
      {"script", luaopen_osc_script},
      {"config", luaopen_osc_config},
      {"print", osc_bind_script_open_print}, /* stdout, not the log */
  };
  struct osc_sandbox_options opts;
  struct setup_args setup;
  struct osc_sandbox *sb = NULL;
  struct osc_session *s = NULL;
  struct osc_config envcfg;
  struct osc_error serr = OSC_ERROR_INIT;
  char tag[512];
  size_t i;
  int rc;

  *out_exit = 0;
  /* main-style argv (argv[0] is the script itself): skip it. */
  if (argc > 0 && argv[0] == script) {
    argc--;
    argv++;
  }
  if (cfg == NULL) {
    env_config(&envcfg);
    cfg = &envcfg;
  }
  /* A session that cannot be made (bad CA file, ...) leaves the clients
   * unavailable (nil, err), not the whole script. */
  if (osc_session_new(cfg, &s, &serr) < 0) {
    if (serr.code == OSC_E_NOMEM)
      return osc_error_set(err, OSC_E_NOMEM, "out of memory");
    osc_log_debug("API clients unavailable: %s", serr.msg);
    s = NULL;
  }
  memset(&opts, 0, sizeof(opts));
  osc_sandbox_display_name(script, tag, sizeof(tag));
  opts.tag = tag;
  {
    const struct osc_sandbox_limits limits = RUN_LIMITS;

    opts.limits = limits;
  }
  rc = osc_sandbox_new(&opts, &sb, err);
  if (rc < 0)
    goto done;
  for (i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
    rc = osc_sandbox_add_lib(sb, &libs[i], err);
    if (rc < 0)
      goto done;
  }
  setup.cfg = cfg;
  setup.s = s;
  setup.why = s ? NULL : serr.msg;
  setup.service_messages =
      octopus_output || env_true("OCTOSCALE_OCTOPUS_OUTPUT");
  rc = osc_sandbox_cpcall(sb, setup_l, &setup, 0, err);
  if (rc < 0)
    goto done;
  if (s != NULL) {
    rc = osc_bind_script_set_live(sb, s, err);
    if (rc < 0)
      goto done;
  }
  rc = osc_bind_script_run(sb, script, argc, argv, out_exit, err);
  if (rc < 0)
    goto done;
  if (osc_bind_octopus_print_outputs(osc_sandbox_state(sb), stdout) != 0)
    osc_log_warn("could not print the script's outputs");
done:
  osc_sandbox_free(sb); /* before the session its clients point at */
  osc_session_free(s);
  return rc;
}

/* `run` works without a config file (the clients then read OCTOPUS_* and
 * AZURE_* from the environment), but a named or present one must load. */
int osc_cmd_run_main(const struct osc_cmd_options *o) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_config *cfg = NULL;
  const char *path = osc_cmd_config_path(o);
  struct stat st;
  int exit_code = 0;
  int code;

  if (o->n_args == 0)
    return osc_cmd_usage_error("run", "run needs a script FILE");
  if (o->config_path != NULL || stat(path, &st) == 0) {
    code = osc_cmd_load_config(o, &cfg);
    if (code != 0)
      return code;
  }
  if (osc_cmd_run(cfg, o->args[0], o->n_args, o->args, o->octopus_output,
                  &exit_code, &err) < 0) {
    fprintf(stderr, "octoscale: error: %s\n", err.msg);
    exit_code = osc_error_exit_code(err.code);
  }
  osc_config_free(cfg);
  return exit_code;
}
