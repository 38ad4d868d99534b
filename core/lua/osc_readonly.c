#include "core/lua/osc_readonly.h"

#include <lauxlib.h>

/* Registry keys: view -> table (weak keys), and table -> view (an
 * ephemeron: one view per table, so views compare equal); and the marks
 * rawset looks up: read-only table -> what it is. */
static const char real_key = 'r';
static const char view_key = 'v';
static const char mark_key = 'm';

void osc_readonly_mark(lua_State *L, int idx, const char *what) {
  idx = lua_absindex(L, idx);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &mark_key) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &mark_key);
  }
  lua_pushvalue(L, idx);
  lua_pushstring(L, what);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

int osc_readonly_push_mark(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &mark_key) != LUA_TTABLE)
    return lua_type(L, -1); /* nil: nothing marked yet */
  lua_pushvalue(L, idx);
  lua_rawget(L, -2);
  lua_remove(L, -2);
  return lua_type(L, -1);
}

static void push_weak(lua_State *L, const void *key) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, key) == LUA_TTABLE)
    return;
  lua_pop(L, 1);
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, key);
}

/* Upvalues of every metamethod: 1 the table, 2 the name. */
static int view_index(lua_State *L) {
  lua_settop(L, 2);
  lua_rawget(L, lua_upvalueindex(1)); /* [view, value] */
  /* a nested table comes back as a view too (the upvalue keeps the name) */
  osc_readonly_view(L, lua_tostring(L, lua_upvalueindex(2)));
  return 1;
}

static int view_newindex(lua_State *L) {
  luaL_where(L, 1); /* the Lua line that assigned */
  lua_pushfstring(L, "attempt to modify read-only %s (copy it to change it)",
                  lua_tostring(L, lua_upvalueindex(2)));
  lua_concat(L, 2);
  return lua_error(L);
}

static int view_len(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)lua_rawlen(L, lua_upvalueindex(1)));
  return 1;
}

static int view_next(lua_State *L) {
  lua_settop(L, 2);
  if (!lua_next(L, lua_upvalueindex(1)))
    return 0;
  osc_readonly_view(L, lua_tostring(L, lua_upvalueindex(2)));
  return 2;
}

static int view_pairs(lua_State *L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_pushcclosure(L, view_next, 2);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

void osc_readonly_view(lua_State *L, const char *what) {
  static const lua_CFunction fns[] = {view_index, view_newindex, view_len,
                                      view_pairs};
  static const char *const names[] = {"__index", "__newindex", "__len",
                                      "__pairs"};
  int real;
  size_t i;

  if (lua_type(L, -1) != LUA_TTABLE)
    return;
  luaL_checkstack(L, 8, "read-only view");
  real = lua_gettop(L);
  push_weak(L, &view_key); /* [real, views] */
  lua_pushvalue(L, real);
  if (lua_rawget(L, -2) == LUA_TTABLE) { /* [real, views, view] */
    lua_replace(L, real);
    lua_pop(L, 1);
    return;
  }
  lua_pop(L, 1);
  lua_newtable(L);          /* [real, views, view] */
  lua_createtable(L, 0, 5); /* [.., view, mt] */
  for (i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
    lua_pushvalue(L, real);
    lua_pushstring(L, what);
    lua_pushcclosure(L, fns[i], 2);
    lua_setfield(L, -2, names[i]);
  }
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2); /* [real, views, view] */
  lua_pushvalue(L, real);
  lua_pushvalue(L, -2);
  lua_rawset(L, -4); /* views[real] = view */
  push_weak(L, &real_key);
  lua_pushvalue(L, -2);
  lua_pushvalue(L, real);
  lua_rawset(L, -3); /* reals[view] = real */
  lua_pop(L, 1);
  osc_readonly_mark(L, -1, what); /* rawset refuses it too */
  lua_replace(L, real);
  lua_pop(L, 1);
}

void osc_readonly_push_real(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) == LUA_TTABLE) {
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &real_key) == LUA_TTABLE) {
      lua_pushvalue(L, idx);
      if (lua_rawget(L, -2) == LUA_TTABLE) {
        lua_remove(L, -2);
        return;
      }
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  lua_pushvalue(L, idx);
}

int osc_readonly_lua_next(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2);
  osc_readonly_push_real(L, 1); /* [t, k, real] */
  if (lua_rawequal(L, 1, 3)) {  /* no view: the plain next */
    lua_pop(L, 1);
    if (lua_next(L, 1))
      return 2;
    lua_pushnil(L);
    return 1;
  }
  lua_replace(L, 1); /* [real, k] */
  if (!lua_next(L, 1)) {
    lua_pushnil(L);
    return 1;
  }
  osc_readonly_view(L, "ctx.settings"); /* a nested table: a view too */
  return 2;
}
