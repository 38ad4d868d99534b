/* `octoscale apply`: reconcile under the state's lock, then report
 * (core/osc_commands.h). */
#include "core/osc_commands.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/osc_apply.h"
#include "core/osc_collect.h"
#include "core/osc_html.h"
#include "core/osc_http.h"
#include "core/osc_octout.h"
#include "core/osc_reconcile.h"
#include "core/osc_report.h"
#include "core/osc_store.h"
#include "core/osc_text.h"
#include "core/osc_time.h"

/* The summary and outputs as Octopus service messages (--octopus-output):
 * the summary highlighted, every output a setVariable, the report an
 * artifact. */
static int octopus_messages(const struct osc_cmd_options *o,
                            const struct osc_apply_result *res,
                            const struct osc_run_summary *run,
                            struct osc_error *err) {
  char line[512];
  struct stat st;
  int rc;

  rc = osc_octout_highlight_begin(stdout, err);
  if (rc < 0)
    return rc;
  osc_run_summary_format(run, line, sizeof(line));
  printf("octoscale apply: %s; VMSSHasServersToDeployTo=%s\n", line,
         osc_outputs_get(&res->outputs, "VMSSHasServersToDeployTo"));
  rc = osc_octout_highlight_end(stdout, err);
  if (rc == 0)
    rc = osc_octout_outputs(stdout, &res->outputs, err);
  if (rc == 0 && o->report_path != NULL && stat(o->report_path, &st) == 0)
    rc = osc_octout_create_artifact(stdout, o->report_path, NULL,
                                    (int64_t)st.st_size, err);
  return rc;
}

/* The run's counts: what the actions did, how long, how many requests. */
static void run_summary(struct osc_reconcile *r, int64_t started_ms,
                        struct osc_run_summary *run) {
  struct osc_http_stats stats;

  memset(run, 0, sizeof(*run));
  osc_run_summary_count(r->plans, r->n_entries, run);
  run->duration_ms = osc_time_monotonic_ms() - started_ms;
  if (r->session != NULL) {
    osc_http_get_stats(osc_session_http(r->session), &stats);
    run->requests = stats.requests;
    run->retries = stats.retries;
    run->throttled = stats.throttled;
  }
}

/* Reports an apply: the HTML report, then the text or JSON on stdout, and
 * the service messages. */
static int report_apply(const struct osc_cmd_options *o,
                        struct osc_reconcile *r,
                        const struct osc_reconcile_options *ro,
                        const struct osc_apply_result *res,
                        const struct osc_run_summary *run,
                        struct osc_error *err) {
  int rc;

  if (o->report_path != NULL) {
    rc = osc_html_report_write(o->report_path, "apply", r->plans, r->n_entries,
                               &res->outputs, ro->now, err);
    if (rc < 0)
      return rc;
  }
  if (o->format == OSC_FORMAT_JSON) {
    rc = osc_report_json(stdout, "apply", r->plans, r->n_entries, &res->outputs,
                         run, err);
    if (rc < 0)
      return rc;
  } else {
    osc_report_text(stdout, r->plans, r->n_entries, o->verbosity > 0, run);
    osc_text_line(
        stdout,
        "outputs: VMSSHasServersToDeployTo=%s VMSSDeploymentTargetNames=%s",
        osc_outputs_get(&res->outputs, "VMSSHasServersToDeployTo"),
        osc_outputs_get(&res->outputs, "VMSSDeploymentTargetNames"));
  }
  if (o->octopus_output)
    return octopus_messages(o, res, run, err);
  return OSC_OK;
}

int osc_cmd_apply_main(const struct osc_cmd_options *o) {
  struct osc_reconcile_options ro;
  struct osc_apply_options ao;
  struct osc_apply_result res;
  struct osc_run_summary run;
  struct osc_reconcile *r = NULL;
  struct osc_config *cfg = NULL;
  struct osc_store *store = NULL;
  struct osc_error err = OSC_ERROR_INIT;
  int64_t started_ms = osc_time_monotonic_ms();
  struct osc_error unsaved;
  int code;
  int rc;

  /* Both claim stdout: one JSON document, or the lines Octopus parses. */
  if (o->octopus_output && o->format == OSC_FORMAT_JSON)
    return osc_cmd_usage_error("apply", "--octopus-output and --format json "
                                        "both write to stdout; use one");
  memset(&res, 0, sizeof(res));
  code = osc_cmd_load_config(o, &cfg);
  if (code != 0)
    return code;
  rc = osc_cmd_reconcile_options(o, &ro, &err);
  if (rc < 0)
    goto failed;
  /* One writer per state, held from before the state is read until after
   * it is written (safety rule 4). */
  rc = osc_store_open(cfg, &store, &err);
  if (rc == OSC_OK)
    rc = osc_store_lock(store, &err);
  if (rc < 0)
    goto failed;
  ro.store = store;
  rc = osc_reconcile_plan(cfg, &ro, &r, &err);
  if (rc < 0)
    goto failed;
  memset(&ao, 0, sizeof(ao));
  ao.wait = o->wait;
  ao.wait_seconds = o->wait_seconds;
  ao.poll_interval_seconds = o->poll_interval_seconds;
  ao.fail_on_timeout = o->on_timeout == OSC_ON_TIMEOUT_FAIL;
  ao.only_new = o->only_new;
  ao.health_check = o->health_check;
  ao.health_timeout_seconds = 300;
  rc = osc_apply_run(r, &ro, &ao, &res, &err);
  if (rc < 0 && !res.state_unsaved)
    goto failed;
  /* Even when only the state could not be saved, what was done is reported
   * (and the outputs given) before the error. */
  unsaved = err;
  osc_cmd_log_plan_problems(r);
  run_summary(r, started_ms, &run);
  rc = report_apply(o, r, &ro, &res, &run, &err);
  if (rc < 0)
    goto failed;
  if (res.state_unsaved) {
    err = unsaved;
    rc = err.code;
    goto failed;
  }
  code = osc_reconcile_exit_code(r, true);
  goto done;
failed:
  fprintf(stderr, "octoscale: error: %s\n", err.msg);
  code = osc_error_exit_code(rc);
done:
  fflush(stdout);
  osc_apply_result_free(&res);
  osc_reconcile_free(r);
  osc_store_free(store);
  osc_config_free(cfg);
  return code;
}
