/* What the commands share: the usage error and the config they load
 * (core/osc_commands.h). */
#include "core/osc_commands.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/osc_reconcile.h"
#include "core/osc_text.h"
#include "core/osc_time.h"

int osc_cmd_usage_error(const char *cmd, const char *fmt, ...) {
  va_list ap;

  fprintf(stderr, "octoscale: error: ");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  if (cmd != NULL)
    fprintf(stderr, " (see 'octoscale %s --help')\n", cmd);
  else
    fprintf(stderr, " (see 'octoscale --help')\n");
  return 3;
}

const char *osc_cmd_config_path(const struct osc_cmd_options *o) {
  struct stat st;
  const char *env;

  if (o->config_path != NULL)
    return o->config_path;
  if (stat("octoscale.yaml", &st) == 0)
    return "octoscale.yaml";
  env = getenv("OCTOSCALE_CONFIG");
  if (env != NULL && *env != '\0')
    return env;
  return "octoscale.yaml";
}

int osc_cmd_load_config(const struct osc_cmd_options *o,
                        struct osc_config **cfg) {
  struct osc_error err = OSC_ERROR_INIT;
  const char *path = osc_cmd_config_path(o);
  struct stat st;
  int rc;

  if (o->config_path == NULL && stat(path, &st) != 0) {
    fprintf(stderr,
            "octoscale: error: no config: ./octoscale.yaml does not exist "
            "and OCTOSCALE_CONFIG is not set (use -c FILE)\n");
    return 3;
  }
  rc = osc_config_load(path, cfg, &err);

  if (rc < 0) {
    fprintf(stderr, "octoscale: error: %s\n", err.msg);
    return osc_error_exit_code(rc);
  }
  return 0;
}

void osc_cmd_log_plan_problems(const struct osc_reconcile *r) {
  size_t i;

  for (i = 0; i < r->n_entries; i++) {
    const struct osc_plan *p = r->plans[i];

    if (p->status == OSC_PLAN_ERROR || p->status == OSC_PLAN_SAFETY_STOP)
      osc_text_line(stderr, "octoscale: error: %s: %s", p->scale_set,
                    p->message);
  }
}

int osc_cmd_reconcile_options(const struct osc_cmd_options *o,
                              struct osc_reconcile_options *ro,
                              struct osc_error *err) {
  memset(ro, 0, sizeof(*ro));
  ro->only = o->scale_sets;
  ro->n_only = o->n_scale_sets;
  ro->snapshot = o->snapshot;
  ro->force = o->force;
  ro->explain = o->explain;
  ro->verbose = o->verbosity > 0;
  return osc_time_now(&ro->now, err);
}
