#include "core/osc_bind_script.h"

#include <lauxlib.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/osc_apply.h"
#include "core/osc_bind_common.h"
#include "core/osc_bind_reconcile.h"
#include "core/osc_collect.h"
#include "core/osc_engine.h"
#include "core/osc_policy.h"
#include "core/osc_reconcile.h"
#include "core/osc_sandbox.h"
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
  const char *v = getenv(luaL_checkstring(L, 1));

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

/* ---- live reconcile.plan{scale_set = NAME} --------------------------------
 */

/* One entry through the CLI's pipeline (core/osc_reconcile.h) on the
 * script's session: the same collection, state, policy and engine. */
static int reconcile_one(struct osc_session *s,
                         const struct osc_config_scale_set *entry, int64_t now,
                         bool force, struct osc_store *store,
                         struct osc_reconcile **out, struct osc_error *err) {
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
  return osc_reconcile_plan(osc_session_config(s), &ro, out, err);
}

/* Takes the plan of the single entry out of r. */
static struct osc_plan *take_plan(struct osc_reconcile *r) {
  struct osc_plan *p = r->entries[0].plan;

  r->entries[0].plan = NULL;
  r->plans[0] = NULL;
  return p;
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
    lua_getfield(L, idx, "scale_set");
    if (name == NULL)
      name = lua_tostring(L, -1);
    lua_getfield(L, idx, "force");
    *force = lua_toboolean(L, -1);
    lua_getfield(L, idx, "now");
    *now = (int64_t)lua_tointegerx(L, -1, &isnum);
    if (!isnum && !lua_isnil(L, -1))
      luaL_error(L, "%s: now must be Unix seconds", fn);
    lua_pop(L, 3);
  }
  entry = name ? osc_config_find(osc_session_config(s), name) : NULL;
  if (entry == NULL)
    luaL_error(L, "%s: no scale set named '%s' in the configuration", fn,
               name ? name : "?");
  if (!isnum && osc_time_now(now, &err) < 0)
    luaL_error(L, "%s", err.msg);
  return entry;
}

static int live_plan(lua_State *L, void *payload) {
  struct osc_session *s = payload;
  const struct osc_config_scale_set *entry;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_reconcile *r = NULL;
  struct osc_plan **slot;
  int64_t now = 0;
  bool force;

  luaL_checktype(L, 1, LUA_TTABLE);
  entry = live_args(L, s, 1, "reconcile.plan", NULL, &now, &force);
  lua_settop(L, 1);
  slot = osc_bind_reconcile_new_plan(L); /* [args, plan] */
  if (reconcile_one(s, entry, now, force, NULL, &r, &err) < 0) {
    lua_pop(L, 1);
    return osc_bind_push_fail(L, NULL, err.msg);
  }
  *slot = take_plan(r);
  osc_reconcile_free(r);
  return 1;
}

/* Keeps in `fresh` only the destructive actions the script saw in `seen`:
 * plan:apply() re-reads everything under the lock (data may have moved),
 * and must not delete or disable a target the script never approved. */
static void limit_to_seen(struct osc_plan *fresh, const struct osc_plan *seen) {
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
                 strcmp(b->target_id, a->target_id) == 0;
    }
    if (!approved) {
      a->kind = OSC_ACT_WAIT;
      a->reason = "not in the plan this script applied; next run";
      if (!a->prepaid)
        fresh->n_destructive--;
    }
  }
}

/* plan:apply{only_new=, force=}: lock, plan afresh, apply what the script
 * saw, record state: the CLI's apply for one scale set. Returns the plan
 * (now showing results), or nil, err. */
static int live_apply(lua_State *L, void *payload) {
  struct osc_session *s = payload;
  const struct osc_plan *seen = osc_bind_reconcile_check_plan(L, 1);
  const struct osc_config_scale_set *entry;
  struct osc_reconcile_options ro;
  struct osc_apply_options ao;
  struct osc_apply_result res;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_reconcile *r = NULL;
  struct osc_store *store = NULL;
  struct osc_plan *applied = NULL;
  char message[OSC_ERROR_MAX] = "";
  int64_t now = 0;
  bool force;
  const char *only_new = NULL;
  int rc;

  if (lua_istable(L, 2)) {
    /* true: the "default" baseline; a string names one. The string stays
     * referenced by the options table for the whole call. */
    lua_getfield(L, 2, "only_new");
    if (lua_type(L, -1) == LUA_TSTRING)
      only_new = lua_tostring(L, -1);
    else if (lua_toboolean(L, -1))
      only_new = OSC_STATE_DEFAULT_BASELINE;
    lua_pop(L, 1);
  }
  entry = live_args(L, s, 2, "plan:apply", seen->scale_set, &now, &force);
  memset(&res, 0, sizeof(res));
  rc = osc_store_open(osc_session_config(s), &store, &err);
  if (rc == OSC_OK)
    rc = osc_store_lock(store, &err);
  if (rc < 0)
    goto done;
  rc = reconcile_one(s, entry, now, force, store, &r, &err);
  if (rc < 0)
    goto done;
  limit_to_seen(r->plans[0], seen);
  /* A budget stop is judged again on what remains; stops for incomplete or
   * implausible data stand. */
  {
    const struct osc_collection *c = &r->entries[0].collection;
    struct osc_plan *p = r->plans[0];
    char why[OSC_ERROR_MAX];

    if (p->status == OSC_PLAN_SAFETY_STOP &&
        !osc_engine_data_stop(c, why, sizeof(why)) &&
        p->n_destructive <= p->budget) {
      p->status = OSC_PLAN_OK;
      p->message[0] = '\0';
    }
  }
  memset(&ro, 0, sizeof(ro));
  ro.now = now;
  ro.store = store;
  memset(&ao, 0, sizeof(ao));
  ao.only_new = only_new;
  ao.poll_interval_seconds = 10;
  rc = osc_apply_run(r, &ro, &ao, &res, &err);
  if (rc < 0)
    goto done;
  applied = take_plan(r);
  if (applied->status != OSC_PLAN_OK)
    snprintf(message, sizeof(message), "%s: %s: %s", applied->scale_set,
             osc_plan_status_name(applied->status), applied->message);
  else if (res.n_failed > 0)
    snprintf(message, sizeof(message), "%s: %zu action(s) failed",
             applied->scale_set, res.n_failed);
done:
  osc_apply_result_free(&res);
  osc_reconcile_free(r);
  osc_store_free(store);
  if (rc < 0)
    return osc_bind_push_fail(L, NULL, err.msg);
  osc_bind_reconcile_replace_plan(L, 1, applied);
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
