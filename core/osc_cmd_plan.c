/* `octoscale plan`: what apply would change, writing nothing
 * (core/osc_commands.h). */
#include "core/osc_commands.h"

#include <stdio.h>
#include <string.h>

#include "core/osc_reconcile.h"
#include "core/osc_report.h"

int osc_cmd_plan_main(const struct osc_cmd_options *o) {
  struct osc_reconcile_options ro;
  struct osc_reconcile *r = NULL;
  struct osc_config *cfg = NULL;
  struct osc_outputs outputs;
  struct osc_error err = OSC_ERROR_INIT;
  int code;
  int rc;

  memset(&outputs, 0, sizeof(outputs));
  code = osc_cmd_load_config(o, &cfg);
  if (code != 0)
    return code;
  rc = osc_cmd_reconcile_options(o, &ro, &err);
  if (rc < 0)
    goto failed;
  rc = osc_reconcile_plan(cfg, &ro, &r, &err);
  if (rc < 0)
    goto failed;
  rc =
      osc_outputs_build(r->plans, r->n_entries, r->state, NULL, &outputs, &err);
  if (rc < 0)
    goto failed;
  osc_cmd_log_plan_problems(r);
  if (o->format == OSC_FORMAT_JSON) {
    rc = osc_report_json(stdout, "plan", r->plans, r->n_entries, &outputs, NULL,
                         &err);
    if (rc < 0)
      goto failed;
  } else {
    osc_report_text(stdout, r->plans, r->n_entries, o->verbosity > 0, NULL);
  }
  code = osc_reconcile_exit_code(r, false);
  goto done;
failed:
  fprintf(stderr, "octoscale: error: %s\n", err.msg);
  code = osc_error_exit_code(rc);
done:
  fflush(stdout);
  osc_outputs_free(&outputs);
  osc_reconcile_free(r);
  osc_config_free(cfg);
  return code;
}
