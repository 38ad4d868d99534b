/* The reconcile engine: pure. (collection, scope, orphan state, policy
 * decisions, now) -> plan. No I/O and no Lua: the policy is reached through
 * a table of C callbacks (core/lua/osc_policy.c implements them over Lua; unit
 * tests implement them in C). docs/design.md §6 is the contract. */
#ifndef OSC_ENGINE_H
#define OSC_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/osc_arena.h"
#include "core/osc_error.h"
#include "core/osc_model.h"

enum osc_class {
  OSC_CLASS_IN_SYNC = 0,
  OSC_CLASS_PROVISIONING,
  OSC_CLASS_UNREGISTERED,
  OSC_CLASS_FAILED_VM,
  OSC_CLASS_ORPHAN,
  OSC_CLASS_CONFLICT, /* duplicate names: reported, never guessed */
  OSC_CLASS_FOREIGN,  /* in scope but not the scale set's: never touched */
  OSC_CLASS_COUNT,
};

enum osc_action_kind {
  OSC_ACT_KEEP = 0,
  OSC_ACT_WAIT,
  OSC_ACT_REPORT,
  OSC_ACT_ENABLE,
  OSC_ACT_DISABLE,
  OSC_ACT_DELETE,
};

/* What a policy hook may answer. Each hook accepts a subset (docs/design.md
 * §7). */
enum osc_decision {
  OSC_DECIDE_KEEP = 0,
  OSC_DECIDE_DELETE,
  OSC_DECIDE_DISABLE,
  OSC_DECIDE_ENABLE,
  OSC_DECIDE_REPORT,
  OSC_DECIDE_IGNORE,
};

enum osc_grace_kind {
  OSC_GRACE_PROVISIONING = 0, /* subject: vm */
  OSC_GRACE_REGISTRATION,     /* subject: vm */
  OSC_GRACE_ORPHAN,           /* subject: target */
};

/* max_delete: a percentage of the in-scope targets or a count. 0, in either
 * form, allows no deletion or disable at all. A percentage budget is at least
 * min_delete_budget (min when min_set, else 1), so small sets can scale in. */
struct osc_budget {
  bool percent;
  double value;
  bool min_set;
  size_t min;
};

#define OSC_BUDGET_DEFAULT                                                     \
  { true, 50.0, false, 0 }

/* Every callback may be NULL, meaning the documented default:
 * target_name = computer name (else the VM name); graces 30m / 10m / 10m;
 * on_scale_in = delete; on_failed_vm = delete; on_unregistered = report;
 * on_in_sync = keep; owns = the computerNamePrefix rule
 * (osc_engine_prefix_owns). A callback that fails returns a negative code
 * (usually OSC_E_POLICY) with a one-line message naming the policy file, line,
 * hook and value; the engine stops that plan with it. */
struct osc_policy_ops {
  void *ud;
  int (*target_name)(void *ud, const struct osc_vm *vm, char *out, size_t cap,
                     struct osc_error *err);
  int (*grace)(void *ud, enum osc_grace_kind kind, const struct osc_vm *vm,
               const struct osc_target *target, int64_t *out_seconds,
               struct osc_error *err);
  int (*on_scale_in)(void *ud, const struct osc_target *target,
                     int64_t orphaned_since, enum osc_decision *out,
                     struct osc_error *err);
  int (*on_failed_vm)(void *ud, const struct osc_vm *vm,
                      const struct osc_target *target, enum osc_decision *out,
                      struct osc_error *err);
  int (*on_unregistered)(void *ud, const struct osc_vm *vm,
                         enum osc_decision *out, struct osc_error *err);
  /* For an in-sync target: keep, or enable it when it is disabled. */
  int (*on_in_sync)(void *ud, const struct osc_vm *vm,
                    const struct osc_target *target, enum osc_decision *out,
                    struct osc_error *err);
  /* Is this in-scope target, which no VM claims by name, the scale set's?
   * Asked only for such targets: a name a VM expects is always owned. */
  int (*owns)(void *ud, const struct osc_target *target, bool *out,
              struct osc_error *err);
  struct osc_budget max_delete;
  /* max_delete computed from ctx (NULL: the constant above). It fills
   * percent and value; min_delete_budget stays that of max_delete. */
  int (*max_delete_fn)(void *ud, struct osc_budget *out, struct osc_error *err);
  /* The reason string the last decision hook returned with its answer
   * (`return "keep", "freeze window"`), or NULL. Valid until the next
   * hook call. */
  const char *(*last_reason)(void *ud);
  /* on_in_sync may enable targets someone else disabled (default: only
   * those octoscale disabled). */
  bool enable_any_disabled;
};

/* Which targets belong to a scale set entry: in the environment, carrying
 * ALL roles (case-insensitive) and, when set, the tenant. */
struct osc_scope {
  const char *environment_id;
  struct osc_strlist roles;
  const char *tenant_id; /* NULL: any */
};

/* True when target t is in scope (the rule above). */
bool osc_scope_contains(const struct osc_scope *scope,
                        const struct osc_target *t);

/* orphaned_since per target id, from the state file; the same pair holds
 * disabled_since for the targets octoscale disabled. */
struct osc_orphan_entry {
  const char *target_id;
  int64_t since;
};

/* Policy memory: sets target->disabled_since from the state's records of
 * targets octoscale disabled. A record of a target that is enabled now is
 * stale (someone enabled it) and ignored. Returns < 0 only when out of
 * memory. */
int osc_collection_mark_disabled(struct osc_collection *c,
                                 const struct osc_orphan_entry *records,
                                 size_t n);

struct osc_engine_input {
  const struct osc_collection *collection;
  const struct osc_scope *scope;
  const struct osc_orphan_entry *orphans;
  size_t n_orphans;
  const struct osc_policy_ops *policy;
  int64_t now;
  bool force; /* lifts the deletion budget, never rules 1 and 2 */
};

enum osc_plan_status {
  OSC_PLAN_OK = 0,
  OSC_PLAN_SAFETY_STOP,
  OSC_PLAN_ERROR,
  OSC_PLAN_TIMEOUT,
};

/* The detail of a DELETE answered 404: done, by someone else. */
#define OSC_RESULT_ALREADY_GONE "already gone"

enum osc_action_result {
  OSC_RESULT_PENDING = 0, /* not attempted (plan, or blocked by status) */
  OSC_RESULT_DONE,
  OSC_RESULT_FAILED,
};

struct osc_action {
  enum osc_action_kind kind;
  enum osc_class cls;
  const char *target_id;     /* NULL for a VM without a target */
  const char *target_name;   /* NULL likewise */
  const char *vm_name;       /* NULL for an orphan whose VM is gone */
  const char *reason;        /* "VM gone 12m, grace 10m" */
  const char *policy_reason; /* the hook's own reason (also in reason) */
  bool kept_by_policy;       /* keep where the default would have acted */
  /* A delete of a target octoscale disabled: the disable already spent
   * the budget. */
  bool prepaid;
  enum osc_action_result result;
  const char *result_message; /* set by apply on failure, or the detail of
                                 a done action (OSC_RESULT_ALREADY_GONE) */
};

/* A deployable target: in sync and enabled (the outputs). */
struct osc_target_ref {
  const char *id;
  const char *name;
};

/* All strings are copies in the plan's arena: a plan outlives its input. */
struct osc_plan {
  struct osc_arena arena;
  const char *scale_set; /* the config entry's name */
  enum osc_plan_status status;
  int error_code; /* OSC_E_* behind an OSC_PLAN_ERROR */
  char message[OSC_ERROR_MAX];
  /* Sorted by target name (else VM name), case-insensitively, then id. */
  struct osc_action *actions;
  size_t n_actions;
  size_t class_counts[OSC_CLASS_COUNT];
  size_t n_vms;
  size_t n_in_scope;    /* in-scope targets */
  size_t n_destructive; /* delete + disable actions */
  size_t budget;        /* deletions/disables allowed this run */
  size_t n_kept_by_policy;
  /* Targets orphaned now, with the time first seen (to store in state);
   * a target that is no longer orphaned is dropped. On a stop before
   * classification (rules 1 and 2, a policy error) the input's entries are
   * carried unchanged: unknown is not absent. */
  struct osc_orphan_entry *orphans;
  size_t n_orphans;
  struct osc_target_ref *deployable; /* sorted by name */
  size_t n_deployable;
  /* In-scope targets octoscale disabled that are still disabled, with
   * disabled_since (to store in state; apply adds the disables it does).
   * Like orphans, valid only when the plan classified (osc_state). */
  struct osc_orphan_entry *disabled;
  size_t n_disabled;
};

/* The default ownership rule: a Uniform scale set's targets are named
 * prefix + 6 base-36 characters (or their first 15, as Windows cuts host
 * names), a Flexible one's start with the prefix (case-insensitive). False
 * when the prefix is unknown. */
bool osc_engine_prefix_owns(const struct osc_vmss *vmss, const char *name);

/* Safety rules 1 and 2 on collected data: true, with a one-line message in
 * msg, when it is incomplete or implausible (an empty VM list while the
 * capacity is > 0 or unknown; fewer VMs than the capacity while the scale
 * set is not Updating and no VM is Creating). Such data never leads to a
 * deletion. */
bool osc_engine_data_stop(const struct osc_collection *col, char *msg,
                          size_t cap);

/* Builds the plan. Returns < 0 only when out of memory or misused; policy
 * failures and safety stops are reported in (*out)->status. */
int osc_engine_plan(const struct osc_engine_input *in, struct osc_plan **out,
                    struct osc_error *err);

/* A plan for a scale set that could not be planned at all (collect failed,
 * policy did not load): status and message only. */
int osc_plan_new_failed(const char *scale_set, enum osc_plan_status status,
                        int error_code, const char *message,
                        struct osc_plan **out, struct osc_error *err);

void osc_plan_free(struct osc_plan *plan);

/* True when the plan has delete, disable or enable actions. */
bool osc_plan_has_changes(const struct osc_plan *plan);

/* The exit code of one plan for `plan` (is_apply false) or `apply`:
 * 3 policy/config error, 1 runtime error (for apply also an action whose
 * result is OSC_RESULT_FAILED), 4 safety stop, 5 timeout, 2 changes pending
 * (plan only), else 0. */
int osc_plan_exit_code(const struct osc_plan *plan, bool is_apply);

/* Combines per-scale-set exit codes: the first of 3, 1, 4, 5, 2, 0 present. */
int osc_exit_code_combine(const int *codes, size_t n);

const char *osc_class_name(enum osc_class cls);
const char *osc_action_name(enum osc_action_kind kind);
const char *osc_plan_status_name(enum osc_plan_status status);
const char *osc_decision_name(enum osc_decision d);

/* Budget for n in-scope targets: 0 for a max_delete of 0; else
 * floor(n * pct / 100) raised to min_delete_budget (default 1), or the
 * count. */
size_t osc_budget_limit(const struct osc_budget *b, size_t n_in_scope);

#endif
