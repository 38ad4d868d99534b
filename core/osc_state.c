#include "core/osc_state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/osc_buf.h"
#include "core/osc_fs.h"
#include "core/osc_json.h"
#include "core/osc_jsonw.h"
#include "core/osc_rawjson.h"
#include "core/osc_time.h"

#define STATE_MAX (256u * 1024u * 1024u)

struct load_call {
  struct osc_state *state;
  const char *path;
  const char *text; /* the document, for the records kept as read */
  size_t len;
  struct osc_error *err;
  int64_t version;
};

static int bad(struct load_call *call, const char *what) {
  return osc_error_set(call->err, OSC_E_RUNTIME,
                       "state %s is corrupt: %s (fix or move it away; "
                       "octoscale never resets state silently)",
                       call->path, what);
}

static const char *dup(struct osc_state *s, const char *v) {
  return v ? osc_arena_strdup(&s->arena, v) : NULL;
}

static const char *str_at(const struct osc_json_value *v, const char *key) {
  return osc_json_str(osc_json_get(v, key), NULL);
}

static int read_time(const struct osc_json_value *v, int64_t *out) {
  const char *s = osc_json_str(v, NULL);

  if (s == NULL)
    return -1;
  return osc_time_parse_rfc3339(s, out, NULL) < 0 ? -1 : 0;
}

/* An object's members, for a loop over them: a non-empty array has
 * numbered keys, which no entry may have (an empty one reads as {}). */
static int members(struct load_call *call, const struct osc_json_value *v,
                   const char *why, size_t *n) {
  if (osc_json_type(v) == OSC_JSON_ARRAY)
    return bad(call, why);
  *n = osc_json_count(v);
  return OSC_OK;
}

/* Room for n entries (at least one, so an empty list is not NULL). */
static void *alloc_n(struct load_call *call, size_t n, size_t size) {
  void *p = osc_arena_alloc(&call->state->arena, (n ? n : 1) * size);

  if (p == NULL)
    osc_error_set(call->err, OSC_E_NOMEM, "out of memory");
  return p;
}

/* Reads {"at": RFC 3339, "targets": [{"id","name"}]}. `what` names it in
 * messages ("last_success", "baselines.default"). */
static int read_baseline(const struct osc_json_value *v, struct load_call *call,
                         const char *what, struct osc_state_baseline *b) {
  struct osc_state *s = call->state;
  const struct osc_json_value *targets = osc_json_get(v, "targets");
  char msg[256];
  size_t n = osc_json_len(targets);
  size_t i;

  if (read_time(osc_json_get(v, "at"), &b->at) < 0) {
    snprintf(msg, sizeof(msg), "%.64s.at is not an RFC 3339 time", what);
    return bad(call, msg);
  }
  if (!osc_json_is_container(targets))
    return OSC_OK;
  b->targets = alloc_n(call, n, sizeof(*b->targets));
  if (b->targets == NULL)
    return OSC_E_NOMEM;
  for (i = 0; i < n; i++) {
    const struct osc_json_value *t = osc_json_at(targets, i);

    b->targets[i].id = dup(s, str_at(t, "id"));
    b->targets[i].name = dup(s, str_at(t, "name"));
    if (b->targets[i].id == NULL) {
      snprintf(msg, sizeof(msg), "a %.64s target has no id", what);
      return bad(call, msg);
    }
  }
  b->n_targets = n;
  return OSC_OK;
}

/* Version 2: {"NAME": baseline, ...}, one per --only-new consumer. */
static int read_baselines(const struct osc_json_value *v,
                          struct load_call *call,
                          struct osc_state_scale_set *set) {
  static const char why[] = "a baselines entry is not \"name\": {at, targets}";
  char what[200];
  size_t n = 0;
  size_t i;
  int rc = members(call, v, why, &n);

  if (rc < 0)
    return rc;
  set->baselines = alloc_n(call, n, sizeof(*set->baselines));
  if (set->baselines == NULL)
    return OSC_E_NOMEM;
  for (i = 0; i < n; i++) {
    struct osc_state_baseline *b = &set->baselines[set->n_baselines];
    const char *key;
    const struct osc_json_value *e = osc_json_member(v, i, &key, NULL);

    if (!osc_json_is_container(e))
      return bad(call, why);
    memset(b, 0, sizeof(*b));
    b->name = dup(call->state, key);
    snprintf(what, sizeof(what), "baselines.%.64s", b->name);
    rc = read_baseline(e, call, what, b);
    if (rc < 0)
      return rc;
    set->n_baselines++;
  }
  return OSC_OK;
}

/* The text of the scale set's "targets" as the document holds it, or NULL
 * when the raw scanner cannot find it in text the JSON reader accepted
 * (the records are then dropped). With duplicate keys the reader keeps the
 * last and the scanner finds the first. */
static const char *raw_targets(struct load_call *call, const char *set_name) {
  struct osc_rawjson_span v;
  int rc = osc_rawjson_root(call->text, call->len, &v, NULL);

  if (rc >= 0)
    rc = osc_rawjson_member(call->text, v, "scale_sets", &v, NULL);
  if (rc > 0)
    rc = osc_rawjson_member(call->text, v, set_name, &v, NULL);
  if (rc > 0)
    rc = osc_rawjson_member(call->text, v, "targets", &v, NULL);
  if (rc <= 0)
    return NULL;
  return osc_arena_strndup(&call->state->arena, call->text + v.start,
                           v.end - v.start);
}

/* "targets": per-target records ({"Machines-7": {...}}), reserved in
 * version 2 for facts about single targets; this version reads nothing from
 * them but keeps them as read (docs/design.md §11). */
static int read_target_records(const struct osc_json_value *v,
                               struct load_call *call,
                               struct osc_state_scale_set *set) {
  const struct osc_json_value *targets = osc_json_get(v, "targets");

  if (!osc_json_is_container(targets))
    return osc_json_type(targets) == OSC_JSON_ABSENT
               ? OSC_OK
               : bad(call, "targets is not an object");
  set->target_records = raw_targets(call, set->name);
  return OSC_OK;
}

/* "targets": {"<id>": {"disabled_since": "RFC 3339", "disabled_by":
 * "octoscale"}} -> set->disabled. Records without both are not memory of a
 * disable and are skipped. */
static int read_disabled(const struct osc_json_value *v, struct load_call *call,
                         struct osc_state_scale_set *set) {
  static const char why[] = "a targets entry is not \"id\": {record}";
  const struct osc_json_value *targets = osc_json_get(v, "targets");
  size_t n = 0;
  size_t i;
  int rc;

  if (!osc_json_is_container(targets))
    return OSC_OK;
  rc = members(call, targets, why, &n);
  if (rc < 0)
    return rc;
  set->disabled = alloc_n(call, n, sizeof(*set->disabled));
  if (set->disabled == NULL)
    return OSC_E_NOMEM;
  for (i = 0; i < n; i++) {
    struct osc_orphan_entry *d = &set->disabled[set->n_disabled];
    const char *id;
    const struct osc_json_value *r = osc_json_member(targets, i, &id, NULL);
    const char *by = str_at(r, "disabled_by");

    if (!osc_json_is_container(r))
      return bad(call, why);
    if (by == NULL || strcmp(by, "octoscale") != 0)
      continue;
    if (read_time(osc_json_get(r, "disabled_since"), &d->since) < 0)
      return bad(call, "a targets entry's disabled_since is not an RFC "
                       "3339 time");
    d->target_id = dup(call->state, id);
    if (d->target_id == NULL)
      return osc_error_set(call->err, OSC_E_NOMEM, "out of memory");
    set->n_disabled++;
    set->records_had_memory = true;
  }
  return OSC_OK;
}

/* "orphans": {"<id>": "RFC 3339"}. */
static int read_orphans(const struct osc_json_value *v, struct load_call *call,
                        struct osc_state_scale_set *set) {
  static const char why[] = "an orphans entry is not \"id\": \"RFC 3339 time\"";
  const struct osc_json_value *orphans = osc_json_get(v, "orphans");
  size_t n = 0;
  size_t i;
  int rc;

  if (!osc_json_is_container(orphans))
    return OSC_OK;
  rc = members(call, orphans, why, &n);
  if (rc < 0)
    return rc;
  set->orphans = alloc_n(call, n, sizeof(*set->orphans));
  if (set->orphans == NULL)
    return OSC_E_NOMEM;
  for (i = 0; i < n; i++) {
    const char *id;
    const struct osc_json_value *t = osc_json_member(orphans, i, &id, NULL);

    if (read_time(t, &set->orphans[i].since) < 0)
      return bad(call, why);
    set->orphans[i].target_id = dup(call->state, id);
  }
  set->n_orphans = n;
  return OSC_OK;
}

/* Version 1: one baseline, which becomes "default". */
static int read_last_success(const struct osc_json_value *v,
                             struct load_call *call,
                             struct osc_state_scale_set *set) {
  const struct osc_json_value *last = osc_json_get(v, "last_success");
  int rc;

  if (!osc_json_is_container(last))
    return OSC_OK;
  set->baselines = alloc_n(call, 1, sizeof(*set->baselines));
  if (set->baselines == NULL)
    return OSC_E_NOMEM;
  set->baselines[0].name = OSC_STATE_DEFAULT_BASELINE;
  rc = read_baseline(last, call, "last_success", &set->baselines[0]);
  if (rc < 0)
    return rc;
  set->n_baselines = 1;
  return OSC_OK;
}

static int read_set(const struct osc_json_value *v, struct load_call *call,
                    struct osc_state_scale_set *set) {
  const struct osc_json_value *baselines;
  int rc;

  if (!osc_json_is_container(v))
    return bad(call, "a scale set entry is not an object");
  rc = read_orphans(v, call, set);
  if (rc < 0)
    return rc;
  if (call->version == 1)
    return read_last_success(v, call, set);
  baselines = osc_json_get(v, "baselines");
  if (osc_json_is_container(baselines)) {
    rc = read_baselines(baselines, call, set);
    if (rc < 0)
      return rc;
  }
  rc = read_disabled(v, call, set);
  if (rc < 0)
    return rc;
  return read_target_records(v, call, set);
}

static int read_runs(const struct osc_json_value *root,
                     struct load_call *call) {
  struct osc_state *s = call->state;
  const struct osc_json_value *runs = osc_json_get(root, "runs");
  size_t n = osc_json_len(runs);
  size_t i;

  if (!osc_json_is_container(runs))
    return OSC_OK;
  s->runs = alloc_n(call, n, sizeof(*s->runs));
  if (s->runs == NULL)
    return OSC_E_NOMEM;
  for (i = 0; i < n; i++) {
    struct osc_state_run *r = &s->runs[s->n_runs];
    const struct osc_json_value *item = osc_json_at(runs, i);

    if (read_time(osc_json_get(item, "at"), &r->at) < 0)
      continue;
    r->command = dup(s, str_at(item, "command"));
    r->scale_set = dup(s, str_at(item, "scale_set"));
    r->status = dup(s, str_at(item, "status"));
    osc_json_int(osc_json_get(item, "deleted"), &r->deleted);
    osc_json_int(osc_json_get(item, "disabled"), &r->disabled);
    osc_json_int(osc_json_get(item, "failed"), &r->failed);
    s->n_runs++;
  }
  return OSC_OK;
}

static int read_sets(const struct osc_json_value *root,
                     struct load_call *call) {
  struct osc_state *s = call->state;
  const struct osc_json_value *sets = osc_json_get(root, "scale_sets");
  size_t n = 0;
  size_t i;
  int rc;

  if (!osc_json_is_container(sets))
    return osc_json_type(sets) == OSC_JSON_ABSENT
               ? OSC_OK
               : bad(call, "scale_sets is not an object");
  rc = members(call, sets, "a scale set key is not a string", &n);
  if (rc < 0)
    return rc;
  s->sets = alloc_n(call, n, sizeof(*s->sets));
  if (s->sets == NULL)
    return OSC_E_NOMEM;
  for (i = 0; i < n; i++) {
    const char *name;
    const struct osc_json_value *v = osc_json_member(sets, i, &name, NULL);

    s->sets[i].name = dup(s, name);
    rc = read_set(v, call, &s->sets[i]);
    if (rc < 0)
      return rc;
    s->n_sets = i + 1;
  }
  return OSC_OK;
}

static int read_state(const struct osc_json_value *root,
                      struct load_call *call) {
  struct osc_state *s = call->state;
  int64_t version = 0;
  int rc;

  if (!osc_json_is_container(root) ||
      !osc_json_int(osc_json_get(root, "format_version"), &version))
    return bad(call, "no format_version");
  if (version != 1 && version != OSC_STATE_VERSION)
    return osc_error_set(call->err, OSC_E_RUNTIME,
                         "state %s has format_version %lld; this "
                         "octoscale reads 1 and %d",
                         call->path, (long long)version, OSC_STATE_VERSION);
  call->version = version;
  s->loaded_version = (int)version;
  read_time(osc_json_get(root, "updated_at"), &s->updated_at);
  rc = read_sets(root, call);
  if (rc < 0)
    return rc;
  return read_runs(root, call);
}

int osc_state_decode(const char *text, size_t len, const char *label,
                     struct osc_state **out, struct osc_error *err) {
  struct osc_error cause = OSC_ERROR_INIT; /* err->msg cannot be both the
                                              source and the target */
  struct osc_state *state = NULL;
  struct osc_json_doc *doc = NULL;
  struct load_call call;
  int rc;

  *out = NULL;
  state = calloc(1, sizeof(*state));
  if (state == NULL)
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  rc = osc_json_parse(text, len, "state", &doc, &cause);
  if (rc == OSC_E_NOMEM) {
    rc = osc_error_set(err, OSC_E_NOMEM, "reading state %s: %s", label,
                       cause.msg);
    goto done;
  }
  if (rc < 0) {
    const char *why = cause.msg;

    if (strncmp(why, "state: ", 7) == 0)
      why += 7; /* the message names the file already */
    rc = osc_error_set(err, OSC_E_RUNTIME,
                       "state %s is corrupt: %s (fix or move it away; "
                       "octoscale never resets state silently)",
                       label, why);
    goto done;
  }
  memset(&call, 0, sizeof(call));
  call.state = state;
  call.path = label;
  call.text = text;
  call.len = len;
  call.err = err;
  rc = read_state(osc_json_root(doc), &call);
  if (rc < 0)
    goto done;
  *out = state;
  state = NULL;
done:
  osc_json_doc_free(doc);
  osc_state_free(state);
  return rc;
}

int osc_state_load(const char *path, struct osc_state **out,
                   struct osc_error *err) {
  struct osc_error cause = OSC_ERROR_INIT;
  struct osc_buf buf;
  char label[4200];
  struct stat st;
  int rc;

  *out = NULL;
  if (stat(path, &st) != 0 && errno == ENOENT) {
    *out = calloc(1, sizeof(**out)); /* first run: empty state */
    return *out ? OSC_OK : osc_error_set(err, OSC_E_NOMEM, "out of memory");
  }
  osc_buf_init(&buf, STATE_MAX);
  rc = osc_buf_read_file(&buf, path, &cause);
  if (rc < 0) {
    rc = osc_error_set(err, OSC_E_RUNTIME, "cannot read state file: %s",
                       cause.msg);
  } else {
    snprintf(label, sizeof(label), "file %s", path);
    rc = osc_state_decode(buf.data, buf.len, label, out, err);
  }
  osc_buf_free(&buf);
  return rc;
}

void osc_state_free(struct osc_state *state) {
  if (state == NULL)
    return;
  osc_arena_free(&state->arena);
  free(state);
}

const struct osc_state_scale_set *osc_state_find(const struct osc_state *state,
                                                 const char *name) {
  size_t i;

  if (state == NULL || name == NULL)
    return NULL;
  for (i = 0; i < state->n_sets; i++) {
    if (strcasecmp(state->sets[i].name, name) == 0)
      return &state->sets[i];
  }
  return NULL;
}

/* --- recording a run ------------------------------------------------------ */

static int nomem(struct osc_error *err) {
  return osc_error_set(err, OSC_E_NOMEM, "out of memory");
}

static struct osc_state_scale_set *find_set(struct osc_state_scale_set *sets,
                                            size_t n, const char *name) {
  size_t i;

  for (i = 0; i < n; i++) {
    if (strcasecmp(sets[i].name, name) == 0)
      return &sets[i];
  }
  return NULL;
}

static bool plan_has_failed_action(const struct osc_plan *p) {
  size_t i;

  for (i = 0; i < p->n_actions; i++) {
    if (p->actions[i].result == OSC_RESULT_FAILED)
      return true;
  }
  return false;
}

/* A plan that stopped before classifying (or was never made) knows nothing
 * about orphans: keep what the state had. */
static bool plan_knows_orphans(const struct osc_plan *p) {
  return p->status == OSC_PLAN_OK || p->n_actions > 0;
}

bool osc_state_plans_learn(struct osc_plan *const *plans, size_t n) {
  size_t i;

  for (i = 0; i < n; i++) {
    if (plans[i] != NULL && plan_knows_orphans(plans[i]))
      return true;
  }
  return false;
}

static int copy_orphans(struct osc_arena *a, struct osc_state_scale_set *set,
                        const struct osc_plan *p) {
  struct osc_orphan_entry *o;
  size_t i;

  o = osc_arena_alloc(a, (p->n_orphans ? p->n_orphans : 1) * sizeof(*o));
  if (o == NULL)
    return OSC_E_NOMEM;
  for (i = 0; i < p->n_orphans; i++) {
    o[i].target_id = osc_arena_strdup(a, p->orphans[i].target_id);
    o[i].since = p->orphans[i].since;
    if (o[i].target_id == NULL)
      return OSC_E_NOMEM;
  }
  set->orphans = o;
  set->n_orphans = p->n_orphans;
  return OSC_OK;
}

/* Sets (or adds) the named baseline to {now, plan->deployable}; the
 * baselines array is copied so that a failure leaves the old one. */
static int set_baseline(struct osc_arena *a, struct osc_state_scale_set *set,
                        const char *name, const struct osc_plan *p,
                        int64_t now) {
  struct osc_state_baseline *bs;
  struct osc_state_baseline *b = NULL;
  struct osc_target_ref *t;
  size_t n = set->n_baselines;
  size_t i;

  bs = osc_arena_alloc(a, (n + 1) * sizeof(*bs));
  t = osc_arena_alloc(a, (p->n_deployable ? p->n_deployable : 1) * sizeof(*t));
  if (bs == NULL || t == NULL)
    return OSC_E_NOMEM;
  if (n > 0)
    memcpy(bs, set->baselines, n * sizeof(*bs));
  for (i = 0; i < n && b == NULL; i++) {
    if (strcmp(bs[i].name, name) == 0)
      b = &bs[i];
  }
  if (b == NULL) {
    b = &bs[n++];
    b->name = osc_arena_strdup(a, name);
    if (b->name == NULL)
      return OSC_E_NOMEM;
  }
  for (i = 0; i < p->n_deployable; i++) {
    t[i].id = osc_arena_strdup(a, p->deployable[i].id);
    t[i].name = osc_arena_strdup(a, p->deployable[i].name);
    if (t[i].id == NULL || (p->deployable[i].name != NULL && t[i].name == NULL))
      return OSC_E_NOMEM;
  }
  b->at = now;
  b->targets = t;
  b->n_targets = p->n_deployable;
  set->baselines = bs;
  set->n_baselines = n;
  return OSC_OK;
}

static int make_run(struct osc_arena *a, struct osc_state_run *r,
                    const struct osc_plan *p, int64_t now,
                    const char *command) {
  size_t i;

  memset(r, 0, sizeof(*r));
  r->at = now;
  r->command = command;
  r->scale_set = osc_arena_strdup(a, p->scale_set);
  r->status = osc_plan_status_name(p->status);
  if (r->scale_set == NULL)
    return OSC_E_NOMEM;
  for (i = 0; i < p->n_actions; i++) {
    const struct osc_action *act = &p->actions[i];

    if (act->result == OSC_RESULT_FAILED)
      r->failed++;
    else if (act->result == OSC_RESULT_DONE && act->kind == OSC_ACT_DELETE)
      r->deleted++;
    else if (act->result == OSC_RESULT_DONE && act->kind == OSC_ACT_DISABLE)
      r->disabled++;
  }
  return OSC_OK;
}

/* Works on copies of the sets and runs arrays (allocated in the state's
 * arena) and swaps them in at the end, so a failure changes nothing. */
static bool done_on(const struct osc_plan *p, const char *id,
                    enum osc_action_kind kind) {
  size_t i;

  for (i = 0; i < p->n_actions; i++) {
    const struct osc_action *a = &p->actions[i];

    if (a->kind == kind && a->result == OSC_RESULT_DONE &&
        a->target_id != NULL && strcmp(a->target_id, id) == 0)
      return true;
  }
  return false;
}

/* Policy memory after a run: what the plan saw still disabled by
 * octoscale (or the old records when it classified nothing), minus the
 * targets it enabled or deleted, plus the disables it did. */
static int update_disabled(struct osc_arena *a, struct osc_state_scale_set *set,
                           const struct osc_plan *p, int64_t now) {
  const struct osc_orphan_entry *base =
      plan_knows_orphans(p) ? p->disabled : set->disabled;
  size_t n_base = plan_knows_orphans(p) ? p->n_disabled : set->n_disabled;
  struct osc_orphan_entry *d;
  size_t n = 0;
  size_t i;

  d = osc_arena_alloc(a, (n_base + p->n_actions + 1) * sizeof(*d));
  if (d == NULL)
    return OSC_E_NOMEM;
  for (i = 0; i < n_base; i++) {
    const char *id = base[i].target_id;

    if (id == NULL || done_on(p, id, OSC_ACT_ENABLE) ||
        done_on(p, id, OSC_ACT_DELETE))
      continue;
    d[n].target_id = osc_arena_strdup(a, id);
    d[n].since = base[i].since;
    if (d[n++].target_id == NULL)
      return OSC_E_NOMEM;
  }
  for (i = 0; i < p->n_actions; i++) {
    const struct osc_action *act = &p->actions[i];

    if (act->kind != OSC_ACT_DISABLE || act->result != OSC_RESULT_DONE ||
        act->target_id == NULL)
      continue;
    d[n].target_id = osc_arena_strdup(a, act->target_id);
    d[n].since = now;
    if (d[n++].target_id == NULL)
      return OSC_E_NOMEM;
  }
  set->disabled = d;
  set->n_disabled = n;
  return OSC_OK;
}

int osc_state_update(struct osc_state *state, struct osc_plan *const *plans,
                     size_t n, int64_t now, const char *command,
                     const char *baseline, struct osc_error *err) {
  struct osc_arena *a;
  struct osc_state_scale_set *sets;
  struct osc_state_run *runs;
  const char *cmd;
  size_t n_sets;
  size_t n_new = 0;
  size_t total;
  size_t keep;
  size_t first;
  size_t i;

  if (state == NULL || command == NULL || (n > 0 && plans == NULL))
    return osc_error_set(err, OSC_E_RUNTIME, "state: invalid update");
  for (i = 0; i < n; i++) {
    if (plans[i] == NULL || plans[i]->scale_set == NULL)
      return osc_error_set(err, OSC_E_RUNTIME, "state: invalid update");
  }
  a = &state->arena;
  for (i = 0; i < n; i++) {
    size_t j;
    bool seen =
        find_set(state->sets, state->n_sets, plans[i]->scale_set) != NULL;

    for (j = 0; j < i && !seen; j++)
      seen = strcasecmp(plans[j]->scale_set, plans[i]->scale_set) == 0;
    n_new += !seen;
  }
  n_sets = state->n_sets;
  sets = osc_arena_alloc(a, (n_sets + n_new + 1) * sizeof(*sets));
  total = state->n_runs + n;
  keep = total < OSC_STATE_MAX_RUNS ? total : OSC_STATE_MAX_RUNS;
  first = total - keep;
  runs = osc_arena_alloc(a, (keep + 1) * sizeof(*runs));
  cmd = osc_arena_strdup(a, command);
  if (sets == NULL || runs == NULL || cmd == NULL)
    return nomem(err);
  if (n_sets > 0)
    memcpy(sets, state->sets, n_sets * sizeof(*sets));
  for (i = first; i < state->n_runs; i++)
    runs[i - first] = state->runs[i];

  for (i = 0; i < n; i++) {
    const struct osc_plan *p = plans[i];
    struct osc_state_scale_set *set = find_set(sets, n_sets, p->scale_set);

    if (set == NULL) {
      set = &sets[n_sets++];
      memset(set, 0, sizeof(*set));
      set->name = osc_arena_strdup(a, p->scale_set);
      if (set->name == NULL)
        return nomem(err);
    }
    if (plan_knows_orphans(p) && copy_orphans(a, set, p) < 0)
      return nomem(err);
    if (update_disabled(a, set, p, now) < 0)
      return nomem(err);
    if (baseline != NULL && p->status == OSC_PLAN_OK &&
        !plan_has_failed_action(p) &&
        set_baseline(a, set, baseline, p, now) < 0)
      return nomem(err);
    if (state->n_runs + i >= first &&
        make_run(a, &runs[state->n_runs + i - first], p, now, cmd) < 0)
      return nomem(err);
  }

  state->sets = sets;
  state->n_sets = n_sets;
  state->runs = runs;
  state->n_runs = keep;
  state->updated_at = now;
  return OSC_OK;
}

/* --- saving ----------------------------------------------------------------
 */

static int cmp_set(const void *a, const void *b) {
  const struct osc_state_scale_set *x =
      *(const struct osc_state_scale_set *const *)a;
  const struct osc_state_scale_set *y =
      *(const struct osc_state_scale_set *const *)b;
  int c = strcasecmp(x->name, y->name);

  return c != 0 ? c : strcmp(x->name, y->name);
}

static int cmp_orphan(const void *a, const void *b) {
  const struct osc_orphan_entry *x = *(const struct osc_orphan_entry *const *)a;
  const struct osc_orphan_entry *y = *(const struct osc_orphan_entry *const *)b;

  return strcmp(x->target_id, y->target_id);
}

static void write_time(struct osc_jsonw *w, int64_t t) {
  char text[64];

  osc_time_format_rfc3339(t, text, sizeof(text));
  osc_jsonw_string(w, text);
}

void osc_state_write_baseline_fields(struct osc_jsonw *w,
                                     const struct osc_state_baseline *b) {
  size_t i;

  osc_jsonw_key(w, "at");
  write_time(w, b->at);
  osc_jsonw_key(w, "targets");
  osc_jsonw_array_begin(w);
  for (i = 0; i < b->n_targets; i++) {
    osc_jsonw_object_begin(w);
    osc_jsonw_key(w, "id");
    osc_jsonw_string(w, b->targets[i].id);
    osc_jsonw_key(w, "name");
    osc_jsonw_string(w, b->targets[i].name);
    osc_jsonw_object_end(w);
  }
  osc_jsonw_array_end(w);
}

static void write_baseline(struct osc_jsonw *w,
                           const struct osc_state_baseline *b) {
  osc_jsonw_key(w, b->name);
  osc_jsonw_object_begin(w);
  osc_state_write_baseline_fields(w, b);
  osc_jsonw_object_end(w);
}

/* The policy memory, in the order the state holds it (apply adds in plan
 * order: sorted by name). */
static void write_disabled(struct osc_jsonw *w,
                           const struct osc_state_scale_set *s) {
  size_t i;

  if (s->n_disabled == 0)
    return;
  osc_jsonw_key(w, "targets");
  osc_jsonw_object_begin(w);
  for (i = 0; i < s->n_disabled; i++) {
    osc_jsonw_key(w, s->disabled[i].target_id);
    osc_jsonw_object_begin(w);
    osc_jsonw_key(w, "disabled_since");
    write_time(w, s->disabled[i].since);
    osc_jsonw_key(w, "disabled_by");
    osc_jsonw_string(w, "octoscale");
    osc_jsonw_object_end(w);
  }
  osc_jsonw_object_end(w);
}

static int write_set(struct osc_jsonw *w, const struct osc_state_scale_set *s) {
  const struct osc_orphan_entry **sorted = NULL;
  size_t i;

  if (s->n_orphans > 0) {
    sorted = malloc(s->n_orphans * sizeof(*sorted));
    if (sorted == NULL)
      return OSC_E_NOMEM;
    for (i = 0; i < s->n_orphans; i++)
      sorted[i] = &s->orphans[i];
    qsort(sorted, s->n_orphans, sizeof(*sorted), cmp_orphan);
  }
  osc_jsonw_key(w, s->name);
  osc_jsonw_object_begin(w);
  osc_jsonw_key(w, "orphans");
  osc_jsonw_object_begin(w);
  for (i = 0; i < s->n_orphans; i++) {
    osc_jsonw_key(w, sorted[i]->target_id);
    write_time(w, sorted[i]->since);
  }
  osc_jsonw_object_end(w);
  if (s->n_baselines > 0) {
    osc_jsonw_key(w, "baselines");
    osc_jsonw_object_begin(w);
    for (i = 0; i < s->n_baselines; i++)
      write_baseline(w, &s->baselines[i]);
    osc_jsonw_object_end(w);
  }
  /* "targets": the policy memory when there is any; else records this
   * version does not read, kept as they were (never stale memory). */
  if (s->n_disabled > 0) {
    write_disabled(w, s);
  } else if (s->target_records != NULL && !s->records_had_memory) {
    osc_jsonw_key(w, "targets");
    osc_jsonw_raw(w, s->target_records, strlen(s->target_records));
  }
  osc_jsonw_object_end(w);
  free(sorted);
  return OSC_OK;
}

static void write_run(struct osc_jsonw *w, const struct osc_state_run *r) {
  osc_jsonw_object_begin(w);
  osc_jsonw_key(w, "at");
  write_time(w, r->at);
  osc_jsonw_key(w, "command");
  osc_jsonw_string(w, r->command);
  osc_jsonw_key(w, "scale_set");
  osc_jsonw_string(w, r->scale_set);
  osc_jsonw_key(w, "status");
  osc_jsonw_string(w, r->status);
  osc_jsonw_key(w, "deleted");
  osc_jsonw_int(w, r->deleted);
  osc_jsonw_key(w, "disabled");
  osc_jsonw_int(w, r->disabled);
  osc_jsonw_key(w, "failed");
  osc_jsonw_int(w, r->failed);
  osc_jsonw_object_end(w);
}

int osc_state_encode(const struct osc_state *state, struct osc_buf *out,
                     struct osc_error *err) {
  const struct osc_state_scale_set **sets = NULL;
  struct osc_jsonw w;
  size_t i;
  int rc = OSC_OK;

  osc_jsonw_init(&w, out, true);
  if (state == NULL)
    return osc_error_set(err, OSC_E_RUNTIME, "state: invalid save");
  sets = malloc((state->n_sets + 1) * sizeof(*sets));
  if (sets == NULL)
    return nomem(err);
  for (i = 0; i < state->n_sets; i++)
    sets[i] = &state->sets[i];
  qsort(sets, state->n_sets, sizeof(*sets), cmp_set);

  osc_jsonw_object_begin(&w);
  osc_jsonw_key(&w, "format_version");
  osc_jsonw_int(&w, OSC_STATE_VERSION);
  if (state->updated_at != 0) {
    osc_jsonw_key(&w, "updated_at");
    write_time(&w, state->updated_at);
  }
  osc_jsonw_key(&w, "scale_sets");
  osc_jsonw_object_begin(&w);
  for (i = 0; i < state->n_sets && rc == OSC_OK; i++)
    rc = write_set(&w, sets[i]);
  free(sets);
  if (rc < 0)
    return nomem(err);
  osc_jsonw_object_end(&w);
  osc_jsonw_key(&w, "runs");
  osc_jsonw_array_begin(&w);
  for (i = 0; i < state->n_runs; i++)
    write_run(&w, &state->runs[i]);
  osc_jsonw_array_end(&w);
  osc_jsonw_object_end(&w);
  rc = osc_jsonw_finish(&w, err);
  if (rc < 0)
    return rc;
  return osc_buf_append(out, "\n", 1, err);
}

/* Encodes the state and hands it to write (the real save, or the check
 * that it could happen); a write failure names the configured path. */
static int save_with(const struct osc_state *state, const char *path,
                     int (*write)(const char *, const void *, size_t, mode_t,
                                  mode_t, struct osc_error *),
                     const char *doing, struct osc_error *err) {
  struct osc_buf buf;
  int rc;

  if (path == NULL)
    return osc_error_set(err, OSC_E_RUNTIME, "state: invalid save");
  osc_buf_init(&buf, STATE_MAX);
  rc = osc_state_encode(state, &buf, err);
  if (rc == OSC_OK) {
    rc = write(path, buf.data, buf.len, 0600, 0700, err);
    if (rc < 0)
      osc_error_prefix(err, "%s state file %s", doing, path);
  }
  osc_buf_free(&buf);
  return rc;
}

int osc_state_save(const struct osc_state *state, const char *path,
                   struct osc_error *err) {
  return save_with(state, path, osc_fs_write_atomic, "saving", err);
}

int osc_state_check_writable(const struct osc_state *state, const char *path,
                             struct osc_error *err) {
  return save_with(state, path, osc_fs_check_writable, "cannot write", err);
}

const struct osc_state_baseline *
osc_state_baseline(const struct osc_state_scale_set *set, const char *name) {
  size_t i;

  for (i = 0; set != NULL && name != NULL && i < set->n_baselines; i++) {
    if (strcmp(set->baselines[i].name, name) == 0)
      return &set->baselines[i];
  }
  return NULL;
}
