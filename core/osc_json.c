#include "core/osc_json.h"

#include <errno.h>
#include <lauxlib.h>
#include <lua-cjson.h>
#include <lualib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The decode function is kept in the registry under this address so the
 * data state has no globals to tamper with. */
static const char decode_key = 'd';

int osc_json_open_module(lua_State *L) {
  luaL_requiref(L, "cjson", luaopen_cjson, 0);
  return 1;
}

static int open_state(lua_State *L) {
  osc_json_open_module(L);       /* [cjson] */
  lua_getfield(L, -1, "decode"); /* [cjson, decode] */
  lua_rawsetp(L, LUA_REGISTRYINDEX, &decode_key);
  /* Octopus and ARM nest a few levels; refuse absurd depth early. */
  lua_getfield(L, -1, "decode_max_depth");
  lua_pushinteger(L, 128);
  lua_call(L, 1, 0);
  lua_pop(L, 1);
  return 0;
}

static int init_state(lua_State *L, lua_State **out, struct osc_error *err) {
  *out = NULL;
  if (L == NULL)
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  lua_pushcfunction(L, open_state);
  if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
    lua_close(L);
    return osc_error_set(err, OSC_E_NOMEM, "cannot initialise lua-cjson");
  }
  *out = L;
  return OSC_OK;
}

int osc_json_state_new(lua_State **out, struct osc_error *err) {
  return init_state(luaL_newstate(), out, err);
}

/* What luaL_newstate installs: report, then let Lua abort. */
static int panic(lua_State *L) {
  const char *msg = lua_tostring(L, -1);

  fprintf(stderr, "PANIC: unprotected error in call to Lua API (%s)\n",
          msg ? msg : "error object is not a string");
  return 0;
}

int osc_json_state_new_alloc(lua_Alloc alloc, void *ud, lua_State **out,
                             struct osc_error *err) {
  lua_State *L = lua_newstate(alloc, ud);

  if (L != NULL)
    lua_atpanic(L, panic);
  return init_state(L, out, err);
}

int osc_json_decode(lua_State *L, const char *buf, size_t len, const char *what,
                    struct osc_error *err) {
  if (!lua_checkstack(L, 3))
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  lua_rawgetp(L, LUA_REGISTRYINDEX, &decode_key);
  if (lua_type(L, -1) != LUA_TFUNCTION) {
    lua_pop(L, 1);
    return osc_error_set(err, OSC_E_RUNTIME, "%s: JSON decoder not initialised",
                         what);
  }
  lua_pushlstring(L, buf, len);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    const char *msg = lua_tostring(L, -1);

    osc_error_set(err, OSC_E_RUNTIME, "%s: invalid JSON: %s", what,
                  msg ? msg : "unknown error");
    lua_pop(L, 1);
    return OSC_E_RUNTIME;
  }
  return OSC_OK;
}

const char *osc_json_string(lua_State *L, int idx, const char *key) {
  const char *s = NULL;

  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) != LUA_TTABLE)
    return NULL;
  lua_getfield(L, idx, key);
  if (lua_type(L, -1) == LUA_TSTRING)
    s = lua_tostring(L, -1); /* the table keeps the string alive */
  lua_pop(L, 1);
  return s;
}

int osc_json_push_path(lua_State *L, int idx, const char *path) {
  char key[128];
  const char *p = path;

  idx = lua_absindex(L, idx);
  lua_pushvalue(L, idx);
  while (*p) {
    const char *dot = strchr(p, '.');
    size_t n = dot ? (size_t)(dot - p) : strlen(p);

    if (lua_type(L, -1) != LUA_TTABLE || n >= sizeof(key)) {
      lua_pop(L, 1);
      lua_pushnil(L);
      return LUA_TNIL;
    }
    memcpy(key, p, n);
    key[n] = '\0';
    lua_getfield(L, -1, key);
    lua_remove(L, -2);
    p += n;
    if (*p == '.')
      p++;
  }
  return lua_type(L, -1);
}

const char *osc_json_path_string(lua_State *L, int idx, const char *path) {
  const char *s = NULL;

  idx = lua_absindex(L, idx);
  /* Strings stay alive through the document table rooted at idx. */
  if (osc_json_push_path(L, idx, path) == LUA_TSTRING)
    s = lua_tostring(L, -1);
  lua_pop(L, 1);
  return s;
}

/* The number on top as an int64_t: integral and in range, never a
 * wrapped or truncated cast. */
static bool top_number_int(lua_State *L, int64_t *out) {
  lua_Number d;

  if (lua_isinteger(L, -1)) {
    *out = (int64_t)lua_tointeger(L, -1);
    return true;
  }
  d = lua_tonumber(L, -1);
  /* -2^63 <= d < 2^63, both exactly representable as doubles */
  if (!isfinite(d) || d != floor(d) || d < -9223372036854775808.0 ||
      d >= 9223372036854775808.0)
    return false;
  *out = (int64_t)d;
  return true;
}

static bool path_int(lua_State *L, int idx, const char *path, bool strings,
                     int64_t *out) {
  bool ok = false;
  int type = osc_json_push_path(L, idx, path);

  if (type == LUA_TNUMBER) {
    ok = top_number_int(L, out);
  } else if (type == LUA_TSTRING && strings) {
    const char *s = lua_tostring(L, -1);
    char *end = NULL;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (end != s && *end == '\0' && errno == 0) {
      *out = v;
      ok = true;
    }
  }
  lua_pop(L, 1);
  return ok;
}

bool osc_json_path_int(lua_State *L, int idx, const char *path, int64_t *out) {
  return path_int(L, idx, path, true, out);
}

bool osc_json_path_number_int(lua_State *L, int idx, const char *path,
                              int64_t *out) {
  return path_int(L, idx, path, false, out);
}

bool osc_json_path_bool(lua_State *L, int idx, const char *path, bool *out) {
  bool ok = false;

  if (osc_json_push_path(L, idx, path) == LUA_TBOOLEAN) {
    *out = lua_toboolean(L, -1);
    ok = true;
  }
  lua_pop(L, 1);
  return ok;
}
