#include "core/lua/osc_testrun.h"

#include <stdlib.h>
#include <string.h>

#include "core/osc_buf.h"
#include "core/osc_fs.h"
#include "core/osc_jsonw.h"

#define REPORT_MAX (64u << 20)

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
