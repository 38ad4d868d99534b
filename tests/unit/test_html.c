/* The HTML report: one self-contained page with every action, escaped
 * strings, no external assets, and tags that nest properly. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/osc_html.h"
#include "core/osc_report.h"
#include "tests/unit/plan_fixture.h"

#define NOW FIXTURE_NOW

struct ctx {
  char *dir;
  char *path;
  struct osc_plan *plans[3];
  struct osc_outputs outputs;
  char *page;
};

static const char evil[] = "<script>alert('x')</script> & \"more\"";

static int setup(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  struct ctx *c = calloc(1, sizeof(*c));
  struct osc_plan *p;

  assert_non_null(c);
  c->dir = fixture_tmpdir();
  c->path = fixture_path(c->dir, "reports/run/report.html");

  p = c->plans[0] = fixture_plan("web-prod", OSC_PLAN_OK, "");
  fixture_action(p, OSC_ACT_KEEP, OSC_CLASS_IN_SYNC, "Machines-1", "web-1",
                 "vmss_1", "in sync", OSC_RESULT_PENDING, NULL);
  fixture_action(p, OSC_ACT_KEEP, OSC_CLASS_IN_SYNC, "Machines-2", "web-2",
                 "vmss_2", "in sync", OSC_RESULT_PENDING, NULL);
  fixture_action(p, OSC_ACT_DELETE, OSC_CLASS_ORPHAN, "Machines-7", "web-7",
                 NULL, "VM gone 12m, grace 10m", OSC_RESULT_DONE, NULL);
  fixture_action(p, OSC_ACT_DELETE, OSC_CLASS_ORPHAN, "Machines-8", "web-8",
                 NULL, "VM gone 15m, grace 10m", OSC_RESULT_FAILED,
                 "DELETE machines/Machines-8: HTTP 500 after 4 attempts");
  fixture_action(p, OSC_ACT_DISABLE, OSC_CLASS_FAILED_VM, "Machines-9", "web-9",
                 "vmss_9", "VM provisioning Failed", OSC_RESULT_PENDING, NULL);
  fixture_action(p, OSC_ACT_WAIT, OSC_CLASS_PROVISIONING, NULL, NULL, "vmss_10",
                 "VM Creating 2m, grace 30m", OSC_RESULT_PENDING, NULL);
  fixture_action(p, OSC_ACT_REPORT, OSC_CLASS_UNREGISTERED, NULL, NULL,
                 "vmss_11", "no target 14m after boot, grace 10m",
                 OSC_RESULT_PENDING, NULL);
  fixture_action(p, OSC_ACT_ENABLE, OSC_CLASS_IN_SYNC, "Machines-12", evil,
                 "vmss_12", evil, OSC_RESULT_DONE, NULL);
  fixture_deployable(p, "Machines-1", "web-1");
  fixture_deployable(p, "Machines-2", "web-2");
  p->budget = 5;

  p = c->plans[1] = fixture_plan(
      "api", OSC_PLAN_SAFETY_STOP,
      "deletion budget exceeded: 6 of 10 targets, max_delete 50% allows 5");
  fixture_action(p, OSC_ACT_DELETE, OSC_CLASS_ORPHAN, "Machines-31", "api-1",
                 NULL, "VM gone 11m, grace 10m", OSC_RESULT_PENDING, NULL);

  c->plans[2] = fixture_plan("batch", OSC_PLAN_ERROR,
                             "policies/batch.lua:12: on_scale_in returned "
                             "'nuke' (expected delete | disable | keep)");

  assert_int_equal(
      osc_outputs_build(c->plans, 3, NULL, false, &c->outputs, &err), OSC_OK);
  assert_int_equal(osc_html_report_write(c->path, "apply", c->plans, 3,
                                         &c->outputs, NOW, &err),
                   OSC_OK);
  c->page = fixture_read(c->path, NULL);
  assert_non_null(c->page);
  *state = c;
  return 0;
}

static int teardown(void **state) {
  struct ctx *c = *state;
  size_t i;

  for (i = 0; i < 3; i++)
    osc_plan_free(c->plans[i]);
  osc_outputs_free(&c->outputs);
  fixture_rmdir(c->dir);
  free(c->path);
  free(c->page);
  free(c);
  return 0;
}

static void assert_contains(const char *page, const char *needle) {
  if (strstr(page, needle) == NULL)
    fail_msg("page lacks \"%s\"", needle);
}

static void test_html__every_action_and_reason(void **state) {
  struct ctx *c = *state;
  size_t i;
  size_t j;

  for (i = 0; i < 2; i++) {
    const struct osc_plan *p = c->plans[i];

    for (j = 0; j < p->n_actions; j++) {
      const struct osc_action *a = &p->actions[j];

      if (a->target_name != NULL &&
          a->target_name != c->plans[0]->actions[7].target_name)
        assert_contains(c->page, a->target_name);
      if (a->target_id != NULL)
        assert_contains(c->page, a->target_id);
      if (a->vm_name != NULL)
        assert_contains(c->page, a->vm_name);
      if (a->reason != NULL && a->reason != c->plans[0]->actions[7].reason)
        assert_contains(c->page, a->reason);
    }
  }
  assert_contains(c->page, "DELETE machines/Machines-8: HTTP 500 after 4 "
                           "attempts");
  assert_contains(c->page, ">failed</span>");
  assert_contains(c->page, ">done</span>");
  assert_contains(c->page, ">not attempted</span>");
  assert_contains(c->page, "<title>octoscale apply report, "
                           "2026-11-27T10:00:00Z</title>");
  assert_contains(c->page, "Generated 2026-11-27T10:00:00Z");
}

static void test_html__statuses_and_messages(void **state) {
  struct ctx *c = *state;

  assert_contains(c->page, "st-ok\">ok</span>");
  assert_contains(c->page, "st-safety_stop\">safety stop</span>");
  assert_contains(c->page, "st-error\">error</span>");
  assert_contains(c->page, "deletion budget exceeded: 6 of 10 targets, "
                           "max_delete 50% allows 5");
  assert_contains(c->page, "policies/batch.lua:12: on_scale_in returned "
                           "&#39;nuke&#39;");
  assert_contains(c->page, "2 targets kept (in sync)");
  assert_contains(c->page, "No instances or targets to chart.");
}

static void test_html__chart_and_outputs(void **state) {
  struct ctx *c = *state;
  size_t i;

  assert_contains(c->page, "<svg ");
  assert_contains(c->page, "<title>in sync: 3</title>");
  assert_contains(c->page, "<title>orphan: 2</title>");
  assert_contains(c->page, "<title>failed VM: 1</title>");
  assert_contains(c->page, "<title>provisioning: 1</title>");
  assert_contains(c->page, "<title>unregistered: 1</title>");
  for (i = 0; i < c->outputs.n; i++) {
    char cell[512];

    snprintf(cell, sizeof(cell), "<td class=\"mono\">%s</td>",
             c->outputs.items[i].name);
    assert_contains(c->page, cell);
  }
  assert_contains(c->page, "Machines-1,Machines-2");
}

static void test_html__escapes_every_string(void **state) {
  struct ctx *c = *state;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_buf b;

  assert_contains(c->page, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; "
                           "&amp; &quot;more&quot;");
  assert_null(strstr(c->page, "<script"));
  assert_null(strstr(c->page, "alert('x')"));
  osc_buf_init(&b, 1024);
  assert_int_equal(osc_html_escape(&b, "a\x01<b\tc\x7f>&'\"", &err), OSC_OK);
  assert_string_equal(osc_buf_str(&b), "a&lt;b\tc&gt;&amp;&#39;&quot;");
  osc_buf_free(&b);
}

/* No scripts, no external stylesheets, images or fonts: the page works
 * offline and inside Octopus's artifact viewer. */
static void test_html__self_contained(void **state) {
  struct ctx *c = *state;
  const char *p;

  assert_null(strstr(c->page, "http://"));
  assert_null(strstr(c->page, "https://"));
  assert_null(strstr(c->page, "src="));
  assert_null(strstr(c->page, "<link"));
  assert_null(strstr(c->page, "@import"));
  assert_null(strstr(c->page, "url("));
  for (p = strstr(c->page, "href="); p != NULL; p = strstr(p + 1, "href="))
    assert_memory_equal(p, "href=\"#ss-", 10); /* in-page links only */
  assert_contains(c->page, "<style>");
  assert_contains(c->page, "<meta charset=\"utf-8\">");
}

/* A small tag checker: every element opened is closed in order, except
 * HTML's void elements and self-closed SVG elements. */
static bool is_void(const char *name) {
  static const char *const voids[] = {"meta", "br",  "hr",  "img",     "input",
                                      "link", "col", "wbr", "!doctype"};
  size_t i;

  for (i = 0; i < sizeof(voids) / sizeof(voids[0]); i++) {
    if (strcasecmp(name, voids[i]) == 0)
      return true;
  }
  return false;
}

static void check_nesting(const char *page) {
  char stack[64][32];
  int depth = 0;
  const char *p = page;
  int seen_html = 0;

  while ((p = strchr(p, '<')) != NULL) {
    const char *end = strchr(p, '>');
    bool closing = p[1] == '/';
    const char *name = p + (closing ? 2 : 1);
    char tag[32];
    size_t n = 0;

    assert_non_null(end);
    while (n + 1 < sizeof(tag) && (isalnum((unsigned char)name[n]) ||
                                   name[n] == '!' || name[n] == '-'))
      n++;
    assert_true(n > 0);
    memcpy(tag, name, n);
    tag[n] = '\0';
    if (strcmp(tag, "style") == 0 && !closing) {
      p = strstr(end, "</style>"); /* CSS holds no tags */
      assert_non_null(p);
      assert_true(depth < 64);
      snprintf(stack[depth++], sizeof(stack[0]), "%s", tag);
      continue;
    }
    if (closing) {
      assert_true(depth > 0);
      if (strcmp(stack[depth - 1], tag) != 0)
        fail_msg("</%s> closes <%s>", tag, stack[depth - 1]);
      depth--;
    } else if (!is_void(tag) && end[-1] != '/') {
      assert_true(depth < 64);
      snprintf(stack[depth++], sizeof(stack[0]), "%s", tag);
      seen_html += strcmp(tag, "html") == 0;
    }
    p = end + 1;
  }
  assert_int_equal(depth, 0);
  assert_int_equal(seen_html, 1);
}

static void test_html__tags_are_balanced(void **state) {
  struct ctx *c = *state;
  const char *tags[] = {"html",    "head",  "body", "main",
                        "section", "table", "svg"};
  size_t i;

  check_nesting(c->page);
  for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
    char open[32];
    char close[32];
    size_t n_open = 0;
    size_t n_close = 0;
    const char *p;

    snprintf(open, sizeof(open), "<%s", tags[i]);
    snprintf(close, sizeof(close), "</%s>", tags[i]);
    for (p = strstr(c->page, open); p; p = strstr(p + 1, open))
      n_open += p[strlen(open)] == ' ' || p[strlen(open)] == '>';
    for (p = strstr(c->page, close); p; p = strstr(p + 1, close))
      n_close++;
    assert_true(n_open > 0);
    assert_int_equal(n_open, n_close);
  }
}

/* A plan (not apply) report says "planned"; an empty run still renders. */
static void test_html__plan_command_and_empty_run(void **state) {
  struct ctx *c = *state;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_buf b;

  osc_buf_init(&b, 1u << 24);
  assert_int_equal(
      osc_html_report_render(&b, "plan", c->plans, 1, NULL, NOW, &err), OSC_OK);
  assert_non_null(strstr(osc_buf_str(&b), ">planned</span>"));
  assert_null(strstr(osc_buf_str(&b), "not attempted"));
  assert_non_null(strstr(osc_buf_str(&b), "No outputs."));
  check_nesting(osc_buf_str(&b));
  osc_buf_reset(&b);
  assert_int_equal(osc_html_report_render(&b, NULL, NULL, 0, NULL, NOW, &err),
                   OSC_OK);
  assert_non_null(strstr(osc_buf_str(&b), "0 scale sets"));
  check_nesting(osc_buf_str(&b));
  osc_buf_free(&b);
}

/* Written atomically: it replaces an older report and leaves no temp. */
static void test_html__written_atomically(void **state) {
  struct ctx *c = *state;
  struct osc_error err = OSC_ERROR_INIT;
  char *tmp = fixture_path(c->dir, "reports/run/report.html.tmp");
  char *again;
  struct stat st;

  fixture_write(c->path, "old report");
  assert_int_equal(osc_html_report_write(c->path, "apply", c->plans, 3,
                                         &c->outputs, NOW, &err),
                   OSC_OK);
  again = fixture_read(c->path, NULL);
  assert_string_equal(again, c->page);
  assert_int_not_equal(stat(tmp, &st), 0);
  free(again);
  free(tmp);
}

static void test_html__unwritable_path_is_an_error(void **state) {
  struct ctx *c = *state;
  struct osc_error err = OSC_ERROR_INIT;
  char *bad = fixture_path(c->dir, "reports/run/report.html/x.html");

  assert_int_equal(
      osc_html_report_write(bad, "apply", c->plans, 3, &c->outputs, NOW, &err),
      OSC_E_RUNTIME);
  assert_non_null(strstr(err.msg, "writing report: "));
  assert_null(strchr(err.msg, '\n'));
  free(bad);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_html__every_action_and_reason),
      T(test_html__statuses_and_messages),
      T(test_html__chart_and_outputs),
      T(test_html__escapes_every_string),
      T(test_html__self_contained),
      T(test_html__tags_are_balanced),
      T(test_html__plan_command_and_empty_run),
      T(test_html__written_atomically),
      T(test_html__unwritable_path_is_an_error),
  };

  return cmocka_run_group_tests_name("html", tests, NULL, NULL);
}
