#include "core/osc_apply.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/osc_collect.h"
#include "core/osc_http.h"
#include "core/osc_log.h"
#include "core/osc_octopus.h"
#include "core/osc_progress.h"
#include "core/osc_state.h"
#include "core/osc_store.h"
#include "core/osc_time.h"
#include "core/osc_watch.h"

#define DEFAULT_PROVISIONING_GRACE (30 * 60)

/* --- waiting for provisioning ------------------------------------------- */

struct settle_count {
  size_t total;
  size_t settled;
  bool scale_set_updating;
};

/* A VM has settled when it is no longer Creating and, once up, its Tentacle
 * has registered (or its registration grace has passed): the engine's
 * "provisioning" class counts both, and deploying to exactly the new
 * targets needs the targets. The collection's Creating count covers plans
 * that could not classify (a failed read). */
static void count_settled(const struct osc_reconcile *r,
                          struct settle_count *out) {
  size_t i;
  size_t j;

  memset(out, 0, sizeof(*out));
  for (i = 0; i < r->n_entries; i++) {
    const struct osc_collection *c = &r->entries[i].collection;
    const struct osc_plan *p = r->plans[i];
    size_t creating = 0;
    size_t waiting;

    if (c->have_vmss && c->vmss.provisioning_state != NULL &&
        strcasecmp(c->vmss.provisioning_state, "Updating") == 0)
      out->scale_set_updating = true;
    for (j = 0; j < c->n_vms; j++)
      creating += c->vms[j].state == OSC_VM_CREATING;
    waiting = p ? p->class_counts[OSC_CLASS_PROVISIONING] : 0;
    if (waiting < creating)
      waiting = creating;
    if (waiting > c->n_vms)
      waiting = c->n_vms;
    out->total += c->n_vms;
    out->settled += c->n_vms - waiting;
  }
}

static bool settled(const struct settle_count *s) {
  return s->settled == s->total && !s->scale_set_updating;
}

/* The bound: --wait=DURATION, else the largest provisioning grace among the
 * selected entries' policies (each entry may have its own). */
static int64_t wait_bound(const struct osc_reconcile *r,
                          const struct osc_apply_options *o) {
  int64_t bound = 0;
  size_t i;

  if (o->wait_seconds >= 0)
    return o->wait_seconds;
  for (i = 0; i < r->n_entries; i++) {
    int64_t grace = DEFAULT_PROVISIONING_GRACE;

    if (r->entries[i].policy != NULL &&
        osc_policy_provisioning_grace(r->entries[i].policy, &grace, NULL) < 0)
      grace = DEFAULT_PROVISIONING_GRACE;
    if (grace > bound)
      bound = grace;
  }
  return bound > 0 ? bound : DEFAULT_PROVISIONING_GRACE;
}

/* The first line shows at once: the operator asked to wait. */
static void show_progress(const struct settle_count *s, int64_t elapsed_s,
                          int64_t bound_s, bool first) {
  char detail[160];
  char elapsed[32];
  char bound[32];

  osc_duration_format(elapsed_s, elapsed, sizeof(elapsed));
  osc_duration_format(bound_s, bound, sizeof(bound));
  snprintf(detail, sizeof(detail), "settled%s, %s of %s",
           s->scale_set_updating ? " (scale set updating)" : "", elapsed,
           bound);
  osc_progress_detail(detail);
  osc_progress_set(s->settled, s->total);
  if (first)
    osc_progress_show_now();
}

/* Collects every entry again and plans those that collected. */
static int recollect(struct osc_reconcile *r,
                     const struct osc_reconcile_options *ro,
                     struct osc_error *err) {
  size_t i;
  int rc = osc_reconcile_collect(r, err);

  for (i = 0; rc >= 0 && i < r->n_entries; i++) {
    if (r->entries[i].plan != NULL)
      continue; /* that entry failed to collect: keep its error plan */
    rc = osc_reconcile_replan(r, i, ro, err);
  }
  return rc;
}

/* Some VM waits for its Tentacle rather than for Azure: Octopus changes,
 * which no scale set fingerprint shows. */
static bool waits_for_registration(const struct osc_reconcile *r) {
  size_t i;
  size_t j;

  for (i = 0; i < r->n_entries; i++) {
    const struct osc_collection *c = &r->entries[i].collection;
    const struct osc_plan *p = r->plans[i];
    size_t creating = 0;

    for (j = 0; j < c->n_vms; j++)
      creating += c->vms[j].state == OSC_VM_CREATING;
    if (p == NULL || !c->have_vmss ||
        p->class_counts[OSC_CLASS_PROVISIONING] > creating)
      return true;
  }
  return false;
}

/* One cheap poll (core/osc_watch.h): every entry's fingerprint, compared
 * with the previous poll's. True when something changed or could not be
 * read, so a full collection is due. */
static bool fingerprints_changed(struct osc_reconcile *r, struct osc_buf *prev,
                                 struct osc_buf *cur) {
  struct osc_error err = OSC_ERROR_INIT;
  unsigned requests = 0;
  bool changed = false;
  size_t i;

  for (i = 0; i < r->n_entries; i++) {
    const struct osc_reconcile_entry *e = &r->entries[i];

    if (osc_watch_fingerprint(r->session, e->config, e->collection.vmss.mode,
                              &cur[i], &requests, &err) < 0) {
      osc_log(OSC_LOG_DEBUG, "wait", "%s: %s", e->config->name, err.msg);
      changed = true;
      continue;
    }
    if (prev[i].len != cur[i].len ||
        (cur[i].len > 0 && memcmp(prev[i].data, cur[i].data, cur[i].len)))
      changed = true;
    osc_buf_reset(&prev[i]);
    if (cur[i].len > 0 &&
        osc_buf_append(&prev[i], cur[i].data, cur[i].len, NULL) < 0)
      changed = true;
  }
  osc_log(OSC_LOG_DEBUG, "wait", "poll: %u ARM requests, %s", requests,
          changed ? "changed: reading everything" : "unchanged");
  return changed;
}

/* Polls until no VM is Creating and no scale set is Updating, or the bound
 * passes. A poll reads each scale set's fingerprint only; everything is
 * collected again (so the final plan is fresh) on the first poll, when a
 * fingerprint changed, while Tentacles are awaited, and when the wait
 * ends. */
static int wait_for_provisioning(struct osc_reconcile *r,
                                 const struct osc_reconcile_options *ro,
                                 const struct osc_apply_options *o,
                                 bool *timed_out, struct osc_error *err) {
  int64_t bound = wait_bound(r, o);
  int64_t start = osc_time_monotonic_ms();
  struct osc_buf *prints = calloc(2 * (r->n_entries + 1), sizeof(*prints));
  struct settle_count s;
  bool fresh = true;   /* the collection is as of the last poll */
  bool first = true;   /* the first progress line shows at once */
  bool polled = false; /* the first poll reads everything */
  size_t i;
  int rc = OSC_OK;

  *timed_out = false;
  if (prints == NULL)
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  for (i = 0; i < 2 * r->n_entries; i++)
    osc_buf_init(&prints[i], (size_t)64 << 10);
  osc_progress_begin("waiting for provisioning", "VMs", 0);
  for (;;) {
    int64_t elapsed = (osc_time_monotonic_ms() - start) / 1000;

    count_settled(r, &s);
    if (!settled(&s) && elapsed >= bound && !fresh) {
      rc = recollect(r, ro, err); /* the wait ends: read everything */
      fresh = true;
      if (rc < 0)
        break;
      continue;
    }
    show_progress(&s, elapsed, bound, first && !settled(&s));
    first = false;
    if (settled(&s))
      break;
    if (elapsed >= bound) {
      *timed_out = true;
      break;
    }
    osc_progress_sleep_ms(1000 * (o->poll_interval_seconds < bound - elapsed
                                      ? o->poll_interval_seconds
                                      : bound - elapsed));
    fresh = false;
    if (fingerprints_changed(r, prints, prints + r->n_entries) || !polled ||
        waits_for_registration(r)) {
      rc = recollect(r, ro, err);
      fresh = true;
      if (rc < 0)
        break;
    }
    polled = true;
  }
  osc_progress_end();
  for (i = 0; i < 2 * r->n_entries; i++)
    osc_buf_free(&prints[i]);
  free(prints);
  return rc;
}

/* --- executing actions --------------------------------------------------- */

struct delete_job {
  struct osc_action *action;
  struct osc_octopus *octopus;
  struct osc_plan *plan;
};

static void delete_done(void *ud, const struct osc_http_request *req,
                        struct osc_http_response *resp,
                        const struct osc_error *transport) {
  struct delete_job *job = ud;
  struct osc_apierr detail;
  char line[OSC_ERROR_MAX];

  (void)req;
  osc_progress_add(1);
  if (transport == NULL && (resp->status / 100 == 2 || resp->status == 404)) {
    /* 404: someone (or a previous, interrupted run) deleted it already */
    job->action->result = OSC_RESULT_DONE;
    if (resp->status == 404)
      job->action->result_message = OSC_RESULT_ALREADY_GONE;
    return;
  }
  osc_octopus_error_detail(job->octopus, resp, transport, &detail);
  osc_apierr_format(&detail, "Octopus DELETE", line, sizeof(line));
  job->action->result = OSC_RESULT_FAILED;
  job->action->result_message = osc_arena_strdup(&job->plan->arena, line);
}

static int submit_delete(struct osc_http *http, struct osc_octopus *octopus,
                         struct delete_job *job, struct osc_error *err) {
  struct osc_http_header headers[2];
  struct osc_http_request req;
  char path[512];
  char *url = NULL;
  int rc;

  snprintf(path, sizeof(path), "/api/%s/machines/%s",
           osc_octopus_space(octopus), job->action->target_id);
  rc = osc_octopus_url(octopus, path, &url, err);
  if (rc < 0)
    return rc;
  memset(&req, 0, sizeof(req));
  req.method = "DELETE";
  req.url = url;
  req.headers = headers;
  req.n_headers = osc_octopus_headers(octopus, headers);
  req.what = "Octopus DELETE machine";
  rc = osc_http_submit(http, &req, delete_done, job, err);
  free(url);
  return rc;
}

static bool executable(const struct osc_plan *p) {
  return p != NULL && p->status == OSC_PLAN_OK;
}

/* Deletions go out together (bounded by the HTTP layer's per-host limit and
 * Octopus's rate limit); disable/enable are GET+PUT pairs, done in turn. */
/* Counts what the actions' results say, and logs each failure. */
static void tally_results(const struct osc_reconcile *r,
                          struct osc_apply_result *res) {
  size_t i;
  size_t j;

  for (i = 0; i < r->n_entries; i++) {
    const struct osc_plan *p = r->plans[i];

    for (j = 0; p != NULL && j < p->n_actions; j++) {
      const struct osc_action *a = &p->actions[j];

      if (a->result == OSC_RESULT_FAILED) {
        res->n_failed++;
        osc_log_error("%s: %s %s (%s) failed: %s", p->scale_set,
                      osc_action_name(a->kind), a->target_name, a->target_id,
                      a->result_message ? a->result_message : "error");
      } else if (a->result == OSC_RESULT_DONE) {
        res->n_deleted += a->kind == OSC_ACT_DELETE;
        res->n_disabled += a->kind == OSC_ACT_DISABLE;
        res->n_enabled += a->kind == OSC_ACT_ENABLE;
      }
    }
  }
}

static int execute(struct osc_reconcile *r, struct osc_apply_result *res,
                   struct osc_error *err) {
  struct osc_http *http = osc_session_http(r->session);
  struct osc_octopus *octopus = osc_session_octopus(r->session);
  struct delete_job *jobs = NULL;
  size_t n_jobs = 0;
  size_t n_changes = 0; /* deletes, disables, enables */
  size_t cap = 0;
  size_t i;
  size_t j;
  int rc = OSC_OK;

  for (i = 0; i < r->n_entries; i++) {
    struct osc_plan *p = r->plans[i];

    if (!executable(p))
      continue;
    for (j = 0; j < p->n_actions; j++) {
      cap += p->actions[j].kind == OSC_ACT_DELETE;
      n_changes += p->actions[j].kind == OSC_ACT_DELETE ||
                   p->actions[j].kind == OSC_ACT_DISABLE ||
                   p->actions[j].kind == OSC_ACT_ENABLE;
    }
  }
  if (cap > 0) {
    jobs = calloc(cap, sizeof(*jobs));
    if (jobs == NULL)
      return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  }
  osc_progress_begin(cap == n_changes ? "deleting targets" : "changing targets",
                     "targets", n_changes);
  for (i = 0; i < r->n_entries; i++) {
    struct osc_plan *p = r->plans[i];

    if (!executable(p))
      continue;
    for (j = 0; j < p->n_actions; j++) {
      struct osc_action *a = &p->actions[j];
      struct osc_apierr detail;
      struct osc_error aerr = OSC_ERROR_INIT;

      if (a->kind == OSC_ACT_DELETE) {
        jobs[n_jobs].action = a;
        jobs[n_jobs].octopus = octopus;
        jobs[n_jobs].plan = p;
        rc = submit_delete(http, octopus, &jobs[n_jobs], err);
        if (rc < 0)
          goto done;
        n_jobs++;
      } else if (a->kind == OSC_ACT_DISABLE || a->kind == OSC_ACT_ENABLE) {
        if (osc_octopus_set_disabled(octopus, a->target_id,
                                     a->kind == OSC_ACT_DISABLE, NULL, &detail,
                                     &aerr) < 0) {
          a->result = OSC_RESULT_FAILED;
          a->result_message = osc_arena_strdup(&p->arena, aerr.msg);
        } else {
          a->result = OSC_RESULT_DONE;
        }
        osc_progress_add(1);
      }
    }
  }
  rc = osc_http_run(http, err);
done:
  osc_progress_end();
  tally_results(r, res);
  free(jobs);
  return rc;
}

/* A deleted target is no longer an orphan to remember. */
static void forget_deleted(struct osc_plan *p) {
  size_t i;
  size_t j;
  size_t k = 0;

  for (i = 0; i < p->n_orphans; i++) {
    bool deleted = false;

    for (j = 0; j < p->n_actions && !deleted; j++) {
      const struct osc_action *a = &p->actions[j];

      deleted = a->kind == OSC_ACT_DELETE && a->result == OSC_RESULT_DONE &&
                a->target_id != NULL &&
                strcmp(a->target_id, p->orphans[i].target_id) == 0;
    }
    if (!deleted)
      p->orphans[k++] = p->orphans[i];
  }
  p->n_orphans = k;
}

/* --- health check of new targets ----------------------------------------- */

/* New for the health check: absent from the run's baseline (the default
 * one when the run is not --only-new). */
static bool is_new(const struct osc_state *state, const char *baseline,
                   const char *scale_set, const char *id) {
  const struct osc_state_scale_set *set = osc_state_find(state, scale_set);

  return !osc_baseline_has(
      osc_state_baseline(set, baseline ? baseline : OSC_STATE_DEFAULT_BASELINE),
      id);
}

/* After the health check: new targets that are not Healthy (or
 * HasWarnings) in the fresh read leave p's deployable list and are named in
 * res->unavailable (used: its length so far). */
static void drop_unhealthy(const struct osc_reconcile *r,
                           const struct osc_apply_options *o,
                           struct osc_plan *p,
                           const struct osc_collection *fresh,
                           struct osc_apply_result *res, size_t *used) {
  size_t j;
  size_t k = 0;

  for (j = 0; j < p->n_deployable; j++) {
    const struct osc_target_ref *t = &p->deployable[j];
    const char *health = NULL;
    size_t m;

    for (m = 0; m < fresh->n_targets; m++) {
      if (strcmp(fresh->targets[m].id, t->id) == 0)
        health = fresh->targets[m].health;
    }
    if (is_new(r->state, o->only_new, p->scale_set, t->id) &&
        (health == NULL || (strcasecmp(health, "Healthy") != 0 &&
                            strcasecmp(health, "HasWarnings") != 0))) {
      osc_log_warn("%s: %s (%s) is %s after the health check; left out "
                   "of the outputs",
                   p->scale_set, t->name, t->id, health ? health : "missing");
      *used += (size_t)snprintf(res->unavailable + *used,
                                *used < sizeof(res->unavailable)
                                    ? sizeof(res->unavailable) - *used
                                    : 0,
                                "%s%s", *used ? "," : "", t->name);
      if (*used >= sizeof(res->unavailable))
        *used = sizeof(res->unavailable) - 1;
      continue;
    }
    p->deployable[k++] = *t;
  }
  p->n_deployable = k;
}

/* Starts one Health task per scale set for its new deployable targets,
 * waits (bounded), then re-reads the machines: targets still not Healthy
 * leave the deployable list, and are named in res->unavailable. */
static int health_check(struct osc_reconcile *r,
                        const struct osc_apply_options *o,
                        struct osc_apply_result *res, struct osc_error *err) {
  struct osc_octopus *octopus = osc_session_octopus(r->session);
  size_t used = 0;
  size_t i;
  size_t j;

  for (i = 0; i < r->n_entries; i++) {
    struct osc_reconcile_entry *e = &r->entries[i];
    struct osc_plan *p = e->plan;
    const char **ids = NULL;
    struct osc_octopus_task task;
    struct osc_apierr detail;
    struct osc_error herr = OSC_ERROR_INIT;
    struct osc_collect_result fresh;
    const struct osc_config_scale_set *entry = e->config;
    size_t n = 0;

    if (p == NULL || p->n_deployable == 0)
      continue;
    ids = calloc(p->n_deployable, sizeof(*ids));
    if (ids == NULL)
      return osc_error_set(err, OSC_E_NOMEM, "out of memory");
    for (j = 0; j < p->n_deployable; j++) {
      if (is_new(r->state, o->only_new, p->scale_set, p->deployable[j].id))
        ids[n++] = p->deployable[j].id;
    }
    if (n == 0) {
      free(ids);
      continue;
    }
    osc_log_info("%s: health check of %zu new target%s", p->scale_set, n,
                 n == 1 ? "" : "s");
    osc_progress_begin("health check of new targets", NULL, 0);
    if (osc_octopus_health_start(octopus, e->scope.environment_id, ids, n,
                                 o->health_timeout_seconds, &task, &detail,
                                 &herr) < 0 ||
        osc_octopus_task_wait(octopus, task.id,
                              (o->health_timeout_seconds + 60) * 1000, 1000,
                              &task, &detail, &herr) < 0) {
      osc_log_warn("%s: health check: %s", p->scale_set, herr.msg);
    }
    osc_progress_end();
    free(ids);
    /* Re-read the machines to see each one's HealthStatus. */
    if (osc_collect_parts(r->session, &entry, 1, OSC_COLLECT_OCTOPUS, false,
                          &fresh, err) < 0)
      return err->code;
    drop_unhealthy(r, o, p, &fresh.collection, res, &used);
    osc_collect_result_free(&fresh);
  }
  return OSC_OK;
}

int osc_apply_run(struct osc_reconcile *r,
                  const struct osc_reconcile_options *ro,
                  const struct osc_apply_options *o,
                  struct osc_apply_result *res, struct osc_error *err) {
  bool timed_out = false;
  size_t i;
  int rc;

  memset(res, 0, sizeof(*res));
  if (r->session == NULL)
    return osc_error_set(err, OSC_E_USAGE,
                         "apply needs live data (not a snapshot)");
  if (ro->store == NULL)
    return osc_error_set(err, OSC_E_RUNTIME, "apply needs the locked state");
  if (o->wait) {
    rc = wait_for_provisioning(r, ro, o, &timed_out, err);
    if (rc < 0)
      return rc;
    if (timed_out && o->fail_on_timeout) {
      for (i = 0; i < r->n_entries; i++) {
        struct osc_plan *p = r->plans[i];

        if (p->status == OSC_PLAN_OK) {
          p->status = OSC_PLAN_TIMEOUT;
          snprintf(p->message, sizeof(p->message),
                   "provisioning did not settle within the wait bound; "
                   "nothing was changed (--on-timeout fail)");
        }
      }
    } else if (timed_out) {
      osc_log_warn("provisioning did not settle within the wait bound; "
                   "proceeding (--on-timeout proceed)");
    }
  }
  /* The lock must still be ours before anything is deleted or disabled: a
   * run that could not record its actions must not take them. */
  rc = osc_store_check(ro->store, r->state, err);
  if (rc < 0)
    return rc;
  rc = execute(r, res, err);
  if (rc < 0)
    return rc;
  if (o->health_check) {
    rc = health_check(r, o, res, err);
    if (rc < 0)
      return rc;
  }
  /* Outputs compare with the previous run's state: build them before the
   * state records this run. */
  rc = osc_outputs_build(r->plans, r->n_entries, r->state, o->only_new,
                         &res->outputs, err);
  if (rc < 0)
    return rc;
  for (i = 0; i < r->n_entries; i++)
    forget_deleted(r->plans[i]);
  if (!osc_state_plans_learn(r->plans, r->n_entries))
    return OSC_OK; /* nothing read, nothing done: the state stays as it was */
  /* Only --only-new runs move the baseline of "new": a scheduled reconcile
   * between a scale-out and its triggered deployment must not hide the new
   * targets from it. */
  rc = osc_state_update(r->state, r->plans, r->n_entries, ro->now, "apply",
                        o->only_new, err);
  if (rc < 0)
    return rc;
  rc = osc_store_save(ro->store, r->state, err);
  res->state_unsaved = rc < 0;
  return rc;
}

void osc_apply_result_free(struct osc_apply_result *res) {
  osc_outputs_free(&res->outputs);
}
