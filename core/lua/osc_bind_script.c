#include "core/lua/osc_bind_script.h"

#include <lauxlib.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/osc_apply.h"
#include "core/lua/osc_bind_common.h"
#include "core/lua/osc_bind_reconcile.h"
#include "core/osc_collect.h"
#include "core/osc_engine.h"
#include "core/osc_log.h"
#include "core/lua/osc_policy.h"
#include "core/osc_reconcile.h"
#include "core/lua/osc_sandbox.h"
#include "core/osc_state.h"
#include "core/osc_store.h"
#include "core/osc_time.h"

/* ---- the script namespace ------------------------------------------------ */

static int s_sleep(lua_State *L) {
  lua_Number secs = luaL_checknumber(L, 1);
  struct timespec ts;

  luaL_argcheck(L, secs >= 0 && secs <= 86400, 1,
                "expected 0 to 86400 seconds");
  ts.tv_sec = (time_t)secs;
  ts.tv_nsec = (long)((secs - (lua_Number)ts.tv_sec) * 1e9);
  while (nanosleep(&ts, &ts) != 0) {
  }
  return 0;
}

static int s_time(lua_State *L) {
  struct osc_error err = OSC_ERROR_INIT;
  int64_t now;

  if (osc_time_now(&now, &err) < 0)
    return luaL_error(L, "%s", err.msg);
  lua_pushinteger(L, (lua_Integer)now);
  return 1;
}

static int s_clock(lua_State *L) {
  lua_pushnumber(L, (lua_Number)osc_time_monotonic_ms() / 1000.0);
  return 1;
}

static int s_getenv(lua_State *L) {
  const char *v = getenv(osc_bind_check_text(L, 1));

  if (v == NULL)
    lua_pushnil(L);
  else
    lua_pushstring(L, v);
  return 1;
}

/* print() for scripts: stdout, like lua.c (policies log instead). */
static int s_print(lua_State *L) {
  int n = lua_gettop(L);
  int i;

  for (i = 1; i <= n; i++) {
    size_t len;
    const char *s = luaL_tolstring(L, i, &len);

    if (i > 1)
      fputc('\t', stdout);
    fwrite(s, 1, len, stdout);
    lua_pop(L, 1);
  }
  fputc('\n', stdout);
  fflush(stdout);
  return 0;
}

int osc_bind_script_open_print(lua_State *L) {
  lua_pushcfunction(L, s_print);
  return 1;
}

static const luaL_Reg script_funcs[] = {
    {"sleep", s_sleep},   {"time", s_time}, {"clock", s_clock},
    {"getenv", s_getenv}, {NULL, NULL},
};

int luaopen_osc_script(lua_State *L) {
  luaL_newlib(L, script_funcs);
  return 1;
}

/* ---- the config namespace ------------------------------------------------ */

static const char config_key = 'c';

void osc_bind_script_set_config(lua_State *L, const struct osc_config *cfg) {
  lua_pushlightuserdata(L, (void *)cfg);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &config_key);
}

/* config.scale_sets(): the configured entries in file order, each as a
 * policy's ctx.scale_set sees it. */
static int c_scale_sets(lua_State *L) {
  const struct osc_config *cfg;
  size_t i;

  lua_rawgetp(L, LUA_REGISTRYINDEX, &config_key);
  cfg = lua_touserdata(L, -1);
  lua_pop(L, 1);
  lua_createtable(L, cfg ? (int)cfg->n_scale_sets : 0, 0);
  for (i = 0; cfg != NULL && i < cfg->n_scale_sets; i++) {
    osc_bind_push_entry(L, &cfg->scale_sets[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

static const luaL_Reg config_funcs[] = {
    {"scale_sets", c_scale_sets},
    {NULL, NULL},
};

int luaopen_osc_config(lua_State *L) {
  luaL_newlib(L, config_funcs);
  return 1;
}

/* ---- live reconcile.plan{scale_set = NAME} --------------------------------
 */

/* One entry through the CLI's pipeline (core/osc_reconcile.h) on the
 * script's session: the same collection, state, policy (or the what-if's,
 * when policy is not NULL) and engine. */
static int reconcile_one(struct osc_session *s,
                         const struct osc_config_scale_set *entry, int64_t now,
                         bool force, struct osc_store *store,
                         struct osc_policy *policy, struct osc_reconcile **out,
                         struct osc_error *err) {
  struct osc_reconcile_options ro;
  const char *only[1];

  only[0] = entry->name;
  memset(&ro, 0, sizeof(ro));
  ro.only = only;
  ro.n_only = 1;
  ro.now = now;
  ro.force = force;
  ro.session = s;
  ro.store = store;
  ro.policy = policy;
  return osc_reconcile_plan(osc_session_config(s), &ro, out, err);
}

/* Takes the plan of the single entry out of r into the Plan userdata at
 * idx, with the VMs and targets it was made from (plan:vms(),
 * plan:targets()); frees r. Returns the lua_pcall status of building those
 * tables (on failure the error is on the stack, and nothing is held). */
static int take_plan(lua_State *L, int idx, struct osc_reconcile *r) {
  struct osc_reconcile_entry *e = &r->entries[0];
  struct osc_plan *p = e->plan;
  int status;

  e->plan = NULL;
  r->plans[0] = NULL;
  osc_bind_reconcile_replace_plan(L, idx, p);
  status = osc_bind_reconcile_set_inventory(L, idx, &e->collection, &e->scope);
  osc_reconcile_free(r);
  return status;
}

/* Reads {scale_set=, force=, now=} (misuse raises before any C memory is
 * held). */
static const struct osc_config_scale_set *
live_args(lua_State *L, struct osc_session *s, int idx, const char *fn,
          const char *name, int64_t *now, bool *force) {
  const struct osc_config_scale_set *entry;
  struct osc_error err = OSC_ERROR_INIT;
  int isnum = 0;

  *force = false;
  if (lua_istable(L, idx)) {
    if (lua_getfield(L, idx, "scale_set") == LUA_TTABLE) /* an entry */
      lua_getfield(L, -1, "name");
    else
      lua_pushnil(L);
    /* strings only: the tables keep them alive once popped */
    if (name == NULL && lua_type(L, -2) == LUA_TSTRING)
      name = lua_tostring(L, -2);
    else if (name == NULL && lua_type(L, -1) == LUA_TSTRING)
      name = lua_tostring(L, -1);
    lua_getfield(L, idx, "force");
    *force = lua_toboolean(L, -1);
    lua_getfield(L, idx, "now");
    *now = (int64_t)lua_tointegerx(L, -1, &isnum);
    if (!isnum && !lua_isnil(L, -1))
      osc_bind_raise_at_user(L, "%s: now must be Unix seconds", fn);
    lua_pop(L, 4);
  }
  entry = name ? osc_config_find(osc_session_config(s), name) : NULL;
  if (entry == NULL)
    osc_bind_raise_at_user(L,
                           "%s: no scale set named '%s' in the configuration",
                           fn, name ? name : "?");
  if (!isnum && osc_time_now(now, &err) < 0)
    luaL_error(L, "%s", err.msg);
  return entry;
}

/* [args] -> [args, policy value, entry, settings] -> policy: a live
 * what-if's policy sees the configured entry and its settings. Raises on a
 * policy that does not load (nothing held yet). */
static struct osc_policy *
what_if_policy(lua_State *L, const struct osc_config_scale_set *entry,
               int64_t now) {
  struct osc_policy *policy = NULL;

  lua_createtable(L, 0, 2); /* the arguments the policy loader reads */
  lua_getfield(L, 1, "policy");
  lua_setfield(L, -2, "policy");
  osc_bind_push_entry(L, entry);
  lua_setfield(L, -2, "scale_set");
  osc_bind_reconcile_load_policy(L, -1, now, &policy);
  lua_pop(L, 1);
  return policy;
}

/* reconcile.plan{scale_set = NAME [, policy = P]}: the CLI's plan of one
 * entry; with a policy, a what-if with that policy in place of the
 * configured one. Either way read-only: no lock, nothing written. */
static int live_plan(lua_State *L, void *payload) {
  struct osc_session *s = payload;
  const struct osc_config_scale_set *entry;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_reconcile *r = NULL;
  struct osc_policy *policy = NULL;
  int64_t now = 0;
  bool force;
  int rc;

  luaL_checktype(L, 1, LUA_TTABLE);
  entry = live_args(L, s, 1, "reconcile.plan", NULL, &now, &force);
  lua_settop(L, 1);
  osc_bind_reconcile_new_plan(L); /* [args, plan] */
  if (lua_getfield(L, 1, "policy") != LUA_TNIL) {
    osc_bind_reconcile_set_what_if(L, 2);
    policy = what_if_policy(L, entry, now); /* nothing raises after this */
  }
  lua_settop(L, 2);
  rc = reconcile_one(s, entry, now, force, NULL, policy, &r, &err);
  osc_policy_free(policy); /* the plan holds no reference to it */
  if (rc < 0) {
    lua_pop(L, 1);
    return osc_bind_push_fail(L, NULL, err.msg);
  }
  if (take_plan(L, 2, r) != LUA_OK)
    return lua_error(L);
  return 1;
}

/* The actions plan:apply{only = ..., filter = ...} selected: target ids
 * (strings anchored on the Lua stack, array in a userdata: all Lua-owned,
 * so nothing leaks when a later step raises). n == SIZE_MAX: all. */
struct selection {
  const char **ids;
  size_t n;
};

static bool is_destructive(enum osc_action_kind k) {
  return k == OSC_ACT_DELETE || k == OSC_ACT_DISABLE;
}

static bool selected(const struct selection *sel, const char *id) {
  size_t i;

  if (sel->n == SIZE_MAX)
    return true;
  for (i = 0; i < sel->n && id != NULL; i++) {
    if (strcmp(sel->ids[i], id) == 0)
      return true;
  }
  return false;
}

/* Keeps in `fresh` only the destructive actions the script saw in `seen`
 * (and selected): plan:apply() re-reads everything under the lock (data may
 * have moved), and must not delete or disable a target the script never
 * approved. */
static void limit_to_seen(struct osc_plan *fresh, const struct osc_plan *seen,
                          const struct selection *sel) {
  size_t i;
  size_t j;

  for (i = 0; i < fresh->n_actions; i++) {
    struct osc_action *a = &fresh->actions[i];
    bool approved = false;

    if (a->kind != OSC_ACT_DELETE && a->kind != OSC_ACT_DISABLE)
      continue;
    for (j = 0; j < seen->n_actions && !approved; j++) {
      const struct osc_action *b = &seen->actions[j];

      approved = b->kind == a->kind && b->target_id != NULL &&
                 a->target_id != NULL &&
                 strcmp(b->target_id, a->target_id) == 0 &&
                 selected(sel, a->target_id);
    }
    if (!approved) {
      a->kind = OSC_ACT_WAIT;
      a->reason = selected(sel, a->target_id)
                      ? "not in the plan this script applied; next run"
                      : "not selected by plan:apply{only/filter}";
      if (!a->prepaid)
        fresh->n_destructive--;
    }
  }
}

static const char *const apply_keys[] = {"only_new", "force",  "now",
                                         "only",     "filter", NULL};

/* [.., set] -> the selection over the set's keys (set stays on the stack). */
static void selection_from_set(lua_State *L, struct selection *sel) {
  int set = lua_gettop(L);
  size_t n = 0;

  lua_pushnil(L);
  while (lua_next(L, set) != 0) {
    n++;
    lua_pop(L, 1);
  }
  sel->ids = lua_newuserdatauv(L, (n ? n : 1) * sizeof(*sel->ids), 0);
  lua_insert(L, set); /* [.., ids-ud, set] keeps both alive */
  sel->n = 0;
  lua_pushnil(L);
  while (lua_next(L, set + 1) != 0) {
    lua_pop(L, 1);
    sel->ids[sel->n++] = lua_tostring(L, -1);
  }
}

/* A copy of action a of the seen plan, as plan:actions() gives it, for a
 * filter function: [..] -> [.., action]. */
static void push_action_brief(lua_State *L, const struct osc_action *a) {
  lua_createtable(L, 0, 6);
  lua_pushstring(L, osc_action_name(a->kind));
  lua_setfield(L, -2, "action");
  lua_pushstring(L, osc_class_name(a->cls));
  lua_setfield(L, -2, "class");
  lua_pushstring(L, a->target_id);
  lua_setfield(L, -2, "target_id");
  lua_pushstring(L, a->target_name);
  lua_setfield(L, -2, "target_name");
  lua_pushstring(L, a->vm_name);
  lua_setfield(L, -2, "vm");
  lua_pushstring(L, a->reason);
  lua_setfield(L, -2, "reason");
}

/* Reads only = {id...} / filter = fn from the options at idx into sel
 * (Lua-owned, left on the stack). Raises at the caller's line on misuse:
 * an id that is no delete or disable of the seen plan, both keys, or a
 * filter that raises. */
static void read_selection(lua_State *L, int idx, const struct osc_plan *seen,
                           struct selection *sel) {
  size_t i;

  sel->n = SIZE_MAX;
  sel->ids = NULL;
  if (!lua_istable(L, idx))
    return;
  osc_bind_check_keys(L, idx, "plan:apply", apply_keys);
  lua_getfield(L, idx, "only");
  lua_getfield(L, idx, "filter");
  if (!lua_isnil(L, -2) && !lua_isnil(L, -1))
    osc_bind_raise_at_user(L, "plan:apply: give only or filter, not both");
  if (lua_isnil(L, -2) && lua_isnil(L, -1)) {
    lua_pop(L, 2);
    return;
  }
  lua_newtable(L); /* [.., only, filter, set] */
  if (!lua_isnil(L, -3)) {
    lua_Integer k;

    if (!lua_istable(L, -3))
      osc_bind_raise_at_user(L,
                             "plan:apply: only must be a list of target ids");
    for (k = 1; lua_rawgeti(L, -3, k) != LUA_TNIL; k++) {
      bool found = false;

      if (lua_type(L, -1) != LUA_TSTRING)
        osc_bind_raise_at_user(L, "plan:apply: only[%d] is not a target id",
                               (int)k);
      for (i = 0; i < seen->n_actions && !found; i++)
        found = is_destructive(seen->actions[i].kind) &&
                seen->actions[i].target_id != NULL &&
                strcmp(seen->actions[i].target_id, lua_tostring(L, -1)) == 0;
      if (!found)
        osc_bind_raise_at_user(
            L,
            "plan:apply: only: %s is not a delete or disable "
            "of this plan",
            lua_tostring(L, -1));
      lua_pushboolean(L, 1);
      lua_rawset(L, -3);
    }
    lua_pop(L, 1);
  } else {
    if (!lua_isfunction(L, -2))
      osc_bind_raise_at_user(L, "plan:apply: filter must be a function");
    for (i = 0; i < seen->n_actions; i++) {
      const struct osc_action *a = &seen->actions[i];

      if (!is_destructive(a->kind) || a->target_id == NULL)
        continue;
      lua_pushvalue(L, -2);
      push_action_brief(L, a);
      lua_call(L, 1, 1); /* a raise reaches the script as it is */
      if (lua_toboolean(L, -1)) {
        lua_pushstring(L, a->target_id);
        lua_pushboolean(L, 1);
        lua_rawset(L, -4);
      }
      lua_pop(L, 1);
    }
  }
  lua_remove(L, -2);
  lua_remove(L, -2); /* [.., set] */
  selection_from_set(L, sel);
}

/* A selected action the fresh read no longer has: skipped, and said. */
static void report_skipped(const struct osc_plan *fresh,
                           const struct osc_plan *seen,
                           const struct selection *sel) {
  size_t i;
  size_t j;

  for (i = 0; i < seen->n_actions; i++) {
    const struct osc_action *b = &seen->actions[i];
    bool still = false;

    if (!is_destructive(b->kind) || !selected(sel, b->target_id))
      continue;
    for (j = 0; j < fresh->n_actions && !still; j++)
      still = fresh->actions[j].kind == b->kind &&
              fresh->actions[j].target_id != NULL &&
              strcmp(fresh->actions[j].target_id, b->target_id) == 0;
    if (!still)
      osc_log_warn("%s: plan:apply: skipped %s %s (%s): no longer valid on a "
                   "fresh read",
                   fresh->scale_set, osc_action_name(b->kind),
                   b->target_name ? b->target_name : "?", b->target_id);
  }
}

/* plan:apply's options, read (and checked) before the lock is taken. */
struct apply_call {
  const struct osc_config_scale_set *entry;
  int64_t now;
  bool force;
  const char *only_new; /* referenced by the options table */
  struct selection sel;
};

static void read_apply_args(lua_State *L, struct osc_session *s,
                            const struct osc_plan *seen, struct apply_call *c) {
  c->only_new = NULL;
  if (lua_istable(L, 2)) {
    /* true: the "default" baseline; a string names one. The string stays
     * referenced by the options table for the whole call. */
    lua_getfield(L, 2, "only_new");
    if (lua_type(L, -1) == LUA_TSTRING)
      c->only_new = lua_tostring(L, -1);
    else if (lua_toboolean(L, -1))
      c->only_new = OSC_STATE_DEFAULT_BASELINE;
    lua_pop(L, 1);
  }
  read_selection(L, 2, seen, &c->sel); /* checks the keys first */
  c->entry =
      live_args(L, s, 2, "plan:apply", seen->scale_set, &c->now, &c->force);
}

/* A budget stop is judged again on what remains after the selection;
 * stops for incomplete or implausible data stand. */
static void rejudge_budget(struct osc_reconcile *r) {
  const struct osc_collection *col = &r->entries[0].collection;
  struct osc_plan *p = r->plans[0];
  char why[OSC_ERROR_MAX];

  if (p->status == OSC_PLAN_SAFETY_STOP &&
      !osc_engine_data_stop(col, why, sizeof(why)) &&
      p->n_destructive <= p->budget) {
    p->status = OSC_PLAN_OK;
    p->message[0] = '\0';
  }
}

/* Under the state's lock: plans afresh, keeps what the script saw and
 * selected, applies and records state, like `octoscale apply` for one
 * scale set. *out receives the reconcile (its plan shows the results);
 * message says why the apply did not succeed, if it did not. */
static int apply_locked(struct osc_session *s, const struct osc_plan *seen,
                        const struct apply_call *c, struct osc_reconcile **out,
                        char *message, size_t cap, struct osc_error *err) {
  struct osc_reconcile_options ro;
  struct osc_apply_options ao;
  struct osc_apply_result res;
  struct osc_store *store = NULL;
  struct osc_plan *p;
  int rc;

  *out = NULL;
  memset(&res, 0, sizeof(res));
  rc = osc_store_open(osc_session_config(s), &store, err);
  if (rc == OSC_OK)
    rc = osc_store_lock(store, err);
  if (rc == OSC_OK)
    rc = reconcile_one(s, c->entry, c->now, c->force, store, NULL, out, err);
  if (rc < 0)
    goto done;
  p = (*out)->plans[0];
  limit_to_seen(p, seen, &c->sel);
  report_skipped(p, seen, &c->sel);
  rejudge_budget(*out);
  memset(&ro, 0, sizeof(ro));
  ro.now = c->now;
  ro.store = store;
  memset(&ao, 0, sizeof(ao));
  ao.only_new = c->only_new;
  ao.poll_interval_seconds = 10;
  rc = osc_apply_run(*out, &ro, &ao, &res, err);
  if (rc < 0)
    goto done;
  if (p->status != OSC_PLAN_OK)
    snprintf(message, cap, "%s: %s: %s", p->scale_set,
             osc_plan_status_name(p->status), p->message);
  else if (res.n_failed > 0)
    snprintf(message, cap, "%s: %zu action(s) failed", p->scale_set,
             res.n_failed);
done:
  osc_apply_result_free(&res);
  osc_store_free(store);
  if (rc < 0) {
    osc_reconcile_free(*out);
    *out = NULL;
  }
  return rc;
}

/* plan:apply{only_new=, force=, now=, only=, filter=}: returns the plan
 * (now showing results), or nil, err. A what-if plan (made with a policy
 * other than the configured one) is never applied. */
static int live_apply(lua_State *L, void *payload) {
  struct osc_session *s = payload;
  const struct osc_plan *seen = osc_bind_reconcile_check_plan(L, 1);
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_reconcile *r = NULL;
  struct apply_call c;
  char message[OSC_ERROR_MAX] = "";

  if (osc_bind_reconcile_is_what_if(L, 1))
    return osc_bind_raise_at_user(
        L, "plan:apply: this plan is a what-if (reconcile.plan with a "
           "policy); plan without one to apply the configured policy");
  read_apply_args(L, s, seen, &c); /* raises before the lock is taken */
  if (apply_locked(s, seen, &c, &r, message, sizeof(message), &err) < 0)
    return osc_bind_push_fail(L, NULL, err.msg);
  if (take_plan(L, 1, r) != LUA_OK)
    return lua_error(L);
  if (message[0] != '\0')
    return osc_bind_push_fail(L, NULL, message);
  lua_settop(L, 1);
  return 1;
}

int osc_bind_script_set_live(struct osc_sandbox *sb, struct osc_session *s,
                             struct osc_error *err) {
  struct osc_reconcile_live live;

  memset(&live, 0, sizeof(live));
  live.payload = s;
  live.plan = live_plan;
  live.apply = live_apply;
  return osc_bind_reconcile_set_live(sb, &live, err);
}

/* ---- running the script ---------------------------------------------------
 */

struct run_args {
  const char *script;
  int argc;
  char **argv;
};

/* [ud, chunk] -> arg (arg[0] = script) set in the chunk's own environment
 * with rawset (the strict environment refuses ordinary assignments to
 * undeclared globals); returns the arguments for the chunk's `...`. */
static int set_arg_l(lua_State *L) {
  struct run_args *a = lua_touserdata(L, 1);
  int i;

  lua_createtable(L, a->argc, 1); /* [ud, chunk, arg] */
  lua_pushstring(L, a->script);
  lua_rawseti(L, -2, 0);
  for (i = 0; i < a->argc; i++) {
    lua_pushstring(L, a->argv[i]);
    lua_rawseti(L, -2, i + 1);
  }
  if (lua_getupvalue(L, 2, 1) != NULL && lua_istable(L, -1)) {
    lua_pushliteral(L, "arg"); /* [ud, chunk, arg, env, "arg"] */
    lua_pushvalue(L, 3);
    lua_rawset(L, -3);
  }
  lua_settop(L, 2);
  luaL_checkstack(L, a->argc + 1, "too many script arguments");
  for (i = 0; i < a->argc; i++) /* the chunk's `...` */
    lua_pushstring(L, a->argv[i]);
  return a->argc;
}

int osc_bind_script_run(struct osc_sandbox *sb, const char *script, int argc,
                        char **argv, int *out_exit, struct osc_error *err) {
  lua_State *L = osc_sandbox_state(sb);
  struct run_args a;
  int top = lua_gettop(L);
  int rc;

  *out_exit = 0;
  rc = osc_sandbox_load_file(sb, script, err); /* [chunk] */
  if (rc < 0) {
    if (err != NULL)
      err->code = OSC_E_USAGE;
    return OSC_E_USAGE;
  }
  if (!lua_checkstack(L, argc + 8)) {
    lua_settop(L, top);
    return osc_error_set(err, OSC_E_NOMEM, "too many script arguments");
  }
  a.script = script;
  a.argc = argc;
  a.argv = argv;
  lua_pushcfunction(L, set_arg_l);
  lua_pushlightuserdata(L, &a);
  lua_pushvalue(L, -3);                     /* [chunk, set_arg, ud, chunk] */
  if (lua_pcall(L, 2, argc, 0) != LUA_OK) { /* [chunk, args...] */
    lua_settop(L, top);
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  }
  rc = osc_sandbox_pcall(sb, argc, 1, err);
  if (rc < 0) {
    lua_settop(L, top);
    if (err != NULL && err->code != OSC_E_NOMEM)
      err->code = OSC_E_RUNTIME;
    return err != NULL ? err->code : OSC_E_RUNTIME;
  }
  switch (lua_type(L, -1)) {
  case LUA_TNUMBER:
    *out_exit = (int)lua_tointeger(L, -1);
    if (*out_exit < 0 || *out_exit > 255)
      *out_exit = 1;
    break;
  case LUA_TBOOLEAN:
    *out_exit = lua_toboolean(L, -1) ? 0 : 1;
    break;
  default:
    *out_exit = 0;
    break;
  }
  lua_settop(L, top);
  return OSC_OK;
}
