/* `apply` (docs/design.md §4, §6): wait for provisioning when asked, execute
 * the plans' actions with bounded concurrency, record state, and produce the
 * outputs. The same path serves the CLI and Lua's plan:apply(). */
#ifndef OSC_APPLY_H
#define OSC_APPLY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/osc_error.h"
#include "core/osc_reconcile.h"
#include "core/osc_report.h"

struct osc_apply_options {
  bool wait;
  int64_t wait_seconds; /* -1: the largest provisioning grace of the
                           selected entries' policies */
  int64_t poll_interval_seconds;
  bool fail_on_timeout; /* --on-timeout fail: plans become TIMEOUT (5) */
  const char *only_new; /* --only-new baseline name, or NULL */
  bool health_check;
  int64_t health_timeout_seconds; /* default 5m */
};

/* What an apply leaves for the report. */
struct osc_apply_result {
  struct osc_outputs outputs;
  size_t n_deleted;
  size_t n_disabled;
  size_t n_enabled;
  size_t n_failed;
  char unavailable[OSC_ERROR_MAX]; /* targets a health check left unavailable */
  bool state_unsaved; /* everything ran, only the final state save failed:
                         the outputs and the plans are complete */
};

/* Runs apply on a planned reconcile `r` (live: r->session is set). The
 * caller holds the state's lock (osc_store_lock on ro->store) for the whole
 * call; the state is checked before the first action (osc_store_check: for
 * a file, it must prove writable, else nothing is changed and this returns
 * < 0) and saved there. Plans whose status is not OK have none of their
 * actions executed. Returns < 0 only when the run as a whole failed; when
 * only the final save failed, result->state_unsaved is set and the outputs
 * are complete (print them, then the error). A failed action is recorded
 * in its plan and makes the exit code 1. */
int osc_apply_run(struct osc_reconcile *r,
                  const struct osc_reconcile_options *ro,
                  const struct osc_apply_options *o,
                  struct osc_apply_result *result, struct osc_error *err);

void osc_apply_result_free(struct osc_apply_result *result);

#endif
