/* One reconcile pass over the selected scale set entries: collect (from a
 * snapshot or live), load each entry's policy, and plan with the engine.
 * `plan` prints the result; `apply` (core/osc_apply.h) acts on it. */
#ifndef OSC_RECONCILE_H
#define OSC_RECONCILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/osc_config.h"
#include "core/osc_engine.h"
#include "core/osc_error.h"
#include "core/osc_model.h"
#include "core/lua/osc_policy.h"
#include "core/osc_state.h"

struct osc_reconcile_options {
  const char *const *only; /* -s NAME...; none: every entry */
  size_t n_only;
  const char *snapshot; /* NULL: collect live */
  int64_t now;
  bool force;
  bool explain; /* log every policy hook call (plan --explain) */
  bool verbose;
  struct osc_session *session; /* borrowed (Lua scripts), else created */
  /* borrowed: apply's locked state (core/osc_store.h), which it saves to;
   * NULL: the state is read through a store opened for the call */
  struct osc_store *store;
  /* borrowed: plans every entry with this policy instead of the configured
   * one (a script's what-if, core/lua/osc_bind_script.c) */
  struct osc_policy *policy;
};

/* Per entry: what was collected, with which policy, and the plan. */
struct osc_reconcile_entry {
  const struct osc_config_scale_set *config;
  struct osc_collection collection;
  struct osc_scope scope;
  struct osc_policy *policy; /* NULL when it failed to load */
  struct osc_plan *plan;     /* always set after osc_reconcile_plan */
};

struct osc_session;
struct osc_store;

struct osc_reconcile {
  const struct osc_config *config;
  struct osc_session *session; /* live runs: HTTP, tokens, name cache */
  bool session_borrowed;
  struct osc_state *state;
  struct osc_reconcile_entry *entries;
  size_t n_entries;
  struct osc_plan **plans; /* entries[i].plan, for the report functions */
};

/* Selects entries (an unknown -s name is OSC_E_USAGE), loads the state
 * (OSC_E_RUNTIME when unreadable or corrupt), collects and plans. A failure
 * of one scale set (policy, read, name) is recorded in its plan and never
 * stops the others; the return value is < 0 only when nothing could be
 * planned at all. */
int osc_reconcile_plan(const struct osc_config *config,
                       const struct osc_reconcile_options *options,
                       struct osc_reconcile **out, struct osc_error *err);

/* Exit code of the whole run per docs/design.md §4 (first of 3, 1, 4, 5, 2, 0).
 */
int osc_reconcile_exit_code(const struct osc_reconcile *r, bool is_apply);

void osc_reconcile_free(struct osc_reconcile *r);

/* Collects every entry live again (apply --wait polls with it); plans made
 * from the previous collection are dropped. */
int osc_reconcile_collect(struct osc_reconcile *r, struct osc_error *err);

/* Plans entry i again from its collection (after --wait re-collects). */
int osc_reconcile_replan(struct osc_reconcile *r, size_t i,
                         const struct osc_reconcile_options *options,
                         struct osc_error *err);

#endif
