#include "core/osc_report.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/osc_buf.h"
#include "core/osc_jsonw.h"
#include "core/osc_text.h"
#include "core/osc_time.h"

bool osc_baseline_has(const struct osc_state_baseline *b, const char *id) {
  size_t i;

  for (i = 0; b != NULL && i < b->n_targets; i++) {
    if (strcasecmp(b->targets[i].id, id) == 0)
      return true;
  }
  return false;
}

static int add_output(struct osc_outputs *o, size_t cap, const char *name,
                      const char *suffix, const char *value) {
  struct osc_output *item;
  struct osc_buf b;
  struct osc_error err;

  if (o->n >= cap)
    return OSC_E_RUNTIME;
  item = &o->items[o->n];
  osc_buf_init(&b, 4096);
  if (osc_buf_puts(&b, name, &err) < 0 ||
      (suffix && osc_buf_printf(&b, &err, ".%s", suffix) < 0)) {
    osc_buf_free(&b);
    return OSC_E_NOMEM;
  }
  item->name = osc_arena_strdup(&o->arena, osc_buf_str(&b));
  item->value = osc_arena_strdup(&o->arena, value);
  osc_buf_free(&b);
  if (item->name == NULL || item->value == NULL)
    return OSC_E_NOMEM;
  o->n++;
  return OSC_OK;
}

/* The comma-separated target ids and names of one scope: a scale set, or
 * all of them. */
struct target_lists {
  struct osc_buf ids;
  struct osc_buf names;
  size_t count;
};

static void lists_init(struct target_lists *l) {
  osc_buf_init(&l->ids, 64u << 20);
  osc_buf_init(&l->names, 64u << 20);
  l->count = 0;
}

static void lists_free(struct target_lists *l) {
  osc_buf_free(&l->ids);
  osc_buf_free(&l->names);
}

static int lists_add(struct target_lists *l, const struct osc_target_ref *t,
                     struct osc_error *err) {
  if ((l->count > 0 && (osc_buf_puts(&l->ids, ",", err) < 0 ||
                        osc_buf_puts(&l->names, ",", err) < 0)) ||
      osc_buf_puts(&l->ids, t->id, err) < 0 ||
      osc_buf_puts(&l->names, t->name, err) < 0)
    return err ? err->code : OSC_E_NOMEM;
  l->count++;
  return OSC_OK;
}

/* The three outputs of a scope: suffix is the scale set, NULL for all. */
static int add_scope(struct osc_outputs *out, size_t cap, const char *suffix,
                     const struct target_lists *l, struct osc_error *err) {
  if (add_output(out, cap, "VMSSHasServersToDeployTo", suffix,
                 l->count ? "True" : "False") < 0 ||
      add_output(out, cap, "VMSSDeploymentTargetIds", suffix,
                 osc_buf_str(&l->ids)) < 0 ||
      add_output(out, cap, "VMSSDeploymentTargetNames", suffix,
                 osc_buf_str(&l->names)) < 0)
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  return OSC_OK;
}

/* One plan's scope, its targets also added to all. */
static int add_plan(struct osc_outputs *out, size_t cap,
                    const struct osc_plan *p,
                    const struct osc_state_baseline *base,
                    struct target_lists *one, struct target_lists *all,
                    struct osc_error *err) {
  size_t j;
  int rc = OSC_OK;

  osc_buf_reset(&one->ids);
  osc_buf_reset(&one->names);
  one->count = 0;
  for (j = 0; j < p->n_deployable && rc == OSC_OK; j++) {
    const struct osc_target_ref *t = &p->deployable[j];

    if (osc_baseline_has(base, t->id))
      continue;
    rc = lists_add(one, t, err);
    if (rc == OSC_OK)
      rc = lists_add(all, t, err);
  }
  if (rc == OSC_OK)
    rc = add_scope(out, cap, p->scale_set, one, err);
  return rc;
}

int osc_outputs_build(struct osc_plan *const *plans, size_t n_plans,
                      const struct osc_state *state, const char *only_new,
                      struct osc_outputs *out, struct osc_error *err) {
  struct target_lists all;
  struct target_lists one;
  size_t cap = 3 * (n_plans + 1);
  size_t i;
  int rc = OSC_OK;

  memset(out, 0, sizeof(*out));
  lists_init(&all);
  lists_init(&one);
  out->items = osc_arena_alloc(&out->arena, cap * sizeof(*out->items));
  if (out->items == NULL)
    rc = osc_error_set(err, OSC_E_NOMEM, "out of memory");
  /* Combined outputs first: reserve their three slots. */
  out->n = 3;
  for (i = 0; i < n_plans && rc == OSC_OK; i++) {
    const struct osc_plan *p = plans[i];
    const struct osc_state_baseline *base =
        only_new
            ? osc_state_baseline(osc_state_find(state, p->scale_set), only_new)
            : NULL;

    rc = add_plan(out, cap, p, base, &one, &all, err);
  }
  if (rc == OSC_OK) {
    size_t n = out->n;

    out->n = 0;
    rc = add_scope(out, cap, NULL, &all, err);
    out->n = n;
  }
  lists_free(&all);
  lists_free(&one);
  if (rc < 0)
    osc_outputs_free(out);
  return rc;
}

void osc_outputs_free(struct osc_outputs *outputs) {
  osc_arena_free(&outputs->arena);
  outputs->items = NULL;
  outputs->n = 0;
}

const char *osc_outputs_get(const struct osc_outputs *outputs,
                            const char *name) {
  size_t i;

  for (i = 0; i < outputs->n; i++) {
    if (strcmp(outputs->items[i].name, name) == 0)
      return outputs->items[i].value;
  }
  return NULL;
}

static size_t count_kind(const struct osc_plan *p, enum osc_action_kind kind) {
  size_t n = 0;
  size_t i;

  for (i = 0; i < p->n_actions; i++)
    n += p->actions[i].kind == kind;
  return n;
}

static const char *result_suffix(const struct osc_action *a, bool applied) {
  switch (a->result) {
  case OSC_RESULT_DONE:
    return a->result_message != NULL ? " [done: " OSC_RESULT_ALREADY_GONE "]"
                                     : " [done]";
  case OSC_RESULT_FAILED:
    return " [FAILED]";
  default:
    /* after apply, a change that was not made says so */
    return applied && (a->kind == OSC_ACT_DELETE ||
                       a->kind == OSC_ACT_DISABLE || a->kind == OSC_ACT_ENABLE)
               ? " [skipped]"
               : "";
  }
}

static void count_results(const struct osc_plan *p,
                          struct osc_run_summary *out) {
  size_t j;

  for (j = 0; j < p->n_actions; j++) {
    const struct osc_action *a = &p->actions[j];

    if (a->kind != OSC_ACT_DELETE && a->kind != OSC_ACT_DISABLE &&
        a->kind != OSC_ACT_ENABLE)
      continue;
    if (a->result == OSC_RESULT_FAILED)
      out->failed++;
    else if (a->result != OSC_RESULT_DONE)
      out->skipped++;
    else if (a->kind == OSC_ACT_DELETE)
      out->deleted++;
    else if (a->kind == OSC_ACT_DISABLE)
      out->disabled++;
    else
      out->enabled++;
  }
}

void osc_run_summary_count(struct osc_plan *const *plans, size_t n_plans,
                           struct osc_run_summary *out) {
  size_t i;

  for (i = 0; i < n_plans; i++)
    count_results(plans[i], out);
}

static void format_elapsed(int64_t ms, char *out, size_t cap) {
  if (ms < 60000)
    snprintf(out, cap, "%.1fs", (double)(ms > 0 ? ms : 0) / 1000.0);
  else
    osc_duration_format(ms / 1000, out, cap);
}

void osc_run_summary_format(const struct osc_run_summary *s, char *out,
                            size_t cap) {
  char took[32];

  format_elapsed(s->duration_ms, took, sizeof(took));
  snprintf(out, cap,
           "%zu deleted, %zu failed, %zu disabled, %zu enabled, %zu skipped "
           "in %s; %llu request%s (%llu retr%s, %llu throttled)",
           s->deleted, s->failed, s->disabled, s->enabled, s->skipped, took,
           (unsigned long long)s->requests, s->requests == 1 ? "" : "s",
           (unsigned long long)s->retries, s->retries == 1 ? "y" : "ies",
           (unsigned long long)s->throttled);
}

/* Before apply: what would change. After: what did, and what did not. */
static void text_summary(FILE *f, const struct osc_plan *p, bool applied) {
  struct osc_run_summary d;

  if (!applied) {
    fprintf(f,
            "  summary: %zu to delete, %zu to disable, %zu to enable, %zu "
            "in sync, %zu waiting, %zu reported",
            count_kind(p, OSC_ACT_DELETE), count_kind(p, OSC_ACT_DISABLE),
            count_kind(p, OSC_ACT_ENABLE), p->class_counts[OSC_CLASS_IN_SYNC],
            count_kind(p, OSC_ACT_WAIT), count_kind(p, OSC_ACT_REPORT));
  } else {
    memset(&d, 0, sizeof(d));
    count_results(p, &d);
    fprintf(f,
            "  summary: %zu deleted, %zu failed, %zu disabled, %zu enabled, "
            "%zu skipped%s, %zu in sync, %zu waiting, %zu reported",
            d.deleted, d.failed, d.disabled, d.enabled, d.skipped,
            d.skipped == 0 || p->status == OSC_PLAN_OK ? ""
            : p->status == OSC_PLAN_SAFETY_STOP        ? " (safety stop)"
            : p->status == OSC_PLAN_TIMEOUT            ? " (timeout)"
                                                       : " (error)",
            p->class_counts[OSC_CLASS_IN_SYNC], count_kind(p, OSC_ACT_WAIT),
            count_kind(p, OSC_ACT_REPORT));
  }
  if (p->class_counts[OSC_CLASS_FOREIGN] > 0)
    fprintf(f, " (%zu foreign: not the scale set's, never touched)",
            p->class_counts[OSC_CLASS_FOREIGN]);
  fputc('\n', f);
  if (p->n_kept_by_policy > 0)
    fprintf(f, "  kept by policy: %zu\n", p->n_kept_by_policy);
}

void osc_report_text(FILE *f, struct osc_plan *const *plans, size_t n_plans,
                     bool show_keep, const struct osc_run_summary *run) {
  char line[512];
  size_t i;
  size_t j;

  for (i = 0; i < n_plans; i++) {
    const struct osc_plan *p = plans[i];

    if (i > 0)
      fputc('\n', f);
    /* Names and messages come from servers and policies: escaped lines. */
    osc_text_line(f, "%s: %zu VMs, %zu targets in scope", p->scale_set,
                  p->n_vms, p->n_in_scope);
    if (p->status != OSC_PLAN_OK) {
      const char *msg = p->message;

      /* the label already says it */
      if (strncasecmp(msg, "safety stop: ", 13) == 0)
        msg += 13;
      osc_text_line(f, "  %s: %s",
                    p->status == OSC_PLAN_SAFETY_STOP ? "SAFETY STOP"
                    : p->status == OSC_PLAN_TIMEOUT   ? "TIMEOUT"
                                                      : "ERROR",
                    msg);
    }
    for (j = 0; j < p->n_actions; j++) {
      const struct osc_action *a = &p->actions[j];
      char who[512];

      /* A keep the policy chose (where the default acts) is a decision
       * worth seeing; plain in-sync keeps only with show_keep. */
      if (a->kind == OSC_ACT_KEEP && !show_keep && !a->kept_by_policy)
        continue;
      if (a->target_name != NULL)
        snprintf(who, sizeof(who), "%s (%s)", a->target_name, a->target_id);
      else
        snprintf(who, sizeof(who), "VM %s (no target)",
                 a->vm_name ? a->vm_name : "?");
      osc_text_line(f, "  %-7s %s: %s%s", osc_action_name(a->kind), who,
                    a->reason ? a->reason : "", result_suffix(a, run != NULL));
    }
    text_summary(f, p, run != NULL);
  }
  if (run != NULL) {
    osc_run_summary_format(run, line, sizeof(line));
    fprintf(f, "%sapply: %s\n", n_plans > 0 ? "\n" : "", line);
  }
}

static void json_action(struct osc_jsonw *w, const struct osc_action *a) {
  osc_jsonw_object_begin(w);
  osc_jsonw_key(w, "action");
  osc_jsonw_string(w, osc_action_name(a->kind));
  osc_jsonw_key(w, "class");
  osc_jsonw_string(w, osc_class_name(a->cls));
  osc_jsonw_key(w, "target_id");
  osc_jsonw_string(w, a->target_id);
  osc_jsonw_key(w, "target_name");
  osc_jsonw_string(w, a->target_name);
  osc_jsonw_key(w, "vm");
  osc_jsonw_string(w, a->vm_name);
  osc_jsonw_key(w, "reason");
  osc_jsonw_string(w, a->reason);
  if (a->policy_reason != NULL) {
    osc_jsonw_key(w, "policy_reason");
    osc_jsonw_string(w, a->policy_reason);
  }
  if (a->kept_by_policy) {
    osc_jsonw_key(w, "kept_by_policy");
    osc_jsonw_bool(w, true);
  }
  osc_jsonw_key(w, "done");
  osc_jsonw_bool(w, a->result == OSC_RESULT_DONE);
  if (a->result == OSC_RESULT_DONE && a->result_message != NULL) {
    osc_jsonw_key(w, "detail"); /* "already gone" */
    osc_jsonw_string(w, a->result_message);
  }
  if (a->result == OSC_RESULT_FAILED) {
    osc_jsonw_key(w, "error");
    osc_jsonw_string(w, a->result_message);
  }
  osc_jsonw_object_end(w);
}

static void json_run(struct osc_jsonw *w, const struct osc_run_summary *s) {
  osc_jsonw_key(w, "run");
  osc_jsonw_object_begin(w);
  osc_jsonw_key(w, "deleted");
  osc_jsonw_int(w, (int64_t)s->deleted);
  osc_jsonw_key(w, "failed");
  osc_jsonw_int(w, (int64_t)s->failed);
  osc_jsonw_key(w, "disabled");
  osc_jsonw_int(w, (int64_t)s->disabled);
  osc_jsonw_key(w, "enabled");
  osc_jsonw_int(w, (int64_t)s->enabled);
  osc_jsonw_key(w, "skipped");
  osc_jsonw_int(w, (int64_t)s->skipped);
  osc_jsonw_key(w, "duration_ms");
  osc_jsonw_int(w, s->duration_ms);
  osc_jsonw_key(w, "requests");
  osc_jsonw_int(w, (int64_t)s->requests);
  osc_jsonw_key(w, "retries");
  osc_jsonw_int(w, (int64_t)s->retries);
  osc_jsonw_key(w, "throttled");
  osc_jsonw_int(w, (int64_t)s->throttled);
  osc_jsonw_object_end(w);
}

int osc_report_json(FILE *f, const char *command, struct osc_plan *const *plans,
                    size_t n_plans, const struct osc_outputs *outputs,
                    const struct osc_run_summary *run, struct osc_error *err) {
  struct osc_buf buf;
  struct osc_jsonw w;
  size_t i;
  size_t j;
  int rc;

  osc_buf_init(&buf, 1u << 30);
  osc_jsonw_init(&w, &buf, true);
  osc_jsonw_object_begin(&w);
  osc_jsonw_key(&w, "format_version");
  osc_jsonw_int(&w, 1);
  osc_jsonw_key(&w, "command");
  osc_jsonw_string(&w, command);
  osc_jsonw_key(&w, "scale_sets");
  osc_jsonw_array_begin(&w);
  for (i = 0; i < n_plans; i++) {
    const struct osc_plan *p = plans[i];

    osc_jsonw_object_begin(&w);
    osc_jsonw_key(&w, "name");
    osc_jsonw_string(&w, p->scale_set);
    osc_jsonw_key(&w, "status");
    osc_jsonw_string(&w, osc_plan_status_name(p->status));
    osc_jsonw_key(&w, "message");
    osc_jsonw_string(&w, p->message[0] ? p->message : NULL);
    osc_jsonw_key(&w, "counts");
    osc_jsonw_object_begin(&w);
    osc_jsonw_key(&w, "vms");
    osc_jsonw_int(&w, (int64_t)p->n_vms);
    osc_jsonw_key(&w, "targets_in_scope");
    osc_jsonw_int(&w, (int64_t)p->n_in_scope);
    for (j = 0; j < OSC_CLASS_COUNT; j++) {
      osc_jsonw_key(&w, osc_class_name((enum osc_class)j));
      osc_jsonw_int(&w, (int64_t)p->class_counts[j]);
    }
    osc_jsonw_key(&w, "destructive");
    osc_jsonw_int(&w, (int64_t)p->n_destructive);
    osc_jsonw_key(&w, "budget");
    osc_jsonw_int(&w, (int64_t)p->budget);
    osc_jsonw_key(&w, "kept_by_policy");
    osc_jsonw_int(&w, (int64_t)p->n_kept_by_policy);
    osc_jsonw_object_end(&w);
    osc_jsonw_key(&w, "actions");
    osc_jsonw_array_begin(&w);
    for (j = 0; j < p->n_actions; j++)
      json_action(&w, &p->actions[j]);
    osc_jsonw_array_end(&w);
    osc_jsonw_object_end(&w);
  }
  osc_jsonw_array_end(&w);
  osc_jsonw_key(&w, "outputs");
  osc_jsonw_object_begin(&w);
  for (i = 0; outputs != NULL && i < outputs->n; i++) {
    osc_jsonw_key(&w, outputs->items[i].name);
    osc_jsonw_string(&w, outputs->items[i].value);
  }
  osc_jsonw_object_end(&w);
  if (run != NULL)
    json_run(&w, run);
  osc_jsonw_object_end(&w);
  rc = osc_jsonw_finish(&w, err);
  if (rc == OSC_OK) {
    fwrite(buf.data, 1, buf.len, f);
    fputc('\n', f);
  }
  osc_buf_free(&buf);
  return rc;
}
