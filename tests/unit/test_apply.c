/* `apply` (core/osc_apply.h) against a fake transport: it deletes exactly
 * the planned targets and nothing else, nothing at all when the plan
 * stopped (budget, incomplete data), records each DELETE's outcome, and
 * acts on the re-read of `--wait` rather than on the first look. The
 * request log is the proof; no sockets, no simulator. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/osc_apply.h"
#include "core/osc_reconcile.h"
#include "core/osc_store.h"
#include "tests/unit/fake_transport.h"

/* The scale set of fake_transport.h: with the orphan grace at 0, two
 * deletions are due, Machines-4 (its VM Failed) and Machines-9 (orphan). */
static const char vms[] = FAKE_FIVE_VMS;
static const char vms_settled[] = "{\"value\":[" FAKE_VM(0) "," FAKE_VM(
    1) "," FAKE_VM(2) "," FAKE_VM_STATE(3, "Failed") "," FAKE_VM(4) "]}";
static const char targets[] = FAKE_FIVE_TARGETS;
/* The re-read: someone deleted web00000z meanwhile. */
static const char targets_later[] = FAKE_MACHINES(
    4, FAKE_MACHINE(1, "web000000") "," FAKE_MACHINE(4, "web000003") "," //
    FAKE_MACHINE(5, "web000004") "," FAKE_MACHINE(7, "db-01"));

#define GRACE_0 "return { grace = { orphan = \"0s\" } }\n"
#define BUDGET_1 "return { grace = { orphan = \"0s\" }, max_delete = 1 }\n"
#define DELETE_PATH "/api/Spaces-1/machines/Machines-"

struct apply_case {
  const char *name;
  const char *policy;
  struct fake_route first[2]; /* answered before the usual routes */
  bool wait;
  const char *deleted[3]; /* the DELETEs sent, in any order */
  size_t n_deleted;       /* the result's count */
  size_t n_failed;
  int exit_code;
  bool state_saved;
  size_t vm_reads; /* VM list requests: the first look, and the re-read */
};

static const struct apply_case apply_cases[] = {
    {"deletes exactly the planned targets",
     GRACE_0,
     {{0}},
     false,
     {"Machines-4", "Machines-9"},
     2,
     0,
     0,
     true,
     1},
    {"over the budget: nothing is deleted",
     BUDGET_1,
     {{0}},
     false,
     {NULL},
     0,
     0,
     4,
     true,
     1},
    {"incomplete data: nothing is deleted",
     GRACE_0,
     {{"GET", "/networkInterfaces?", 503, "{}", NULL, 0}},
     false,
     {NULL},
     0,
     0,
     4,
     false,
     1},
    {"a DELETE answered 404 was done by someone else",
     GRACE_0,
     {{"DELETE", DELETE_PATH "9", 404, "{}", NULL, 0}},
     false,
     {"Machines-4", "Machines-9"},
     2,
     0,
     0,
     true,
     1},
    {"a failed DELETE fails that action only",
     GRACE_0,
     {{"DELETE", DELETE_PATH "9", 500,
       "{\"ErrorMessage\":\"There was a problem with your request.\"}", NULL,
       0}},
     false,
     {"Machines-4", "Machines-9"},
     1,
     1,
     1,
     true,
     1},
    {"--wait acts on the re-read, not the first look",
     GRACE_0,
     {{"GET", "/virtualMachines?", 200, vms, NULL, 1},
      {"GET", "/api/Spaces-1/machines?", 200, targets, NULL, 1}},
     true,
     {"Machines-4"},
     1,
     0,
     0,
     true,
     2},
};

static void add_routes(struct fake *f, const struct apply_case *c) {
  size_t i;

  for (i = 0; i < 2 && c->first[i].method != NULL; i++)
    f->routes[f->n_routes++] = c->first[i];
  fake_route(f, "DELETE", DELETE_PATH, 200, "", 0);
  /* `--wait` polls the scale set's instance view between collections. */
  fake_route(f, "GET", "/vmss-web/instanceView?", 200,
             "{\"statuses\":[],\"virtualMachine\":{\"statusesSummary\":[]}}",
             0);
  if (c->wait)
    world_routes(f, FAKE_VMSS_BODY(5), vms_settled, targets_later, 0);
  else
    world_routes(f, FAKE_VMSS_BODY(5), vms, targets, 0);
}

static bool sent_delete(const struct fake *f, const char *id) {
  char part[128];

  snprintf(part, sizeof(part), "/api/Spaces-1/machines/%s", id);
  return fake_count(f, "DELETE", part) == 1;
}

static void run_apply(const struct apply_case *c, struct world *w,
                      struct osc_apply_result *res, int *exit_code) {
  struct osc_reconcile_options ro;
  struct osc_apply_options ao;
  struct osc_reconcile *r = NULL;
  struct osc_store *store = NULL;
  struct osc_error e = OSC_ERROR_INIT;

  assert_int_equal(osc_store_open(w->cfg, &store, &e), 0);
  assert_int_equal(osc_store_lock(store, &e), 0);
  memset(&ro, 0, sizeof(ro));
  ro.now = FIXTURE_NOW;
  ro.session = w->session;
  ro.store = store;
  memset(&ao, 0, sizeof(ao));
  ao.wait = c->wait;
  ao.wait_seconds = -1;
  ao.poll_interval_seconds = 0;
  assert_int_equal(osc_reconcile_plan(w->cfg, &ro, &r, &e), 0);
  assert_int_equal(osc_apply_run(r, &ro, &ao, res, &e), 0);
  *exit_code = osc_reconcile_exit_code(r, true);
  osc_reconcile_free(r);
  osc_store_unlock(store);
  osc_store_free(store);
}

static void test_apply__cases(void **state) {
  size_t k;

  (void)state;
  for (k = 0; k < sizeof(apply_cases) / sizeof(apply_cases[0]); k++) {
    const struct apply_case *c = &apply_cases[k];
    struct osc_apply_result res;
    struct world w;
    size_t n_sent = 0;
    int exit_code = -1;
    size_t i;

    print_message("--- %s\n", c->name);
    world_open(&w, c->policy);
    add_routes(w.fake, c);
    run_apply(c, &w, &res, &exit_code);
    fake_print_log(w.fake);
    for (i = 0; i < 3 && c->deleted[i] != NULL; i++) {
      assert_true(sent_delete(w.fake, c->deleted[i]));
      n_sent++;
    }
    /* Exactly those: no other DELETE, no PUT (disable) at all. */
    assert_int_equal(fake_count(w.fake, "DELETE", "/"), n_sent);
    assert_int_equal(fake_count(w.fake, "PUT", "/"), 0);
    assert_int_equal(res.n_deleted, c->n_deleted);
    assert_int_equal(res.n_failed, c->n_failed);
    assert_int_equal(res.n_disabled, 0);
    assert_int_equal(exit_code, c->exit_code);
    assert_int_equal(access(w.cfg->state, F_OK) == 0, c->state_saved);
    assert_int_equal(fake_count(w.fake, "GET", "/virtualMachines?"),
                     c->vm_reads);
    assert_int_equal(w.fake->unrouted, 0);
    osc_apply_result_free(&res);
    world_close(&w);
  }
}

/* Disabling (the policy says so for orphans) reads the target again and
 * writes it back only when it is not disabled already; a target gone on
 * that read fails its action and nothing is written. */
#define DISABLE_ORPHANS                                                        \
  "return { grace = { orphan = \"0s\" }, on_scale_in = \"disable\", "          \
  "on_failed_vm = \"keep\" }\n"

struct disable_case {
  const char *name;
  long get_status; /* GET Machines-9 */
  const char *get_body;
  size_t puts;
  size_t n_disabled;
  size_t n_failed;
  int exit_code;
};

static const struct disable_case disable_cases[] = {
    {"GET, then PUT with IsDisabled true", 200, FAKE_MACHINE(9, "web00000z"), 1,
     1, 0, 0},
    {"disabled already on the re-read: no PUT", 200,
     FAKE_MACHINE_X(9, "web00000z", "Environments-1", true), 0, 1, 0, 0},
    {"gone on the re-read: failed, no PUT", 404,
     "{\"ErrorMessage\":\"The resource 'Machines-9' was not found.\"}", 0, 0, 1,
     1},
};

static void test_apply__disables(void **state) {
  static const struct apply_case plain = {
      "disable", DISABLE_ORPHANS, {{0}}, false, {NULL}, 0, 0, 0, true, 1};
  size_t k;

  (void)state;
  for (k = 0; k < sizeof(disable_cases) / sizeof(disable_cases[0]); k++) {
    const struct disable_case *c = &disable_cases[k];
    struct osc_apply_result res;
    struct world w;
    int exit_code = -1;

    print_message("--- %s\n", c->name);
    world_open(&w, DISABLE_ORPHANS);
    fake_route(w.fake, "GET", "/api/Spaces-1/machines/Machines-9",
               c->get_status, c->get_body, 0);
    fake_route(w.fake, "PUT", "/api/Spaces-1/machines/Machines-9", 200, "{}",
               0);
    add_routes(w.fake, &plain);
    run_apply(&plain, &w, &res, &exit_code);
    fake_print_log(w.fake);
    assert_int_equal(fake_count(w.fake, "GET", "/machines/Machines-9"), 1);
    assert_int_equal(fake_count(w.fake, "PUT", "/"), c->puts);
    assert_int_equal(fake_count(w.fake, "PUT", "/machines/Machines-9"),
                     c->puts);
    if (c->puts > 0)
      assert_non_null(strstr(w.fake->last_body, "\"IsDisabled\":true"));
    assert_int_equal(fake_count(w.fake, "DELETE", "/"), 0);
    assert_int_equal(res.n_disabled, c->n_disabled);
    assert_int_equal(res.n_failed, c->n_failed);
    assert_int_equal(res.n_deleted, 0);
    assert_int_equal(exit_code, c->exit_code);
    assert_int_equal(w.fake->unrouted, 0);
    osc_apply_result_free(&res);
    world_close(&w);
  }
}

/* The state records the run: the deleted orphan is no longer remembered,
 * and the deployable targets are the outputs. */
static void test_apply__records_state(void **state) {
  struct osc_apply_result res;
  struct world w;
  char *text;
  size_t len;
  int exit_code = -1;

  (void)state;
  world_open(&w, GRACE_0);
  add_routes(w.fake, &apply_cases[0]);
  run_apply(&apply_cases[0], &w, &res, &exit_code);
  assert_int_equal(exit_code, 0);
  text = fixture_read(w.cfg->state, &len);
  assert_non_null(text);
  print_message("%s\n", text);
  assert_non_null(strstr(text, "web-prod"));
  assert_null(strstr(text, "Machines-9"));
  free(text);
  osc_apply_result_free(&res);
  world_close(&w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_apply__cases),
      cmocka_unit_test(test_apply__disables),
      cmocka_unit_test(test_apply__records_state),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
