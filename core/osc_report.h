/* What a run shows: the text plan, the --format json document (DESIGN 8) and
 * the outputs compatible with Octopus's step template (DESIGN 6). */
#ifndef OSC_REPORT_H
#define OSC_REPORT_H

#include <stdbool.h>
#include <stddef.h>
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

/* Computes the outputs of plans. With only_new, a target counts only when it
 * is absent from the state's last successful run for its scale set. */
int osc_outputs_build(struct osc_plan *const *plans, size_t n_plans,
                      const struct osc_state *state, bool only_new,
                      struct osc_outputs *out, struct osc_error *err);
void osc_outputs_free(struct osc_outputs *outputs);
const char *osc_outputs_get(const struct osc_outputs *outputs,
                            const char *name);

/* One block per scale set: a header, one line per action that is not
 * "keep", and a summary line. `show_keep` lists in-sync targets too. */
void osc_report_text(FILE *f, struct osc_plan *const *plans, size_t n_plans,
                     bool show_keep);

/* The --format json document (one line of JSON per run, pretty-printed). */
int osc_report_json(FILE *f, const char *command, struct osc_plan *const *plans,
                    size_t n_plans, const struct osc_outputs *outputs,
                    struct osc_error *err);

#endif
