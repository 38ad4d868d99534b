/* The state: what octoscale remembers between runs, per scale set entry:
 * when each orphaned target was first seen (the orphan grace runs from
 * there) and, per --only-new consumer, the deployable targets of its last
 * successful run (a baseline). Versioned JSON (docs: README "State"):
 *   {"format_version":2,"updated_at":"RFC 3339","scale_sets":{"web-prod":{
 *     "orphans":{"Machines-7":"2026-11-27T10:00:00Z"},
 *     "baselines":{"default":{"at":"RFC 3339","targets":[{"id","name"}]}},
 *     "targets":{"Machines-7":{...}}}},
 *    "runs":[{"at","command","scale_set","status","deleted","disabled"}]}
 * "targets" (optional) holds per-target records; it is reserved for facts
 * about single targets and kept as read. Readers ignore unknown keys, so
 * optional additions need no new version. Version 1 (one "last_success"
 * per scale set) is read and upgraded: its baseline becomes "default"; the
 * next save writes version 2.
 * Where the JSON lives (a file, a blob) is core/osc_store.h's business. A
 * missing file is an empty state; a corrupt or unknown-version file is an
 * error (never silently reset). */
#ifndef OSC_STATE_H
#define OSC_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/osc_arena.h"
#include "core/osc_buf.h"
#include "core/osc_engine.h"
#include "core/osc_error.h"

/* The deployable targets of a consumer's last successful --only-new run. */
struct osc_state_baseline {
  const char *name; /* --only-new=NAME; "default" */
  int64_t at;
  struct osc_target_ref *targets;
  size_t n_targets;
};

struct osc_state_scale_set {
  const char *name;
  struct osc_orphan_entry *orphans;
  size_t n_orphans;
  struct osc_state_baseline *baselines;
  size_t n_baselines;
  const char *target_records; /* the "targets" object as JSON, or NULL */
  /* Policy memory, from "targets": disabled_since of the targets octoscale
   * disabled ({"<id>": {"disabled_since", "disabled_by": "octoscale"}}). */
  struct osc_orphan_entry *disabled;
  size_t n_disabled;
  bool records_had_memory; /* "targets" held memory when read */
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
  int loaded_version; /* format_version read; 0 for a new state */
};

#define OSC_STATE_VERSION 2
#define OSC_STATE_DEFAULT_BASELINE "default"
#define OSC_STATE_MAX_RUNS 200

/* Reads a state file; a missing file is an empty state. */
int osc_state_load(const char *path, struct osc_state **out,
                   struct osc_error *err);

/* Parses state JSON; `label` names it in messages ("file PATH", "blob
 * URL"): "state LABEL is corrupt: ...". */
int osc_state_decode(const char *text, size_t len, const char *label,
                     struct osc_state **out, struct osc_error *err);
void osc_state_free(struct osc_state *state);

/* The entry for a scale set name (case-insensitive), or NULL. */
const struct osc_state_scale_set *osc_state_find(const struct osc_state *state,
                                                 const char *name);

/* The baseline `name` of a scale set's entry (set may be NULL), or NULL. */
const struct osc_state_baseline *
osc_state_baseline(const struct osc_state_scale_set *set, const char *name);

/* Records the outcome of a run. For each plan (matched to its entry by
 * scale set name, case-insensitively; a new entry is added when missing):
 *  - the entry's orphans become plan->orphans, except for a plan that is not
 *    OK and has no actions (it stopped before classifying or could not be
 *    planned at all): unknown is not absent, so the old entries stay;
 *  - likewise its disabled records (policy memory) become plan->disabled,
 *    plus the disables done now (since now), minus the targets enabled or
 *    deleted;
 *  - with a baseline name, when the plan is OK and no action failed, that
 *    baseline becomes {now, plan->deployable} (others stay);
 *  - a run record {now, command, scale set, status, deleted, disabled,
 *    failed} is appended, counting actions by result (DONE / FAILED).
 * Entries of scale sets without a plan are left unchanged; updated_at
 * becomes now. Compute --only-new outputs (osc_outputs_build) BEFORE this:
 * it replaces the baseline they compare with. On failure (out of
 * memory) the state is unchanged. */
int osc_state_update(struct osc_state *state, struct osc_plan *const *plans,
                     size_t n, int64_t now, const char *command,
                     const char *baseline, struct osc_error *err);

/* Whether osc_state_update would learn anything from these plans: false
 * when every plan stopped before classifying (a failed or partial read, an
 * error) with no action. `apply` then leaves the state file as it was, byte
 * for byte: a run that read nothing and did nothing has nothing to record. */
bool osc_state_plans_learn(struct osc_plan *const *plans, size_t n);

/* Writes the state as versioned JSON, atomically (core/osc_fs.h; a symbolic
 * link is written through, never replaced): the file is created 0600 and
 * missing parent directories 0700. The caller holds the state lock
 * (core/osc_lock.h). On failure the old file is untouched. */
int osc_state_save(const struct osc_state *state, const char *path,
                   struct osc_error *err);

/* A baseline's "at" and "targets" members, into an open JSON object (the
 * state file and `state show --format json` share them). */
struct osc_jsonw;
void osc_state_write_baseline_fields(struct osc_jsonw *w,
                                     const struct osc_state_baseline *b);

/* The JSON osc_state_save writes, appended to out. */
int osc_state_encode(const struct osc_state *state, struct osc_buf *out,
                     struct osc_error *err);

/* Proves, before anything is changed, that osc_state_save can succeed: the
 * state as it is now is written to the temporary file beside the real state
 * file, fsynced and removed (core/osc_fs.h osc_fs_check_writable). */
int osc_state_check_writable(const struct osc_state *state, const char *path,
                             struct osc_error *err);

#endif
