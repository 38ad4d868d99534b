/* The state file: recording runs (osc_state_update), saving atomically and
 * loading back, and refusing corrupt or unknown-version files without
 * touching them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/osc_fs.h"
#include "core/osc_report.h"
#include "core/osc_state.h"
#include "tests/unit/plan_fixture.h"

#define NOW FIXTURE_NOW
#define MIN 60
/* The "default" --only-new baseline of a scale set entry. */
#define DEF(set) osc_state_baseline((set), OSC_STATE_DEFAULT_BASELINE)

struct ctx {
  char *dir;
  char *path; /* dir/sub/dir/state.json: parents do not exist yet */
};

static int setup(void **state) {
  struct ctx *c = calloc(1, sizeof(*c));

  assert_non_null(c);
  c->dir = fixture_tmpdir();
  c->path = fixture_path(c->dir, "sub/dir/state.json");
  *state = c;
  return 0;
}

static int teardown(void **state) {
  struct ctx *c = *state;

  fixture_rmdir(c->dir);
  free(c->path);
  free(c);
  return 0;
}

static struct osc_state *empty_state(const char *path) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_state *s = NULL;

  assert_int_equal(osc_state_load(path, &s, &err), OSC_OK);
  assert_non_null(s);
  return s;
}

/* web-prod: 2 orphans, 2 deployable, one delete and one disable done, one
 * delete pending. */
static struct osc_plan *web_plan(void) {
  struct osc_plan *p = fixture_plan("web-prod", OSC_PLAN_OK, "");

  fixture_action(p, OSC_ACT_KEEP, OSC_CLASS_IN_SYNC, "Machines-1", "web-1",
                 "vmss_1", "in sync", OSC_RESULT_PENDING, NULL);
  fixture_action(p, OSC_ACT_DELETE, OSC_CLASS_ORPHAN, "Machines-7", "web-7",
                 NULL, "VM gone 12m, grace 10m", OSC_RESULT_DONE, NULL);
  fixture_action(p, OSC_ACT_DISABLE, OSC_CLASS_FAILED_VM, "Machines-8", "web-8",
                 "vmss_8", "VM failed", OSC_RESULT_DONE, NULL);
  fixture_action(p, OSC_ACT_DELETE, OSC_CLASS_ORPHAN, "Machines-9", "web-9",
                 NULL, "VM gone 3m, grace 10m", OSC_RESULT_PENDING, NULL);
  fixture_orphan(p, "Machines-9", NOW - 3 * MIN);
  fixture_orphan(p, "Machines-5", NOW - 1 * MIN);
  fixture_deployable(p, "Machines-1", "web-1");
  fixture_deployable(p, "Machines-2", "web-2");
  return p;
}

static struct osc_plan *api_plan(void) {
  struct osc_plan *p = fixture_plan("api", OSC_PLAN_OK, "");

  fixture_action(p, OSC_ACT_KEEP, OSC_CLASS_IN_SYNC, "Machines-20", "api-0",
                 "vmss_0", "in sync", OSC_RESULT_PENDING, NULL);
  fixture_deployable(p, "Machines-20", "api-0");
  return p;
}

static void assert_states_equal(const struct osc_state *a,
                                const struct osc_state *b) {
  size_t i;
  size_t j;

  assert_int_equal(a->updated_at, b->updated_at);
  assert_int_equal(a->n_sets, b->n_sets);
  for (i = 0; i < a->n_sets; i++) {
    const struct osc_state_scale_set *x = &a->sets[i];
    const struct osc_state_scale_set *y = osc_state_find(b, x->name);

    assert_non_null(y);
    assert_string_equal(x->name, y->name);
    assert_int_equal(x->n_orphans, y->n_orphans);
    for (j = 0; j < x->n_orphans; j++) {
      size_t k;
      bool found = false;

      for (k = 0; k < y->n_orphans; k++) {
        if (strcmp(x->orphans[j].target_id, y->orphans[k].target_id) == 0) {
          assert_int_equal(x->orphans[j].since, y->orphans[k].since);
          found = true;
        }
      }
      assert_true(found);
    }
    assert_int_equal(x->n_baselines, y->n_baselines);
    for (j = 0; j < x->n_baselines; j++) {
      const struct osc_state_baseline *bx = &x->baselines[j];
      const struct osc_state_baseline *by =
          osc_state_baseline(y, x->baselines[j].name);
      size_t k;

      assert_non_null(by);
      assert_int_equal(bx->at, by->at);
      assert_int_equal(bx->n_targets, by->n_targets);
      for (k = 0; k < bx->n_targets; k++) {
        assert_string_equal(bx->targets[k].id, by->targets[k].id);
        assert_string_equal(bx->targets[k].name, by->targets[k].name);
      }
    }
  }
  assert_int_equal(a->n_runs, b->n_runs);
  for (i = 0; i < a->n_runs; i++) {
    assert_int_equal(a->runs[i].at, b->runs[i].at);
    assert_string_equal(a->runs[i].command, b->runs[i].command);
    assert_string_equal(a->runs[i].scale_set, b->runs[i].scale_set);
    assert_string_equal(a->runs[i].status, b->runs[i].status);
    assert_int_equal(a->runs[i].deleted, b->runs[i].deleted);
    assert_int_equal(a->runs[i].disabled, b->runs[i].disabled);
    assert_int_equal(a->runs[i].failed, b->runs[i].failed);
  }
}

static struct osc_state *saved_state(const char *path) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_state *s = empty_state(path);
  struct osc_plan *plans[2] = {web_plan(), api_plan()};

  assert_int_equal(osc_state_update(s, plans, 2, NOW, "apply", "default", &err),
                   OSC_OK);
  assert_int_equal(osc_state_save(s, path, &err), OSC_OK);
  osc_plan_free(plans[0]);
  osc_plan_free(plans[1]);
  return s;
}

/* --- update ------------------------------------------------------------------
 */

static void test_state__update_records_a_run(void **state) {
  struct ctx *c = *state;
  struct osc_state *s = saved_state(c->path);
  const struct osc_state_scale_set *web = osc_state_find(s, "WEB-PROD");

  assert_int_equal(s->updated_at, NOW);
  assert_int_equal(s->n_sets, 2);
  assert_non_null(web);
  assert_int_equal(web->n_orphans, 2);
  assert_string_equal(web->orphans[0].target_id, "Machines-9");
  assert_int_equal(web->orphans[0].since, NOW - 3 * MIN);
  assert_non_null(DEF(web));
  assert_int_equal(DEF(web)->at, NOW);
  assert_int_equal(DEF(web)->n_targets, 2);
  assert_string_equal(DEF(web)->targets[1].name, "web-2");
  assert_int_equal(s->n_runs, 2);
  assert_string_equal(s->runs[0].command, "apply");
  assert_string_equal(s->runs[0].scale_set, "web-prod");
  assert_string_equal(s->runs[0].status, "ok");
  assert_int_equal(s->runs[0].deleted, 1); /* the pending one is not */
  assert_int_equal(s->runs[0].disabled, 1);
  assert_int_equal(s->runs[0].failed, 0);
  assert_string_equal(s->runs[1].scale_set, "api");
  osc_state_free(s);
}

static void test_state__update_leaves_other_scale_sets(void **state) {
  struct ctx *c = *state;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_state *s = saved_state(c->path);
  struct osc_plan *p = fixture_plan("api", OSC_PLAN_OK, "");
  const struct osc_state_scale_set *web;
  const struct osc_state_scale_set *api;

  fixture_orphan(p, "Machines-20", NOW);
  assert_int_equal(
      osc_state_update(s, &p, 1, NOW + 60, "apply", "default", &err), OSC_OK);
  web = osc_state_find(s, "web-prod");
  api = osc_state_find(s, "api");
  assert_int_equal(web->n_orphans, 2);
  assert_int_equal(DEF(web)->at, NOW);
  assert_int_equal(api->n_orphans, 1);
  assert_int_equal(DEF(api)->at, NOW + 60);
  assert_int_equal(DEF(api)->n_targets, 0);
  assert_int_equal(s->n_runs, 3);
  assert_int_equal(s->updated_at, NOW + 60);
  osc_plan_free(p);
  osc_state_free(s);
}

static void test_state__update_adds_new_scale_sets_once(void **state) {
  struct ctx *c = *state;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_state *s = empty_state(c->path);
  struct osc_plan *plans[3] = {api_plan(), api_plan(), web_plan()};

  plans[1]->scale_set = "API"; /* the same entry, in another case */
  assert_int_equal(osc_state_update(s, plans, 3, NOW, "apply", "default", &err),
                   OSC_OK);
  assert_int_equal(s->n_sets, 2);
  assert_int_equal(s->n_runs, 3);
  assert_string_equal(s->runs[1].scale_set, "API");
  osc_plan_free(plans[0]);
  osc_plan_free(plans[1]);
  osc_plan_free(plans[2]);
  osc_state_free(s);
}

/* Unknown is not absent: a scale set whose collection failed keeps its
 * orphans (and so its grace clocks) and its last success. */
static void test_state__failed_plan_keeps_orphans(void **state) {
  struct ctx *c = *state;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_state *s = saved_state(c->path);
  struct osc_plan *p = NULL;
  const struct osc_state_scale_set *web;

  assert_int_equal(osc_plan_new_failed("web-prod", OSC_PLAN_SAFETY_STOP, 0,
                                       "VM list page 2 failed", &p, &err),
                   OSC_OK);
  assert_int_equal(
      osc_state_update(s, &p, 1, NOW + 600, "apply", "default", &err), OSC_OK);
  web = osc_state_find(s, "web-prod");
  assert_int_equal(web->n_orphans, 2);
  assert_int_equal(web->orphans[0].since, NOW - 3 * MIN);
  assert_int_equal(DEF(web)->at, NOW);
  assert_string_equal(s->runs[s->n_runs - 1].status, "safety_stop");
  osc_plan_free(p);
  osc_state_free(s);
}

/* A budget stop happens after classification: its orphans are recorded so
 * the grace keeps running, but it is not a success. */
static void test_state__safety_stop_with_actions_records_orphans(void **state) {
  struct ctx *c = *state;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_state *s = saved_state(c->path);
  struct osc_plan *p = fixture_plan("web-prod", OSC_PLAN_SAFETY_STOP,
                                    "6 deletions exceed the budget of 5");
  const struct osc_state_scale_set *web;

  fixture_action(p, OSC_ACT_DELETE, OSC_CLASS_ORPHAN, "Machines-3", "web-3",
                 NULL, "VM gone", OSC_RESULT_PENDING, NULL);
  fixture_orphan(p, "Machines-3", NOW);
  fixture_deployable(p, "Machines-1", "web-1");
  assert_int_equal(
      osc_state_update(s, &p, 1, NOW + 60, "apply", "default", &err), OSC_OK);
  web = osc_state_find(s, "web-prod");
  assert_int_equal(web->n_orphans, 1);
  assert_string_equal(web->orphans[0].target_id, "Machines-3");
  assert_int_equal(DEF(web)->at, NOW);
  assert_int_equal(DEF(web)->n_targets, 2);
  osc_plan_free(p);
  osc_state_free(s);
}

/* apply saves nothing when no plan got past its reads: a failed read, an
 * error before classifying. Any plan that classified (OK, or a budget stop
 * with actions) is worth recording. */
static void test_state__plans_learn(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_plan *failed = NULL;
  struct osc_plan *error = NULL;
  struct osc_plan *ok = fixture_plan("api", OSC_PLAN_OK, "");
  struct osc_plan *budget = fixture_plan("web-prod", OSC_PLAN_SAFETY_STOP,
                                         "2 deletions exceed the budget of 1");
  struct osc_plan *plans[3];

  (void)state;
  assert_int_equal(osc_plan_new_failed("web-prod", OSC_PLAN_SAFETY_STOP, 0,
                                       "VM list page 2 failed", &failed, &err),
                   OSC_OK);
  assert_int_equal(osc_plan_new_failed("db", OSC_PLAN_ERROR, 0,
                                       "tenant 'x' does not exist", &error,
                                       &err),
                   OSC_OK);
  fixture_action(budget, OSC_ACT_DELETE, OSC_CLASS_ORPHAN, "Machines-3",
                 "web-3", NULL, "VM gone", OSC_RESULT_PENDING, NULL);
  plans[0] = failed;
  plans[1] = error;
  assert_false(osc_state_plans_learn(plans, 2));
  assert_false(osc_state_plans_learn(plans, 0));
  plans[2] = ok;
  assert_true(osc_state_plans_learn(plans, 3));
  plans[1] = budget;
  assert_true(osc_state_plans_learn(plans, 2));
  osc_plan_free(failed);
  osc_plan_free(error);
  osc_plan_free(ok);
  osc_plan_free(budget);
}

static void test_state__success_needs_ok_and_no_failure(void **state) {
  struct ctx *c = *state;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_state *s = saved_state(c->path);
  struct osc_plan *p = web_plan();
  const struct osc_state_scale_set *web;

  /* record_success false: a plan, or a run the caller does not count */
  assert_int_equal(osc_state_update(s, &p, 1, NOW + 60, "apply", NULL, &err),
                   OSC_OK);
  web = osc_state_find(s, "web-prod");
  assert_int_equal(DEF(web)->at, NOW);
  /* an action failed */
  p->actions[1].result = OSC_RESULT_FAILED;
  p->actions[1].result_message = "HTTP 500";
  assert_int_equal(
      osc_state_update(s, &p, 1, NOW + 120, "apply", "default", &err), OSC_OK);
  web = osc_state_find(s, "web-prod");
  assert_int_equal(DEF(web)->at, NOW);
  assert_int_equal(s->runs[s->n_runs - 1].failed, 1);
  assert_int_equal(s->runs[s->n_runs - 1].deleted, 0);
  /* all good again */
  p->actions[1].result = OSC_RESULT_DONE;
  assert_int_equal(
      osc_state_update(s, &p, 1, NOW + 180, "apply", "default", &err), OSC_OK);
  web = osc_state_find(s, "web-prod");
  assert_int_equal(DEF(web)->at, NOW + 180);
  osc_plan_free(p);
  osc_state_free(s);
}

static void test_state__runs_keep_the_last_200(void **state) {
  struct ctx *c = *state;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_state *s = empty_state(c->path);
  struct osc_state *back = NULL;
  struct osc_plan *p = api_plan();
  int i;

  for (i = 0; i < 150; i++)
    assert_int_equal(
        osc_state_update(s, &p, 1, NOW + i, "apply", "default", &err), OSC_OK);
  assert_int_equal(osc_state_save(s, c->path, &err), OSC_OK);
  osc_state_free(s);
  assert_int_equal(osc_state_load(c->path, &s, &err), OSC_OK);
  for (i = 150; i < 260; i++)
    assert_int_equal(
        osc_state_update(s, &p, 1, NOW + i, "apply", "default", &err), OSC_OK);
  assert_int_equal(s->n_runs, OSC_STATE_MAX_RUNS);
  assert_int_equal(s->runs[0].at, NOW + 60);
  assert_int_equal(s->runs[OSC_STATE_MAX_RUNS - 1].at, NOW + 259);
  assert_int_equal(osc_state_save(s, c->path, &err), OSC_OK);
  assert_int_equal(osc_state_load(c->path, &back, &err), OSC_OK);
  assert_states_equal(s, back);
  osc_plan_free(p);
  osc_state_free(back);
  osc_state_free(s);
}

static void test_state__update_rejects_misuse(void **state) {
  struct ctx *c = *state;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_state *s = empty_state(c->path);
  struct osc_plan *none = NULL;

  assert_int_equal(osc_state_update(s, &none, 1, NOW, "apply", "default", &err),
                   OSC_E_RUNTIME);
  assert_int_equal(osc_state_update(s, NULL, 0, NOW, "apply", "default", &err),
                   OSC_OK);
  assert_int_equal(s->n_runs, 0);
  osc_state_free(s);
}

/* --- save and load -------------------------------------------------------- */

static void test_state__round_trip(void **state) {
  struct ctx *c = *state;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_state *s = saved_state(c->path);
  struct osc_state *back = NULL;

  assert_int_equal(osc_state_load(c->path, &back, &err), OSC_OK);
  assert_states_equal(s, back);
  osc_state_free(back);
  osc_state_free(s);
}

static void test_state__file_modes_and_no_temp_left(void **state) {
  struct ctx *c = *state;
  struct osc_state *s = saved_state(c->path);
  char *tmp = fixture_path(c->dir, "sub/dir/state.json.tmp");
  char *sub = fixture_path(c->dir, "sub");
  char *subdir = fixture_path(c->dir, "sub/dir");
  struct stat st;

  assert_int_equal(stat(c->path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(stat(sub, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0700);
  assert_int_equal(stat(subdir, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0700);
  assert_int_not_equal(stat(tmp, &st), 0);
  free(tmp);
  free(sub);
  free(subdir);
  osc_state_free(s);
}

/* Stable bytes: scale sets sorted by name, orphans by id, whatever order
 * the hash table gave on load. */
static void test_state__saved_file_is_stable(void **state) {
  struct ctx *c = *state;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_state *s = saved_state(c->path);
  struct osc_state *back = NULL;
  char *first = fixture_read(c->path, NULL);
  char *second;

  assert_non_null(first);
  assert_int_equal(osc_state_load(c->path, &back, &err), OSC_OK);
  assert_int_equal(osc_state_save(back, c->path, &err), OSC_OK);
  second = fixture_read(c->path, NULL);
  assert_string_equal(first, second);
  assert_true(strstr(first, "\"api\"") < strstr(first, "\"web-prod\""));
  assert_true(strstr(first, "\"Machines-5\"") <
              strstr(first, "\"Machines-9\""));
  assert_non_null(strstr(first, "\"format_version\": 2"));
  assert_non_null(strstr(first, "\"updated_at\": \"2026-11-27T10:00:00Z\""));
  free(first);
  free(second);
  osc_state_free(back);
  osc_state_free(s);
}

static void test_state__missing_file_is_empty(void **state) {
  struct ctx *c = *state;
  struct osc_state *s = empty_state(c->path);

  assert_int_equal(s->n_sets, 0);
  assert_int_equal(s->n_runs, 0);
  assert_null(osc_state_find(s, "web-prod"));
  osc_state_free(s);
}

/* A file that cannot be trusted stops the run (exit 1) and stays as it
 * was: octoscale never resets state silently. */
static void expect_refused(const char *path, const char *content,
                           const char *needle) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_state *s = NULL;
  char *after;

  assert_int_equal(osc_fs_mkdir_parents(path, 0700, &err), OSC_OK);
  fixture_write(path, content);
  assert_int_equal(osc_state_load(path, &s, &err), OSC_E_RUNTIME);
  assert_null(s);
  assert_int_equal(osc_error_exit_code(err.code), 1);
  assert_non_null(strstr(err.msg, path));
  if (strstr(err.msg, needle) == NULL)
    fail_msg("message \"%s\" lacks \"%s\"", err.msg, needle);
  assert_null(strchr(err.msg, '\n'));
  after = fixture_read(path, NULL);
  assert_string_equal(after, content);
  free(after);
}

static void test_state__corrupt_file_is_refused(void **state) {
  struct ctx *c = *state;

  expect_refused(c->path, "{\"format_version\": 1, \"scale_sets\": {",
                 "is corrupt");
  expect_refused(c->path, "", "is corrupt");
  expect_refused(c->path, "[]", "is corrupt: no format_version");
  expect_refused(c->path, "{\"format_version\":1,\"scale_sets\":[1]}",
                 "is corrupt");
  expect_refused(c->path,
                 "{\"format_version\":1,\"scale_sets\":{\"w\":{\"orphans\":"
                 "{\"Machines-1\":\"yesterday\"}}}}",
                 "orphans entry");
  expect_refused(c->path,
                 "{\"format_version\":1,\"scale_sets\":{\"w\":{"
                 "\"last_success\":{\"at\":7}}}}",
                 "last_success.at");
}

static void test_state__unknown_version_is_refused(void **state) {
  struct ctx *c = *state;

  expect_refused(c->path, "{\"format_version\": 3, \"scale_sets\": {}}",
                 "format_version 3; this octoscale reads 1 and 2");
}

/* A crash between writing the temporary file and the rename leaves the old
 * state in place and a stale temporary file, which load ignores and the
 * next save replaces (with the right mode). */
static void test_state__crash_before_rename_keeps_old_file(void **state) {
  struct ctx *c = *state;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_state *s = saved_state(c->path);
  struct osc_state *back = NULL;
  char *tmp = fixture_path(c->dir, "sub/dir/state.json.tmp");
  struct osc_plan *p = api_plan();
  struct stat st;

  fixture_write(tmp, "{\"format_version\": 1, \"scale_sets\": {\"half");
  assert_int_equal(chmod(tmp, 0644), 0);
  assert_int_equal(osc_state_load(c->path, &back, &err), OSC_OK);
  assert_states_equal(s, back);
  osc_state_free(back);
  back = NULL;

  assert_int_equal(
      osc_state_update(s, &p, 1, NOW + 60, "apply", "default", &err), OSC_OK);
  assert_int_equal(osc_state_save(s, c->path, &err), OSC_OK);
  assert_int_not_equal(stat(tmp, &st), 0);
  assert_int_equal(stat(c->path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(osc_state_load(c->path, &back, &err), OSC_OK);
  assert_states_equal(s, back);
  assert_int_equal(back->n_runs, 3);
  free(tmp);
  osc_plan_free(p);
  osc_state_free(back);
  osc_state_free(s);
}

/* A save that cannot complete leaves the old file byte for byte. */
static void test_state__failed_save_keeps_old_file(void **state) {
  struct ctx *c = *state;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_state *s = saved_state(c->path);
  char *before = fixture_read(c->path, NULL);
  char *tmp = fixture_path(c->dir, "sub/dir/state.json.tmp");
  char *blocker = fixture_path(c->dir, "sub/dir/state.json.tmp/x");
  struct osc_plan *p = api_plan();
  char *after;

  assert_int_equal(mkdir(tmp, 0700), 0); /* the temp name is taken */
  fixture_write(blocker, "x");
  assert_int_equal(
      osc_state_update(s, &p, 1, NOW + 60, "apply", "default", &err), OSC_OK);
  assert_int_equal(osc_state_save(s, c->path, &err), OSC_E_RUNTIME);
  assert_non_null(strstr(err.msg, "saving state file "));
  assert_non_null(strstr(err.msg, c->path));
  assert_non_null(strstr(err.msg, ": cannot create"));
  after = fixture_read(c->path, NULL);
  assert_string_equal(before, after);
  free(before);
  free(after);
  free(tmp);
  free(blocker);
  osc_plan_free(p);
  osc_state_free(s);
}

/* A state file reached through symbolic links (a relative one to a link to
 * the real file) is updated where it lives: the links stay links, the
 * temporary file is made beside the real file, never beside a link. */
static void test_state__symlink_is_written_through(void **state) {
  struct ctx *c = *state;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_state *s = saved_state(c->path); /* the real file */
  char *hop = fixture_path(c->dir, "hop.json");
  char *link = fixture_path(c->dir, "links/state.json");
  char *link_tmp = fixture_path(c->dir, "links/state.json.tmp");
  struct osc_plan *p = api_plan();
  struct osc_state *back = NULL;
  char real[4096];
  struct stat st;

  assert_int_equal(symlink(c->path, hop), 0);
  assert_int_equal(osc_fs_mkdir_parents(link, 0700, &err), OSC_OK);
  assert_int_equal(symlink("../hop.json", link), 0);
  assert_int_equal(osc_fs_real_path(link, real, sizeof(real), &err), OSC_OK);
  assert_string_equal(real, c->path);
  assert_int_equal(
      osc_state_update(s, &p, 1, NOW + 60, "apply", "default", &err), OSC_OK);
  assert_int_equal(osc_state_check_writable(s, link, &err), OSC_OK);
  assert_int_equal(osc_state_save(s, link, &err), OSC_OK);
  assert_int_equal(lstat(link, &st), 0);
  assert_true(S_ISLNK(st.st_mode));
  assert_int_equal(lstat(hop, &st), 0);
  assert_true(S_ISLNK(st.st_mode));
  assert_int_equal(lstat(link_tmp, &st), -1);
  assert_int_equal(osc_state_load(c->path, &back, &err), OSC_OK);
  assert_int_equal(back->n_runs, 3); /* the real file has the new run */
  osc_state_free(back);
  free(hop);
  free(link);
  free(link_tmp);
  osc_plan_free(p);
  osc_state_free(s);
}

/* A link cycle is an error, not a hang. */
static void test_state__symlink_loop_is_an_error(void **state) {
  struct ctx *c = *state;
  struct osc_error err = OSC_ERROR_INIT;
  char *a = fixture_path(c->dir, "a.json");
  char *b = fixture_path(c->dir, "b.json");
  char real[4096];

  assert_int_equal(symlink(b, a), 0);
  assert_int_equal(symlink(a, b), 0);
  assert_int_equal(osc_fs_real_path(a, real, sizeof(real), &err),
                   OSC_E_RUNTIME);
  assert_non_null(strstr(err.msg, "too many levels of symbolic links"));
  free(a);
  free(b);
}

/* The check before the first destructive action: it writes and removes the
 * temporary file and leaves the state file alone; when the temporary file
 * cannot be made, it fails naming the state file. */
static void test_state__check_writable(void **state) {
  struct ctx *c = *state;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_state *s = saved_state(c->path);
  char *before = fixture_read(c->path, NULL);
  char *tmp = fixture_path(c->dir, "sub/dir/state.json.tmp");
  char *blocker = fixture_path(c->dir, "sub/dir/state.json.tmp/x");
  struct osc_plan *p = api_plan();
  struct stat st;
  char *after;

  assert_int_equal(
      osc_state_update(s, &p, 1, NOW + 60, "apply", "default", &err), OSC_OK);
  assert_int_equal(osc_state_check_writable(s, c->path, &err), OSC_OK);
  assert_int_equal(lstat(tmp, &st), -1);
  after = fixture_read(c->path, NULL);
  assert_string_equal(before, after);
  free(after);

  assert_int_equal(mkdir(tmp, 0700), 0); /* the temp name is taken */
  fixture_write(blocker, "x");
  assert_int_equal(osc_state_check_writable(s, c->path, &err), OSC_E_RUNTIME);
  assert_non_null(strstr(err.msg, "cannot write state file "));
  assert_non_null(strstr(err.msg, c->path));
  after = fixture_read(c->path, NULL);
  assert_string_equal(before, after);
  free(after);
  free(before);
  free(tmp);
  free(blocker);
  osc_plan_free(p);
  osc_state_free(s);
}

/* --only-new end to end: outputs come from the state loaded at the start,
 * then the run is recorded; a second trigger sees nothing new. */
static void test_state__only_new_second_run_is_false(void **state) {
  struct ctx *c = *state;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_outputs out;
  struct osc_state *s = empty_state(c->path);
  struct osc_plan *p = web_plan();
  int run;

  for (run = 0; run < 2; run++) {
    assert_int_equal(osc_outputs_build(&p, 1, s, "default", &out, &err),
                     OSC_OK);
    assert_string_equal(osc_outputs_get(&out, "VMSSHasServersToDeployTo"),
                        run == 0 ? "True" : "False");
    assert_string_equal(osc_outputs_get(&out, "VMSSDeploymentTargetIds"),
                        run == 0 ? "Machines-1,Machines-2" : "");
    osc_outputs_free(&out);
    assert_int_equal(
        osc_state_update(s, &p, 1, NOW + run, "apply", "default", &err),
        OSC_OK);
    assert_int_equal(osc_state_save(s, c->path, &err), OSC_OK);
    osc_state_free(s);
    assert_int_equal(osc_state_load(c->path, &s, &err), OSC_OK);
  }
  osc_plan_free(p);
  osc_state_free(s);
}

/* Version 1 is read and upgraded: its last_success becomes the "default"
 * baseline, and the next save writes version 2 without last_success. */
static void test_state__v1_is_upgraded_to_v2(void **state) {
  struct ctx *c = *state;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_state *s = NULL;
  const struct osc_state_baseline *b;
  char *text;

  assert_int_equal(osc_fs_mkdir_parents(c->path, 0700, &err), OSC_OK);
  fixture_write(c->path,
                "{\"format_version\":1,\"scale_sets\":{\"web-prod\":{"
                "\"orphans\":{\"Machines-9\":\"2026-11-27T09:57:00Z\"},"
                "\"last_success\":{\"at\":\"2026-11-27T09:00:00Z\","
                "\"targets\":[{\"id\":\"Machines-1\",\"name\":\"web-1\"}]}}},"
                "\"runs\":[]}");
  assert_int_equal(osc_state_load(c->path, &s, &err), OSC_OK);
  assert_int_equal(s->loaded_version, 1);
  b = DEF(osc_state_find(s, "web-prod"));
  assert_non_null(b);
  assert_int_equal(b->at, NOW - 60 * MIN);
  assert_int_equal(b->n_targets, 1);
  assert_string_equal(b->targets[0].id, "Machines-1");
  assert_int_equal(osc_state_find(s, "web-prod")->orphans[0].since,
                   NOW - 3 * MIN);
  assert_int_equal(osc_state_save(s, c->path, &err), OSC_OK);
  osc_state_free(s);
  text = fixture_read(c->path, NULL);
  assert_non_null(strstr(text, "\"format_version\": 2"));
  assert_non_null(strstr(text, "\"baselines\""));
  assert_null(strstr(text, "last_success"));
  free(text);
  assert_int_equal(osc_state_load(c->path, &s, &err), OSC_OK);
  assert_int_equal(s->loaded_version, 2);
  b = DEF(osc_state_find(s, "web-prod"));
  assert_non_null(b);
  assert_string_equal(b->targets[0].name, "web-1");
  osc_state_free(s);
}

/* Two consumers of one scale set (--only-new=A, --only-new=B) each see the
 * new targets once; recording one leaves the other's baseline alone. */
static void test_state__named_baselines_are_independent(void **state) {
  struct ctx *c = *state;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_outputs out;
  struct osc_state *s = empty_state(c->path);
  struct osc_plan *p = web_plan();
  const char *names[4] = {"A", "B", "A", "B"};
  int run;

  for (run = 0; run < 4; run++) {
    assert_int_equal(osc_outputs_build(&p, 1, s, names[run], &out, &err),
                     OSC_OK);
    assert_string_equal(osc_outputs_get(&out, "VMSSDeploymentTargetIds"),
                        run < 2 ? "Machines-1,Machines-2" : "");
    osc_outputs_free(&out);
    assert_int_equal(
        osc_state_update(s, &p, 1, NOW + run, "apply", names[run], &err),
        OSC_OK);
    assert_int_equal(osc_state_save(s, c->path, &err), OSC_OK);
    osc_state_free(s);
    assert_int_equal(osc_state_load(c->path, &s, &err), OSC_OK);
  }
  assert_int_equal(osc_state_find(s, "web-prod")->n_baselines, 2);
  assert_null(DEF(osc_state_find(s, "web-prod")));
  assert_int_equal(osc_state_baseline(osc_state_find(s, "web-prod"), "B")->at,
                   NOW + 3);
  osc_plan_free(p);
  osc_state_free(s);
}

/* Per-target records ("targets") and unknown keys need no new version:
 * records survive a load/update/save, unknown keys are ignored. */
static void test_state__target_records_are_kept(void **state) {
  struct ctx *c = *state;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_state *s = NULL;
  struct osc_plan *p = web_plan();
  char *text;

  assert_int_equal(osc_fs_mkdir_parents(c->path, 0700, &err), OSC_OK);
  fixture_write(c->path,
                "{\"format_version\":2,\"scale_sets\":{\"web-prod\":{"
                "\"orphans\":{},\"future_key\":[1,2],"
                "\"targets\":{\"Machines-8\":{\"disabled_since\":"
                "\"2026-11-27T09:00:00Z\",\"disabled_by\":\"octoscale\"}}}}}");
  assert_int_equal(osc_state_load(c->path, &s, &err), OSC_OK);
  assert_int_equal(osc_state_update(s, &p, 1, NOW, "apply", "default", &err),
                   OSC_OK);
  assert_int_equal(osc_state_save(s, c->path, &err), OSC_OK);
  text = fixture_read(c->path, NULL);
  /* the record is policy memory: kept, in the shape octoscale writes */
  assert_non_null(strstr(text, "\"targets\""));
  assert_non_null(strstr(text, "\"Machines-8\""));
  assert_non_null(strstr(text, "\"disabled_by\": \"octoscale\""));
  assert_null(strstr(text, "future_key"));
  free(text);
  expect_refused(c->path,
                 "{\"format_version\":2,\"scale_sets\":{\"w\":{"
                 "\"baselines\":{\"A\":{\"at\":\"now\"}}}}}",
                 "baselines.A.at");
  expect_refused(c->path,
                 "{\"format_version\":2,\"scale_sets\":{\"w\":{"
                 "\"targets\":\"x\"}}}",
                 "targets is not an object");
  osc_plan_free(p);
  osc_state_free(s);
}

/* Records that hold no policy memory are facts this version does not read:
 * they survive load and save byte for byte, as the file held them. */
static void test_state__records_without_memory_are_kept_as_read(void **state) {
  struct ctx *c = *state;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_state *s = NULL;
  static const char records[] =
      "{\"Machines-9\": {\"note\": \"a/b\", \"n\": [1, 2.50]}}";
  char text[512];
  char *saved;

  snprintf(text, sizeof(text),
           "{\"format_version\":2,\"scale_sets\":{\"web-prod\":{"
           "\"orphans\":{},\"targets\":%s}},\"runs\":[7,\"x\",{\"at\":"
           "\"2026-11-27T09:00:00Z\",\"command\":\"apply\"}]}",
           records);
  assert_int_equal(osc_fs_mkdir_parents(c->path, 0700, &err), OSC_OK);
  fixture_write(c->path, text);
  assert_int_equal(osc_state_load(c->path, &s, &err), OSC_OK);
  assert_int_equal(s->n_sets, 1);
  assert_string_equal(s->sets[0].target_records, records);
  assert_int_equal(s->sets[0].n_disabled, 0);
  /* runs that are not objects are not runs */
  assert_int_equal(s->n_runs, 1);
  assert_string_equal(s->runs[0].command, "apply");
  assert_int_equal(osc_state_save(s, c->path, &err), OSC_OK);
  saved = fixture_read(c->path, NULL);
  assert_non_null(strstr(saved, records));
  free(saved);
  osc_state_free(s);
}

/* A list where the format has an object of named entries is corrupt. */
static void test_state__lists_for_named_entries_are_refused(void **state) {
  struct ctx *c = *state;

  expect_refused(c->path, "{\"format_version\":2,\"scale_sets\":[{}]}",
                 "a scale set key is not a string");
  expect_refused(c->path,
                 "{\"format_version\":2,\"scale_sets\":{\"w\":{"
                 "\"orphans\":[\"2026-11-27T09:00:00Z\"]}}}",
                 "an orphans entry is not");
  expect_refused(c->path,
                 "{\"format_version\":2,\"scale_sets\":{\"w\":{"
                 "\"baselines\":[{\"at\":\"2026-11-27T09:00:00Z\"}]}}}",
                 "a baselines entry is not");
  expect_refused(c->path,
                 "{\"format_version\":2,\"scale_sets\":{\"w\":{"
                 "\"baselines\":{\"A\":7}}}}",
                 "a baselines entry is not");
  expect_refused(c->path,
                 "{\"format_version\":2,\"scale_sets\":{\"w\":{"
                 "\"targets\":[{\"disabled_by\":\"octoscale\"}]}}}",
                 "a targets entry is not");
  expect_refused(c->path,
                 "{\"format_version\":2,\"scale_sets\":{\"w\":{"
                 "\"targets\":null}}}",
                 "targets is not an object");
  expect_refused(c->path, "{\"format_version\":2,\"scale_sets\":null}",
                 "scale_sets is not an object");
}

/* --- policy memory -----------------------------------------------------------
 */

static int64_t disabled_since(const struct osc_state *s, const char *set,
                              const char *id) {
  const struct osc_state_scale_set *e = osc_state_find(s, set);
  size_t i;

  for (i = 0; e != NULL && i < e->n_disabled; i++) {
    if (strcmp(e->disabled[i].target_id, id) == 0)
      return e->disabled[i].since;
  }
  return 0;
}

static void test_state__remembers_what_octoscale_disabled(void **state) {
  struct ctx *c = *state;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_state *s = empty_state(c->path);
  struct osc_state *back = NULL;
  struct osc_plan *p = web_plan(); /* disables Machines-8, deletes -7 */
  struct osc_plan *later;
  char *text;

  fixture_disabled(p, "Machines-3", NOW - 60 * MIN); /* still disabled */
  fixture_disabled(p, "Machines-7", NOW - 90 * MIN); /* deleted now */
  assert_int_equal(osc_state_update(s, &p, 1, NOW, "apply", "default", &err),
                   OSC_OK);
  assert_int_equal(osc_state_find(s, "web-prod")->n_disabled, 2);
  assert_int_equal(disabled_since(s, "web-prod", "Machines-3"), NOW - 60 * MIN);
  assert_int_equal(disabled_since(s, "web-prod", "Machines-8"), NOW);
  assert_int_equal(disabled_since(s, "web-prod", "Machines-7"), 0);
  assert_int_equal(osc_state_save(s, c->path, &err), OSC_OK);
  text = fixture_read(c->path, NULL);
  assert_non_null(strstr(text, "\"targets\""));
  assert_non_null(strstr(text, "\"disabled_by\": \"octoscale\""));
  assert_non_null(strstr(text, "\"2026-11-27T09:00:00Z\""));
  free(text);
  assert_int_equal(osc_state_load(c->path, &back, &err), OSC_OK);
  assert_int_equal(disabled_since(back, "web-prod", "Machines-8"), NOW);
  assert_int_equal(disabled_since(back, "web-prod", "Machines-3"),
                   NOW - 60 * MIN);

  /* A plan that classified nothing keeps the memory; one that did replaces
   * it (Machines-3 was enabled by someone: the engine no longer lists it),
   * and an enable done by octoscale forgets its target. */
  later = fixture_plan("web-prod", OSC_PLAN_SAFETY_STOP, "incomplete");
  assert_int_equal(
      osc_state_update(back, &later, 1, NOW + MIN, "apply", "default", &err),
      OSC_OK);
  assert_int_equal(osc_state_find(back, "web-prod")->n_disabled, 2);
  osc_plan_free(later);
  later = fixture_plan("web-prod", OSC_PLAN_OK, "");
  fixture_action(later, OSC_ACT_ENABLE, OSC_CLASS_IN_SYNC, "Machines-8",
                 "web-8", "vmss_8", "VM running", OSC_RESULT_DONE, NULL);
  fixture_disabled(later, "Machines-8", NOW);
  assert_int_equal(osc_state_update(back, &later, 1, NOW + 2 * MIN, "apply",
                                    "default", &err),
                   OSC_OK);
  assert_int_equal(osc_state_find(back, "web-prod")->n_disabled, 0);
  osc_plan_free(later);
  osc_plan_free(p);
  osc_state_free(back);
  osc_state_free(s);
}

static void test_state__memory_upgrades_and_is_checked(void **state) {
  struct ctx *c = *state;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_state *s = NULL;

  /* A file from before the memory existed loads with none. */
  assert_int_equal(osc_fs_mkdir_parents(c->path, 0700, &err), OSC_OK);
  fixture_write(c->path, "{\"format_version\": 1, \"scale_sets\": "
                         "{\"web-prod\": {\"orphans\": {}}}}");
  assert_int_equal(osc_state_load(c->path, &s, &err), OSC_OK);
  assert_int_equal(osc_state_find(s, "web-prod")->n_disabled, 0);
  osc_state_free(s);
  s = NULL;
  /* Records that are not octoscale's disables are no memory of one. */
  fixture_write(c->path,
                "{\"format_version\": 1, \"scale_sets\": {\"web-prod\": "
                "{\"targets\": {\"Machines-1\": {\"disabled_since\": "
                "\"2026-11-27T09:00:00Z\", \"disabled_by\": \"someone\"}, "
                "\"Machines-2\": {\"note\": \"x\"}}}}}");
  assert_int_equal(osc_state_load(c->path, &s, &err), OSC_OK);
  assert_int_equal(osc_state_find(s, "web-prod")->n_disabled, 0);
  osc_state_free(s);
  expect_refused(c->path,
                 "{\"format_version\": 2, \"scale_sets\": {\"web-prod\": "
                 "{\"targets\": {\"Machines-1\": {\"disabled_since\": "
                 "\"yesterday\", \"disabled_by\": \"octoscale\"}}}}}",
                 "disabled_since is not an RFC 3339 time");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_state__update_records_a_run),
      T(test_state__update_leaves_other_scale_sets),
      T(test_state__update_adds_new_scale_sets_once),
      T(test_state__failed_plan_keeps_orphans),
      T(test_state__safety_stop_with_actions_records_orphans),
      T(test_state__plans_learn),
      T(test_state__success_needs_ok_and_no_failure),
      T(test_state__runs_keep_the_last_200),
      T(test_state__update_rejects_misuse),
      T(test_state__round_trip),
      T(test_state__file_modes_and_no_temp_left),
      T(test_state__saved_file_is_stable),
      T(test_state__missing_file_is_empty),
      T(test_state__corrupt_file_is_refused),
      T(test_state__unknown_version_is_refused),
      T(test_state__crash_before_rename_keeps_old_file),
      T(test_state__failed_save_keeps_old_file),
      T(test_state__symlink_is_written_through),
      T(test_state__symlink_loop_is_an_error),
      T(test_state__check_writable),
      T(test_state__only_new_second_run_is_false),
      T(test_state__v1_is_upgraded_to_v2),
      T(test_state__named_baselines_are_independent),
      T(test_state__target_records_are_kept),
      T(test_state__records_without_memory_are_kept_as_read),
      T(test_state__lists_for_named_entries_are_refused),
      T(test_state__remembers_what_octoscale_disabled),
      T(test_state__memory_upgrades_and_is_checked),
  };

  return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
