#include "core/osc_state.h"

#include <errno.h>
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/osc_buf.h"
#include "core/osc_fs.h"
#include "core/osc_json.h"
#include "core/osc_jsonw.h"
#include "core/osc_time.h"

#define STATE_MAX (256u * 1024u * 1024u)

struct load_call {
  struct osc_state *state;
  const char *path;
  struct osc_error *err;
  int64_t version;
  int rc;
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

static int read_time(lua_State *L, int idx, int64_t *out) {
  if (lua_type(L, idx) != LUA_TSTRING)
    return -1;
  return osc_time_parse_rfc3339(lua_tostring(L, idx), out, NULL) < 0 ? -1 : 0;
}

/* Reads {"at": RFC 3339, "targets": [{"id","name"}]} at idx. `what` names
 * it in messages ("last_success", "baselines.default"). */
static int read_baseline(lua_State *L, int idx, struct load_call *call,
                         const char *what, struct osc_state_baseline *b) {
  struct osc_state *s = call->state;
  char msg[256];
  size_t n;
  size_t i;

  lua_getfield(L, idx, "at");
  if (read_time(L, -1, &b->at) < 0) {
    lua_pop(L, 1);
    snprintf(msg, sizeof(msg), "%.64s.at is not an RFC 3339 time", what);
    return bad(call, msg);
  }
  lua_pop(L, 1);
  lua_getfield(L, idx, "targets");
  if (lua_type(L, -1) != LUA_TTABLE) {
    lua_pop(L, 1);
    return OSC_OK;
  }
  n = lua_rawlen(L, -1);
  b->targets = osc_arena_alloc(&s->arena, (n ? n : 1) * sizeof(*b->targets));
  if (b->targets == NULL) {
    lua_pop(L, 1);
    return osc_error_set(call->err, OSC_E_NOMEM, "out of memory");
  }
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, (lua_Integer)i);
    b->targets[i - 1].id = dup(s, osc_json_string(L, -1, "id"));
    b->targets[i - 1].name = dup(s, osc_json_string(L, -1, "name"));
    lua_pop(L, 1);
    if (b->targets[i - 1].id == NULL) {
      lua_pop(L, 1);
      snprintf(msg, sizeof(msg), "a %.64s target has no id", what);
      return bad(call, msg);
    }
  }
  b->n_targets = n;
  lua_pop(L, 1);
  return OSC_OK;
}

/* Version 2: {"NAME": baseline, ...}, one per --only-new consumer. */
static int read_baselines(lua_State *L, int idx, struct load_call *call,
                          struct osc_state_scale_set *set) {
  struct osc_state *s = call->state;
  char what[200];
  size_t n = 0;
  int rc;

  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    n++;
    lua_pop(L, 1);
  }
  set->baselines =
      osc_arena_alloc(&s->arena, (n ? n : 1) * sizeof(*set->baselines));
  if (set->baselines == NULL)
    return osc_error_set(call->err, OSC_E_NOMEM, "out of memory");
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    struct osc_state_baseline *b = &set->baselines[set->n_baselines];

    if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TTABLE) {
      lua_pop(L, 2);
      return bad(call, "a baselines entry is not \"name\": {at, targets}");
    }
    memset(b, 0, sizeof(*b));
    b->name = dup(s, lua_tostring(L, -2));
    snprintf(what, sizeof(what), "baselines.%.64s", b->name);
    rc = read_baseline(L, lua_gettop(L), call, what, b);
    if (rc < 0) {
      lua_pop(L, 2);
      return rc;
    }
    set->n_baselines++;
    lua_pop(L, 1);
  }
  return OSC_OK;
}

/* "targets": per-target records ({"Machines-7": {...}}), reserved in
 * version 2 for facts about single targets; this version reads nothing from
 * them but keeps them as they were (re-encoded by cjson). */
static int read_target_records(lua_State *L, int idx, struct load_call *call,
                               struct osc_state_scale_set *set) {
  const char *text;

  lua_getfield(L, idx, "targets");
  if (lua_type(L, -1) != LUA_TTABLE) {
    bool absent = lua_isnil(L, -1);

    lua_pop(L, 1);
    return absent ? OSC_OK : bad(call, "targets is not an object");
  }
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, "cjson");
  lua_getfield(L, -1, "encode");
  lua_pushvalue(L, -4);
  lua_call(L, 1, 1); /* raises only on memory errors: we run under pcall */
  text = lua_tostring(L, -1);
  set->target_records = text ? dup(call->state, text) : NULL;
  lua_pop(L, 4);
  if (text != NULL && set->target_records == NULL)
    return osc_error_set(call->err, OSC_E_NOMEM, "out of memory");
  return OSC_OK;
}

/* "targets": {"<id>": {"disabled_since": "RFC 3339", "disabled_by":
 * "octoscale"}} -> set->disabled. Records without both are not memory of a
 * disable and are skipped. */
static int read_disabled(lua_State *L, int idx, struct load_call *call,
                         struct osc_state_scale_set *set) {
  struct osc_state *s = call->state;
  size_t n = 0;

  if (osc_json_push_path(L, idx, "targets") != LUA_TTABLE) {
    lua_pop(L, 1);
    return OSC_OK;
  }
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    n++;
    lua_pop(L, 1);
  }
  set->disabled =
      osc_arena_alloc(&s->arena, (n ? n : 1) * sizeof(*set->disabled));
  if (set->disabled == NULL) {
    lua_pop(L, 1);
    return osc_error_set(call->err, OSC_E_NOMEM, "out of memory");
  }
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) { /* [targets, id, record] */
    struct osc_orphan_entry *d = &set->disabled[set->n_disabled];
    const char *by;

    if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TTABLE) {
      lua_pop(L, 3);
      return bad(call, "a targets entry is not \"id\": {record}");
    }
    by = osc_json_string(L, -1, "disabled_by");
    lua_getfield(L, -1, "disabled_since");
    if (by != NULL && strcmp(by, "octoscale") == 0) {
      if (read_time(L, -1, &d->since) < 0) {
        lua_pop(L, 4);
        return bad(call, "a targets entry's disabled_since is not an RFC "
                         "3339 time");
      }
      d->target_id = dup(s, lua_tostring(L, -3));
      if (d->target_id == NULL) {
        lua_pop(L, 4);
        return osc_error_set(call->err, OSC_E_NOMEM, "out of memory");
      }
      set->n_disabled++;
      set->records_had_memory = true;
    }
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
  return OSC_OK;
}

static int read_set(lua_State *L, int idx, struct load_call *call,
                    struct osc_state_scale_set *set) {
  struct osc_state *s = call->state;
  size_t n = 0;
  size_t k = 0;
  int rc;

  if (lua_type(L, idx) != LUA_TTABLE)
    return bad(call, "a scale set entry is not an object");
  lua_getfield(L, idx, "orphans");
  if (lua_type(L, -1) == LUA_TTABLE) {
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
      n++;
      lua_pop(L, 1);
    }
    set->orphans =
        osc_arena_alloc(&s->arena, (n ? n : 1) * sizeof(*set->orphans));
    if (set->orphans == NULL)
      return osc_error_set(call->err, OSC_E_NOMEM, "out of memory");
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
      if (lua_type(L, -2) != LUA_TSTRING ||
          read_time(L, -1, &set->orphans[k].since) < 0) {
        lua_pop(L, 3);
        return bad(call, "an orphans entry is not \"id\": \"RFC 3339 time\"");
      }
      set->orphans[k].target_id = dup(s, lua_tostring(L, -2));
      k++;
      lua_pop(L, 1);
    }
    set->n_orphans = k;
  }
  lua_pop(L, 1);

  if (call->version == 1) {
    /* version 1: one baseline, which becomes "default" */
    if (osc_json_push_path(L, idx, "last_success") == LUA_TTABLE) {
      set->baselines = osc_arena_alloc(&s->arena, sizeof(*set->baselines));
      if (set->baselines == NULL)
        return osc_error_set(call->err, OSC_E_NOMEM, "out of memory");
      set->baselines[0].name = OSC_STATE_DEFAULT_BASELINE;
      rc = read_baseline(L, lua_gettop(L), call, "last_success",
                         &set->baselines[0]);
      if (rc < 0)
        return rc;
      set->n_baselines = 1;
    }
    lua_pop(L, 1);
    return OSC_OK;
  }
  if (osc_json_push_path(L, idx, "baselines") == LUA_TTABLE) {
    rc = read_baselines(L, lua_gettop(L), call, set);
    if (rc < 0)
      return rc;
  }
  lua_pop(L, 1);
  if (read_disabled(L, idx, call, set) < 0)
    return call->err != NULL ? call->err->code : OSC_E_RUNTIME;
  return read_target_records(L, idx, call, set);
}

static int read_runs(lua_State *L, struct load_call *call) {
  struct osc_state *s = call->state;
  size_t n;
  size_t i;

  if (osc_json_push_path(L, 1, "runs") != LUA_TTABLE) {
    lua_pop(L, 1);
    return OSC_OK;
  }
  n = lua_rawlen(L, -1);
  s->runs = osc_arena_alloc(&s->arena, (n ? n : 1) * sizeof(*s->runs));
  if (s->runs == NULL)
    return osc_error_set(call->err, OSC_E_NOMEM, "out of memory");
  for (i = 1; i <= n; i++) {
    struct osc_state_run *r = &s->runs[s->n_runs];
    int item;

    lua_rawgeti(L, -1, (lua_Integer)i);
    item = lua_gettop(L);
    lua_getfield(L, item, "at");
    if (read_time(L, -1, &r->at) == 0) {
      r->command = dup(s, osc_json_string(L, item, "command"));
      r->scale_set = dup(s, osc_json_string(L, item, "scale_set"));
      r->status = dup(s, osc_json_string(L, item, "status"));
      osc_json_path_int(L, item, "deleted", &r->deleted);
      osc_json_path_int(L, item, "disabled", &r->disabled);
      osc_json_path_int(L, item, "failed", &r->failed);
      s->n_runs++;
    }
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
  return OSC_OK;
}

static int do_load(lua_State *L) {
  struct load_call *call = lua_touserdata(L, 2);
  struct osc_state *s = call->state;
  int64_t version = 0;
  size_t n = 0;
  size_t k = 0;
  int rc;

  lua_settop(L, 1);
  if (lua_type(L, 1) != LUA_TTABLE ||
      !osc_json_path_int(L, 1, "format_version", &version)) {
    call->rc = bad(call, "no format_version");
    return 0;
  }
  if (version != 1 && version != OSC_STATE_VERSION) {
    call->rc = osc_error_set(call->err, OSC_E_RUNTIME,
                             "state %s has format_version %lld; this "
                             "octoscale reads 1 and %d",
                             call->path, (long long)version, OSC_STATE_VERSION);
    return 0;
  }
  call->version = version;
  call->state->loaded_version = (int)version;
  lua_getfield(L, 1, "updated_at");
  read_time(L, -1, &s->updated_at);
  lua_pop(L, 1);
  lua_getfield(L, 1, "scale_sets");
  if (lua_type(L, -1) != LUA_TTABLE) {
    call->rc =
        lua_isnil(L, -1) ? OSC_OK : bad(call, "scale_sets is not an object");
    return 0;
  }
  lua_pushnil(L);
  while (lua_next(L, 2) != 0) {
    n++;
    lua_pop(L, 1);
  }
  s->sets = osc_arena_alloc(&s->arena, (n ? n : 1) * sizeof(*s->sets));
  if (s->sets == NULL) {
    call->rc = osc_error_set(call->err, OSC_E_NOMEM, "out of memory");
    return 0;
  }
  lua_pushnil(L);
  while (lua_next(L, 2) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING) {
      call->rc = bad(call, "a scale set key is not a string");
      return 0;
    }
    s->sets[k].name = dup(s, lua_tostring(L, -2));
    rc = read_set(L, lua_gettop(L), call, &s->sets[k]);
    if (rc < 0) {
      call->rc = rc;
      return 0;
    }
    k++;
    lua_pop(L, 1);
  }
  s->n_sets = k;
  lua_pop(L, 1);
  call->rc = read_runs(L, call);
  return 0;
}

int osc_state_decode(const char *text, size_t len, const char *label,
                     struct osc_state **out, struct osc_error *err) {
  struct osc_error cause = OSC_ERROR_INIT; /* err->msg cannot be both the
                                              source and the target */
  struct osc_state *state = NULL;
  struct load_call call;
  lua_State *L = NULL;
  int rc;

  *out = NULL;
  state = calloc(1, sizeof(*state));
  if (state == NULL)
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  rc = osc_json_state_new(&L, err);
  if (rc < 0)
    goto done;
  rc = osc_json_decode(L, text, len, "state", &cause);
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
  call.err = err;
  lua_pushcfunction(L, do_load);
  lua_insert(L, -2);
  lua_pushlightuserdata(L, &call);
  if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
    rc = osc_error_set(err, OSC_E_NOMEM, "reading state %s: %s", label,
                       lua_tostring(L, -1) ? lua_tostring(L, -1) : "error");
    goto done;
  }
  rc = call.rc;
  if (rc < 0)
    goto done;
  *out = state;
  state = NULL;
done:
  if (L != NULL)
    lua_close(L);
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
