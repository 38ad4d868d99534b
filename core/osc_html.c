#include "core/osc_html.h"

#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "core/osc_fs.h"
#include "core/osc_time.h"

#define PAGE_MAX (256u << 20)
#define CHART_WIDTH 600.0
#define CHART_HEIGHT 26

#ifndef OSC_VERSION
#define OSC_VERSION "dev"
#endif

/* Errors are sticky, as in core/osc_jsonw.h: check pg->rc once. */
struct page {
  struct osc_buf *out;
  int rc;
  struct osc_error *err;
  const char *command;
};

static void raw(struct page *pg, const char *s) {
  if (pg->rc == OSC_OK)
    pg->rc = osc_buf_puts(pg->out, s, pg->err);
}

static void fmt(struct page *pg, const char *f, ...)
    __attribute__((format(printf, 2, 3)));

static void fmt(struct page *pg, const char *f, ...) {
  va_list ap;

  if (pg->rc != OSC_OK)
    return;
  va_start(ap, f);
  pg->rc = osc_buf_vprintf(pg->out, pg->err, f, ap);
  va_end(ap);
}

/* Escaped text; an absent value shows as a dash. */
static void text(struct page *pg, const char *s) {
  if (s == NULL || s[0] == '\0') {
    raw(pg, "<span class=\"none\">\xe2\x80\x94</span>");
    return;
  }
  if (pg->rc == OSC_OK)
    pg->rc = osc_html_escape(pg->out, s, pg->err);
}

int osc_html_escape(struct osc_buf *out, const char *s, struct osc_error *err) {
  const char *run;
  const char *p;
  int rc = OSC_OK;

  if (s == NULL)
    return OSC_OK;
  for (run = p = s; *p != '\0' && rc == OSC_OK; p++) {
    const char *rep = NULL;
    unsigned char c = (unsigned char)*p;

    switch (c) {
    case '&':
      rep = "&amp;";
      break;
    case '<':
      rep = "&lt;";
      break;
    case '>':
      rep = "&gt;";
      break;
    case '"':
      rep = "&quot;";
      break;
    case '\'':
      rep = "&#39;";
      break;
    default:
      if (c < 0x20 && c != '\t' && c != '\n')
        rep = ""; /* not allowed in HTML text */
      else if (c == 0x7f)
        rep = "";
    }
    if (rep == NULL)
      continue;
    rc = osc_buf_append(out, run, (size_t)(p - run), err);
    if (rc == OSC_OK)
      rc = osc_buf_puts(out, rep, err);
    run = p + 1;
  }
  if (rc == OSC_OK)
    rc = osc_buf_append(out, run, (size_t)(p - run), err);
  return rc;
}

/* --- the parts of the page ------------------------------------------------ */

static const char style[] =
    ":root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#fff;"
    "--head:#f6f8fa}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;padding:24px;font:14px/1.45 system-ui,-apple-system,"
    "'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:var(--fg);"
    "background:var(--bg)}\n"
    "main,header,footer{max-width:1200px;margin:0 auto}\n"
    "h1{font-size:22px;margin:0 0 4px}\n"
    "h2{font-size:18px;margin:0 0 8px;display:flex;gap:10px;"
    "align-items:center;flex-wrap:wrap}\n"
    "h3{font-size:14px;margin:16px 0 6px;color:var(--muted);"
    "text-transform:uppercase;letter-spacing:.04em}\n"
    ".meta{color:var(--muted);margin:0 0 20px}\n"
    "section{border:1px solid var(--line);border-radius:8px;padding:16px;"
    "margin:0 0 20px}\n"
    "table{border-collapse:collapse;width:100%}\n"
    "th,td{text-align:left;padding:5px 8px;border-bottom:1px solid "
    "var(--line);vertical-align:top}\n"
    "th{background:var(--head);font-weight:600}\n"
    "td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}\n"
    "code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"
    "monospace;font-size:12.5px}\n"
    ".wrap{word-break:break-all}.vm{white-space:nowrap}\n"
    ".none{color:var(--muted)}\n"
    ".status{font-size:12px;font-weight:600;padding:2px 8px;"
    "border-radius:10px;color:#fff}\n"
    ".st-ok{background:#1a7f37}.st-safety_stop{background:#bc4c00}"
    ".st-error{background:#cf222e}.st-timeout{background:#8250df}\n"
    ".message{margin:4px 0 12px;padding:8px 10px;border-left:4px solid "
    "#bc4c00;background:#fff8f2}\n"
    ".message.error{border-color:#cf222e;background:#fff5f5}\n"
    ".counts{width:auto;margin:8px 0}\n"
    ".act{font-weight:600}\n"
    ".act-delete{color:#cf222e}.act-disable{color:#bc4c00}"
    ".act-enable{color:#1a7f37}\n"
    ".res-done{color:#1a7f37;font-weight:600}"
    ".res-failed{color:#cf222e;font-weight:600}"
    ".res-pending{color:var(--muted)}\n"
    "figure{margin:8px 0}\n"
    "svg{display:block;max-width:100%;height:auto;border-radius:4px}\n"
    ".legend{list-style:none;margin:6px 0 0;padding:0;display:flex;"
    "flex-wrap:wrap;gap:4px 16px;color:var(--muted)}\n"
    ".sw{display:inline-block;width:10px;height:10px;border-radius:2px;"
    "margin-right:5px}\n"
    ".c-in_sync{fill:#2da44e;background:#2da44e}"
    ".c-provisioning{fill:#218bff;background:#218bff}"
    ".c-unregistered{fill:#d4a72c;background:#d4a72c}"
    ".c-failed_vm{fill:#cf222e;background:#cf222e}"
    ".c-orphan{fill:#8c959f;background:#8c959f}"
    ".c-conflict{fill:#8250df;background:#8250df}"
    ".c-foreign{fill:#d0d7de;background:#d0d7de}\n"
    "details{margin-top:8px}summary{cursor:pointer;color:var(--muted)}\n"
    "footer{color:var(--muted);font-size:12px}\n"
    "@media print{body{padding:0}section{break-inside:avoid}}\n";

/* Classes in the chart's order, with the legend's words. */
static const struct {
  enum osc_class cls;
  const char *label;
} chart_classes[] = {
    {OSC_CLASS_IN_SYNC, "in sync"},
    {OSC_CLASS_PROVISIONING, "provisioning"},
    {OSC_CLASS_UNREGISTERED, "unregistered"},
    {OSC_CLASS_FAILED_VM, "failed VM"},
    {OSC_CLASS_ORPHAN, "orphan"},
    {OSC_CLASS_CONFLICT, "conflict"},
    {OSC_CLASS_FOREIGN, "foreign (never touched)"},
};

#define N_CHART_CLASSES (sizeof(chart_classes) / sizeof(chart_classes[0]))

static const char *status_words(enum osc_plan_status s) {
  switch (s) {
  case OSC_PLAN_OK:
    return "ok";
  case OSC_PLAN_SAFETY_STOP:
    return "safety stop";
  case OSC_PLAN_TIMEOUT:
    return "timeout";
  default:
    return "error";
  }
}

static bool is_change(enum osc_action_kind k) {
  return k == OSC_ACT_DELETE || k == OSC_ACT_DISABLE || k == OSC_ACT_ENABLE;
}

static size_t count_result(const struct osc_plan *p, enum osc_action_result r,
                           int kind) {
  size_t n = 0;
  size_t i;

  for (i = 0; i < p->n_actions; i++) {
    if (p->actions[i].result == r &&
        (kind < 0 || p->actions[i].kind == (enum osc_action_kind)kind))
      n++;
  }
  return n;
}

static void chart(struct page *pg, const struct osc_plan *p) {
  size_t total = 0;
  size_t cum = 0;
  size_t i;

  for (i = 0; i < N_CHART_CLASSES; i++)
    total += p->class_counts[chart_classes[i].cls];
  if (total == 0) {
    raw(pg, "<p class=\"none\">No instances or targets to chart.</p>\n");
    return;
  }
  raw(pg, "<figure class=\"chart\">\n");
  fmt(pg,
      "<svg viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" "
      "aria-label=\"instance states\">\n",
      (int)CHART_WIDTH, CHART_HEIGHT, (int)CHART_WIDTH, CHART_HEIGHT);
  fmt(pg, "<rect width=\"%d\" height=\"%d\" fill=\"#eaeef2\"/>\n",
      (int)CHART_WIDTH, CHART_HEIGHT);
  for (i = 0; i < N_CHART_CLASSES; i++) {
    size_t c = p->class_counts[chart_classes[i].cls];
    double x = CHART_WIDTH * (double)cum / (double)total;
    double w = CHART_WIDTH * (double)c / (double)total;

    if (c == 0)
      continue;
    fmt(pg,
        "<rect class=\"c-%s\" x=\"%.2f\" y=\"0\" width=\"%.2f\" "
        "height=\"%d\"><title>%s: %zu</title></rect>\n",
        osc_class_name(chart_classes[i].cls), x, w, CHART_HEIGHT,
        chart_classes[i].label, c);
    cum += c;
  }
  raw(pg, "</svg>\n<figcaption><ul class=\"legend\">");
  for (i = 0; i < N_CHART_CLASSES; i++) {
    size_t c = p->class_counts[chart_classes[i].cls];

    if (c == 0 && (chart_classes[i].cls == OSC_CLASS_CONFLICT ||
                   chart_classes[i].cls == OSC_CLASS_FOREIGN))
      continue;
    fmt(pg, "<li><span class=\"sw c-%s\"></span>%s <b>%zu</b></li>",
        osc_class_name(chart_classes[i].cls), chart_classes[i].label, c);
  }
  raw(pg, "</ul></figcaption>\n</figure>\n");
}

static void counts(struct page *pg, const struct osc_plan *p) {
  raw(pg, "<table class=\"counts\"><tr>");
  raw(pg, "<th class=\"num\">VMs</th><th class=\"num\">targets in scope</th>");
  raw(pg, "<th class=\"num\">in sync</th><th class=\"num\">provisioning</th>");
  raw(pg, "<th class=\"num\">unregistered</th><th class=\"num\">failed "
          "VM</th>");
  raw(pg, "<th class=\"num\">orphan</th><th class=\"num\">conflict</th>");
  raw(pg, "<th class=\"num\">foreign</th>");
  raw(pg, "<th class=\"num\">delete + disable</th><th class=\"num\">"
          "budget</th></tr>\n<tr>");
  fmt(pg,
      "<td class=\"num\">%zu</td><td class=\"num\">%zu</td>"
      "<td class=\"num\">%zu</td><td class=\"num\">%zu</td>"
      "<td class=\"num\">%zu</td><td class=\"num\">%zu</td>"
      "<td class=\"num\">%zu</td><td class=\"num\">%zu</td>"
      "<td class=\"num\">%zu</td>"
      "<td class=\"num\">%zu</td><td class=\"num\">%zu</td>",
      p->n_vms, p->n_in_scope, p->class_counts[OSC_CLASS_IN_SYNC],
      p->class_counts[OSC_CLASS_PROVISIONING],
      p->class_counts[OSC_CLASS_UNREGISTERED],
      p->class_counts[OSC_CLASS_FAILED_VM], p->class_counts[OSC_CLASS_ORPHAN],
      p->class_counts[OSC_CLASS_CONFLICT], p->class_counts[OSC_CLASS_FOREIGN],
      p->n_destructive, p->budget);
  raw(pg, "</tr></table>\n");
}

static void result_cell(struct page *pg, const struct osc_action *a) {
  raw(pg, "<td>");
  switch (a->result) {
  case OSC_RESULT_DONE:
    raw(pg, "<span class=\"res-done\">done</span>");
    if (a->result_message != NULL) {
      raw(pg, " (");
      text(pg, a->result_message); /* "already gone" */
      raw(pg, ")");
    }
    break;
  case OSC_RESULT_FAILED:
    raw(pg, "<span class=\"res-failed\">failed</span>: ");
    text(pg, a->result_message ? a->result_message : "no detail");
    break;
  default:
    if (!is_change(a->kind))
      raw(pg, "<span class=\"res-pending\">no change</span>");
    else if (strcmp(pg->command, "plan") == 0)
      raw(pg, "<span class=\"res-pending\">planned</span>");
    else
      raw(pg, "<span class=\"res-pending\">not attempted</span>");
  }
  raw(pg, "</td>");
}

static void action_row(struct page *pg, const struct osc_action *a) {
  const char *kind = osc_action_name(a->kind);

  fmt(pg, "<tr><td class=\"act act-%s\">%s</td><td>", kind, kind);
  if (a->target_name != NULL || a->target_id != NULL) {
    text(pg, a->target_name);
    raw(pg, " <span class=\"mono none\">");
    text(pg, a->target_id);
    raw(pg, "</span>");
  } else {
    raw(pg, "<span class=\"none\">no target</span>");
  }
  raw(pg, "</td><td class=\"mono vm\">");
  text(pg, a->vm_name);
  fmt(pg, "</td><td>%s</td><td>", osc_class_name(a->cls));
  text(pg, a->reason);
  raw(pg, "</td>");
  result_cell(pg, a);
  raw(pg, "</tr>\n");
}

static void actions_table(struct page *pg, const struct osc_plan *p,
                          bool keeps) {
  size_t i;

  raw(pg, "<table class=\"actions\">\n<thead><tr><th>Action</th>"
          "<th>Target</th><th>VM</th><th>Class</th><th>Reason</th>"
          "<th>Result</th></tr></thead>\n<tbody>\n");
  for (i = 0; i < p->n_actions; i++) {
    if ((p->actions[i].kind == OSC_ACT_KEEP) == keeps)
      action_row(pg, &p->actions[i]);
  }
  raw(pg, "</tbody>\n</table>\n");
}

static void scale_set(struct page *pg, const struct osc_plan *p, size_t idx) {
  size_t n_keep = 0;
  size_t i;

  for (i = 0; i < p->n_actions; i++)
    n_keep += p->actions[i].kind == OSC_ACT_KEEP;
  fmt(pg, "<section class=\"scale-set\" id=\"ss-%zu\">\n<h2>", idx + 1);
  text(pg, p->scale_set);
  fmt(pg, " <span class=\"status st-%s\">%s</span></h2>\n",
      osc_plan_status_name(p->status), status_words(p->status));
  if (p->message[0] != '\0') {
    fmt(pg, "<p class=\"message%s\">",
        p->status == OSC_PLAN_ERROR ? " error" : "");
    text(pg, p->message);
    raw(pg, "</p>\n");
  }
  counts(pg, p);
  chart(pg, p);
  raw(pg, "<h3>Actions</h3>\n");
  if (p->n_actions == n_keep)
    raw(pg, "<p class=\"none\">Nothing to change.</p>\n");
  else
    actions_table(pg, p, false);
  if (n_keep > 0) {
    fmt(pg, "<details>\n<summary>%zu target%s kept (in sync)</summary>\n",
        n_keep, n_keep == 1 ? "" : "s");
    actions_table(pg, p, true);
    raw(pg, "</details>\n");
  }
  raw(pg, "</section>\n");
}

static void overview(struct page *pg, struct osc_plan *const *plans, size_t n) {
  size_t i;

  raw(pg, "<section class=\"overview\">\n<h2>Scale sets</h2>\n"
          "<table>\n<thead><tr><th>Scale set</th><th>Status</th>"
          "<th class=\"num\">VMs</th><th class=\"num\">in scope</th>"
          "<th class=\"num\">deleted</th><th class=\"num\">disabled</th>"
          "<th class=\"num\">enabled</th><th class=\"num\">failed</th>"
          "</tr></thead>\n<tbody>\n");
  for (i = 0; i < n; i++) {
    const struct osc_plan *p = plans[i];

    fmt(pg, "<tr><td><a href=\"#ss-%zu\">", i + 1);
    text(pg, p->scale_set);
    fmt(pg,
        "</a></td><td><span class=\"status st-%s\">%s</span></td>"
        "<td class=\"num\">%zu</td><td class=\"num\">%zu</td>"
        "<td class=\"num\">%zu</td><td class=\"num\">%zu</td>"
        "<td class=\"num\">%zu</td><td class=\"num\">%zu</td></tr>\n",
        osc_plan_status_name(p->status), status_words(p->status), p->n_vms,
        p->n_in_scope, count_result(p, OSC_RESULT_DONE, OSC_ACT_DELETE),
        count_result(p, OSC_RESULT_DONE, OSC_ACT_DISABLE),
        count_result(p, OSC_RESULT_DONE, OSC_ACT_ENABLE),
        count_result(p, OSC_RESULT_FAILED, -1));
  }
  raw(pg, "</tbody>\n</table>\n</section>\n");
}

static void outputs_section(struct page *pg, const struct osc_outputs *o) {
  size_t i;

  raw(pg, "<section class=\"outputs\">\n<h2>Outputs</h2>\n");
  if (o == NULL || o->n == 0) {
    raw(pg, "<p class=\"none\">No outputs.</p>\n</section>\n");
    return;
  }
  raw(pg, "<table>\n<thead><tr><th>Variable</th><th>Value</th></tr></thead>\n"
          "<tbody>\n");
  for (i = 0; i < o->n; i++) {
    raw(pg, "<tr><td class=\"mono\">");
    text(pg, o->items[i].name);
    raw(pg, "</td><td class=\"mono wrap\">");
    text(pg, o->items[i].value);
    raw(pg, "</td></tr>\n");
  }
  raw(pg, "</tbody>\n</table>\n</section>\n");
}

int osc_html_report_render(struct osc_buf *out, const char *command,
                           struct osc_plan *const *plans, size_t n,
                           const struct osc_outputs *outputs, int64_t now,
                           struct osc_error *err) {
  struct page pg = {out, OSC_OK, err, command ? command : "apply"};
  char when[64];
  size_t n_ok = 0;
  size_t i;

  if (n > 0 && plans == NULL)
    return osc_error_set(err, OSC_E_RUNTIME, "report: no plans");
  for (i = 0; i < n; i++) {
    if (plans[i] == NULL)
      return osc_error_set(err, OSC_E_RUNTIME, "report: no plans");
    n_ok += plans[i]->status == OSC_PLAN_OK;
  }
  osc_time_format_rfc3339(now, when, sizeof(when));
  raw(&pg,
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
      "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
      "content=\"width=device-width, initial-scale=1\">\n<title>octoscale ");
  text(&pg, pg.command);
  fmt(&pg, " report, %s</title>\n<style>\n", when);
  raw(&pg, style);
  raw(&pg, "</style>\n</head>\n<body>\n<header>\n<h1>octoscale ");
  text(&pg, pg.command);
  fmt(&pg,
      "</h1>\n<p class=\"meta\">Generated %s &middot; %zu scale set%s, "
      "%zu ok</p>\n</header>\n<main>\n",
      when, n, n == 1 ? "" : "s", n_ok);
  if (n > 1)
    overview(&pg, plans, n);
  for (i = 0; i < n; i++)
    scale_set(&pg, plans[i], i);
  outputs_section(&pg, outputs);
  fmt(&pg, "</main>\n<footer>octoscale %s</footer>\n</body>\n</html>\n",
      OSC_VERSION);
  return pg.rc;
}

int osc_html_report_write(const char *path, const char *command,
                          struct osc_plan *const *plans, size_t n,
                          const struct osc_outputs *outputs, int64_t now,
                          struct osc_error *err) {
  struct osc_buf page;
  int rc;

  osc_buf_init(&page, PAGE_MAX);
  rc = osc_html_report_render(&page, command, plans, n, outputs, now, err);
  if (rc == OSC_OK)
    rc = osc_fs_write_atomic(path, page.data, page.len, 0644, 0755, err);
  if (rc < 0)
    osc_error_prefix(err, "writing report");
  osc_buf_free(&page);
  return rc;
}
