/* The state file: what octoscale remembers between runs, per scale set
 * entry: when each orphaned target was first seen (the orphan grace runs from
 * there) and the deployable targets of the last successful apply (for
 * --only-new). Versioned JSON:
 *   {"format_version":1,"updated_at":"RFC 3339","scale_sets":{"web-prod":{
 *     "orphans":{"Machines-7":"2026-11-27T10:00:00Z"},
 *     "last_success":{"at":"RFC 3339","targets":[{"id","name"}]}}},
 *    "runs":[{"at","command","scale_set","status","deleted","disabled"}]}
 * A missing file is an empty state; a corrupt or unknown-version file is an
 * error (never silently reset). */
#ifndef OSC_STATE_H
#define OSC_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/osc_arena.h"
#include "core/osc_engine.h"
#include "core/osc_error.h"

struct osc_state_scale_set {
  const char *name;
  struct osc_orphan_entry *orphans;
  size_t n_orphans;
  bool have_last_success;
  int64_t last_success_at;
  struct osc_target_ref *last_targets;
  size_t n_last_targets;
};

struct osc_state_run {
  int64_t at;
  const char *command;
  const char *scale_set;
  const char *status;
  int64_t deleted;
  int64_t disabled;
  int64_t failed; /* actions whose result was OSC_RESULT_FAILED */
};

struct osc_state {
  struct osc_arena arena;
  int64_t updated_at;
  struct osc_state_scale_set *sets;
  size_t n_sets;
  struct osc_state_run *runs; /* oldest first, bounded */
  size_t n_runs;
};

#define OSC_STATE_VERSION 1
#define OSC_STATE_MAX_RUNS 200

int osc_state_load(const char *path, struct osc_state **out,
                   struct osc_error *err);
void osc_state_free(struct osc_state *state);

/* The entry for a scale set name (case-insensitive), or NULL. */
const struct osc_state_scale_set *osc_state_find(const struct osc_state *state,
                                                 const char *name);

/* Records the outcome of a run. For each plan (matched to its entry by
 * scale set name, case-insensitively; a new entry is added when missing):
 *  - the entry's orphans become plan->orphans, except for a plan that is not
 *    OK and has no actions (it stopped before classifying or could not be
 *    planned at all): unknown is not absent, so the old entries stay;
 *  - with record_success, when the plan is OK and no action failed,
 *    last_success becomes {now, plan->deployable};
 *  - a run record {now, command, scale set, status, deleted, disabled,
 *    failed} is appended, counting actions by result (DONE / FAILED).
 * Entries of scale sets without a plan are left unchanged; updated_at
 * becomes now. Compute --only-new outputs (osc_outputs_build) BEFORE this:
 * it replaces the last_success they compare with. On failure (out of
 * memory) the state is unchanged. */
int osc_state_update(struct osc_state *state, struct osc_plan *const *plans,
                     size_t n, int64_t now, const char *command,
                     bool record_success, struct osc_error *err);

/* Writes the state as versioned JSON, atomically (core/osc_fs.h): the file
 * is created 0600 and missing parent directories 0700. The caller holds the
 * state lock (core/osc_lock.h). On failure the old file is untouched. */
int osc_state_save(const struct osc_state *state, const char *path,
                   struct osc_error *err);

#endif
