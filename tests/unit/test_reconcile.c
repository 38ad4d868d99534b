/* One reconcile pass (core/osc_reconcile.h) over a live collection that a
 * fake transport answers: every VM and target lands in its class with the
 * documented default action (docs/design.md §6), and incomplete or
 * implausible data, or a plan over the budget, stops destruction. From
 * tables; no sockets, no simulator, nothing written. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/osc_reconcile.h"
#include "tests/unit/fake_transport.h"

/* The five VMs and five targets of fake_transport.h: every class. */
static const char vms[] = FAKE_FIVE_VMS;
static const char targets[] = FAKE_FIVE_TARGETS;

struct expect {
  const char *name; /* target name, else VM resource name */
  enum osc_class cls;
  enum osc_action_kind kind;
};

/* The policies the cases use. */
static const char *const policy_text[] = {
    "return {}\n", /* the defaults: orphan grace 10m */
    "return { grace = { orphan = \"0s\" } }\n",
    "return { grace = { orphan = \"0s\" }, max_delete = 1 }\n",
};

static struct osc_reconcile *plan_world(struct world *w) {
  struct osc_reconcile_options o;
  struct osc_reconcile *r = NULL;
  struct osc_error e = OSC_ERROR_INIT;

  memset(&o, 0, sizeof(o));
  o.now = FIXTURE_NOW;
  o.session = w->session;
  assert_int_equal(osc_reconcile_plan(w->cfg, &o, &r, &e), 0);
  assert_int_equal(r->n_entries, 1);
  assert_non_null(r->plans[0]);
  return r;
}

static const struct osc_action *find_action(const struct osc_plan *p,
                                            const char *name) {
  size_t i;

  for (i = 0; i < p->n_actions; i++) {
    const struct osc_action *a = &p->actions[i];
    const char *n = a->target_name ? a->target_name : a->vm_name;

    if (n != NULL && strcmp(n, name) == 0)
      return a;
  }
  return NULL;
}

static void print_plan(const struct osc_plan *p) {
  size_t i;

  print_message("%s: %s %s\n", p->scale_set, osc_plan_status_name(p->status),
                p->message);
  for (i = 0; i < p->n_actions; i++)
    print_message("  %-10s %-6s class %d vm %s: %s\n",
                  p->actions[i].target_name ? p->actions[i].target_name : "-",
                  osc_action_name(p->actions[i].kind), (int)p->actions[i].cls,
                  p->actions[i].vm_name ? p->actions[i].vm_name : "-",
                  p->actions[i].reason ? p->actions[i].reason : "");
}

static void check_plan(const struct osc_plan *p, const struct expect *want,
                       size_t n) {
  size_t i;

  print_plan(p);
  assert_int_equal(p->n_actions, n);
  for (i = 0; i < n; i++) {
    const struct osc_action *a = find_action(p, want[i].name);

    if (a == NULL)
      fail_msg("no action for %s", want[i].name);
    if (a->cls != want[i].cls || a->kind != want[i].kind)
      fail_msg("%s: class %d, %s (want class %d, %s)", want[i].name,
               (int)a->cls, osc_action_name(a->kind), (int)want[i].cls,
               osc_action_name(want[i].kind));
  }
}

/* Every class, with the default actions once the orphan grace is over. */
static void test_reconcile__classifies(void **state) {
  static const struct expect want[] = {
      {"web000000", OSC_CLASS_IN_SYNC, OSC_ACT_KEEP},
      {"vmss-web_1", OSC_CLASS_UNREGISTERED, OSC_ACT_REPORT},
      {"vmss-web_2", OSC_CLASS_PROVISIONING, OSC_ACT_WAIT},
      {"web000003", OSC_CLASS_FAILED_VM, OSC_ACT_DELETE},
      {"web000004", OSC_CLASS_IN_SYNC, OSC_ACT_KEEP},
      {"web00000z", OSC_CLASS_ORPHAN, OSC_ACT_DELETE},
      {"db-01", OSC_CLASS_FOREIGN, OSC_ACT_REPORT},
  };
  struct world w;
  struct osc_reconcile *r;
  const struct osc_plan *p;

  (void)state;
  world_open(&w, policy_text[1]);
  world_routes(w.fake, FAKE_VMSS_BODY(5), vms, targets, 0);
  r = plan_world(&w);
  p = r->plans[0];
  assert_int_equal(p->status, OSC_PLAN_OK);
  check_plan(p, want, sizeof(want) / sizeof(want[0]));
  assert_int_equal(p->n_vms, 5);
  assert_int_equal(p->n_destructive, 2);
  assert_int_equal(p->n_deployable, 2);
  assert_string_equal(p->deployable[0].name, "web000000");
  assert_string_equal(p->deployable[1].name, "web000004");
  assert_int_equal(p->n_orphans, 1);
  assert_string_equal(p->orphans[0].target_id, "Machines-9");
  /* 2: changes pending (docs/design.md §4). */
  assert_int_equal(osc_reconcile_exit_code(r, false), 2);
  /* plan is read-only: reads only, no state written. */
  assert_int_equal(fake_count(w.fake, "DELETE", "/"), 0);
  assert_int_equal(fake_count(w.fake, "PUT", "/"), 0);
  assert_int_equal(w.fake->unrouted, 0);
  assert_int_equal(access(w.cfg->state, F_OK), -1);
  osc_reconcile_free(r);
  world_close(&w);
}

/* The cases that must not lead to a deletion, and why. */
struct stop_case {
  const char *name;
  int policy;
  const char *vmss;
  const char *vm_list;
  const char *machines;
  const struct fake_route broken; /* answered first */
  enum osc_plan_status status;
  size_t n_destructive;
  const char *message;
};

static const struct stop_case stop_cases[] = {
    {"orphan within its grace: wait",
     0,
     FAKE_VMSS_BODY(5),
     vms,
     targets,
     {0},
     OSC_PLAN_OK,
     1,
     ""},
    {"a VM page failed",
     1,
     FAKE_VMSS_BODY(5),
     vms,
     targets,
     {"GET", "/virtualMachines?", 503, "{}", NULL, 0},
     OSC_PLAN_SAFETY_STOP,
     0,
     "HTTP 503"},
    {"the Octopus list failed",
     1,
     FAKE_VMSS_BODY(5),
     vms,
     targets,
     {"GET", "/machines?", 500, "{}", NULL, 0},
     OSC_PLAN_SAFETY_STOP,
     0,
     "HTTP 500"},
    {"no VMs while the capacity is 5",
     1,
     FAKE_VMSS_BODY(5),
     "{\"value\":[]}",
     targets,
     {0},
     OSC_PLAN_SAFETY_STOP,
     0,
     "capacity"},
    {"fewer VMs than the capacity, nothing Creating",
     1,
     FAKE_VMSS_BODY(9),
     "{\"value\":[" FAKE_VM(0) "]}",
     targets,
     {0},
     OSC_PLAN_SAFETY_STOP,
     0,
     "capacity"},
    {"over the budget",
     2,
     FAKE_VMSS_BODY(5),
     vms,
     targets,
     {0},
     OSC_PLAN_SAFETY_STOP,
     2,
     "max_delete"},
};

static void test_reconcile__stops(void **state) {
  size_t k;

  (void)state;
  for (k = 0; k < sizeof(stop_cases) / sizeof(stop_cases[0]); k++) {
    const struct stop_case *c = &stop_cases[k];
    struct world w;
    struct osc_reconcile *r;
    const struct osc_plan *p;

    print_message("--- %s\n", c->name);
    world_open(&w, policy_text[c->policy]);
    if (c->broken.method != NULL)
      w.fake->routes[w.fake->n_routes++] = c->broken;
    world_routes(w.fake, c->vmss, c->vm_list, c->machines, 0);
    r = plan_world(&w);
    p = r->plans[0];
    print_plan(p);
    assert_int_equal(p->status, c->status);
    assert_int_equal(p->n_destructive, c->n_destructive);
    assert_non_null(strstr(p->message, c->message));
    if (c->status == OSC_PLAN_SAFETY_STOP)
      assert_int_equal(osc_reconcile_exit_code(r, false), 4);
    if (c->policy == 0) {
      const struct osc_action *a = find_action(p, "web00000z");

      assert_non_null(a);
      assert_int_equal(a->cls, OSC_CLASS_ORPHAN);
      assert_int_equal(a->kind, OSC_ACT_WAIT);
    }
    assert_int_equal(w.fake->unrouted, 0);
    osc_reconcile_free(r);
    world_close(&w);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reconcile__classifies),
      cmocka_unit_test(test_reconcile__stops),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
