/* The reconcile engine against docs/design.md §6: every class, every safety
 * rule, scoping, matching and the exit codes. Collections are built by hand
 * in the collection's arena; the policy is a table of C callbacks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/osc_engine.h"
#include "core/osc_time.h"

#define NOW 1795773600 /* 2026-11-27T10:00:00Z, as OCTOSCALE_NOW in tests */
#define MIN 60
#define NONE_CREATED 0

/* --- a policy implemented in C ---------------------------------------- */

struct tpolicy {
  enum osc_decision scale_in, failed_vm, unregistered, in_sync;
  int64_t grace[3];
  const char *prefix;    /* target_name = prefix + computer name */
  const char *fail_hook; /* this hook fails ... */
  int fail_code;         /* ... with this code ... */
  const char *fail_msg;  /* ... and this message (NULL: none) */
  int calls_grace[3];
  int calls_scale_in, calls_failed_vm, calls_unregistered, calls_in_sync;
  int calls_target_name;
  int calls_owns;
  const char *owns_prefix; /* owns: the name starts with it */
  int64_t last_since;
};

static int tp_fail(struct tpolicy *tp, const char *hook,
                   struct osc_error *err) {
  if (tp->fail_hook == NULL || strcmp(tp->fail_hook, hook) != 0)
    return 0;
  if (tp->fail_msg == NULL)
    return tp->fail_code;
  return osc_error_set(err, tp->fail_code, "%s", tp->fail_msg);
}

static int tp_target_name(void *ud, const struct osc_vm *vm, char *out,
                          size_t cap, struct osc_error *err) {
  struct tpolicy *tp = ud;
  const char *base = vm->computer_name ? vm->computer_name : vm->name;

  tp->calls_target_name++;
  if (tp_fail(tp, "target_name", err) < 0)
    return tp->fail_code;
  snprintf(out, cap, "%s%s", tp->prefix ? tp->prefix : "", base);
  return 0;
}

static int tp_grace(void *ud, enum osc_grace_kind kind, const struct osc_vm *vm,
                    const struct osc_target *target, int64_t *out,
                    struct osc_error *err) {
  struct tpolicy *tp = ud;

  tp->calls_grace[kind]++;
  if (tp_fail(tp, "grace", err) < 0)
    return tp->fail_code;
  /* The subject matches the kind (docs/design.md §7). */
  if (kind == OSC_GRACE_ORPHAN)
    assert_non_null(target);
  else
    assert_non_null(vm);
  *out = tp->grace[kind];
  return 0;
}

static int tp_scale_in(void *ud, const struct osc_target *target, int64_t since,
                       enum osc_decision *out, struct osc_error *err) {
  struct tpolicy *tp = ud;

  tp->calls_scale_in++;
  tp->last_since = since;
  if (tp_fail(tp, "on_scale_in", err) < 0)
    return tp->fail_code;
  *out = tp->scale_in;
  return 0;
}

static int tp_failed_vm(void *ud, const struct osc_vm *vm,
                        const struct osc_target *target, enum osc_decision *out,
                        struct osc_error *err) {
  struct tpolicy *tp = ud;

  tp->calls_failed_vm++;
  if (tp_fail(tp, "on_failed_vm", err) < 0)
    return tp->fail_code;
  *out = tp->failed_vm;
  return 0;
}

static int tp_unregistered(void *ud, const struct osc_vm *vm,
                           enum osc_decision *out, struct osc_error *err) {
  struct tpolicy *tp = ud;

  tp->calls_unregistered++;
  if (tp_fail(tp, "on_unregistered", err) < 0)
    return tp->fail_code;
  *out = tp->unregistered;
  return 0;
}

static int tp_in_sync(void *ud, const struct osc_vm *vm,
                      const struct osc_target *target, enum osc_decision *out,
                      struct osc_error *err) {
  struct tpolicy *tp = ud;

  tp->calls_in_sync++;
  if (tp_fail(tp, "on_in_sync", err) < 0)
    return tp->fail_code;
  *out = tp->in_sync;
  return 0;
}

static int tp_owns(void *ud, const struct osc_target *target, bool *out,
                   struct osc_error *err) {
  struct tpolicy *tp = ud;
  const char *p = tp->owns_prefix ? tp->owns_prefix : "";

  tp->calls_owns++;
  if (tp_fail(tp, "owns", err) < 0)
    return tp->fail_code;
  *out = strncasecmp(target->name, p, strlen(p)) == 0;
  return 0;
}

/* --- fixture ----------------------------------------------------------- */

struct fx {
  struct osc_collection c;
  size_t vm_cap, t_cap;
  struct osc_scope scope;
  const char *roles[2];
  struct osc_policy_ops ops;
  struct tpolicy tp;
  struct osc_orphan_entry orphans[16];
  size_t n_orphans;
  bool force;
  struct osc_plan *plan;
  struct osc_error err;
};

static int fx_setup(void **state) {
  struct fx *f = calloc(1, sizeof(*f));
  const struct osc_policy_ops defaults = {.max_delete = OSC_BUDGET_DEFAULT};

  assert_non_null(f);
  osc_collection_init(&f->c, "web-prod");
  f->c.have_vmss = true;
  f->c.vmss.name = "vmss-web";
  f->c.vmss.capacity = 0;                 /* add_vm keeps it equal to the VMs */
  f->c.vmss.computer_name_prefix = "web"; /* targets web + 6 characters */
  f->roles[0] = "web-server";
  f->roles[1] = "vmss-web";
  f->scope.environment_id = "Environments-1";
  f->scope.roles.items = f->roles;
  f->scope.roles.n = 2;
  f->ops = defaults; /* every callback NULL: the documented defaults */
  f->tp.scale_in = OSC_DECIDE_DELETE;
  f->tp.failed_vm = OSC_DECIDE_DELETE;
  f->tp.unregistered = OSC_DECIDE_REPORT;
  f->tp.in_sync = OSC_DECIDE_KEEP;
  f->tp.grace[OSC_GRACE_PROVISIONING] = 30 * MIN;
  f->tp.grace[OSC_GRACE_REGISTRATION] = 10 * MIN;
  f->tp.grace[OSC_GRACE_ORPHAN] = 10 * MIN;
  f->tp.fail_code = OSC_E_POLICY;
  *state = f;
  return 0;
}

static int fx_teardown(void **state) {
  struct fx *f = *state;

  osc_plan_free(f->plan);
  osc_collection_free(&f->c);
  free(f);
  return 0;
}

/* A second fixture inside a table-driven test. */
static struct fx *fx_new(void) {
  void *f = NULL;

  fx_setup(&f);
  return f;
}

static void fx_del(struct fx *f) {
  void *s = f;

  fx_teardown(&s);
}

/* Routes every hook through the C test policy. */
static void fx_policy(struct fx *f) {
  f->ops.ud = &f->tp;
  f->ops.target_name = tp_target_name;
  f->ops.grace = tp_grace;
  f->ops.on_scale_in = tp_scale_in;
  f->ops.on_failed_vm = tp_failed_vm;
  f->ops.on_unregistered = tp_unregistered;
  f->ops.on_in_sync = tp_in_sync;
}

static const char *fx_str(struct fx *f, const char *s) {
  const char *copy = osc_arena_strdup(&f->c.arena, s);

  if (s != NULL)
    assert_non_null(copy);
  return copy;
}

/* "a,b" -> a list in the collection's arena; "" -> empty. */
static struct osc_strlist fx_list(struct fx *f, const char *csv) {
  struct osc_strlist l = {NULL, 0};
  const char *p = csv;

  l.items = osc_arena_alloc(&f->c.arena, 8 * sizeof(*l.items));
  assert_non_null(l.items);
  while (*p) {
    const char *comma = strchr(p, ',');
    size_t n = comma ? (size_t)(comma - p) : strlen(p);

    assert_true(l.n < 8);
    l.items[l.n++] = osc_arena_strndup(&f->c.arena, p, n);
    p += n + (comma ? 1 : 0);
  }
  return l;
}

static void *grow(struct fx *f, void *old, size_t n, size_t *cap, size_t size) {
  void *fresh;

  if (n < *cap)
    return old;
  *cap = *cap ? *cap * 2 : 8;
  fresh = osc_arena_alloc(&f->c.arena, *cap * size);
  assert_non_null(fresh);
  if (n > 0)
    memcpy(fresh, old, n * size);
  return fresh;
}

static struct osc_vm *add_vm(struct fx *f, const char *name,
                             const char *computer, const char *state,
                             int64_t created_at) {
  struct osc_vm *vm;

  f->c.vms = grow(f, f->c.vms, f->c.n_vms, &f->vm_cap, sizeof(*f->c.vms));
  vm = &f->c.vms[f->c.n_vms++];
  memset(vm, 0, sizeof(*vm));
  vm->name = fx_str(f, name);
  vm->instance_id = vm->name;
  vm->computer_name = fx_str(f, computer);
  vm->provisioning_state = fx_str(f, state);
  vm->state = osc_vm_state_parse(state);
  vm->created_at = created_at;
  vm->scale_set = "vmss-web";
  f->c.vmss.capacity = (int64_t)f->c.n_vms;
  return vm;
}

static struct osc_target *add_target(struct fx *f, const char *id,
                                     const char *name, bool disabled) {
  struct osc_target *t;

  f->c.targets =
      grow(f, f->c.targets, f->c.n_targets, &f->t_cap, sizeof(*f->c.targets));
  t = &f->c.targets[f->c.n_targets++];
  memset(t, 0, sizeof(*t));
  t->id = fx_str(f, id);
  t->name = fx_str(f, name);
  t->roles = fx_list(f, "web-server,vmss-web");
  t->environment_ids = fx_list(f, "Environments-1");
  t->tenant_ids = fx_list(f, "");
  t->disabled = disabled;
  t->health = "Healthy";
  t->comm_style = OSC_COMM_LISTENING;
  return t;
}

static void add_orphan_state(struct fx *f, const char *id, int64_t since) {
  assert_true(f->n_orphans < 16);
  f->orphans[f->n_orphans].target_id = id;
  f->orphans[f->n_orphans].since = since;
  f->n_orphans++;
}

static const struct osc_plan *run(struct fx *f) {
  struct osc_engine_input in = {
      .collection = &f->c,
      .scope = &f->scope,
      .orphans = f->orphans,
      .n_orphans = f->n_orphans,
      .policy = &f->ops,
      .now = NOW,
      .force = f->force,
  };

  osc_plan_free(f->plan);
  f->plan = NULL;
  assert_int_equal(osc_engine_plan(&in, &f->plan, &f->err), 0);
  assert_non_null(f->plan);
  return f->plan;
}

/* The action of a target, or of a VM that has no target. */
static const struct osc_action *act_t(const struct osc_plan *p,
                                      const char *target_name) {
  size_t i;

  for (i = 0; i < p->n_actions; i++) {
    if (p->actions[i].target_name &&
        strcmp(p->actions[i].target_name, target_name) == 0)
      return &p->actions[i];
  }
  fail_msg("no action for target %s", target_name);
  return NULL;
}

static const struct osc_action *act_v(const struct osc_plan *p,
                                      const char *vm_name) {
  size_t i;

  for (i = 0; i < p->n_actions; i++) {
    if (p->actions[i].target_name == NULL && p->actions[i].vm_name &&
        strcmp(p->actions[i].vm_name, vm_name) == 0)
      return &p->actions[i];
  }
  fail_msg("no action for VM %s", vm_name);
  return NULL;
}

static void assert_action(const struct osc_action *a, enum osc_action_kind kind,
                          enum osc_class cls, const char *reason) {
  assert_non_null(a);
  assert_string_equal(osc_action_name(a->kind), osc_action_name(kind));
  assert_string_equal(osc_class_name(a->cls), osc_class_name(cls));
  assert_string_equal(a->reason, reason);
  assert_int_equal(a->result, OSC_RESULT_PENDING);
}

static int64_t orphan_since(const struct osc_plan *p, const char *id) {
  size_t i;

  for (i = 0; i < p->n_orphans; i++) {
    if (strcmp(p->orphans[i].target_id, id) == 0)
      return p->orphans[i].since;
  }
  return -1;
}

/* --- classes ----------------------------------------------------------- */

static void test_engine__in_sync(void **state) {
  struct fx *f = *state;
  const struct osc_plan *p;

  add_vm(f, "vmss-web_0", "web000000", "Succeeded", NOW - 3600);
  add_target(f, "Machines-1", "WEB000000", false); /* case differs */
  p = run(f);
  assert_int_equal(p->status, OSC_PLAN_OK);
  assert_string_equal(p->scale_set, "web-prod");
  assert_int_equal(p->n_actions, 1);
  assert_action(&p->actions[0], OSC_ACT_KEEP, OSC_CLASS_IN_SYNC, "in sync");
  assert_string_equal(p->actions[0].target_id, "Machines-1");
  assert_string_equal(p->actions[0].vm_name, "vmss-web_0");
  assert_int_equal(p->class_counts[OSC_CLASS_IN_SYNC], 1);
  assert_int_equal(p->n_vms, 1);
  assert_int_equal(p->n_in_scope, 1);
  assert_int_equal(p->n_deployable, 1);
  assert_string_equal(p->deployable[0].id, "Machines-1");
  assert_string_equal(p->deployable[0].name, "WEB000000");
  assert_int_equal(p->n_orphans, 0);
  assert_int_equal(p->n_destructive, 0);
  assert_false(osc_plan_has_changes(p));
  assert_int_equal(osc_plan_exit_code(p, false), 0);
}

/* One VM, with or without a target named after it, default policy. */
static void test_engine__vm_states(void **state) {
  static const struct {
    const char *state;
    bool target;
    int64_t age; /* NONE_CREATED: unknown creation time */
    int n_actions;
    enum osc_action_kind kind;
    enum osc_class cls;
    const char *reason;
  } cases[] = {
      {"Succeeded", true, 3600, 1, OSC_ACT_KEEP, OSC_CLASS_IN_SYNC, "in sync"},
      {"Updating", true, 3600, 1, OSC_ACT_KEEP, OSC_CLASS_IN_SYNC, "in sync"},
      {"Migrating", true, 3600, 1, OSC_ACT_KEEP, OSC_CLASS_IN_SYNC, "in sync"},
      {"Canceled", true, 3600, 1, OSC_ACT_KEEP, OSC_CLASS_IN_SYNC, "in sync"},
      {"Creating", false, 3 * MIN, 1, OSC_ACT_WAIT, OSC_CLASS_PROVISIONING,
       "VM Creating for 3m"},
      {"Creating", true, 45 * MIN, 1, OSC_ACT_WAIT, OSC_CLASS_PROVISIONING,
       "VM Creating for 45m"},
      {"Creating", false, NONE_CREATED, 1, OSC_ACT_WAIT, OSC_CLASS_PROVISIONING,
       "VM Creating"},
      {"Succeeded", false, 3 * MIN, 1, OSC_ACT_WAIT, OSC_CLASS_PROVISIONING,
       "no target yet, 3m of 10m registration grace"},
      {"Succeeded", false, 15 * MIN, 1, OSC_ACT_REPORT, OSC_CLASS_UNREGISTERED,
       "VM up 15m with no target (registration grace 10m)"},
      {"Updating", false, 10 * MIN, 1, OSC_ACT_REPORT, OSC_CLASS_UNREGISTERED,
       "VM up 10m with no target (registration grace 10m)"},
      {"Succeeded", false, NONE_CREATED, 1, OSC_ACT_REPORT,
       OSC_CLASS_UNREGISTERED,
       "VM of unknown age with no target (registration grace 10m)"},
      {"Failed", true, 3600, 1, OSC_ACT_DELETE, OSC_CLASS_FAILED_VM,
       "VM provisioning Failed"},
      {"Failed", false, 3600, 1, OSC_ACT_REPORT, OSC_CLASS_FAILED_VM,
       "VM provisioning Failed, no target"},
      {"Deleting", false, 3600, 0, OSC_ACT_KEEP, OSC_CLASS_IN_SYNC, NULL},
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct fx *f;
    const struct osc_plan *p;
    size_t k, total = 0;

    f = fx_new();
    add_vm(f, "vmss-web_0", "web000000", cases[i].state,
           cases[i].age ? NOW - cases[i].age : NONE_CREATED);
    if (cases[i].target)
      add_target(f, "Machines-1", "web000000", false);
    p = run(f);
    print_message("case %zu: %s target=%d\n", i, cases[i].state,
                  cases[i].target);
    assert_int_equal(p->status, OSC_PLAN_OK);
    assert_int_equal(p->n_actions, cases[i].n_actions);
    if (cases[i].n_actions > 0) {
      assert_action(&p->actions[0], cases[i].kind, cases[i].cls,
                    cases[i].reason);
      assert_string_equal(p->actions[0].vm_name, "vmss-web_0");
      if (cases[i].target)
        assert_string_equal(p->actions[0].target_id, "Machines-1");
      else
        assert_null(p->actions[0].target_id);
      assert_int_equal(p->class_counts[cases[i].cls], 1);
    }
    for (k = 0; k < OSC_CLASS_COUNT; k++)
      total += p->class_counts[k];
    assert_int_equal(total, cases[i].n_actions);
    assert_int_equal(p->n_orphans, 0);
    fx_del(f);
  }
}

static void test_engine__lowercase_succeeded(void **state) {
  struct fx *f = *state;
  const struct osc_plan *p;

  assert_int_equal(osc_vm_state_parse("succeeded"), OSC_VM_SUCCEEDED);
  add_vm(f, "vmss-web_0", "web000000", "succeeded", NOW - 3600);
  add_target(f, "Machines-1", "web000000", false);
  p = run(f);
  assert_int_equal(p->n_actions, 1);
  assert_action(&p->actions[0], OSC_ACT_KEEP, OSC_CLASS_IN_SYNC, "in sync");
  assert_int_equal(p->n_deployable, 1);
}

static void test_engine__unregistered_ignore(void **state) {
  struct fx *f = *state;
  const struct osc_plan *p;

  fx_policy(f);
  f->tp.unregistered = OSC_DECIDE_IGNORE;
  add_vm(f, "vmss-web_0", "web000000", "Succeeded", NOW - 3600);
  p = run(f);
  assert_int_equal(p->status, OSC_PLAN_OK);
  assert_int_equal(p->n_actions, 0);
  assert_int_equal(p->class_counts[OSC_CLASS_UNREGISTERED], 1);
  assert_int_equal(f->tp.calls_unregistered, 1);
  assert_int_equal(f->tp.calls_grace[OSC_GRACE_REGISTRATION], 1);
}

static void test_engine__failed_vm_decisions(void **state) {
  static const struct {
    enum osc_decision decision;
    bool disabled;
    enum osc_action_kind kind;
    const char *reason;
    size_t destructive;
  } cases[] = {
      {OSC_DECIDE_DELETE, false, OSC_ACT_DELETE, "VM provisioning Failed", 1},
      {OSC_DECIDE_DISABLE, false, OSC_ACT_DISABLE, "VM provisioning Failed", 1},
      {OSC_DECIDE_DISABLE, true, OSC_ACT_KEEP,
       "VM provisioning Failed, already disabled", 0},
      {OSC_DECIDE_KEEP, false, OSC_ACT_KEEP,
       "VM provisioning Failed, kept by policy", 0},
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct fx *f;
    const struct osc_plan *p;

    f = fx_new();
    fx_policy(f);
    f->tp.failed_vm = cases[i].decision;
    add_vm(f, "vmss-web_0", "web000000", "Failed", NOW - 3600);
    add_target(f, "Machines-1", "web000000", cases[i].disabled);
    p = run(f);
    assert_int_equal(p->status, OSC_PLAN_OK);
    assert_int_equal(p->n_actions, 1);
    assert_action(&p->actions[0], cases[i].kind, OSC_CLASS_FAILED_VM,
                  cases[i].reason);
    assert_string_equal(p->actions[0].target_id, "Machines-1");
    assert_int_equal(p->n_destructive, cases[i].destructive);
    assert_int_equal(p->n_deployable, 0);
    assert_int_equal(p->n_orphans, 0); /* its VM exists: not an orphan */
    assert_int_equal(f->tp.calls_failed_vm, 1);
    fx_del(f);
  }
}

static void test_engine__deleting_vm_with_target(void **state) {
  struct fx *f = *state;
  const struct osc_plan *p;

  add_vm(f, "vmss-web_1", "web000001", "Deleting", NOW - 3600);
  add_target(f, "Machines-1", "web000001", false);
  add_orphan_state(f, "Machines-1", NOW - 3 * MIN);
  p = run(f);
  assert_int_equal(p->n_actions, 1);
  assert_action(&p->actions[0], OSC_ACT_WAIT, OSC_CLASS_ORPHAN,
                "VM Deleting for 3m, grace 10m");
  assert_string_equal(p->actions[0].vm_name, "vmss-web_1");
  assert_int_equal(p->n_orphans, 1);
  assert_int_equal(orphan_since(p, "Machines-1"), NOW - 3 * MIN);
  assert_int_equal(p->n_deployable, 0);

  f->orphans[0].since = NOW - 12 * MIN;
  p = run(f);
  assert_int_equal(p->n_actions, 1);
  assert_action(&p->actions[0], OSC_ACT_DELETE, OSC_CLASS_ORPHAN,
                "VM Deleting for 12m, grace 10m");
  assert_int_equal(orphan_since(p, "Machines-1"), NOW - 12 * MIN);
}

/* A Deleting VM and its live replacement share a name: the live one wins. */
static void test_engine__deleting_vm_does_not_conflict(void **state) {
  struct fx *f = *state;
  const struct osc_plan *p;

  add_vm(f, "vmss-web_1", "web000001", "Deleting", NOW - 3600);
  add_vm(f, "vmss-web_9", "web000001", "Succeeded", NOW - 3600);
  add_target(f, "Machines-1", "web000001", false);
  p = run(f);
  assert_int_equal(p->n_actions, 1);
  assert_action(&p->actions[0], OSC_ACT_KEEP, OSC_CLASS_IN_SYNC, "in sync");
  assert_string_equal(p->actions[0].vm_name, "vmss-web_9");
  assert_int_equal(p->n_orphans, 0);
}

static void test_engine__orphan_within_grace(void **state) {
  struct fx *f = *state;
  const struct osc_plan *p;

  fx_policy(f);
  add_vm(f, "vmss-web_0", "web000000", "Succeeded", NOW - 3600);
  add_target(f, "Machines-1", "web000000", false);
  add_target(f, "Machines-2", "web000002", false); /* new orphan */
  add_target(f, "Machines-3", "web000003", false); /* seen 3m ago */
  add_orphan_state(f, "Machines-3", NOW - 3 * MIN);
  p = run(f);
  assert_int_equal(p->status, OSC_PLAN_OK);
  assert_int_equal(p->n_actions, 3);
  assert_action(act_t(p, "web000002"), OSC_ACT_WAIT, OSC_CLASS_ORPHAN,
                "no VM with this name, grace 10m");
  assert_action(act_t(p, "web000003"), OSC_ACT_WAIT, OSC_CLASS_ORPHAN,
                "VM gone 3m, grace 10m");
  assert_null(act_t(p, "web000003")->vm_name);
  assert_int_equal(p->class_counts[OSC_CLASS_ORPHAN], 2);
  assert_int_equal(f->tp.calls_scale_in, 0); /* not asked within grace */
  assert_int_equal(f->tp.calls_grace[OSC_GRACE_ORPHAN], 2);
  assert_false(osc_plan_has_changes(p));
}

static void test_engine__orphan_past_grace(void **state) {
  static const struct {
    enum osc_decision decision;
    bool disabled;
    enum osc_action_kind kind;
    const char *reason;
  } cases[] = {
      {OSC_DECIDE_DELETE, false, OSC_ACT_DELETE, "VM gone 12m, grace 10m"},
      {OSC_DECIDE_DELETE, true, OSC_ACT_DELETE, "VM gone 12m, grace 10m"},
      {OSC_DECIDE_DISABLE, false, OSC_ACT_DISABLE, "VM gone 12m, grace 10m"},
      {OSC_DECIDE_DISABLE, true, OSC_ACT_KEEP, "VM gone 12m, already disabled"},
      {OSC_DECIDE_KEEP, false, OSC_ACT_KEEP, "VM gone 12m, kept by policy"},
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct fx *f;
    const struct osc_plan *p;
    bool destructive =
        cases[i].kind == OSC_ACT_DELETE || cases[i].kind == OSC_ACT_DISABLE;

    f = fx_new();
    fx_policy(f);
    f->tp.scale_in = cases[i].decision;
    add_vm(f, "vmss-web_0", "web000000", "Succeeded", NOW - 3600);
    add_target(f, "Machines-1", "web000000", false);
    add_target(f, "Machines-7", "web000007", cases[i].disabled);
    add_orphan_state(f, "Machines-7", NOW - 12 * MIN);
    p = run(f);
    assert_int_equal(p->status, OSC_PLAN_OK);
    assert_action(act_t(p, "web000007"), cases[i].kind, OSC_CLASS_ORPHAN,
                  cases[i].reason);
    assert_int_equal(f->tp.calls_scale_in, 1);
    assert_int_equal(f->tp.last_since, NOW - 12 * MIN);
    assert_int_equal(p->n_destructive, destructive ? 1 : 0);
    assert_int_equal(osc_plan_has_changes(p), destructive);
    assert_int_equal(osc_plan_exit_code(p, false), destructive ? 2 : 0);
    assert_int_equal(orphan_since(p, "Machines-7"), NOW - 12 * MIN);
    fx_del(f);
  }
}

/* The grace is a minimum: exactly at it, the policy decides. */
static void test_engine__orphan_grace_boundary(void **state) {
  struct fx *f = *state;
  const struct osc_plan *p;

  add_target(f, "Machines-4", "web000004", false);
  add_target(f, "Machines-5", "web000005", false);
  add_orphan_state(f, "Machines-4", NOW - 10 * MIN + 1);
  add_orphan_state(f, "Machines-5", NOW - 10 * MIN);
  p = run(f);
  assert_int_equal(p->n_actions, 2);
  assert_action(act_t(p, "web000004"), OSC_ACT_WAIT, OSC_CLASS_ORPHAN,
                "VM gone 9m59s, grace 10m");
  assert_action(act_t(p, "web000005"), OSC_ACT_DELETE, OSC_CLASS_ORPHAN,
                "VM gone 10m, grace 10m");
}

/* orphaned_since: carried from state, new ones start now, and targets that
 * are no longer orphaned (or gone) drop out. */
static void test_engine__orphaned_since(void **state) {
  struct fx *f = *state;
  const struct osc_plan *p;

  add_vm(f, "vmss-web_0", "web000000", "Succeeded", NOW - 3600);
  add_target(f, "Machines-1", "web000000", false); /* VM came back */
  add_target(f, "Machines-2", "web000002", false); /* still orphaned */
  add_target(f, "Machines-3", "web000003", false); /* newly orphaned */
  add_orphan_state(f, "Machines-1", NOW - 5 * MIN);
  add_orphan_state(f, "Machines-2", NOW - 4 * MIN);
  add_orphan_state(f, "Machines-99", NOW - 50 * MIN); /* target deleted */
  p = run(f);
  assert_int_equal(p->n_orphans, 2);
  assert_int_equal(orphan_since(p, "Machines-2"), NOW - 4 * MIN);
  assert_int_equal(orphan_since(p, "Machines-3"), NOW);
  assert_int_equal(orphan_since(p, "Machines-1"), -1);
  assert_int_equal(orphan_since(p, "Machines-99"), -1);
  assert_action(act_t(p, "web000000"), OSC_ACT_KEEP, OSC_CLASS_IN_SYNC,
                "in sync");
}

/* --- safety rules ------------------------------------------------------ */

static void test_engine__empty_vm_list_with_capacity(void **state) {
  struct fx *f = *state;
  const struct osc_plan *p;

  fx_policy(f);
  add_target(f, "Machines-1", "web000000", false);
  add_target(f, "Machines-2", "web000001", false);
  add_orphan_state(f, "Machines-1", NOW - 3600);
  f->c.vmss.capacity = 5;
  f->force = true; /* --force never lifts rule 2 */
  p = run(f);
  assert_int_equal(p->status, OSC_PLAN_SAFETY_STOP);
  assert_string_equal(p->message, "implausible data: the scale set reports "
                                  "capacity 5 but the VM list is empty");
  assert_int_equal(p->n_actions, 0);
  assert_int_equal(p->n_in_scope, 2);
  assert_int_equal(f->tp.calls_scale_in + f->tp.calls_target_name, 0);
  /* State is neither reset nor extended: unknown is not absent. */
  assert_int_equal(p->n_orphans, 1);
  assert_int_equal(orphan_since(p, "Machines-1"), NOW - 3600);
  assert_int_equal(osc_plan_exit_code(p, false), 4);
  assert_int_equal(osc_plan_exit_code(p, true), 4);
}

static void test_engine__empty_vm_list_capacity_zero(void **state) {
  struct fx *f = *state;
  const struct osc_plan *p;

  f->c.vmss.capacity = 0;
  p = run(f);
  assert_int_equal(p->status, OSC_PLAN_OK);
  assert_int_equal(p->n_actions, 0);
  assert_int_equal(osc_plan_exit_code(p, false), 0);

  /* Scaled to zero: its last target is an orphan like any other. */
  add_target(f, "Machines-1", "web000000", false);
  p = run(f);
  assert_int_equal(p->status, OSC_PLAN_OK);
  assert_int_equal(p->n_actions, 1);
  assert_action(&p->actions[0], OSC_ACT_WAIT, OSC_CLASS_ORPHAN,
                "no VM with this name, grace 10m");
}

/* Rule 2: an unknown capacity (missing sku, null, out of range) with an
 * empty VM list is no proof that the VMs are gone. */
static void test_engine__empty_vm_list_capacity_unknown(void **state) {
  static const char *const problems[] = {
      "the scale set body has no sku", "sku.capacity is null",
      "sku.capacity is not an integer that fits in 64 bits", NULL};
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(problems) / sizeof(problems[0]); i++) {
    struct fx *f = fx_new();
    const struct osc_plan *p;

    fx_policy(f);
    add_target(f, "Machines-1", "web000000", false);
    add_target(f, "Machines-2", "web000001", false);
    add_orphan_state(f, "Machines-1", NOW - 86400);
    add_orphan_state(f, "Machines-2", NOW - 86400);
    f->c.vmss.capacity = -1;
    f->c.vmss.capacity_problem = problems[i];
    f->force = true; /* --force never lifts rule 2 */
    p = run(f);
    assert_int_equal(p->status, OSC_PLAN_SAFETY_STOP);
    assert_non_null(strstr(p->message, "capacity is unknown"));
    assert_non_null(
        strstr(p->message, problems[i] ? problems[i] : "not reported"));
    assert_int_equal(p->n_actions, 0);
    assert_int_equal(f->tp.calls_scale_in + f->tp.calls_target_name, 0);
    assert_int_equal(p->n_orphans, 2);
    assert_int_equal(osc_plan_exit_code(p, true), 4);
    fx_del(f);
  }
}

/* Rule 2: 3 VMs listed of a capacity of 5, the scale set not Updating and
 * no VM Creating -> the 2 unlisted VMs' targets are not orphans. */
static void test_engine__short_vm_list(void **state) {
  struct fx *f = *state;
  const struct osc_plan *p;

  fx_policy(f);
  add_vm(f, "vmss-web_0", "web000000", "Succeeded", NOW - 86400);
  add_vm(f, "vmss-web_1", "web000001", "Succeeded", NOW - 86400);
  add_vm(f, "vmss-web_2", "web000002", "Succeeded", NOW - 86400);
  add_target(f, "Machines-1", "web000000", false);
  add_target(f, "Machines-2", "web000001", false);
  add_target(f, "Machines-3", "web000002", false);
  add_target(f, "Machines-4", "web000003", false);
  add_target(f, "Machines-5", "web000004", false);
  add_orphan_state(f, "Machines-4", NOW - 86400);
  add_orphan_state(f, "Machines-5", NOW - 86400);
  f->c.vmss.capacity = 5;
  f->c.vmss.provisioning_state = "succeeded";
  f->force = true;
  p = run(f);
  assert_int_equal(p->status, OSC_PLAN_SAFETY_STOP);
  assert_non_null(strstr(p->message, "capacity 5 but the VM list has 3 VMs"));
  assert_int_equal(p->n_actions, 0);
  assert_int_equal(f->tp.calls_scale_in, 0);
  assert_int_equal(osc_plan_exit_code(p, true), 4);

  /* Updating: VMs may be on their way out; the list is believed. */
  f->c.vmss.provisioning_state = "Updating";
  p = run(f);
  assert_int_equal(p->status, OSC_PLAN_OK);
  assert_int_equal(p->class_counts[OSC_CLASS_ORPHAN], 2);

  /* A VM Creating: the same. */
  f->c.vmss.provisioning_state = "succeeded";
  add_vm(f, "vmss-web_5", "web000005", "Creating", NOW - 60);
  f->c.vmss.capacity = 6;
  p = run(f);
  assert_int_equal(p->status, OSC_PLAN_OK);

  /* As many VMs as the capacity, or more (overprovisioning): fine. */
  f->c.vmss.capacity = 4;
  p = run(f);
  assert_int_equal(p->status, OSC_PLAN_OK);
}

/* --- ownership (class foreign) ---------------------------------------------
 */

/* Scope by roles alone: hand-built targets in the environment with the
 * role are not the scale set's. Reported, never deleted, not in the
 * budget. */
static void test_engine__foreign_by_prefix(void **state) {
  static const char *const foreign[] = {
      "web-legacy-01", "fabrikam-web-01", "web00000",
      "web0000000",    "we000001",        "web00000_",
  };
  struct fx *f = *state;
  const struct osc_plan *p;
  char id[32];
  size_t i;

  add_vm(f, "vmss-web_0", "web000000", "Succeeded", NOW - 86400);
  add_target(f, "Machines-1", "web000000", false);
  add_target(f, "Machines-2", "WEB00000A", false); /* VM gone: an orphan */
  add_orphan_state(f, "Machines-2", NOW - 86400);
  for (i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
    snprintf(id, sizeof(id), "Machines-%zu", 10 + i);
    add_target(f, fx_str(f, id), foreign[i], false);
    add_orphan_state(f, f->c.targets[f->c.n_targets - 1].id, NOW - 86400);
  }
  p = run(f);
  assert_int_equal(p->status, OSC_PLAN_OK);
  assert_int_equal(p->n_in_scope, 8);
  assert_int_equal(p->class_counts[OSC_CLASS_FOREIGN], 6);
  assert_int_equal(p->budget, 1); /* 50% of the 2 owned targets */
  assert_action(act_t(p, "WEB00000A"), OSC_ACT_DELETE, OSC_CLASS_ORPHAN,
                "VM gone 1d, grace 10m");
  for (i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
    const struct osc_action *a = act_t(p, foreign[i]);

    assert_int_equal(a->kind, OSC_ACT_REPORT);
    assert_int_equal(a->cls, OSC_CLASS_FOREIGN);
    assert_non_null(strstr(a->reason, "computerNamePrefix 'web'"));
  }
  assert_int_equal(p->n_destructive, 1);
  /* Foreign targets have no orphan clock. */
  assert_int_equal(p->n_orphans, 1);
}

static void test_engine__foreign_flexible_and_unknown_prefix(void **state) {
  struct fx *f = *state;
  const struct osc_plan *p;

  f->c.vmss.mode = OSC_FLEXIBLE;
  f->c.vmss.computer_name_prefix = "app";
  add_target(f, "Machines-1", "app1b2c3d", false);
  add_target(f, "Machines-2", "APP-extra-long-name", false);
  add_target(f, "Machines-3", "web000001", false);
  p = run(f);
  assert_int_equal(act_t(p, "app1b2c3d")->cls, OSC_CLASS_ORPHAN);
  assert_int_equal(act_t(p, "APP-extra-long-name")->cls, OSC_CLASS_ORPHAN);
  assert_int_equal(act_t(p, "web000001")->cls, OSC_CLASS_FOREIGN);

  /* Windows cuts host names to 15: a long prefix's targets are cut too. */
  f->c.vmss.mode = OSC_UNIFORM;
  f->c.vmss.computer_name_prefix = "webfrontend";
  assert_true(osc_engine_prefix_owns(&f->c.vmss, "WEBFRONTEND0001"));
  assert_true(osc_engine_prefix_owns(&f->c.vmss, "webfrontend00001z"));
  assert_false(osc_engine_prefix_owns(&f->c.vmss, "webfrontend0001"
                                                  "z"));
  assert_false(osc_engine_prefix_owns(&f->c.vmss, "WEBFRONTENDXX"));
  assert_false(osc_engine_prefix_owns(&f->c.vmss, "webfrontenX0001"));
  f->c.vmss.mode = OSC_FLEXIBLE;
  f->c.vmss.computer_name_prefix = "app";

  /* No prefix reported: nothing unclaimed can be told apart. */
  f->c.vmss.computer_name_prefix = NULL;
  p = run(f);
  assert_int_equal(p->class_counts[OSC_CLASS_FOREIGN], 3);
  assert_non_null(
      strstr(act_t(p, "app1b2c3d")->reason, "no computerNamePrefix"));
  assert_false(osc_engine_prefix_owns(&f->c.vmss, "app1b2c3d"));
}

/* A policy's owns replaces the prefix rule, and is asked only about
 * targets no VM claims. */
static void test_engine__owns_hook(void **state) {
  struct fx *f = *state;
  const struct osc_plan *p;

  fx_policy(f);
  f->ops.owns = tp_owns;
  f->tp.prefix = "prod-";
  f->tp.owns_prefix = "prod-";
  add_vm(f, "vmss-web_1", "web000001", "Succeeded", NOW - 3600);
  add_target(f, "Machines-1", "prod-web000001", false);
  add_target(f, "Machines-2", "prod-web000009", false);
  add_target(f, "Machines-3", "web000009", false); /* prefix rule: owned */
  add_orphan_state(f, "Machines-2", NOW - 86400);
  add_orphan_state(f, "Machines-3", NOW - 86400);
  p = run(f);
  assert_int_equal(f->tp.calls_owns, 2);
  assert_int_equal(act_t(p, "prod-web000001")->cls, OSC_CLASS_IN_SYNC);
  assert_action(act_t(p, "prod-web000009"), OSC_ACT_DELETE, OSC_CLASS_ORPHAN,
                "VM gone 1d, grace 10m");
  assert_action(act_t(p, "web000009"), OSC_ACT_REPORT, OSC_CLASS_FOREIGN,
                "not the scale set's (policy owns); never touched");

  /* A failing owns stops the plan like any hook. */
  f->tp.fail_hook = "owns";
  f->tp.fail_msg = "policy.lua:9: owns: boom";
  p = run(f);
  assert_int_equal(p->status, OSC_PLAN_ERROR);
  assert_string_equal(p->message, "policy.lua:9: owns: boom");
  assert_int_equal(osc_plan_exit_code(p, false), 3);
}

static void test_engine__incomplete_collection(void **state) {
  struct fx *f = *state;
  const struct osc_plan *p;

  fx_policy(f);
  add_vm(f, "vmss-web_0", "web000000", "Succeeded", NOW - 3600);
  add_target(f, "Machines-1", "web000000", false);
  add_target(f, "Machines-2", "web000002", false);
  add_orphan_state(f, "Machines-2", NOW - 3600);
  osc_collection_mark_incomplete(
      &f->c, "VM list page 3 failed after 5 retries (HTTP 503)");
  f->force = true; /* --force never lifts rule 1 */
  p = run(f);
  assert_int_equal(p->status, OSC_PLAN_SAFETY_STOP);
  assert_string_equal(p->message,
                      "safety stop: VM list page 3 failed after 5 retries "
                      "(HTTP 503); nothing will be deleted or disabled");
  assert_int_equal(p->n_actions, 0);
  assert_int_equal(p->n_deployable, 0);
  assert_int_equal(f->tp.calls_target_name + f->tp.calls_scale_in, 0);
  assert_int_equal(p->n_orphans, 1);
  assert_int_equal(osc_plan_exit_code(p, true), 4);

  /* The scale set itself was not read. */
  f->c.complete = true;
  f->c.have_vmss = false;
  p = run(f);
  assert_int_equal(p->status, OSC_PLAN_SAFETY_STOP);
  assert_string_equal(p->message, "safety stop: the scale set was not read; "
                                  "nothing will be deleted or disabled");
  assert_int_equal(p->n_actions, 0);
}

/* n_sync targets with live VMs plus n_gone orphans past grace. */
static void build_budget_case(struct fx *f, size_t n_sync, size_t n_gone) {
  size_t i;

  for (i = 0; i < n_sync + n_gone; i++) {
    char id[32], name[32], vm[32];

    snprintf(id, sizeof(id), "Machines-%zu", i + 1);
    snprintf(name, sizeof(name), "web%06zu", i);
    snprintf(vm, sizeof(vm), "vmss-web_%zu", i);
    add_target(f, id, name, false);
    if (i < n_sync)
      add_vm(f, vm, name, "Succeeded", NOW - 3600);
    else
      add_orphan_state(f, f->c.targets[i].id, NOW - 3600);
  }
}

/* The deletion budget: each row builds n_sync targets in sync and n_gone
 * orphans the policy deletes or disables, under the given budget. */
static const struct budget_case {
  const char *name;
  size_t n_sync, n_gone;
  struct osc_budget budget;
  enum osc_decision decision;
  bool force;
  size_t limit;
  enum osc_plan_status status;
  const char *message;
} budget_cases[] = {
    {"50% at the limit",
     5,
     5,
     {true, 50, false, 0},
     OSC_DECIDE_DELETE,
     false,
     5,
     OSC_PLAN_OK,
     ""},
    {"50% one past",
     4,
     6,
     {true, 50, false, 0},
     OSC_DECIDE_DELETE,
     false,
     5,
     OSC_PLAN_SAFETY_STOP,
     "deletion budget exceeded: 6 targets to delete or disable, max_delete "
     "50% of 10 in-scope targets allows 5 (--force overrides)"},
    {"50% one past, forced",
     4,
     6,
     {true, 50, false, 0},
     OSC_DECIDE_DELETE,
     true,
     5,
     OSC_PLAN_OK,
     ""},
    {"disable counts too",
     4,
     6,
     {true, 50, false, 0},
     OSC_DECIDE_DISABLE,
     false,
     5,
     OSC_PLAN_SAFETY_STOP,
     "deletion budget exceeded: 6 targets to delete or disable, max_delete "
     "50% of 10 in-scope targets allows 5 (--force overrides)"},
    {"count at the limit",
     7,
     3,
     {false, 3, false, 0},
     OSC_DECIDE_DELETE,
     false,
     3,
     OSC_PLAN_OK,
     ""},
    {"count one past",
     6,
     4,
     {false, 3, false, 0},
     OSC_DECIDE_DELETE,
     false,
     3,
     OSC_PLAN_SAFETY_STOP,
     "deletion budget exceeded: 4 targets to delete or disable, max_delete "
     "3 allows 3 (--force overrides)"},
    {"at least 1 (10% of 5)",
     4,
     1,
     {true, 10, false, 0},
     OSC_DECIDE_DELETE,
     false,
     1,
     OSC_PLAN_OK,
     ""},
    {"at least 1, one past",
     3,
     2,
     {true, 10, false, 0},
     OSC_DECIDE_DELETE,
     false,
     1,
     OSC_PLAN_SAFETY_STOP,
     "deletion budget exceeded: 2 targets to delete or disable, max_delete "
     "10% of 5 in-scope targets allows 1 (--force overrides)"},
    {"count 0 allows none",
     1,
     1,
     {false, 0, false, 0},
     OSC_DECIDE_DELETE,
     false,
     0,
     OSC_PLAN_SAFETY_STOP,
     "deletion budget exceeded: 1 targets to delete or disable, max_delete "
     "0 allows none (--force does not override a budget of 0)"},
    {"0 is not lifted by --force",
     1,
     1,
     {true, 0, false, 0},
     OSC_DECIDE_DISABLE,
     true,
     0,
     OSC_PLAN_SAFETY_STOP,
     "deletion budget exceeded: 1 targets to delete or disable, max_delete "
     "0% of 2 in-scope targets allows none (--force does not override a "
     "budget of 0)"},
    {"min_delete_budget lets a small set scale in",
     4,
     2,
     {true, 20, true, 2},
     OSC_DECIDE_DELETE,
     false,
     2,
     OSC_PLAN_OK,
     ""},
    {"min_delete_budget, one past",
     3,
     3,
     {true, 20, true, 2},
     OSC_DECIDE_DELETE,
     false,
     2,
     OSC_PLAN_SAFETY_STOP,
     "deletion budget exceeded: 3 targets to delete or disable, max_delete "
     "20% of 6 in-scope targets (min_delete_budget 2) allows 2 (--force "
     "overrides)"},
};

static void check_budget_case(const struct budget_case *c) {
  struct fx *f;
  const struct osc_plan *p;
  size_t k, n_destructive = 0;

  print_message("case: %s\n", c->name);
  f = fx_new();
  fx_policy(f);
  f->ops.max_delete = c->budget;
  f->tp.scale_in = c->decision;
  f->force = c->force;
  build_budget_case(f, c->n_sync, c->n_gone);
  p = run(f);
  assert_int_equal(p->status, c->status);
  assert_string_equal(p->message, c->message);
  assert_int_equal(p->budget, c->limit);
  assert_int_equal(p->n_destructive, c->n_gone);
  assert_int_equal(p->n_in_scope, c->n_sync + c->n_gone);
  /* The actions stay listed so the user sees what was stopped. */
  assert_int_equal(p->n_actions, c->n_sync + c->n_gone);
  for (k = 0; k < p->n_actions; k++)
    n_destructive += p->actions[k].kind == OSC_ACT_DELETE ||
                     p->actions[k].kind == OSC_ACT_DISABLE;
  assert_int_equal(n_destructive, c->n_gone);
  assert_int_equal(osc_plan_exit_code(p, false),
                   c->status == OSC_PLAN_OK ? 2 : 4);
  fx_del(f);
}

static void test_engine__deletion_budget(void **state) {
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(budget_cases) / sizeof(budget_cases[0]); i++)
    check_budget_case(&budget_cases[i]);
}

static void test_engine__budget_limit(void **state) {
  static const struct {
    struct osc_budget b;
    size_t n;
    size_t limit;
  } cases[] = {
      {{true, 50, false, 0}, 10, 5},
      {{true, 50, false, 0}, 11, 5},
      {{true, 50, false, 0}, 1, 1},
      {{true, 50, false, 0}, 0, 1},
      {{true, 10, false, 0}, 5, 1},
      {{true, 33, false, 0}, 10, 3},
      {{true, 0.3, false, 0}, 1000, 3},
      {{true, 32.3, false, 0}, 1000, 323},
      {{true, 12.5, false, 0}, 80, 10},
      {{true, 100, false, 0}, 7, 7},
      {{true, 0, false, 0}, 100, 0},
      {{false, 3, false, 0}, 10, 3},
      {{false, 3, false, 0}, 0, 3},
      {{false, 0, false, 0}, 10, 0},
      {{false, 2.7, false, 0}, 10, 2},
      {{false, -4, false, 0}, 10, 0},
      /* min_delete_budget raises a percentage, never a count or 0 */
      {{true, 20, true, 2}, 6, 2},
      {{true, 20, true, 2}, 20, 4},
      {{true, 20, true, 0}, 3, 0},
      {{false, 1, true, 3}, 10, 1},
      {{true, 0, true, 3}, 10, 0},
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    assert_int_equal(osc_budget_limit(&cases[i].b, cases[i].n), cases[i].limit);
  assert_int_equal(osc_budget_limit(NULL, 10), 1);
}

/* --- matching ---------------------------------------------------------- */

static void test_engine__two_targets_one_name(void **state) {
  struct fx *f = *state;
  const struct osc_plan *p;

  add_vm(f, "vmss-web_1", "web000001", "Succeeded", NOW - 3600);
  add_target(f, "Machines-1", "web000001", false);
  add_target(f, "Machines-2", "WEB000001", false);
  add_target(f, "Machines-3", "web000003", false); /* lone orphan */
  add_target(f, "Machines-4", "web000004", false); /* two, no VM at all */
  add_target(f, "Machines-5", "web000004", false);
  add_orphan_state(f, "Machines-1", NOW - 3600);
  add_orphan_state(f, "Machines-4", NOW - 3600);
  f->ops.max_delete.value = 100;
  p = run(f);
  assert_int_equal(p->status, OSC_PLAN_OK);
  assert_int_equal(p->n_actions, 6);
  assert_action(act_t(p, "web000001"), OSC_ACT_REPORT, OSC_CLASS_CONFLICT,
                "2 targets named 'web000001'; not guessing");
  assert_string_equal(act_t(p, "web000001")->vm_name, "vmss-web_1");
  assert_action(act_t(p, "WEB000001"), OSC_ACT_REPORT, OSC_CLASS_CONFLICT,
                "2 targets named 'WEB000001'; not guessing");
  assert_action(act_v(p, "vmss-web_1"), OSC_ACT_REPORT, OSC_CLASS_CONFLICT,
                "2 targets named 'web000001'; not guessing");
  assert_int_equal(p->actions[3].kind, OSC_ACT_WAIT); /* web000003 */
  assert_int_equal(p->actions[4].kind, OSC_ACT_REPORT);
  assert_int_equal(p->actions[5].kind, OSC_ACT_REPORT);
  assert_string_equal(p->actions[4].target_id, "Machines-4");
  assert_string_equal(p->actions[5].target_id, "Machines-5");
  assert_int_equal(p->class_counts[OSC_CLASS_CONFLICT], 5);
  assert_int_equal(p->n_destructive, 0);
  assert_int_equal(p->n_deployable, 0);
  /* Conflicts are not orphans: only web000003 is. */
  assert_int_equal(p->n_orphans, 1);
  assert_int_equal(orphan_since(p, "Machines-3"), NOW);
}

static void test_engine__two_vms_one_name(void **state) {
  struct fx *f = *state;
  const struct osc_plan *p;

  add_vm(f, "vmss-web_1", "web000001", "Succeeded", NOW - 3600);
  add_vm(f, "vmss-web_2", "WEB000001", "Failed", NOW - 3600);
  add_target(f, "Machines-1", "web000001", false);
  add_orphan_state(f, "Machines-1", NOW - 3600);
  p = run(f);
  assert_int_equal(p->status, OSC_PLAN_OK);
  assert_int_equal(p->n_actions, 3);
  assert_action(act_v(p, "vmss-web_1"), OSC_ACT_REPORT, OSC_CLASS_CONFLICT,
                "2 VMs expect target name 'web000001'; not guessing");
  assert_action(act_v(p, "vmss-web_2"), OSC_ACT_REPORT, OSC_CLASS_CONFLICT,
                "2 VMs expect target name 'WEB000001'; not guessing");
  assert_action(act_t(p, "web000001"), OSC_ACT_REPORT, OSC_CLASS_CONFLICT,
                "2 VMs expect target name 'web000001'; not guessing");
  assert_null(act_t(p, "web000001")->vm_name);
  assert_int_equal(p->n_destructive, 0);
  assert_int_equal(p->n_deployable, 0);
  assert_int_equal(p->n_orphans, 0);
}

static void test_engine__scope(void **state) {
  static const struct {
    const char *name;
    const char *roles, *envs, *tenants;
    const char *scope_env, *scope_tenant;
    bool in_scope;
  } cases[] = {
      {"all roles", "web-server,vmss-web", "Environments-1", "",
       "Environments-1", NULL, true},
      {"extra role", "web-server,db,vmss-web", "Environments-1", "",
       "Environments-1", NULL, true},
      {"roles differ in case", "WEB-SERVER,Vmss-Web", "environments-1", "",
       "Environments-1", NULL, true},
      {"missing one role", "web-server", "Environments-1", "", "Environments-1",
       NULL, false},
      {"no roles", "", "Environments-1", "", "Environments-1", NULL, false},
      {"another environment", "web-server,vmss-web", "Environments-2", "",
       "Environments-1", NULL, false},
      {"one of two environments", "web-server,vmss-web",
       "Environments-2,Environments-1", "", "Environments-1", NULL, true},
      {"no environment scope", "web-server,vmss-web", "Environments-9", "",
       NULL, NULL, true},
      {"the tenant", "web-server,vmss-web", "Environments-1",
       "Tenants-2,Tenants-1", "Environments-1", "Tenants-1", true},
      {"another tenant", "web-server,vmss-web", "Environments-1", "Tenants-2",
       "Environments-1", "Tenants-1", false},
      {"untenanted, tenant required", "web-server,vmss-web", "Environments-1",
       "", "Environments-1", "Tenants-1", false},
      {"tenanted, any tenant", "web-server,vmss-web", "Environments-1",
       "Tenants-2", "Environments-1", NULL, true},
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct fx *f;
    const struct osc_plan *p;
    struct osc_target *t;

    print_message("case: %s\n", cases[i].name);
    f = fx_new();
    fx_policy(f);
    f->scope.environment_id = cases[i].scope_env;
    f->scope.tenant_id = cases[i].scope_tenant;
    add_vm(f, "vmss-web_0", "web000000", "Succeeded", NOW - 3600);
    add_target(f, "Machines-1", "web000000", false);
    /* Past the orphan grace: in scope it would be deleted. */
    t = add_target(f, "Machines-2", "web000002", false);
    t->roles = fx_list(f, cases[i].roles);
    t->environment_ids = fx_list(f, cases[i].envs);
    t->tenant_ids = fx_list(f, cases[i].tenants);
    add_orphan_state(f, "Machines-2", NOW - 3600);
    if (cases[i].scope_tenant)
      f->c.targets[0].tenant_ids = fx_list(f, cases[i].scope_tenant);
    f->ops.max_delete.value = 100;
    p = run(f);
    assert_int_equal(p->status, OSC_PLAN_OK);
    assert_int_equal(p->n_in_scope, cases[i].in_scope ? 2 : 1);
    assert_int_equal(p->n_actions, cases[i].in_scope ? 2 : 1);
    assert_int_equal(p->n_destructive, cases[i].in_scope ? 1 : 0);
    assert_int_equal(p->n_orphans, cases[i].in_scope ? 1 : 0);
    assert_int_equal(f->tp.calls_scale_in, cases[i].in_scope ? 1 : 0);
    if (cases[i].in_scope)
      assert_action(act_t(p, "web000002"), OSC_ACT_DELETE, OSC_CLASS_ORPHAN,
                    "VM gone 1h, grace 10m");
    fx_del(f);
  }
}

/* An out-of-scope target never takes part in matching either. */
static void test_engine__out_of_scope_name_twin(void **state) {
  struct fx *f = *state;
  struct osc_target *t;
  const struct osc_plan *p;

  add_vm(f, "vmss-web_0", "web000000", "Succeeded", NOW - 3600);
  add_target(f, "Machines-1", "web000000", false);
  t = add_target(f, "Machines-2", "web000000", false);
  t->environment_ids = fx_list(f, "Environments-2");
  p = run(f);
  assert_int_equal(p->n_actions, 1);
  assert_action(&p->actions[0], OSC_ACT_KEEP, OSC_CLASS_IN_SYNC, "in sync");
  assert_string_equal(p->actions[0].target_id, "Machines-1");
  assert_int_equal(p->n_in_scope, 1);
}

static void test_engine__disabled_targets(void **state) {
  struct fx *f = *state;
  const struct osc_plan *p;

  add_vm(f, "vmss-web_0", "web000000", "Succeeded", NOW - 3600);
  add_vm(f, "vmss-web_1", "web000001", "Succeeded", NOW - 3600);
  add_target(f, "Machines-1", "web000000", true);
  add_target(f, "Machines-2", "web000001", false);

  /* Default policy: keep it disabled; it is not deployable. */
  p = run(f);
  assert_action(act_t(p, "web000000"), OSC_ACT_KEEP, OSC_CLASS_IN_SYNC,
                "in sync, target disabled");
  assert_int_equal(p->n_deployable, 1);
  assert_string_equal(p->deployable[0].id, "Machines-2");
  assert_false(osc_plan_has_changes(p));

  /* on_in_sync may not enable a target someone else disabled... */
  fx_policy(f);
  f->tp.in_sync = OSC_DECIDE_ENABLE;
  p = run(f);
  assert_action(act_t(p, "web000000"), OSC_ACT_KEEP, OSC_CLASS_IN_SYNC,
                "in sync, disabled outside octoscale: not enabled "
                "(enable_any_disabled allows it)");
  assert_false(osc_plan_has_changes(p));
  assert_int_equal(p->n_disabled, 0);

  /* ...but enables one octoscale disabled, and is asked only about
   * disabled targets. */
  f->c.targets[0].disabled_since = NOW - 600;
  p = run(f);
  assert_action(act_t(p, "web000000"), OSC_ACT_ENABLE, OSC_CLASS_IN_SYNC,
                "VM running, target disabled");
  assert_int_equal(f->tp.calls_in_sync, 2);
  assert_int_equal(p->n_disabled, 1);
  assert_int_equal(p->disabled[0].since, NOW - 600);
  assert_int_equal(p->n_deployable, 1);
  assert_int_equal(p->n_destructive, 0);
  assert_true(osc_plan_has_changes(p));
  assert_int_equal(osc_plan_exit_code(p, false), 2);
  assert_int_equal(osc_plan_exit_code(p, true), 0);
}

static void test_engine__flexible_names(void **state) {
  struct fx *f = *state;
  const struct osc_plan *p;

  f->c.vmss.mode = OSC_FLEXIBLE;
  f->c.vmss.computer_name_prefix = "webvm";
  add_vm(f, "vmss-web_ab12cd34", "webvm3f2a1b", "Succeeded", NOW - 3600);
  add_vm(f, "vmss-web_9e8d7c6b", "webvm00c0ff", "Succeeded", NOW - 3600);
  /* Before the OS profile is known there is no computer name. */
  add_vm(f, "vmss-web_0f1e2d3c", NULL, "Creating", NOW - 60);
  add_target(f, "Machines-10", "WEBVM3F2A1B", false);
  add_target(f, "Machines-11", "webvm00c0ff", false);
  p = run(f);
  assert_int_equal(p->status, OSC_PLAN_OK);
  assert_int_equal(p->n_actions, 3);
  assert_action(act_t(p, "WEBVM3F2A1B"), OSC_ACT_KEEP, OSC_CLASS_IN_SYNC,
                "in sync");
  assert_string_equal(act_t(p, "WEBVM3F2A1B")->vm_name, "vmss-web_ab12cd34");
  assert_action(act_t(p, "webvm00c0ff"), OSC_ACT_KEEP, OSC_CLASS_IN_SYNC,
                "in sync");
  assert_action(act_v(p, "vmss-web_0f1e2d3c"), OSC_ACT_WAIT,
                OSC_CLASS_PROVISIONING, "VM Creating for 1m");
  assert_int_equal(p->n_deployable, 2);
  assert_string_equal(p->deployable[0].name, "webvm00c0ff");
  assert_string_equal(p->deployable[1].name, "WEBVM3F2A1B");
}

static void test_engine__custom_target_name(void **state) {
  struct fx *f = *state;
  const struct osc_plan *p;

  fx_policy(f);
  f->tp.prefix = "prod-";
  add_vm(f, "vmss-web_1", "web000001", "Succeeded", NOW - 3600);
  add_target(f, "Machines-1", "prod-web000001", false);
  add_target(f, "Machines-2", "web000001", false); /* the bare name */
  p = run(f);
  assert_int_equal(f->tp.calls_target_name, 1);
  assert_action(act_t(p, "prod-web000001"), OSC_ACT_KEEP, OSC_CLASS_IN_SYNC,
                "in sync");
  assert_action(act_t(p, "web000001"), OSC_ACT_WAIT, OSC_CLASS_ORPHAN,
                "no VM with this name, grace 10m");
}

static void test_engine__grace_from_policy(void **state) {
  struct fx *f = *state;
  const struct osc_plan *p;

  fx_policy(f);
  f->tp.grace[OSC_GRACE_REGISTRATION] = 20 * MIN;
  f->tp.grace[OSC_GRACE_ORPHAN] = 90 * MIN;
  add_vm(f, "vmss-web_0", "web000000", "Succeeded", NOW - 3600);
  add_vm(f, "vmss-web_1", "web000001", "Succeeded", NOW - 15 * MIN);
  add_vm(f, "vmss-web_2", "web000002", "Creating", NOW - 15 * MIN);
  add_target(f, "Machines-1", "web000000", false);
  add_target(f, "Machines-5", "web000005", false);
  add_orphan_state(f, "Machines-5", NOW - 3600);
  p = run(f);
  assert_action(act_v(p, "vmss-web_1"), OSC_ACT_WAIT, OSC_CLASS_PROVISIONING,
                "no target yet, 15m of 20m registration grace");
  assert_action(act_t(p, "web000005"), OSC_ACT_WAIT, OSC_CLASS_ORPHAN,
                "VM gone 1h, grace 1h30m");
  /* Asked only where a grace decides something. */
  assert_int_equal(f->tp.calls_grace[OSC_GRACE_PROVISIONING], 0);
  assert_int_equal(f->tp.calls_grace[OSC_GRACE_REGISTRATION], 1);
  assert_int_equal(f->tp.calls_grace[OSC_GRACE_ORPHAN], 1);
}

/* --- policy failures --------------------------------------------------- */

static void test_engine__failing_callback(void **state) {
  static const struct {
    const char *hook;
    int code;
    const char *msg;
    const char *expect;
    int exit_code;
  } cases[] = {
      {"target_name", OSC_E_POLICY, "policies/web.lua:3: target_name: boom",
       "policies/web.lua:3: target_name: boom", 3},
      {"grace", OSC_E_POLICY, "policies/web.lua:5: grace.orphan: boom",
       "policies/web.lua:5: grace.orphan: boom", 3},
      {"on_scale_in", OSC_E_POLICY,
       "policies/web.lua:12: on_scale_in returned 'delet' (expected delete, "
       "disable or keep)",
       "policies/web.lua:12: on_scale_in returned 'delet' (expected delete, "
       "disable or keep)",
       3},
      {"on_failed_vm", OSC_E_POLICY, "policies/web.lua:20: on_failed_vm: x",
       "policies/web.lua:20: on_failed_vm: x", 3},
      {"on_unregistered", OSC_E_POLICY, "policies/web.lua:30: boom",
       "policies/web.lua:30: boom", 3},
      {"on_in_sync", OSC_E_POLICY, "policies/web.lua:40: boom",
       "policies/web.lua:40: boom", 3},
      {"on_scale_in", OSC_E_RUNTIME, "policies/web.lua:12: out of luck",
       "policies/web.lua:12: out of luck", 1},
      {"grace", OSC_E_POLICY, NULL, "policy hook grace failed", 3},
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct fx *f;
    const struct osc_plan *p;

    print_message("case: %s\n", cases[i].hook);
    f = fx_new();
    fx_policy(f);
    f->tp.fail_hook = cases[i].hook;
    f->tp.fail_code = cases[i].code;
    f->tp.fail_msg = cases[i].msg;
    /* A scale set that asks every hook. */
    add_vm(f, "vmss-web_0", "web000000", "Succeeded", NOW - 3600);
    add_vm(f, "vmss-web_1", "web000001", "Failed", NOW - 3600);
    add_vm(f, "vmss-web_2", "web000002", "Succeeded", NOW - 3600);
    add_target(f, "Machines-1", "web000000", true);
    add_target(f, "Machines-2", "web000001", false);
    add_target(f, "Machines-4", "web000004", false);
    add_orphan_state(f, "Machines-4", NOW - 3600);
    f->ops.max_delete.value = 100;
    p = run(f);
    assert_int_equal(p->status, OSC_PLAN_ERROR);
    assert_int_equal(p->error_code, cases[i].code);
    assert_string_equal(p->message, cases[i].expect);
    assert_int_equal(p->n_actions, 0);
    assert_int_equal(p->n_deployable, 0);
    assert_int_equal(p->n_destructive, 0);
    assert_int_equal(p->class_counts[OSC_CLASS_IN_SYNC], 0);
    assert_int_equal(p->n_orphans, 1); /* state carried unchanged */
    assert_int_equal(orphan_since(p, "Machines-4"), NOW - 3600);
    assert_int_equal(osc_plan_exit_code(p, false), cases[i].exit_code);
    fx_del(f);
  }
}

/* The policy layer validates answers; the engine still refuses a value
 * outside a hook's list rather than guess. */
static void test_engine__decision_outside_list(void **state) {
  static const struct {
    const char *expect;
  } cases[] = {
      {"on_scale_in returned 'enable' (expected delete, disable or keep)"},
      {"on_failed_vm returned 'report' (expected delete, disable or keep)"},
      {"on_unregistered returned 'delete' (expected report or ignore)"},
      {"on_in_sync returned 'disable' (expected keep or enable)"},
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct fx *f;
    const struct osc_plan *p;

    f = fx_new();
    fx_policy(f);
    add_vm(f, "vmss-web_0", "web000000", "Succeeded", NOW - 3600);
    if (i == 0) {
      f->tp.scale_in = OSC_DECIDE_ENABLE;
      add_target(f, "Machines-4", "web000004", false);
      add_orphan_state(f, "Machines-4", NOW - 3600);
    } else if (i == 1) {
      f->tp.failed_vm = OSC_DECIDE_REPORT;
      f->c.vms[0].state = OSC_VM_FAILED;
      add_target(f, "Machines-1", "web000000", false);
    } else if (i == 2) {
      f->tp.unregistered = OSC_DECIDE_DELETE;
    } else {
      f->tp.in_sync = OSC_DECIDE_DISABLE;
      add_target(f, "Machines-1", "web000000", true);
    }
    p = run(f);
    assert_int_equal(p->status, OSC_PLAN_ERROR);
    assert_int_equal(p->error_code, OSC_E_POLICY);
    assert_string_equal(p->message, cases[i].expect);
    assert_int_equal(p->n_actions, 0);
    fx_del(f);
  }
}

static void test_engine__negative_grace(void **state) {
  struct fx *f = *state;
  const struct osc_plan *p;

  fx_policy(f);
  f->tp.grace[OSC_GRACE_ORPHAN] = -5;
  add_target(f, "Machines-4", "web000004", false);
  p = run(f);
  assert_int_equal(p->status, OSC_PLAN_ERROR);
  assert_string_equal(p->message,
                      "grace.orphan returned a negative duration (-5 s)");
}

/* --- exit codes, names, misuse ----------------------------------------- */

static void test_engine__exit_codes(void **state) {
  static const struct {
    enum osc_plan_status status;
    int error_code;
    int plan_code, apply_code;
  } cases[] = {
      {OSC_PLAN_ERROR, OSC_E_POLICY, 3, 3},
      {OSC_PLAN_ERROR, OSC_E_CONFIG, 3, 3},
      {OSC_PLAN_ERROR, OSC_E_RUNTIME, 1, 1},
      {OSC_PLAN_ERROR, OSC_E_NOMEM, 1, 1},
      {OSC_PLAN_ERROR, 0, 1, 1}, /* an error is never success */
      {OSC_PLAN_SAFETY_STOP, OSC_E_SAFETY, 4, 4},
      {OSC_PLAN_TIMEOUT, OSC_E_TIMEOUT, 5, 5},
      {OSC_PLAN_OK, 0, 0, 0},
  };
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_plan *plan = NULL;
  struct osc_action acts[2];
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    assert_int_equal(osc_plan_new_failed("web-prod", cases[i].status,
                                         cases[i].error_code, "msg", &plan,
                                         &err),
                     0);
    assert_int_equal(osc_plan_exit_code(plan, false), cases[i].plan_code);
    assert_int_equal(osc_plan_exit_code(plan, true), cases[i].apply_code);
    osc_plan_free(plan);
  }

  /* OK plans: changes pending for `plan`, success for `apply` unless an
   * action failed. */
  assert_int_equal(
      osc_plan_new_failed("web-prod", OSC_PLAN_OK, 0, "", &plan, &err), 0);
  memset(acts, 0, sizeof(acts));
  plan->actions = acts;
  plan->n_actions = 2;
  acts[0].kind = OSC_ACT_KEEP;
  acts[1].kind = OSC_ACT_WAIT;
  assert_int_equal(osc_plan_exit_code(plan, false), 0);
  acts[1].kind = OSC_ACT_REPORT;
  assert_int_equal(osc_plan_exit_code(plan, false), 0);
  acts[1].kind = OSC_ACT_DELETE;
  assert_int_equal(osc_plan_exit_code(plan, false), 2);
  assert_int_equal(osc_plan_exit_code(plan, true), 0);
  acts[1].result = OSC_RESULT_FAILED;
  assert_int_equal(osc_plan_exit_code(plan, true), 1);
  plan->actions = NULL;
  plan->n_actions = 0;
  osc_plan_free(plan);
  assert_int_equal(osc_plan_exit_code(NULL, false), 1);
}

static void test_engine__exit_code_combine(void **state) {
  static const struct {
    int codes[4];
    size_t n;
    int expect;
  } cases[] = {
      {{0}, 0, 0},          {{0, 0}, 2, 0},    {{0, 2}, 2, 2}, {{2, 5}, 2, 5},
      {{5, 4}, 2, 4},       {{2, 4, 0}, 3, 4}, {{4, 1}, 2, 1}, {{1, 3}, 2, 3},
      {{0, 2, 4, 3}, 4, 3}, {{2, 0, 2}, 3, 2}, {{7, 0}, 2, 1}, {{7, 4}, 2, 4},
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    assert_int_equal(osc_exit_code_combine(cases[i].codes, cases[i].n),
                     cases[i].expect);
}

static void test_engine__names(void **state) {
  (void)state;
  assert_string_equal(osc_class_name(OSC_CLASS_IN_SYNC), "in_sync");
  assert_string_equal(osc_class_name(OSC_CLASS_PROVISIONING), "provisioning");
  assert_string_equal(osc_class_name(OSC_CLASS_UNREGISTERED), "unregistered");
  assert_string_equal(osc_class_name(OSC_CLASS_FAILED_VM), "failed_vm");
  assert_string_equal(osc_class_name(OSC_CLASS_ORPHAN), "orphan");
  assert_string_equal(osc_class_name(OSC_CLASS_CONFLICT), "conflict");
  assert_string_equal(osc_action_name(OSC_ACT_KEEP), "keep");
  assert_string_equal(osc_action_name(OSC_ACT_WAIT), "wait");
  assert_string_equal(osc_action_name(OSC_ACT_REPORT), "report");
  assert_string_equal(osc_action_name(OSC_ACT_ENABLE), "enable");
  assert_string_equal(osc_action_name(OSC_ACT_DISABLE), "disable");
  assert_string_equal(osc_action_name(OSC_ACT_DELETE), "delete");
  assert_string_equal(osc_plan_status_name(OSC_PLAN_OK), "ok");
  assert_string_equal(osc_plan_status_name(OSC_PLAN_SAFETY_STOP),
                      "safety_stop");
  assert_string_equal(osc_plan_status_name(OSC_PLAN_ERROR), "error");
  assert_string_equal(osc_plan_status_name(OSC_PLAN_TIMEOUT), "timeout");
  assert_string_equal(osc_decision_name(OSC_DECIDE_KEEP), "keep");
  assert_string_equal(osc_decision_name(OSC_DECIDE_DELETE), "delete");
  assert_string_equal(osc_decision_name(OSC_DECIDE_DISABLE), "disable");
  assert_string_equal(osc_decision_name(OSC_DECIDE_ENABLE), "enable");
  assert_string_equal(osc_decision_name(OSC_DECIDE_REPORT), "report");
  assert_string_equal(osc_decision_name(OSC_DECIDE_IGNORE), "ignore");
}

static void test_engine__plan_new_failed(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_plan *plan = NULL;

  (void)state;
  assert_int_equal(osc_plan_new_failed("web-prod", OSC_PLAN_ERROR, OSC_E_POLICY,
                                       "policies/web.lua:7: syntax error",
                                       &plan, &err),
                   0);
  assert_string_equal(plan->scale_set, "web-prod");
  assert_int_equal(plan->status, OSC_PLAN_ERROR);
  assert_string_equal(plan->message, "policies/web.lua:7: syntax error");
  assert_int_equal(plan->n_actions, 0);
  assert_false(osc_plan_has_changes(plan));
  assert_int_equal(osc_plan_exit_code(plan, false), 3);
  osc_plan_free(plan);
  osc_plan_free(NULL);
}

static void test_engine__invalid_input(void **state) {
  struct fx *f = *state;
  struct osc_engine_input in = {
      .collection = &f->c, .scope = &f->scope, .policy = &f->ops, .now = NOW};
  struct osc_plan *plan = NULL;

  assert_true(osc_engine_plan(NULL, &plan, &f->err) < 0);
  assert_string_equal(f->err.msg, "engine: invalid input");
  assert_null(plan);
  assert_true(osc_engine_plan(&in, NULL, &f->err) < 0);
  in.policy = NULL;
  assert_true(osc_engine_plan(&in, &plan, &f->err) < 0);
  in.policy = &f->ops;
  in.n_orphans = 3; /* with no array */
  assert_true(osc_engine_plan(&in, &plan, &f->err) < 0);
  assert_null(plan);
  in.n_orphans = 0;
  assert_int_equal(osc_engine_plan(&in, &plan, &f->err), 0);
  assert_int_equal(plan->status, OSC_PLAN_OK);
  osc_plan_free(plan);
}

/* Every string is a copy: the plan outlives the collection and the state
 * (ASan reports any pointer left behind). */
static void test_engine__plan_outlives_input(void **state) {
  struct fx *f = *state;
  struct osc_plan *plan;
  size_t i;

  add_vm(f, "vmss-web_0", "web000000", "Succeeded", NOW - 3600);
  add_vm(f, "vmss-web_1", "web000001", "Creating", NOW - 60);
  add_vm(f, "vmss-web_2", "web000002", "Deleting", NOW - 60);
  add_target(f, "Machines-1", "web000000", false);
  add_target(f, "Machines-2", "web000002", false);
  add_target(f, "Machines-3", "web000003", false);
  add_orphan_state(f, fx_str(f, "Machines-3"), NOW - 3600);
  f->ops.max_delete.value = 100;
  run(f);
  plan = f->plan;
  f->plan = NULL;
  osc_collection_free(&f->c);
  assert_string_equal(plan->scale_set, "web-prod");
  assert_int_equal(plan->n_actions, 4);
  for (i = 0; i < plan->n_actions; i++) {
    const struct osc_action *a = &plan->actions[i];

    assert_true(strlen(a->reason) > 0);
    assert_true((a->target_name ? strlen(a->target_name) : 0) +
                    (a->target_id ? strlen(a->target_id) : 0) +
                    (a->vm_name ? strlen(a->vm_name) : 0) >
                0);
  }
  assert_string_equal(plan->deployable[0].name, "web000000");
  assert_int_equal(plan->n_orphans, 2);
  assert_string_equal(plan->orphans[0].target_id, "Machines-2");
  assert_string_equal(plan->orphans[1].target_id, "Machines-3");
  osc_plan_free(plan);
  osc_collection_init(&f->c, "x"); /* for the teardown */
}

/* --- order and scale --------------------------------------------------- */

static void sort_case(struct fx *f, bool reversed) {
  static const char *const vms[][2] = {
      {"vmss-web_4", "delta"},   {"vmss-web_1", "Alpha"},
      {"vmss-web_3", "charlie"}, {"vmss-web_2", "bravo"},
      {"vmss-web_5", "echo"}, /* no target: sorted by VM name */
  };
  static const char *const targets[][2] = {
      {"Machines-4", "DELTA"},   {"Machines-1", "alpha"},
      {"Machines-3", "Charlie"}, {"Machines-2", "bravo"},
      {"Machines-9", "zulu"},    {"Machines-8", "bravo2"},
      {"Machines-7", "dup"},     {"Machines-6", "dup"},
  };
  size_t i, n;

  n = sizeof(vms) / sizeof(vms[0]);
  for (i = 0; i < n; i++) {
    size_t k = reversed ? n - 1 - i : i;

    add_vm(f, vms[k][0], vms[k][1], "Succeeded", NOW - 3600);
  }
  n = sizeof(targets) / sizeof(targets[0]);
  for (i = 0; i < n; i++) {
    size_t k = reversed ? n - 1 - i : i;

    add_target(f, targets[k][0], targets[k][1], false);
  }
}

static void test_engine__deterministic_sort(void **state) {
  static const char *const expect[][2] = {
      /* key (target name, else VM name), target id */
      {"alpha", "Machines-1"},  {"bravo", "Machines-2"},
      {"bravo2", "Machines-8"}, {"Charlie", "Machines-3"},
      {"DELTA", "Machines-4"},  {"dup", "Machines-6"},
      {"dup", "Machines-7"},    {"vmss-web_5", NULL},
      {"zulu", "Machines-9"},
  };
  struct fx *g;
  struct fx *f = *state;
  const struct osc_plan *a, *b;
  size_t i;

  sort_case(f, false);
  a = run(f);
  g = fx_new();
  sort_case(g, true);
  b = run(g);
  assert_int_equal(a->n_actions, sizeof(expect) / sizeof(expect[0]));
  assert_int_equal(b->n_actions, a->n_actions);
  for (i = 0; i < a->n_actions; i++) {
    const struct osc_action *x = &a->actions[i];
    const struct osc_action *y = &b->actions[i];
    const char *key = x->target_name ? x->target_name : x->vm_name;

    assert_string_equal(key, expect[i][0]);
    if (expect[i][1])
      assert_string_equal(x->target_id, expect[i][1]);
    else
      assert_null(x->target_id);
    assert_int_equal(x->kind, y->kind);
    assert_string_equal(x->reason, y->reason);
    assert_string_equal(x->target_id ? x->target_id : "-",
                        y->target_id ? y->target_id : "-");
    assert_string_equal(x->vm_name ? x->vm_name : "-",
                        y->vm_name ? y->vm_name : "-");
  }
  assert_int_equal(a->n_deployable, 4);
  for (i = 0; i < a->n_deployable; i++)
    assert_string_equal(a->deployable[i].id, b->deployable[i].id);
  assert_string_equal(a->deployable[2].name, "Charlie");
  fx_del(g);
}

enum { SCALE_VMS = 10000, SCALE_GONE = 1000, SCALE_OUT = 2000 };

/* The VMs and their targets; every third target differs in case from its
 * computer name. */
static void scale_add_in_sync(struct fx *f) {
  size_t i;

  for (i = 0; i < SCALE_VMS; i++) {
    char name[32], computer[32], target[32], id[32];
    size_t k;

    snprintf(name, sizeof(name), "vmss-web_%zu", i);
    snprintf(computer, sizeof(computer), "web%06zx", i);
    snprintf(id, sizeof(id), "Machines-%zu", i + 1);
    add_vm(f, name, computer, i % 2 ? "Succeeded" : "succeeded", NOW - 86400);
    for (k = 0; computer[k]; k++)
      target[k] = i % 3 == 0 && computer[k] >= 'a' && computer[k] <= 'z'
                      ? (char)(computer[k] - 'a' + 'A')
                      : computer[k];
    target[k] = '\0';
    add_target(f, id, target, false);
  }
}

/* Orphans (the first half past grace, per `since`) and targets out of scope
 * that share the VMs' names. */
static void scale_add_gone_and_out(struct fx *f,
                                   struct osc_orphan_entry *since) {
  size_t i;

  for (i = 0; i < SCALE_GONE; i++) {
    char name[32], id[32];

    snprintf(name, sizeof(name), "webg%05zu", i); /* VM gone */
    snprintf(id, sizeof(id), "Machines-%zu", SCALE_VMS + i + 1);
    add_target(f, id, name, false);
    if (i < SCALE_GONE / 2) {
      since[i].target_id = f->c.targets[f->c.n_targets - 1].id;
      since[i].since = NOW - 7200;
    }
  }
  for (i = 0; i < SCALE_OUT; i++) {
    struct osc_target *t;
    char id[32];

    snprintf(id, sizeof(id), "Machines-%zu", SCALE_VMS + SCALE_GONE + i + 1);
    t = add_target(f, id, f->c.vms[i].computer_name, false);
    t->roles = fx_list(f, "web-server"); /* missing vmss-web */
  }
}

static void scale_check_plan(const struct osc_plan *plan) {
  size_t i;

  assert_int_equal(plan->status, OSC_PLAN_OK);
  assert_int_equal(plan->n_vms, SCALE_VMS);
  assert_int_equal(plan->n_in_scope, SCALE_VMS + SCALE_GONE);
  assert_int_equal(plan->class_counts[OSC_CLASS_IN_SYNC], SCALE_VMS);
  assert_int_equal(plan->class_counts[OSC_CLASS_ORPHAN], SCALE_GONE);
  assert_int_equal(plan->class_counts[OSC_CLASS_CONFLICT], 0);
  assert_int_equal(plan->n_actions, SCALE_VMS + SCALE_GONE);
  assert_int_equal(plan->n_destructive, SCALE_GONE / 2);
  assert_int_equal(plan->budget, (SCALE_VMS + SCALE_GONE) / 2);
  assert_int_equal(plan->n_deployable, SCALE_VMS);
  assert_int_equal(plan->n_orphans, SCALE_GONE);
  for (i = 1; i < plan->n_actions; i++) {
    const struct osc_action *x = &plan->actions[i - 1];
    const struct osc_action *y = &plan->actions[i];

    assert_true(strcasecmp(x->target_name, y->target_name) < 0);
  }
  for (i = 1; i < plan->n_deployable; i++)
    assert_true(
        strcasecmp(plan->deployable[i - 1].name, plan->deployable[i].name) < 0);
}

/* 10,000 VMs against 13,000 targets: 10,000 in sync, 1,000 orphans (half
 * past grace), 2,000 out of scope that share the VMs' names. Linear work
 * keeps this well under a second even under ASan; a quadratic join
 * (1.3e8 name comparisons) would not be. */
static void test_engine__scale(void **state) {
  struct fx *f = *state;
  struct osc_orphan_entry *since;
  struct osc_engine_input in;
  struct osc_plan *plan = NULL;
  int64_t t0, ms;

  f->c.vms = osc_arena_alloc(&f->c.arena, SCALE_VMS * sizeof(*f->c.vms));
  f->vm_cap = SCALE_VMS;
  f->t_cap = SCALE_VMS + SCALE_GONE + SCALE_OUT;
  f->c.targets = osc_arena_alloc(&f->c.arena, f->t_cap * sizeof(*f->c.targets));
  since = calloc(SCALE_GONE / 2, sizeof(*since));
  assert_non_null(f->c.vms);
  assert_non_null(f->c.targets);
  assert_non_null(since);
  scale_add_in_sync(f);
  scale_add_gone_and_out(f, since);
  memset(&in, 0, sizeof(in));
  in.collection = &f->c;
  in.scope = &f->scope;
  in.orphans = since;
  in.n_orphans = SCALE_GONE / 2;
  in.policy = &f->ops;
  in.now = NOW;

  t0 = osc_time_monotonic_ms();
  assert_int_equal(osc_engine_plan(&in, &plan, &f->err), 0);
  ms = osc_time_monotonic_ms() - t0;
  print_message("planned %d VMs x %d targets in %lld ms\n", SCALE_VMS,
                SCALE_VMS + SCALE_GONE + SCALE_OUT, (long long)ms);
  scale_check_plan(plan);
  /* Generous for loaded CI machines; the quadratic version takes far more. */
  assert_true(ms < 2000);
  osc_plan_free(plan);
  free(since);
}

int main(void) {
#define T(name)                                                                \
  cmocka_unit_test_setup_teardown(test_engine__##name, fx_setup, fx_teardown)
  const struct CMUnitTest tests[] = {
      T(in_sync),
      T(vm_states),
      T(lowercase_succeeded),
      T(unregistered_ignore),
      T(failed_vm_decisions),
      T(deleting_vm_with_target),
      T(deleting_vm_does_not_conflict),
      T(orphan_within_grace),
      T(orphan_past_grace),
      T(orphan_grace_boundary),
      T(orphaned_since),
      T(empty_vm_list_with_capacity),
      T(empty_vm_list_capacity_zero),
      T(empty_vm_list_capacity_unknown),
      T(short_vm_list),
      T(foreign_by_prefix),
      T(foreign_flexible_and_unknown_prefix),
      T(owns_hook),
      T(incomplete_collection),
      T(deletion_budget),
      T(budget_limit),
      T(two_targets_one_name),
      T(two_vms_one_name),
      T(scope),
      T(out_of_scope_name_twin),
      T(disabled_targets),
      T(flexible_names),
      T(custom_target_name),
      T(grace_from_policy),
      T(failing_callback),
      T(decision_outside_list),
      T(negative_grace),
      T(exit_codes),
      T(exit_code_combine),
      T(names),
      T(plan_new_failed),
      T(invalid_input),
      T(plan_outlives_input),
      T(deterministic_sort),
      T(scale),
  };
#undef T

  return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}
