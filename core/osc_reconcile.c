#include "core/osc_reconcile.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/osc_collect.h"
#include "core/osc_log.h"
#include "core/osc_snapshot.h"
#include "core/osc_store.h"

static int select_entries(const struct osc_config *cfg,
                          const struct osc_reconcile_options *o,
                          struct osc_reconcile *r, struct osc_error *err) {
  size_t i;
  size_t j;

  r->entries =
      calloc(cfg->n_scale_sets ? cfg->n_scale_sets : 1, sizeof(*r->entries));
  r->plans =
      calloc(cfg->n_scale_sets ? cfg->n_scale_sets : 1, sizeof(*r->plans));
  if (r->entries == NULL || r->plans == NULL)
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  for (i = 0; i < o->n_only; i++) {
    if (osc_config_find(cfg, o->only[i]) == NULL)
      return osc_error_set(err, OSC_E_USAGE, "no scale set named '%s' in %s",
                           o->only[i], cfg->path);
  }
  for (i = 0; i < cfg->n_scale_sets; i++) {
    const struct osc_config_scale_set *e = &cfg->scale_sets[i];
    bool wanted = o->n_only == 0;

    for (j = 0; j < o->n_only && !wanted; j++)
      wanted = strcasecmp(o->only[j], e->name) == 0;
    if (!wanted)
      continue;
    r->entries[r->n_entries].config = e;
    osc_collection_init(&r->entries[r->n_entries].collection, e->name);
    r->n_entries++;
  }
  return OSC_OK;
}

static const struct osc_orphan_entry *
state_orphans(const struct osc_state *state, const char *name, size_t *n) {
  const struct osc_state_scale_set *set = osc_state_find(state, name);

  *n = set ? set->n_orphans : 0;
  return set ? set->orphans : NULL;
}

int osc_reconcile_replan(struct osc_reconcile *r, size_t i,
                         const struct osc_reconcile_options *o,
                         struct osc_error *err) {
  struct osc_reconcile_entry *e = &r->entries[i];
  struct osc_engine_input in;
  struct osc_error perr = OSC_ERROR_INIT;
  struct osc_policy *policy = o->policy;
  int rc;

  osc_plan_free(e->plan);
  e->plan = NULL;
  if (policy == NULL && e->policy == NULL) {
    rc = osc_policy_load(e->config->policy, e->config, o->now, &e->policy,
                         &perr);
    if (rc < 0)
      goto failed;
  }
  if (policy == NULL)
    policy = e->policy;
  osc_policy_set_explain(policy, o->explain);
  {
    const struct osc_state_scale_set *set =
        osc_state_find(r->state, e->config->name);

    rc = osc_collection_mark_disabled(
        &e->collection, set ? set->disabled : NULL, set ? set->n_disabled : 0);
    if (rc < 0)
      return osc_error_set(err, rc, "out of memory");
  }
  memset(&in, 0, sizeof(in));
  in.collection = &e->collection;
  in.scope = &e->scope;
  in.orphans = state_orphans(r->state, e->config->name, &in.n_orphans);
  in.policy = osc_policy_get_ops(policy);
  in.now = o->now;
  in.force = o->force;
  rc = osc_engine_plan(&in, &e->plan, err);
  r->plans[i] = e->plan;
  return rc;
failed:
  rc = osc_plan_new_failed(e->config->name, OSC_PLAN_ERROR, perr.code, perr.msg,
                           &e->plan, err);
  r->plans[i] = e->plan;
  return rc;
}

static int collect_snapshot(struct osc_reconcile *r,
                            const struct osc_reconcile_options *o,
                            struct osc_error *err) {
  struct osc_snapshot *snap = NULL;
  size_t i;
  int rc;

  rc = osc_snapshot_load(o->snapshot, &snap, err);
  if (rc < 0)
    return rc;
  for (i = 0; i < r->n_entries; i++) {
    struct osc_reconcile_entry *e = &r->entries[i];
    struct osc_error cerr = OSC_ERROR_INIT;

    rc =
        osc_snapshot_collect(snap, e->config, &e->collection, &e->scope, &cerr);
    if (rc == OSC_E_NOMEM) {
      *err = cerr;
      goto done;
    }
    if (rc < 0) {
      rc = osc_plan_new_failed(e->config->name, OSC_PLAN_ERROR, cerr.code,
                               cerr.msg, &e->plan, err);
      if (rc < 0)
        goto done;
      r->plans[i] = e->plan;
    }
  }
  rc = OSC_OK;
done:
  osc_snapshot_free(snap);
  return rc;
}

/* Live: every selected entry in flight together (core/osc_collect.h). A
 * runtime failure of one entry (auth refused, unknown name) becomes its
 * plan; incomplete reads stay in the collection for safety rule 1. */
static int collect_live(struct osc_reconcile *r, struct osc_error *err) {
  const struct osc_config_scale_set **entries = NULL;
  struct osc_collect_result *results = NULL;
  size_t i;
  int rc;

  if (r->session == NULL) {
    rc = osc_session_new(r->config, &r->session, err);
    if (rc < 0)
      return rc;
  }
  entries = calloc(r->n_entries ? r->n_entries : 1, sizeof(*entries));
  results = calloc(r->n_entries ? r->n_entries : 1, sizeof(*results));
  if (entries == NULL || results == NULL) {
    rc = osc_error_set(err, OSC_E_NOMEM, "out of memory");
    goto done;
  }
  for (i = 0; i < r->n_entries; i++)
    entries[i] = r->entries[i].config;
  rc = osc_collect_all(r->session, entries, r->n_entries, false, results, err);
  if (rc < 0)
    goto done;
  for (i = 0; i < r->n_entries; i++) {
    struct osc_reconcile_entry *e = &r->entries[i];

    osc_plan_free(e->plan);
    e->plan = NULL;
    r->plans[i] = NULL;
    osc_collection_free(&e->collection);
    osc_collect_result_take(&results[i], &e->collection, &e->scope);
    if (results[i].error_code < 0) {
      rc = osc_plan_new_failed(e->config->name, OSC_PLAN_ERROR,
                               results[i].error_code, results[i].error,
                               &e->plan, err);
      if (rc < 0)
        goto done;
      r->plans[i] = e->plan;
    }
  }
  rc = OSC_OK;
done:
  for (i = 0; results != NULL && i < r->n_entries; i++)
    osc_collect_result_free(&results[i]);
  free(results);
  free(entries);
  return rc;
}

int osc_reconcile_collect(struct osc_reconcile *r, struct osc_error *err) {
  return collect_live(r, err);
}

/* Through apply's locked store, else a store of our own (plan reads need
 * no lock). */
static int load_state(const struct osc_config *config,
                      const struct osc_reconcile_options *o,
                      struct osc_state **out, struct osc_error *err) {
  struct osc_store *store = NULL;
  int rc;

  if (o->store != NULL)
    return osc_store_load(o->store, out, err);
  rc = osc_store_open(config, &store, err);
  if (rc == OSC_OK)
    rc = osc_store_load(store, out, err);
  osc_store_free(store);
  return rc;
}

int osc_reconcile_plan(const struct osc_config *config,
                       const struct osc_reconcile_options *o,
                       struct osc_reconcile **out, struct osc_error *err) {
  struct osc_reconcile *r = calloc(1, sizeof(*r));
  size_t i;
  int rc;

  *out = NULL;
  if (r == NULL)
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  r->config = config;
  if (o->session != NULL) {
    r->session = o->session;
    r->session_borrowed = true;
  }
  rc = select_entries(config, o, r, err);
  if (rc < 0)
    goto done;
  rc = load_state(config, o, &r->state, err);
  if (rc < 0)
    goto done;
  if (o->snapshot != NULL) {
    rc = collect_snapshot(r, o, err);
  } else {
    rc = collect_live(r, err);
  }
  if (rc < 0)
    goto done;
  for (i = 0; i < r->n_entries; i++) {
    if (r->entries[i].plan != NULL)
      continue; /* collection already failed: keep that plan */
    rc = osc_reconcile_replan(r, i, o, err);
    if (rc < 0)
      goto done;
  }
  *out = r;
  r = NULL;
done:
  osc_reconcile_free(r);
  return rc;
}

int osc_reconcile_exit_code(const struct osc_reconcile *r, bool is_apply) {
  int codes[256];
  size_t n = 0;
  size_t i;
  int worst = 0;

  for (i = 0; i < r->n_entries; i++) {
    int code = r->plans[i] ? osc_plan_exit_code(r->plans[i], is_apply) : 1;

    if (n < sizeof(codes) / sizeof(codes[0])) {
      codes[n++] = code;
    } else {
      /* beyond the array, fold into one slot by precedence */
      int pair[2] = {codes[n - 1], code};

      codes[n - 1] = osc_exit_code_combine(pair, 2);
    }
  }
  worst = osc_exit_code_combine(codes, n);
  return worst;
}

void osc_reconcile_free(struct osc_reconcile *r) {
  size_t i;

  if (r == NULL)
    return;
  for (i = 0; i < r->n_entries; i++) {
    osc_collection_free(&r->entries[i].collection);
    osc_policy_free(r->entries[i].policy);
    osc_plan_free(r->entries[i].plan);
  }
  free(r->entries);
  free(r->plans);
  if (!r->session_borrowed)
    osc_session_free(r->session);
  osc_state_free(r->state);
  free(r);
}
