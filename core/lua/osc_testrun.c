#include "core/lua/osc_testrun.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lua.h>

#include "core/lua/osc_bind_reconcile.h"
#include "core/lua/osc_coverage.h"
#include "core/lua/osc_sandbox.h"
#include "core/osc_buf.h"
#include "core/osc_fs.h"
#include "core/osc_jsonw.h"
#include "core/osc_log.h"
#include "core/osc_time.h"

#define REPORT_MAX (64u << 20)
#define DISPLAY_MAX 512

int osc_test_report_add(struct osc_test_report *r, const char *file,
                        const char *name, bool ok, const char *message,
                        int64_t ms, struct osc_error *err) {
  struct osc_test_result *t;

  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 32;
    struct osc_test_result *items = realloc(r->items, cap * sizeof(*items));

    if (items == NULL)
      return osc_error_set(err, OSC_E_NOMEM, "out of memory");
    r->items = items;
    r->cap = cap;
  }
  t = &r->items[r->n++];
  snprintf(t->file, sizeof(t->file), "%s", file ? file : "");
  snprintf(t->name, sizeof(t->name), "%s", name ? name : "");
  snprintf(t->message, sizeof(t->message), "%s", message ? message : "");
  t->ok = ok;
  t->ms = ms;
  return OSC_OK;
}

void osc_test_report_free(struct osc_test_report *r) {
  free(r->items);
  memset(r, 0, sizeof(*r));
}

static size_t count_failed(const struct osc_test_report *r) {
  size_t n = 0;
  size_t i;

  for (i = 0; i < r->n; i++)
    n += !r->items[i].ok;
  return n;
}

int osc_test_report_json(FILE *f, const struct osc_test_report *r,
                         struct osc_error *err) {
  struct osc_buf buf;
  struct osc_jsonw w;
  size_t failed = count_failed(r);
  size_t i;
  int rc;

  osc_buf_init(&buf, REPORT_MAX);
  osc_jsonw_init(&w, &buf, true);
  osc_jsonw_object_begin(&w);
  osc_jsonw_key(&w, "format_version");
  osc_jsonw_int(&w, 1);
  osc_jsonw_key(&w, "command");
  osc_jsonw_string(&w, "test");
  osc_jsonw_key(&w, "passed");
  osc_jsonw_int(&w, (int64_t)(r->n - failed));
  osc_jsonw_key(&w, "failed");
  osc_jsonw_int(&w, (int64_t)failed);
  osc_jsonw_key(&w, "tests");
  osc_jsonw_array_begin(&w);
  for (i = 0; i < r->n; i++) {
    const struct osc_test_result *t = &r->items[i];

    osc_jsonw_object_begin(&w);
    osc_jsonw_key(&w, "file");
    osc_jsonw_string(&w, t->file);
    osc_jsonw_key(&w, "name");
    osc_jsonw_string(&w, t->name);
    osc_jsonw_key(&w, "ok");
    osc_jsonw_bool(&w, t->ok);
    osc_jsonw_key(&w, "message");
    osc_jsonw_string(&w, t->ok ? NULL : t->message);
    osc_jsonw_key(&w, "ms");
    osc_jsonw_int(&w, t->ms);
    osc_jsonw_object_end(&w);
  }
  osc_jsonw_array_end(&w);
  osc_jsonw_object_end(&w);
  rc = osc_jsonw_finish(&w, err);
  if (rc == OSC_OK) {
    fwrite(buf.data, 1, buf.len, f);
    fputc('\n', f);
    fflush(f);
  }
  osc_buf_free(&buf);
  return rc;
}

/* XML attribute/text escaping; control characters become spaces (XML 1.0
 * cannot carry them). */
static int xml_text(struct osc_buf *b, const char *s, struct osc_error *err) {
  int rc = OSC_OK;

  for (; *s != '\0' && rc == OSC_OK; s++) {
    unsigned char c = (unsigned char)*s;

    switch (c) {
    case '&':
      rc = osc_buf_puts(b, "&amp;", err);
      break;
    case '<':
      rc = osc_buf_puts(b, "&lt;", err);
      break;
    case '>':
      rc = osc_buf_puts(b, "&gt;", err);
      break;
    case '"':
      rc = osc_buf_puts(b, "&quot;", err);
      break;
    default:
      rc = osc_buf_append(b, c < 0x20 ? " " : s, 1, err);
      break;
    }
  }
  return rc;
}

/* One <testsuite> for the run of tests of file starting at *i. */
static int junit_suite(struct osc_buf *b, const struct osc_test_report *r,
                       size_t *i, struct osc_error *err) {
  const char *file = r->items[*i].file;
  size_t end = *i;
  size_t failed = 0;
  int64_t ms = 0;
  int rc;

  while (end < r->n && strcmp(r->items[end].file, file) == 0) {
    failed += !r->items[end].ok;
    ms += r->items[end].ms;
    end++;
  }
  rc = osc_buf_puts(b, "  <testsuite name=\"", err);
  if (rc == OSC_OK)
    rc = xml_text(b, file, err);
  if (rc == OSC_OK)
    rc = osc_buf_printf(b, err,
                        "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
                        "time=\"%.3f\">\n",
                        end - *i, failed, (double)ms / 1000.0);
  for (; rc == OSC_OK && *i < end; (*i)++) {
    const struct osc_test_result *t = &r->items[*i];

    rc = osc_buf_puts(b, "    <testcase classname=\"", err);
    if (rc == OSC_OK)
      rc = xml_text(b, t->file, err);
    if (rc == OSC_OK)
      rc = osc_buf_puts(b, "\" name=\"", err);
    if (rc == OSC_OK)
      rc = xml_text(b, t->name, err);
    if (rc == OSC_OK)
      rc = osc_buf_printf(b, err, "\" time=\"%.3f\"", (double)t->ms / 1000.0);
    if (rc == OSC_OK && t->ok)
      rc = osc_buf_puts(b, "/>\n", err);
    else if (rc == OSC_OK) {
      rc = osc_buf_puts(b, ">\n      <failure message=\"", err);
      if (rc == OSC_OK)
        rc = xml_text(b, t->message, err);
      if (rc == OSC_OK)
        rc = osc_buf_puts(b, "\"/>\n    </testcase>\n", err);
    }
  }
  if (rc == OSC_OK)
    rc = osc_buf_puts(b, "  </testsuite>\n", err);
  return rc;
}

int osc_test_report_junit(const char *path, const struct osc_test_report *r,
                          struct osc_error *err) {
  struct osc_buf b;
  size_t i = 0;
  int rc;

  osc_buf_init(&b, REPORT_MAX);
  rc = osc_buf_printf(&b, err,
                      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                      "<testsuites name=\"octoscale test\" tests=\"%zu\" "
                      "failures=\"%zu\">\n",
                      r->n, count_failed(r));
  while (rc == OSC_OK && i < r->n)
    rc = junit_suite(&b, r, &i, err);
  if (rc == OSC_OK)
    rc = osc_buf_puts(&b, "</testsuites>\n", err);
  if (rc == OSC_OK)
    rc = osc_fs_write_atomic(path, b.data, b.len, 0644, 0755, err);
  if (rc < 0)
    osc_error_prefix(err, "--junit");
  osc_buf_free(&b);
  return rc;
}

/* --- the runner ------------------------------------------------ */

/* [ud] -> pushes require("octoscale.testing")._take_tests() or nil when the
 * file never required the testing module. */
static int take_tests(lua_State *L) {
  osc_sandbox_require(L, "octoscale.testing");
  lua_getfield(L, -1, "_take_tests");
  lua_call(L, 0, 1);
  return 1;
}

/* [ud, list, i] -> pushes list[i].name, list[i].fn */
static int test_at(lua_State *L) {
  lua_Integer i = lua_tointeger(L, 3);

  lua_rawgeti(L, 2, i);
  lua_getfield(L, -1, "name");
  lua_getfield(L, -2, "fn");
  lua_remove(L, -3);
  return 2;
}

struct test_run {
  const struct osc_test_options *opts;
  struct osc_test_report report;
  int passed;
  int failed;
};

static int record(struct test_run *run, const char *file, const char *name,
                  bool ok, const char *msg, int64_t ms, struct osc_error *err) {
  if (!run->opts->json) {
    if (ok)
      printf("ok - %s\n", name);
    else
      printf("not ok - %s: %s\n", name, msg);
    fflush(stdout);
  }
  if (ok)
    run->passed++;
  else
    run->failed++;
  return osc_test_report_add(&run->report, file, name, ok, msg, ms, err);
}

/* Runs test i of the list at -1 (a function on the stack is called
 * protected); records the result. < 0 only when the sandbox failed. */
static int run_one(struct osc_sandbox *sb, const char *display, lua_Integer i,
                   struct test_run *run, struct osc_error *err) {
  lua_State *L = osc_sandbox_state(sb);
  struct osc_error e = OSC_ERROR_INIT;
  char name[256];
  int64_t start;
  int rc;

  lua_pushcfunction(L, test_at);
  lua_pushnil(L);
  lua_pushvalue(L, -3);
  lua_pushinteger(L, i);
  rc = osc_sandbox_pcall(sb, 3, 2, err); /* [list, name, fn] */
  if (rc < 0)
    return rc;
  snprintf(name, sizeof(name), "%s",
           lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?");
  lua_remove(L, -2); /* [list, fn] */
  if (run->opts->filter != NULL && strstr(name, run->opts->filter) == NULL) {
    lua_pop(L, 1);
    return OSC_OK;
  }
  start = osc_time_monotonic_ms();
  rc = osc_sandbox_pcall(sb, 0, 0, &e);
  return record(run, display, name, rc == OSC_OK, e.msg,
                osc_time_monotonic_ms() - start, err);
}

/* Runs one test file in a sandbox of its own. Failures of the file or of
 * its tests are counted, not returned: < 0 only when no sandbox could be
 * made or used. */
static int run_file(const char *path, struct test_run *run,
                    struct osc_error *err) {
  static const struct osc_sandbox_lib reconcile_lib = {"reconcile",
                                                       osc_bind_reconcile_open};
  struct osc_sandbox_options opts = {NULL, OSC_SANDBOX_LIMITS_DEFAULT};
  struct osc_sandbox *sb = NULL;
  struct osc_error e = OSC_ERROR_INIT;
  char display[DISPLAY_MAX];
  lua_State *L;
  lua_Integer i;
  lua_Integer n;
  int rc;

  osc_sandbox_display_name(path, display, sizeof(display));
  opts.tag = display;
  rc = osc_sandbox_new(&opts, &sb, err);
  if (rc < 0)
    return rc;
  L = osc_sandbox_state(sb);
  if (!run->opts->json) {
    printf("# %s\n", display);
    fflush(stdout);
  }
  rc = osc_sandbox_add_lib(sb, &reconcile_lib, err);
  if (rc == OSC_OK && run->opts->coverage)
    rc = osc_coverage_enable(sb, err);
  if (rc < 0)
    goto done;
  rc = osc_sandbox_load_file(sb, path, &e);
  if (rc == OSC_OK)
    rc = osc_sandbox_pcall(sb, 0, 0, &e);
  if (rc == OSC_OK)
    rc = osc_sandbox_cpcall(sb, take_tests, NULL, 1, &e); /* [list] */
  if (rc < 0) {
    rc = record(run, display, display, false, e.msg, 0, err);
    goto done;
  }
  n = lua_type(L, -1) == LUA_TTABLE ? (lua_Integer)lua_rawlen(L, -1) : 0;
  if (n == 0)
    osc_log_warn("%s: no tests (register them with t.test)", display);
  for (i = 1; i <= n && rc == OSC_OK; i++)
    rc = run_one(sb, display, i, run, err);
  lua_pop(L, 1);
  if (rc == OSC_OK && run->opts->coverage)
    rc = osc_coverage_print(sb, run->opts->json ? stderr : stdout, err);
done:
  osc_sandbox_free(sb);
  return rc;
}

int osc_test_run_with(const char *const *files, size_t n_files,
                      const struct osc_test_options *opts, int *out_failed,
                      struct osc_error *err) {
  struct test_run run;
  size_t i;
  int rc = OSC_OK;

  memset(&run, 0, sizeof(run));
  run.opts = opts;
  for (i = 0; i < n_files && rc == OSC_OK; i++)
    rc = run_file(files[i], &run, err);
  if (rc == OSC_OK && opts->json)
    rc = osc_test_report_json(stdout, &run.report, err);
  else if (rc == OSC_OK) {
    printf("%d passed, %d failed\n", run.passed, run.failed);
    fflush(stdout);
  }
  if (rc == OSC_OK && opts->junit_path != NULL)
    rc = osc_test_report_junit(opts->junit_path, &run.report, err);
  osc_test_report_free(&run.report);
  *out_failed = run.failed;
  return rc;
}

int osc_test_run(const char *const *files, size_t n_files, int *out_failed,
                 struct osc_error *err) {
  static const struct osc_test_options defaults = {NULL, false, NULL, false};

  return osc_test_run_with(files, n_files, &defaults, out_failed, err);
}
