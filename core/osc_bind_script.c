#include "core/osc_bind_script.h"

#include <lauxlib.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/osc_bind_common.h"
#include "core/osc_bind_reconcile.h"
#include "core/osc_collect.h"
#include "core/osc_engine.h"
#include "core/osc_policy.h"
#include "core/osc_sandbox.h"
#include "core/osc_state.h"
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

/* Everything in C: collect, state, policy, engine. The plan goes to *slot
 * (owned by the Plan userdata already on the Lua stack). */
static int plan_live(struct osc_session *s,
                     const struct osc_config_scale_set *entry, int64_t now,
                     bool force, struct osc_plan **slot,
                     struct osc_error *err) {
  const struct osc_config *cfg = osc_session_config(s);
  struct osc_collect_result res;
  struct osc_state *state = NULL;
  struct osc_policy *policy = NULL;
  const struct osc_state_scale_set *set;
  struct osc_engine_input in;
  struct osc_error perr = OSC_ERROR_INIT;
  int rc;

  rc = osc_collect_all(s, &entry, 1, false, &res, err);
  if (rc < 0)
    return rc;
  if (res.error_code != OSC_OK) {
    rc = osc_plan_new_failed(entry->name, OSC_PLAN_ERROR, res.error_code,
                             res.error, slot, err);
    goto done;
  }
  rc = osc_state_load(cfg->state, &state, &perr);
  if (rc >= 0)
    rc = osc_policy_load(entry->policy, entry, now, &policy, &perr);
  if (rc < 0) {
    rc = osc_plan_new_failed(entry->name, OSC_PLAN_ERROR, perr.code, perr.msg,
                             slot, err);
    goto done;
  }
  set = osc_state_find(state, entry->name);
  memset(&in, 0, sizeof(in));
  in.collection = &res.collection;
  in.scope = &res.scope;
  in.orphans = set ? set->orphans : NULL;
  in.n_orphans = set ? set->n_orphans : 0;
  in.policy = osc_policy_get_ops(policy);
  in.now = now;
  in.force = force;
  rc = osc_engine_plan(&in, slot, err);
done:
  osc_policy_free(policy);
  osc_state_free(state);
  osc_collect_result_free(&res);
  return rc;
}

static int live_plan(lua_State *L, void *payload) {
  struct osc_session *s = payload;
  const struct osc_config_scale_set *entry;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_plan **slot;
  const char *name;
  int64_t now;
  bool force;
  int isnum = 0;

  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, 1, "scale_set");
  name = lua_tostring(L, -1);
  entry = name ? osc_config_find(osc_session_config(s), name) : NULL;
  if (entry == NULL)
    return luaL_error(L,
                      "reconcile.plan: no scale set named '%s' in the "
                      "configuration",
                      name ? name : "?");
  lua_getfield(L, 1, "force");
  force = lua_toboolean(L, -1);
  lua_getfield(L, 1, "now");
  now = (int64_t)lua_tointegerx(L, -1, &isnum);
  if (!isnum && !lua_isnil(L, -1))
    return luaL_error(L, "reconcile.plan: now must be Unix seconds");
  if (!isnum && osc_time_now(&now, &err) < 0)
    return luaL_error(L, "%s", err.msg);
  lua_settop(L, 1);
  slot = osc_bind_reconcile_new_plan(L); /* [args, plan] */
  if (plan_live(s, entry, now, force, slot, &err) < 0) {
    lua_pop(L, 1);
    return osc_bind_push_fail(L, NULL, err.msg);
  }
  return 1;
}

int osc_bind_script_set_live(struct osc_sandbox *sb, struct osc_session *s,
                             struct osc_error *err) {
  struct osc_reconcile_live live;

  memset(&live, 0, sizeof(live));
  live.payload = s;
  live.plan = live_plan;
  live.apply = NULL; /* Plan:apply() needs the apply module (the CLI's) */
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
