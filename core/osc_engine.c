/* The reconcile engine (docs/design.md §6). One pass over the VMs, one over
 * the targets, joined by a hash table of expected target names, so 10,000
 * VMs against 13,000 targets is linear. Working data lives in a scratch arena
 * freed on return; everything the plan exposes is copied into its arena. */
#include "core/osc_engine.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/osc_time.h"

#define GRACE_PROVISIONING_DEFAULT (30 * 60)
#define GRACE_REGISTRATION_DEFAULT (10 * 60)
#define GRACE_ORPHAN_DEFAULT (10 * 60)
#define NAME_CAP 512 /* a policy's target name; longer ones are truncated */
#define REASON_CAP 512
#define NONE ((size_t)-1)
#define OSC_NETBIOS_MAX 15 /* Windows host names */

/* One expected target name: which in-scope targets carry it, which live VMs
 * expect it, and which Deleting VMs did (they never claim a target). */
struct name_slot {
  const char *key; /* NULL: free slot */
  uint64_t hash;
  size_t n_targets, target;
  size_t n_vms, vm;
  size_t n_deleting, deleting;
};

struct target_info {
  bool in_scope;
  bool foreign; /* no VM expects its name and it is not the scale set's */
  bool claimed; /* by a live VM: not an orphan */
  bool copied;
  struct name_slot *slot;
  const char *id; /* plan-arena copies, made on first use */
  const char *name;
};

struct engine {
  const struct osc_engine_input *in;
  const struct osc_collection *col;
  const struct osc_policy_ops *ops;
  struct osc_plan *plan;
  struct osc_arena scratch;
  struct name_slot *names;
  size_t names_mask;
  const struct osc_orphan_entry **since; /* state entries by target id */
  size_t since_mask;
  struct target_info *tinfo;
  struct name_slot **vm_slot; /* per VM; NULL when it expects no name */
  const char **vm_names;      /* per VM: the expected target name */
  size_t n_foreign;
  size_t cap_actions;
  bool policy_failed; /* a hook failed: the plan becomes OSC_PLAN_ERROR */
  /* The reason of the hook answer the next action follows from. */
  const char *hook_reason;
  struct osc_error perr;
};

/* ASCII-only folding, so hashing and comparing agree whatever the locale. */
static int lower(int c) {
  return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int casecmp(const char *a, const char *b) {
  const unsigned char *x = (const unsigned char *)a;
  const unsigned char *y = (const unsigned char *)b;

  while (*x && lower(*x) == lower(*y)) {
    x++;
    y++;
  }
  return lower(*x) - lower(*y);
}

static uint64_t hash_str(const char *s, bool fold) {
  uint64_t h = 14695981039346656037ULL; /* FNV-1a */

  for (; *s; s++) {
    int c = (unsigned char)*s;

    h ^= (uint64_t)(fold ? lower(c) : c);
    h *= 1099511628211ULL;
  }
  return h;
}

static size_t table_size(size_t n) {
  size_t cap = 16;

  while (cap < n * 2)
    cap *= 2;
  return cap;
}

static int nomem(struct osc_error *err) {
  return osc_error_set(err, OSC_E_NOMEM, "engine: out of memory");
}

/* The slot for key (case-insensitive), inserted when absent. The table
 * never fills: it has twice the room of every key that can enter it. */
static struct name_slot *names_get(struct engine *e, const char *key) {
  uint64_t h = hash_str(key, true);
  size_t i = (size_t)h & e->names_mask;

  while (e->names[i].key != NULL) {
    if (e->names[i].hash == h && casecmp(e->names[i].key, key) == 0)
      return &e->names[i];
    i = (i + 1) & e->names_mask;
  }
  e->names[i].key = key;
  e->names[i].hash = h;
  e->names[i].target = e->names[i].vm = e->names[i].deleting = NONE;
  return &e->names[i];
}

static const struct osc_orphan_entry *since_get(const struct engine *e,
                                                const char *id) {
  size_t i;

  if (e->since == NULL || id == NULL)
    return NULL;
  i = (size_t)hash_str(id, false) & e->since_mask;
  while (e->since[i] != NULL) {
    if (strcmp(e->since[i]->target_id, id) == 0)
      return e->since[i];
    i = (i + 1) & e->since_mask;
  }
  return NULL;
}

static int build_since(struct engine *e) {
  size_t cap = table_size(e->in->n_orphans);
  size_t k;

  if (e->in->n_orphans == 0)
    return OSC_OK;
  e->since = osc_arena_alloc(&e->scratch, cap * sizeof(*e->since));
  if (e->since == NULL)
    return OSC_E_NOMEM;
  e->since_mask = cap - 1;
  for (k = 0; k < e->in->n_orphans; k++) {
    const struct osc_orphan_entry *o = &e->in->orphans[k];
    size_t i;

    if (o->target_id == NULL || since_get(e, o->target_id) != NULL)
      continue; /* a duplicate id in state: the first entry wins */
    i = (size_t)hash_str(o->target_id, false) & e->since_mask;
    while (e->since[i] != NULL)
      i = (i + 1) & e->since_mask;
    e->since[i] = o;
  }
  return OSC_OK;
}

bool osc_scope_contains(const struct osc_scope *scope,
                        const struct osc_target *t) {
  size_t i;

  if (scope->environment_id != NULL &&
      !osc_strlist_contains_ci(&t->environment_ids, scope->environment_id))
    return false;
  for (i = 0; i < scope->roles.n; i++) {
    if (!osc_strlist_contains_ci(&t->roles, scope->roles.items[i]))
      return false;
  }
  if (scope->tenant_id != NULL &&
      !osc_strlist_contains_ci(&t->tenant_ids, scope->tenant_id))
    return false;
  return true;
}

/* Records a hook failure; the caller unwinds with the returned code. */
static int hook_failed(struct engine *e, int rc, const char *hook,
                       const struct osc_error *herr) {
  e->policy_failed = true;
  if (herr->msg[0] != '\0')
    osc_error_set(&e->perr, rc, "%s", herr->msg);
  else
    osc_error_set(&e->perr, rc, "policy hook %s failed", hook);
  return rc;
}

/* After a decision hook answered: its reason goes to the next action. */
static void take_reason(struct engine *e) {
  e->hook_reason =
      e->ops->last_reason != NULL ? e->ops->last_reason(e->ops->ud) : NULL;
  if (e->hook_reason != NULL && e->hook_reason[0] == '\0')
    e->hook_reason = NULL;
}

static int bad_decision(struct engine *e, const char *hook, enum osc_decision d,
                        const char *expected) {
  e->policy_failed = true;
  return osc_error_set(&e->perr, OSC_E_POLICY, "%s returned '%s' (expected %s)",
                       hook, osc_decision_name(d), expected);
}

static int expected_name(struct engine *e, const struct osc_vm *vm,
                         const char **out) {
  struct osc_error herr = OSC_ERROR_INIT;
  char buf[NAME_CAP];
  int rc;

  if (e->ops->target_name == NULL) {
    *out = vm->computer_name != NULL && vm->computer_name[0] != '\0'
               ? vm->computer_name
               : vm->name;
    return OSC_OK;
  }
  buf[0] = '\0';
  rc = e->ops->target_name(e->ops->ud, vm, buf, sizeof(buf), &herr);
  if (rc < 0)
    return hook_failed(e, rc, "target_name", &herr);
  buf[sizeof(buf) - 1] = '\0';
  *out = osc_arena_strdup(&e->scratch, buf);
  return *out != NULL ? OSC_OK : OSC_E_NOMEM;
}

bool osc_engine_prefix_owns(const struct osc_vmss *vmss, const char *name) {
  const char *prefix = vmss->computer_name_prefix;
  size_t n, len, i;

  if (prefix == NULL || prefix[0] == '\0' || name == NULL)
    return false;
  n = strlen(prefix);
  len = strlen(name);
  /* Windows cuts host names to 15 characters (NetBIOS): a long prefix's
   * targets are the first 15 characters of prefix + 6. */
  if (vmss->mode == OSC_UNIFORM && n + 6 > OSC_NETBIOS_MAX &&
      len == OSC_NETBIOS_MAX)
    n = n < len ? n : len;
  for (i = 0; i < n; i++) {
    if (lower((unsigned char)name[i]) != lower((unsigned char)prefix[i]))
      return false; /* also stops at the end of a shorter name */
  }
  if (vmss->mode == OSC_FLEXIBLE)
    return true;
  for (i = n; name[i] != '\0'; i++) {
    int c = lower((unsigned char)name[i]);

    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')))
      return false;
  }
  return i == n + 6 || (len == OSC_NETBIOS_MAX && n + 6 > len);
}

/* Ownership of the in-scope targets no VM expects (docs/design.md §6
 * `foreign`): the policy's owns, else the computerNamePrefix rule. Decided
 * before the budget, which counts only the scale set's targets. */
static int mark_foreign(struct engine *e) {
  const struct osc_collection *col = e->col;
  size_t i;

  for (i = 0; i < col->n_targets; i++) {
    struct target_info *ti = &e->tinfo[i];
    const struct name_slot *s = ti->slot;
    bool owned;

    if (!ti->in_scope || (s != NULL && (s->n_vms > 0 || s->n_deleting > 0)))
      continue;
    if (e->ops->owns != NULL) {
      struct osc_error herr = OSC_ERROR_INIT;
      int rc = e->ops->owns(e->ops->ud, &col->targets[i], &owned, &herr);

      if (rc < 0)
        return hook_failed(e, rc, "owns", &herr);
    } else {
      owned = osc_engine_prefix_owns(&col->vmss, col->targets[i].name);
    }
    if (!owned) {
      ti->foreign = true;
      e->n_foreign++;
    }
  }
  return OSC_OK;
}

/* Scopes the targets and joins them with the VMs' expected names. */
static int build_names(struct engine *e) {
  const struct osc_collection *col = e->col;
  size_t n = col->n_targets + col->n_vms;
  size_t cap, i;
  int rc;

  if (n > SIZE_MAX / 4 / sizeof(*e->names))
    return OSC_E_NOMEM;
  cap = table_size(n);
  e->names = osc_arena_alloc(&e->scratch, cap * sizeof(*e->names));
  e->names_mask = cap - 1;
  e->tinfo =
      osc_arena_alloc(&e->scratch, (col->n_targets + 1) * sizeof(*e->tinfo));
  e->vm_slot =
      osc_arena_alloc(&e->scratch, (col->n_vms + 1) * sizeof(*e->vm_slot));
  e->vm_names =
      osc_arena_alloc(&e->scratch, (col->n_vms + 1) * sizeof(*e->vm_names));
  if (e->names == NULL || e->tinfo == NULL || e->vm_slot == NULL ||
      e->vm_names == NULL)
    return OSC_E_NOMEM;

  for (i = 0; i < col->n_targets; i++) {
    const struct osc_target *t = &col->targets[i];
    struct name_slot *s;

    if (!osc_scope_contains(e->in->scope, t))
      continue;
    e->tinfo[i].in_scope = true;
    e->plan->n_in_scope++;
    if (t->name == NULL || t->name[0] == '\0')
      continue; /* nothing can match it: an orphan */
    s = names_get(e, t->name);
    if (s->n_targets++ == 0)
      s->target = i;
    e->tinfo[i].slot = s;
  }

  for (i = 0; i < col->n_vms; i++) {
    const struct osc_vm *vm = &col->vms[i];
    const char *name = NULL;
    struct name_slot *s;

    rc = expected_name(e, vm, &name);
    if (rc < 0)
      return rc;
    e->vm_names[i] = name;
    if (name == NULL || name[0] == '\0')
      continue;
    s = names_get(e, name);
    e->vm_slot[i] = s;
    if (vm->state == OSC_VM_DELETING) {
      if (s->n_deleting++ == 0)
        s->deleting = i;
    } else if (s->n_vms++ == 0) {
      s->vm = i;
    }
  }
  return mark_foreign(e);
}

static int grace(struct engine *e, enum osc_grace_kind kind,
                 const struct osc_vm *vm, const struct osc_target *t,
                 int64_t *out) {
  static const char *const kinds[] = {"provisioning", "registration", "orphan"};
  struct osc_error herr = OSC_ERROR_INIT;
  int rc;

  switch (kind) {
  case OSC_GRACE_PROVISIONING:
    *out = GRACE_PROVISIONING_DEFAULT;
    break;
  case OSC_GRACE_REGISTRATION:
    *out = GRACE_REGISTRATION_DEFAULT;
    break;
  default:
    *out = GRACE_ORPHAN_DEFAULT;
    break;
  }
  if (e->ops->grace == NULL)
    return OSC_OK;
  rc = e->ops->grace(e->ops->ud, kind, vm, t, out, &herr);
  if (rc < 0)
    return hook_failed(e, rc, "grace", &herr);
  if (*out < 0) {
    e->policy_failed = true;
    return osc_error_set(&e->perr, OSC_E_POLICY,
                         "grace.%s returned a negative duration (%lld s)",
                         kinds[kind], (long long)*out);
  }
  return OSC_OK;
}

static int copy_target(struct engine *e, size_t t) {
  struct target_info *ti = &e->tinfo[t];
  const struct osc_target *tg = &e->col->targets[t];

  if (ti->copied)
    return OSC_OK;
  ti->id = osc_arena_strdup(&e->plan->arena, tg->id);
  ti->name = osc_arena_strdup(&e->plan->arena, tg->name);
  if ((tg->id != NULL && ti->id == NULL) ||
      (tg->name != NULL && ti->name == NULL))
    return OSC_E_NOMEM;
  ti->copied = true;
  return OSC_OK;
}

/* Appends an action for target t and/or VM v (NONE when absent). */
static int add_action(struct engine *e, enum osc_action_kind kind,
                      enum osc_class cls, size_t t, size_t v, const char *fmt,
                      ...) __attribute__((format(printf, 6, 7)));

static int add_action(struct engine *e, enum osc_action_kind kind,
                      enum osc_class cls, size_t t, size_t v, const char *fmt,
                      ...) {
  struct osc_plan *plan = e->plan;
  struct osc_action *a;
  char reason[REASON_CAP];
  va_list ap;

  if (plan->n_actions == e->cap_actions)
    return OSC_E_NOMEM; /* cannot happen: one action per VM or target */
  a = &plan->actions[plan->n_actions];
  va_start(ap, fmt);
  vsnprintf(reason, sizeof(reason), fmt, ap);
  va_end(ap);
  a->kind = kind;
  a->cls = cls;
  if (e->hook_reason != NULL) {
    size_t used = strlen(reason);

    snprintf(reason + used, sizeof(reason) - used, ": %s", e->hook_reason);
    a->policy_reason = osc_arena_strdup(&plan->arena, e->hook_reason);
    e->hook_reason = NULL;
    if (a->policy_reason == NULL)
      return OSC_E_NOMEM;
  }
  a->reason = osc_arena_strdup(&plan->arena, reason);
  if (a->reason == NULL)
    return OSC_E_NOMEM;
  if (t != NONE) {
    const struct osc_target *tg = &e->col->targets[t];

    if (copy_target(e, t) < 0)
      return OSC_E_NOMEM;
    a->target_id = e->tinfo[t].id;
    a->target_name = e->tinfo[t].name;
    a->prepaid =
        kind == OSC_ACT_DELETE && tg->disabled && tg->disabled_since > 0;
  }
  if (v != NONE && e->col->vms[v].name != NULL) {
    a->vm_name = osc_arena_strdup(&plan->arena, e->col->vms[v].name);
    if (a->vm_name == NULL)
      return OSC_E_NOMEM;
  }
  plan->n_actions++;
  plan->class_counts[cls]++;
  return OSC_OK;
}

/* A keep where the default would have deleted or disabled. */
static int add_kept(struct engine *e, enum osc_class cls, size_t t, size_t v,
                    const char *reason) {
  int rc = add_action(e, OSC_ACT_KEEP, cls, t, v, "%s", reason);

  if (rc == OSC_OK) {
    e->plan->actions[e->plan->n_actions - 1].kept_by_policy = true;
    e->plan->n_kept_by_policy++;
  }
  return rc;
}

static int add_deployable(struct engine *e, size_t t) {
  struct osc_target_ref *r = &e->plan->deployable[e->plan->n_deployable];

  if (copy_target(e, t) < 0)
    return OSC_E_NOMEM;
  r->id = e->tinfo[t].id;
  r->name = e->tinfo[t].name;
  e->plan->n_deployable++;
  return OSC_OK;
}

static void fmt_age(int64_t seconds, char *out, size_t cap) {
  osc_duration_format(seconds > 0 ? seconds : 0, out, cap);
}

static int plan_in_sync(struct engine *e, size_t v, size_t t) {
  const struct osc_target *tg = &e->col->targets[t];
  struct osc_error herr = OSC_ERROR_INIT;
  enum osc_decision d = OSC_DECIDE_KEEP;
  int rc;

  if (!tg->disabled) {
    rc = add_action(e, OSC_ACT_KEEP, OSC_CLASS_IN_SYNC, t, v, "in sync");
    if (rc < 0)
      return rc;
    return add_deployable(e, t);
  }
  if (e->ops->on_in_sync != NULL) {
    rc = e->ops->on_in_sync(e->ops->ud, &e->col->vms[v], tg, &d, &herr);
    if (rc < 0)
      return hook_failed(e, rc, "on_in_sync", &herr);
    take_reason(e);
  }
  switch (d) {
  case OSC_DECIDE_ENABLE:
    /* Someone disabled it on purpose, as far as octoscale knows. */
    if (tg->disabled_since <= 0 && !e->ops->enable_any_disabled)
      return add_action(e, OSC_ACT_KEEP, OSC_CLASS_IN_SYNC, t, v,
                        "in sync, disabled outside octoscale: not enabled "
                        "(enable_any_disabled allows it)");
    return add_action(e, OSC_ACT_ENABLE, OSC_CLASS_IN_SYNC, t, v,
                      "VM running, target disabled");
  case OSC_DECIDE_KEEP:
    return add_action(e, OSC_ACT_KEEP, OSC_CLASS_IN_SYNC, t, v,
                      "in sync, target disabled");
  default:
    return bad_decision(e, "on_in_sync", d, "keep or enable");
  }
}

static int plan_failed(struct engine *e, size_t v, size_t t) {
  const struct osc_target *tg;
  struct osc_error herr = OSC_ERROR_INIT;
  enum osc_decision d = OSC_DECIDE_DELETE;
  int rc;

  if (t == NONE)
    return add_action(e, OSC_ACT_REPORT, OSC_CLASS_FAILED_VM, NONE, v,
                      "VM provisioning Failed, no target");
  tg = &e->col->targets[t];
  if (e->ops->on_failed_vm != NULL) {
    rc = e->ops->on_failed_vm(e->ops->ud, &e->col->vms[v], tg, &d, &herr);
    if (rc < 0)
      return hook_failed(e, rc, "on_failed_vm", &herr);
    take_reason(e);
  }
  switch (d) {
  case OSC_DECIDE_DELETE:
    return add_action(e, OSC_ACT_DELETE, OSC_CLASS_FAILED_VM, t, v,
                      "VM provisioning Failed");
  case OSC_DECIDE_DISABLE:
    /* Disabling a disabled target changes nothing; don't spend budget. */
    if (tg->disabled)
      return add_kept(e, OSC_CLASS_FAILED_VM, t, v,
                      "VM provisioning Failed, already disabled");
    return add_action(e, OSC_ACT_DISABLE, OSC_CLASS_FAILED_VM, t, v,
                      "VM provisioning Failed");
  case OSC_DECIDE_KEEP:
    return add_kept(e, OSC_CLASS_FAILED_VM, t, v,
                    "VM provisioning Failed, kept by policy");
  default:
    return bad_decision(e, "on_failed_vm", d, "delete, disable or keep");
  }
}

/* A VM that is up (or in an unknown state) but has no target. */
static int plan_no_target(struct engine *e, size_t v) {
  const struct osc_vm *vm = &e->col->vms[v];
  struct osc_error herr = OSC_ERROR_INIT;
  enum osc_decision d = OSC_DECIDE_REPORT;
  char age[32], limit[32];
  int64_t g;
  int rc;

  rc = grace(e, OSC_GRACE_REGISTRATION, vm, NULL, &g);
  if (rc < 0)
    return rc;
  fmt_age(e->in->now - vm->created_at, age, sizeof(age));
  fmt_age(g, limit, sizeof(limit));
  /* An unknown creation time counts as past the grace: reporting is the
   * only consequence, and waiting forever would hide a broken VM. */
  if (vm->created_at > 0 && e->in->now - vm->created_at < g)
    return add_action(e, OSC_ACT_WAIT, OSC_CLASS_PROVISIONING, NONE, v,
                      "no target yet, %s of %s registration grace", age, limit);
  if (e->ops->on_unregistered != NULL) {
    rc = e->ops->on_unregistered(e->ops->ud, vm, &d, &herr);
    if (rc < 0)
      return hook_failed(e, rc, "on_unregistered", &herr);
    take_reason(e);
  }
  switch (d) {
  case OSC_DECIDE_REPORT:
    if (vm->created_at <= 0)
      return add_action(e, OSC_ACT_REPORT, OSC_CLASS_UNREGISTERED, NONE, v,
                        "VM of unknown age with no target (registration "
                        "grace %s)",
                        limit);
    return add_action(e, OSC_ACT_REPORT, OSC_CLASS_UNREGISTERED, NONE, v,
                      "VM up %s with no target (registration grace %s)", age,
                      limit);
  case OSC_DECIDE_IGNORE:
    e->hook_reason = NULL;
    e->plan->class_counts[OSC_CLASS_UNREGISTERED]++;
    return OSC_OK;
  default:
    return bad_decision(e, "on_unregistered", d, "report or ignore");
  }
}

static int plan_vm(struct engine *e, size_t v) {
  const struct osc_vm *vm = &e->col->vms[v];
  const struct name_slot *s = e->vm_slot[v];
  size_t t;
  char age[32];

  if (vm->state == OSC_VM_DELETING)
    return OSC_OK; /* its target, if any, is handled as an orphan */
  if (s != NULL && s->n_vms > 1)
    return add_action(e, OSC_ACT_REPORT, OSC_CLASS_CONFLICT, NONE, v,
                      "%zu VMs expect target name '%s'; not guessing", s->n_vms,
                      e->vm_names[v]);
  if (s != NULL && s->n_targets > 1)
    return add_action(e, OSC_ACT_REPORT, OSC_CLASS_CONFLICT, NONE, v,
                      "%zu targets named '%s'; not guessing", s->n_targets,
                      e->vm_names[v]);
  t = s != NULL && s->n_targets == 1 ? s->target : NONE;
  if (t != NONE)
    e->tinfo[t].claimed = true;

  switch (vm->state) {
  case OSC_VM_CREATING:
    if (vm->created_at <= 0)
      return add_action(e, OSC_ACT_WAIT, OSC_CLASS_PROVISIONING, t, v,
                        "VM Creating");
    fmt_age(e->in->now - vm->created_at, age, sizeof(age));
    return add_action(e, OSC_ACT_WAIT, OSC_CLASS_PROVISIONING, t, v,
                      "VM Creating for %s", age);
  case OSC_VM_FAILED:
    return plan_failed(e, v, t);
  default: /* Succeeded, Updating, Migrating, Unknown */
    return t != NONE ? plan_in_sync(e, v, t) : plan_no_target(e, v);
  }
}

static int plan_orphan(struct engine *e, size_t t) {
  const struct osc_target *tg = &e->col->targets[t];
  const struct name_slot *s = e->tinfo[t].slot;
  size_t v = s != NULL && s->n_deleting > 0 ? s->deleting : NONE;
  const struct osc_orphan_entry *known = since_get(e, tg->id);
  /* The age counts from the first run that saw the target orphaned; on
   * that first sighting nothing says how long the VM has been Deleting or
   * gone (or that one ever existed), so say only what is known. */
  const char *what = v != NONE       ? "VM Deleting"
                     : known == NULL ? "no VM with this name"
                                     : "VM gone";
  struct osc_plan *plan = e->plan;
  struct osc_orphan_entry *o;
  struct osc_error herr = OSC_ERROR_INIT;
  enum osc_decision d = OSC_DECIDE_DELETE;
  char age[32], limit[32], seen[64], kept[96];
  int64_t since, g;
  int rc;

  since = known != NULL ? known->since : e->in->now;
  if (copy_target(e, t) < 0)
    return OSC_E_NOMEM;
  if (e->tinfo[t].id != NULL) {
    o = &plan->orphans[plan->n_orphans++];
    o->target_id = e->tinfo[t].id;
    o->since = since;
  }
  rc = grace(e, OSC_GRACE_ORPHAN, v != NONE ? &e->col->vms[v] : NULL, tg, &g);
  if (rc < 0)
    return rc;
  fmt_age(e->in->now - since, age, sizeof(age));
  if (known == NULL)
    snprintf(seen, sizeof(seen), "%s", what);
  else
    snprintf(seen, sizeof(seen), "%s%s %s", what, v != NONE ? " for" : "", age);
  fmt_age(g, limit, sizeof(limit));
  if (e->in->now - since < g)
    return add_action(e, OSC_ACT_WAIT, OSC_CLASS_ORPHAN, t, v, "%s, grace %s",
                      seen, limit);
  if (e->ops->on_scale_in != NULL) {
    rc = e->ops->on_scale_in(e->ops->ud, tg, since, &d, &herr);
    if (rc < 0)
      return hook_failed(e, rc, "on_scale_in", &herr);
    take_reason(e);
  }
  switch (d) {
  case OSC_DECIDE_DELETE:
    return add_action(e, OSC_ACT_DELETE, OSC_CLASS_ORPHAN, t, v, "%s, grace %s",
                      seen, limit);
  case OSC_DECIDE_DISABLE:
    /* Conservative policies would otherwise spend budget every run. */
    if (tg->disabled) {
      snprintf(kept, sizeof(kept), "%s, already disabled", seen);
      return add_kept(e, OSC_CLASS_ORPHAN, t, v, kept);
    }
    return add_action(e, OSC_ACT_DISABLE, OSC_CLASS_ORPHAN, t, v,
                      "%s, grace %s", seen, limit);
  case OSC_DECIDE_KEEP:
    snprintf(kept, sizeof(kept), "%s, kept by policy", seen);
    return add_kept(e, OSC_CLASS_ORPHAN, t, v, kept);
  default:
    return bad_decision(e, "on_scale_in", d, "delete, disable or keep");
  }
}

/* Reported, never deleted, disabled or counted in the budget. */
static int plan_foreign(struct engine *e, size_t t) {
  const struct osc_vmss *v = &e->col->vmss;

  if (e->ops->owns != NULL)
    return add_action(e, OSC_ACT_REPORT, OSC_CLASS_FOREIGN, t, NONE,
                      "not the scale set's (policy owns); never touched");
  if (v->computer_name_prefix == NULL || v->computer_name_prefix[0] == '\0')
    return add_action(e, OSC_ACT_REPORT, OSC_CLASS_FOREIGN, t, NONE,
                      "the scale set reports no computerNamePrefix to tell "
                      "its targets (define owns in the policy); never "
                      "touched");
  return add_action(e, OSC_ACT_REPORT, OSC_CLASS_FOREIGN, t, NONE,
                    "name outside computerNamePrefix '%.100s'%s; never "
                    "touched",
                    v->computer_name_prefix,
                    v->mode == OSC_FLEXIBLE ? "" : " + 6 characters");
}

static int plan_target(struct engine *e, size_t t) {
  const struct target_info *ti = &e->tinfo[t];
  const struct name_slot *s = ti->slot;
  size_t v;

  if (!ti->in_scope || ti->claimed)
    return OSC_OK;
  if (ti->foreign)
    return plan_foreign(e, t);
  if (s != NULL && (s->n_targets > 1 || s->n_vms > 1)) {
    v = s->n_vms == 1 ? s->vm : NONE; /* the VM it would have matched */
    if (s->n_targets > 1)
      return add_action(e, OSC_ACT_REPORT, OSC_CLASS_CONFLICT, t, v,
                        "%zu targets named '%s'; not guessing", s->n_targets,
                        e->col->targets[t].name);
    return add_action(e, OSC_ACT_REPORT, OSC_CLASS_CONFLICT, t, v,
                      "%zu VMs expect target name '%s'; not guessing", s->n_vms,
                      e->col->targets[t].name);
  }
  return plan_orphan(e, t);
}

static int strcmp_null(const char *a, const char *b) {
  if (a == NULL || b == NULL)
    return (a != NULL) - (b != NULL);
  return strcmp(a, b);
}

static int cmp_action(const void *pa, const void *pb) {
  const struct osc_action *a = pa;
  const struct osc_action *b = pb;
  const char *ka = a->target_name ? a->target_name : a->vm_name;
  const char *kb = b->target_name ? b->target_name : b->vm_name;
  int r;

  r = casecmp(ka ? ka : "", kb ? kb : "");
  if (r == 0)
    r = strcmp_null(ka, kb);
  if (r == 0)
    r = strcmp_null(a->target_id, b->target_id);
  if (r == 0)
    r = strcmp_null(a->vm_name, b->vm_name);
  if (r == 0)
    r = (int)a->kind - (int)b->kind;
  return r;
}

static int cmp_ref(const void *pa, const void *pb) {
  const struct osc_target_ref *a = pa;
  const struct osc_target_ref *b = pb;
  int r;

  r = casecmp(a->name ? a->name : "", b->name ? b->name : "");
  if (r == 0)
    r = strcmp_null(a->name, b->name);
  if (r == 0)
    r = strcmp_null(a->id, b->id);
  return r;
}

/* On a stop before classification the state's clocks are neither reset nor
 * started: unknown is not absent. */
static int carry_orphans(struct engine *e) {
  struct osc_plan *plan = e->plan;
  size_t k;

  plan->n_orphans = 0;
  if (e->in->n_orphans == 0)
    return OSC_OK;
  plan->orphans =
      osc_arena_alloc(&plan->arena, e->in->n_orphans * sizeof(*plan->orphans));
  if (plan->orphans == NULL)
    return OSC_E_NOMEM;
  for (k = 0; k < e->in->n_orphans; k++) {
    const struct osc_orphan_entry *o = &e->in->orphans[k];
    struct osc_orphan_entry *c = &plan->orphans[plan->n_orphans];

    if (o->target_id == NULL)
      continue;
    c->target_id = osc_arena_strdup(&plan->arena, o->target_id);
    if (c->target_id == NULL)
      return OSC_E_NOMEM;
    c->since = o->since;
    plan->n_orphans++;
  }
  return OSC_OK;
}

static bool ieq(const char *a, const char *b) {
  return a != NULL && casecmp(a, b) == 0;
}

/* The scale set is between states: VMs may be missing from the list. */
static bool in_flux(const struct osc_collection *col) {
  size_t i;

  if (ieq(col->vmss.provisioning_state, "Updating") ||
      ieq(col->vmss.provisioning_state, "Creating"))
    return true;
  for (i = 0; i < col->n_vms; i++) {
    if (col->vms[i].state == OSC_VM_CREATING)
      return true;
  }
  return false;
}

bool osc_engine_data_stop(const struct osc_collection *col, char *msg,
                          size_t cap) {
  const struct osc_vmss *v = &col->vmss;

  if (!col->complete)
    snprintf(
        msg, cap, "safety stop: %.900s; nothing will be deleted or disabled",
        col->incomplete_reason[0] ? col->incomplete_reason : "incomplete read");
  else if (!col->have_vmss)
    snprintf(msg, cap,
             "safety stop: the scale set was not read; nothing will be "
             "deleted or disabled");
  else if (v->capacity > 0 && col->n_vms == 0)
    snprintf(msg, cap,
             "implausible data: the scale set reports capacity %lld but the "
             "VM list is empty",
             (long long)v->capacity);
  else if (v->capacity < 0 && col->n_vms == 0)
    snprintf(msg, cap,
             "implausible data: the scale set's capacity is unknown (%.200s) "
             "and the VM list is empty; nothing will be deleted or disabled",
             v->capacity_problem ? v->capacity_problem : "not reported");
  else if (v->capacity > 0 && (uint64_t)col->n_vms < (uint64_t)v->capacity &&
           !in_flux(col))
    snprintf(msg, cap,
             "implausible data: the scale set reports capacity %lld but the "
             "VM list has %zu VMs, while the scale set is not Updating and no "
             "VM is Creating; nothing will be deleted or disabled",
             (long long)v->capacity, col->n_vms);
  else
    return false;
  return true;
}

/* Safety rules 1 and 2: decided before any policy hook runs. */
static bool data_stop(struct engine *e) {
  struct osc_plan *plan = e->plan;

  if (!osc_engine_data_stop(e->col, plan->message, sizeof(plan->message)))
    return false;
  plan->status = OSC_PLAN_SAFETY_STOP;
  return true;
}

/* max_delete of this run: the policy's function (called once, after the
 * hooks) or its constant. */
static int run_budget(struct engine *e, struct osc_budget *out) {
  struct osc_error herr = OSC_ERROR_INIT;
  int rc;

  *out = e->ops->max_delete;
  if (e->ops->max_delete_fn == NULL)
    return OSC_OK;
  rc = e->ops->max_delete_fn(e->ops->ud, out, &herr);
  if (rc < 0)
    return hook_failed(e, rc, "max_delete", &herr);
  out->min_set = e->ops->max_delete.min_set;
  out->min = e->ops->max_delete.min;
  e->plan->budget = osc_budget_limit(out, e->plan->n_in_scope - e->n_foreign);
  return OSC_OK;
}

/* "max_delete 20% of 6 in-scope targets (min_delete_budget 2)" */
static void describe_budget(const struct osc_budget *b, size_t n_in_scope,
                            char *out, size_t cap) {
  if (!b->percent)
    snprintf(out, cap, "max_delete %g", b->value);
  else if (b->min_set && b->value > 0)
    snprintf(out, cap,
             "max_delete %g%% of %zu in-scope targets (min_delete_budget "
             "%zu)",
             b->value, n_in_scope, b->min);
  else
    snprintf(out, cap, "max_delete %g%% of %zu in-scope targets", b->value,
             n_in_scope);
}

/* Safety rule 3. A budget of 0 is the policy saying "never": --force does
 * not lift it. */
static int check_budget(struct engine *e) {
  struct osc_plan *plan = e->plan;
  struct osc_budget b;
  char what[160];
  size_t i;
  int rc;

  rc = run_budget(e, &b);
  if (rc < 0)
    return rc;
  for (i = 0; i < plan->n_actions; i++) {
    if ((plan->actions[i].kind == OSC_ACT_DELETE &&
         !plan->actions[i].prepaid) ||
        plan->actions[i].kind == OSC_ACT_DISABLE)
      plan->n_destructive++;
  }
  if (plan->n_destructive <= plan->budget || (e->in->force && plan->budget > 0))
    return OSC_OK;
  plan->status = OSC_PLAN_SAFETY_STOP;
  /* foreign targets are never counted (docs/design.md section 6) */
  describe_budget(&b, plan->n_in_scope - e->n_foreign, what, sizeof(what));
  if (plan->budget == 0)
    snprintf(plan->message, sizeof(plan->message),
             "deletion budget exceeded: %zu targets to delete or disable, "
             "%s allows none (--force does not override a budget of 0)",
             plan->n_destructive, what);
  else
    snprintf(plan->message, sizeof(plan->message),
             "deletion budget exceeded: %zu targets to delete or disable, "
             "%s allows %zu (--force overrides)",
             plan->n_destructive, what, plan->budget);
  return OSC_OK;
}

static int classify(struct engine *e) {
  const struct osc_collection *col = e->col;
  struct osc_plan *plan = e->plan;
  size_t i;
  int rc;

  e->cap_actions = col->n_vms + col->n_targets;
  plan->actions = osc_arena_alloc(&plan->arena, (e->cap_actions + 1) *
                                                    sizeof(*plan->actions));
  plan->deployable = osc_arena_alloc(
      &plan->arena, (plan->n_in_scope + 1) * sizeof(*plan->deployable));
  plan->orphans = osc_arena_alloc(&plan->arena, (plan->n_in_scope + 1) *
                                                    sizeof(*plan->orphans));
  if (plan->actions == NULL || plan->deployable == NULL ||
      plan->orphans == NULL)
    return OSC_E_NOMEM;
  for (i = 0; i < col->n_vms; i++) {
    rc = plan_vm(e, i);
    if (rc < 0)
      return rc;
  }
  for (i = 0; i < col->n_targets; i++) {
    rc = plan_target(e, i);
    if (rc < 0)
      return rc;
  }
  qsort(plan->actions, plan->n_actions, sizeof(*plan->actions), cmp_action);
  qsort(plan->deployable, plan->n_deployable, sizeof(*plan->deployable),
        cmp_ref);
  return check_budget(e);
}

/* Policy memory carried to the state: in-scope targets octoscale disabled
 * that are still disabled. */
static int keep_disabled(struct engine *e) {
  struct osc_plan *plan = e->plan;
  size_t i;

  plan->disabled = osc_arena_alloc(&plan->arena, (plan->n_in_scope + 1) *
                                                     sizeof(*plan->disabled));
  if (plan->disabled == NULL)
    return OSC_E_NOMEM;
  for (i = 0; i < e->col->n_targets; i++) {
    const struct osc_target *tg = &e->col->targets[i];
    struct osc_orphan_entry *d;

    if (!e->tinfo[i].in_scope || !tg->disabled || tg->disabled_since <= 0 ||
        plan->n_disabled > plan->n_in_scope)
      continue;
    if (copy_target(e, i) < 0 || e->tinfo[i].id == NULL)
      return OSC_E_NOMEM;
    d = &plan->disabled[plan->n_disabled++];
    d->target_id = e->tinfo[i].id;
    d->since = tg->disabled_since;
  }
  return OSC_OK;
}

static int cmp_record_id(const void *pa, const void *pb) {
  const struct osc_orphan_entry *a = pa;
  const struct osc_orphan_entry *b = pb;

  return strcmp_null(a->target_id, b->target_id);
}

int osc_collection_mark_disabled(struct osc_collection *c,
                                 const struct osc_orphan_entry *records,
                                 size_t n) {
  struct osc_orphan_entry *sorted;
  size_t i;

  for (i = 0; i < c->n_targets; i++)
    c->targets[i].disabled_since = 0;
  if (n == 0 || records == NULL)
    return OSC_OK;
  sorted = malloc(n * sizeof(*sorted));
  if (sorted == NULL)
    return OSC_E_NOMEM;
  memcpy(sorted, records, n * sizeof(*sorted));
  qsort(sorted, n, sizeof(*sorted), cmp_record_id);
  for (i = 0; i < c->n_targets; i++) {
    struct osc_target *t = &c->targets[i];
    struct osc_orphan_entry key = {t->id, 0};
    const struct osc_orphan_entry *hit;

    if (!t->disabled || t->id == NULL)
      continue;
    hit = bsearch(&key, sorted, n, sizeof(*sorted), cmp_record_id);
    if (hit != NULL && hit->since > 0)
      t->disabled_since = hit->since;
  }
  free(sorted);
  return OSC_OK;
}

/* A hook failed: the plan keeps its status and message only. */
static int to_error_plan(struct engine *e) {
  struct osc_plan *plan = e->plan;

  plan->status = OSC_PLAN_ERROR;
  plan->error_code = e->perr.code < 0 ? e->perr.code : OSC_E_POLICY;
  snprintf(plan->message, sizeof(plan->message), "%s", e->perr.msg);
  plan->n_actions = 0;
  plan->n_deployable = 0;
  plan->n_destructive = 0;
  plan->n_kept_by_policy = 0;
  memset(plan->class_counts, 0, sizeof(plan->class_counts));
  return carry_orphans(e);
}

static bool valid_input(const struct osc_engine_input *in) {
  const struct osc_collection *col;

  if (in == NULL || in->collection == NULL || in->scope == NULL ||
      in->policy == NULL)
    return false;
  col = in->collection;
  if ((col->n_vms > 0 && col->vms == NULL) ||
      (col->n_targets > 0 && col->targets == NULL) ||
      (in->n_orphans > 0 && in->orphans == NULL) ||
      (in->scope->roles.n > 0 && in->scope->roles.items == NULL))
    return false;
  return true;
}

int osc_engine_plan(const struct osc_engine_input *in, struct osc_plan **out,
                    struct osc_error *err) {
  struct engine e;
  struct osc_plan *plan = NULL;
  size_t i;
  int rc;

  memset(&e, 0, sizeof(e));
  if (out != NULL)
    *out = NULL;
  if (out == NULL || !valid_input(in))
    return osc_error_set(err, OSC_E_RUNTIME, "engine: invalid input");
  e.in = in;
  e.col = in->collection;
  e.ops = in->policy;
  plan = calloc(1, sizeof(*plan));
  if (plan == NULL)
    return nomem(err);
  e.plan = plan;
  plan->n_vms = e.col->n_vms;
  plan->scale_set = osc_arena_strdup(
      &plan->arena, e.col->entry_name ? e.col->entry_name : "");
  if (plan->scale_set == NULL) {
    rc = OSC_E_NOMEM;
    goto done;
  }
  rc = build_since(&e);
  if (rc < 0)
    goto done;
  if (data_stop(&e)) {
    /* Count the scope for the summary, but ask the policy nothing. */
    for (i = 0; i < e.col->n_targets; i++)
      plan->n_in_scope += osc_scope_contains(in->scope, &e.col->targets[i]);
    plan->budget = osc_budget_limit(&e.ops->max_delete, plan->n_in_scope);
    rc = carry_orphans(&e);
    goto done;
  }
  rc = build_names(&e);
  /* Foreign targets are never counted in the budget. */
  plan->budget =
      osc_budget_limit(&e.ops->max_delete, plan->n_in_scope - e.n_foreign);
  if (rc == OSC_OK)
    rc = classify(&e);
  if (rc == OSC_OK)
    rc = keep_disabled(&e);
  if (rc < 0 && e.policy_failed)
    rc = to_error_plan(&e);

done:
  osc_arena_free(&e.scratch);
  if (rc < 0) {
    /* Hook failures became an error plan above: only memory is left. */
    osc_plan_free(plan);
    return nomem(err);
  }
  *out = plan;
  return OSC_OK;
}

int osc_plan_new_failed(const char *scale_set, enum osc_plan_status status,
                        int error_code, const char *message,
                        struct osc_plan **out, struct osc_error *err) {
  struct osc_plan *plan;

  if (out == NULL)
    return osc_error_set(err, OSC_E_RUNTIME, "engine: invalid input");
  *out = NULL;
  plan = calloc(1, sizeof(*plan));
  if (plan == NULL)
    return nomem(err);
  plan->scale_set =
      osc_arena_strdup(&plan->arena, scale_set != NULL ? scale_set : "");
  if (plan->scale_set == NULL) {
    osc_plan_free(plan);
    return nomem(err);
  }
  plan->status = status;
  plan->error_code = error_code;
  snprintf(plan->message, sizeof(plan->message), "%s",
           message != NULL ? message : "");
  *out = plan;
  return OSC_OK;
}

void osc_plan_free(struct osc_plan *plan) {
  if (plan == NULL)
    return;
  osc_arena_free(&plan->arena);
  free(plan);
}

bool osc_plan_has_changes(const struct osc_plan *plan) {
  size_t i;

  if (plan == NULL)
    return false;
  for (i = 0; i < plan->n_actions; i++) {
    switch (plan->actions[i].kind) {
    case OSC_ACT_ENABLE:
    case OSC_ACT_DISABLE:
    case OSC_ACT_DELETE:
      return true;
    default:
      break;
    }
  }
  return false;
}

int osc_plan_exit_code(const struct osc_plan *plan, bool is_apply) {
  size_t i;

  if (plan == NULL)
    return 1;
  switch (plan->status) {
  case OSC_PLAN_ERROR:
    /* An error plan without a code is still a failure, never 0. */
    return plan->error_code < 0 ? osc_error_exit_code(plan->error_code) : 1;
  case OSC_PLAN_SAFETY_STOP:
    return 4;
  case OSC_PLAN_TIMEOUT:
    return 5;
  default:
    break;
  }
  if (!is_apply)
    return osc_plan_has_changes(plan) ? 2 : 0;
  for (i = 0; i < plan->n_actions; i++) {
    if (plan->actions[i].result == OSC_RESULT_FAILED)
      return 1; /* an action that failed after retries (docs/design.md §4) */
  }
  return 0;
}

int osc_exit_code_combine(const int *codes, size_t n) {
  static const int order[] = {3, 1, 4, 5, 2};
  size_t i, k;

  for (k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
    for (i = 0; i < n; i++) {
      if (codes[i] == order[k])
        return order[k];
    }
  }
  /* A code outside the contract is a failure all the same. */
  for (i = 0; i < n; i++) {
    if (codes[i] != 0)
      return 1;
  }
  return 0;
}

const char *osc_class_name(enum osc_class cls) {
  switch (cls) {
  case OSC_CLASS_IN_SYNC:
    return "in_sync";
  case OSC_CLASS_PROVISIONING:
    return "provisioning";
  case OSC_CLASS_UNREGISTERED:
    return "unregistered";
  case OSC_CLASS_FAILED_VM:
    return "failed_vm";
  case OSC_CLASS_ORPHAN:
    return "orphan";
  case OSC_CLASS_CONFLICT:
    return "conflict";
  case OSC_CLASS_FOREIGN:
    return "foreign";
  default:
    return "unknown";
  }
}

const char *osc_action_name(enum osc_action_kind kind) {
  switch (kind) {
  case OSC_ACT_KEEP:
    return "keep";
  case OSC_ACT_WAIT:
    return "wait";
  case OSC_ACT_REPORT:
    return "report";
  case OSC_ACT_ENABLE:
    return "enable";
  case OSC_ACT_DISABLE:
    return "disable";
  case OSC_ACT_DELETE:
    return "delete";
  default:
    return "unknown";
  }
}

const char *osc_plan_status_name(enum osc_plan_status status) {
  switch (status) {
  case OSC_PLAN_OK:
    return "ok";
  case OSC_PLAN_SAFETY_STOP:
    return "safety_stop";
  case OSC_PLAN_ERROR:
    return "error";
  case OSC_PLAN_TIMEOUT:
    return "timeout";
  default:
    return "unknown";
  }
}

const char *osc_decision_name(enum osc_decision d) {
  switch (d) {
  case OSC_DECIDE_KEEP:
    return "keep";
  case OSC_DECIDE_DELETE:
    return "delete";
  case OSC_DECIDE_DISABLE:
    return "disable";
  case OSC_DECIDE_ENABLE:
    return "enable";
  case OSC_DECIDE_REPORT:
    return "report";
  case OSC_DECIDE_IGNORE:
    return "ignore";
  default:
    return "unknown";
  }
}

size_t osc_budget_limit(const struct osc_budget *b, size_t n_in_scope) {
  size_t min;
  double limit;

  if (b == NULL)
    return 1;
  if (!(b->value > 0)) /* 0 means none; negative or NaN never gets here */
    return 0;
  if (!b->percent) {
    limit = floor(b->value);
    min = 0;
  } else {
    /* The epsilon keeps 0.3% of 1000 at 3 despite binary fractions. */
    limit = floor((double)n_in_scope * b->value / 100.0 + 1e-9);
    min = b->min_set ? b->min : 1;
  }
  if (limit >= (double)SIZE_MAX)
    return SIZE_MAX;
  if (limit < (double)min)
    return min;
  return limit < 1 ? 0 : (size_t)limit;
}
