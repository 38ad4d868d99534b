#include "core/lua/osc_bind_policy.h"

#include <math.h>

#include <lauxlib.h>
#include <lua.h>

#include "core/lua/osc_policy.h"
#include "core/osc_error.h"

static int p_check(lua_State *L) {
  struct osc_error err = OSC_ERROR_INIT;

  lua_settop(L, 1);
  if (osc_policy_check(L, &err) < 0) {
    luaL_pushfail(L);
    lua_pushstring(L, err.msg);
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

static int p_decision(lua_State *L) {
  char msg[OSC_ERROR_MAX];
  const char *hook = luaL_checkstring(L, 1);

  lua_settop(L, 2);
  if (osc_policy_answer(L, 2, hook, msg, sizeof(msg)) < 0) {
    luaL_pushfail(L);
    lua_pushstring(L, msg);
    return 2;
  }
  return 1;
}

static int p_parse_max_delete(lua_State *L) {
  struct osc_budget b;
  lua_Integer count;

  lua_settop(L, 1);
  if (osc_policy_max_delete(L, 1, &b) < 0) {
    luaL_pushfail(L);
    return 1;
  }
  lua_createtable(L, 0, 2);
  lua_pushboolean(L, b.percent);
  lua_setfield(L, -2, "percent");
  if (b.value == floor(b.value) && lua_numbertointeger(b.value, &count))
    lua_pushinteger(L, count); /* 3 and "10%" read as integers, as before */
  else
    lua_pushnumber(L, b.value);
  lua_setfield(L, -2, "value");
  return 1;
}

int osc_bind_policy_open(lua_State *L) {
  static const luaL_Reg funcs[] = {
      {"check", p_check},
      {"decision", p_decision},
      {"parse_max_delete", p_parse_max_delete},
      {NULL, NULL},
  };

  luaL_newlib(L, funcs);
  osc_policy_set_contract(L, -1);
  return 1;
}
