/* What a run shows: the text plan, the --format json document (docs/design.md
 * §8) and the outputs compatible with Octopus's step template (docs/design.md
 * §6). */
#ifndef OSC_REPORT_H
#define OSC_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/osc_arena.h"
#include "core/osc_engine.h"
#include "core/osc_error.h"
#include "core/osc_state.h"

struct osc_output {
  const char *name; /* VMSSHasServersToDeployTo[.entry] ... */
  const char *value;
};

struct osc_outputs {
  struct osc_arena arena;
  struct osc_output *items; /* combined first, then per scale set */
  size_t n;
};

/* Computes the outputs of plans. With only_new (a baseline name, see
 * --only-new[=NAME]), a target counts only when it is absent from that
 * baseline of its scale set in the state; NULL counts every target. */
int osc_outputs_build(struct osc_plan *const *plans, size_t n_plans,
                      const struct osc_state *state, const char *only_new,
                      struct osc_outputs *out, struct osc_error *err);
void osc_outputs_free(struct osc_outputs *outputs);
/* True when the baseline (may be NULL) lists target id (any case). */
bool osc_baseline_has(const struct osc_state_baseline *b, const char *id);
const char *osc_outputs_get(const struct osc_outputs *outputs,
                            const char *name);

/* What an apply did, counted from the actions' results (skipped: changes
 * of a plan that was not executed, e.g. a safety stop), with the run's
 * duration and HTTP request counts. */
struct osc_run_summary {
  size_t deleted;
  size_t failed;
  size_t disabled;
  size_t enabled;
  size_t skipped;
  int64_t duration_ms;
  uint64_t requests; /* attempts sent */
  uint64_t retries;
  uint64_t throttled; /* 429 responses */
};

/* Adds plans' results to `out` (the other fields are the caller's). */
void osc_run_summary_count(struct osc_plan *const *plans, size_t n_plans,
                           struct osc_run_summary *out);
/* "4 deleted, 1 failed, 0 disabled, 0 enabled, 0 skipped in 12.3s; 412
 * requests (3 retries, 0 throttled)" */
void osc_run_summary_format(const struct osc_run_summary *s, char *out,
                            size_t cap);

/* One block per scale set: a header, one line per action that is not
 * "keep" (except keeps the policy chose where the default acts), and a
 * summary line (with the kept-by-policy count). `show_keep` lists in-sync
 * targets too. With
 * `run` (after apply), each summary says what was done, failed and skipped,
 * and a last line sums up the run. */
void osc_report_text(FILE *f, struct osc_plan *const *plans, size_t n_plans,
                     bool show_keep, const struct osc_run_summary *run);

/* The --format json document (one line of JSON per run, pretty-printed);
 * `run` (after apply, else NULL) adds its "run" object. */
int osc_report_json(FILE *f, const char *command, struct osc_plan *const *plans,
                    size_t n_plans, const struct osc_outputs *outputs,
                    const struct osc_run_summary *run, struct osc_error *err);

#endif
