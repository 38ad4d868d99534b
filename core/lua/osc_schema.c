#include "core/lua/osc_schema.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "core/osc_error.h"
#include "core/osc_time.h"

static const char *const type_names[] = {
    "string", "number", "integer", "boolean", "duration",
    "time",   "table",  "any",     NULL,
};

static const char *const spec_keys[] = {
    "type", "required", "enum", "list", "fields", "map", "description", NULL,
};

static bool in_list(const char *s, const char *const *list) {
  size_t i;

  for (i = 0; s != NULL && list[i] != NULL; i++) {
    if (strcmp(s, list[i]) == 0)
      return true;
  }
  return false;
}

void osc_schema_path_format(const struct osc_schema_path *p, char *out,
                            size_t cap) {
  size_t used;
  size_t i;

  snprintf(out, cap, "settings");
  for (i = 0; i < p->n; i++) {
    used = strlen(out);
    if (used + 1 >= cap)
      return;
    if (p->seg[i].key != NULL)
      snprintf(out + used, cap - used, ".%s", p->seg[i].key);
    else
      snprintf(out + used, cap - used, "[%lld]", p->seg[i].index);
  }
}

/* --- checking the schema ------------------------------------------- */

struct walk {
  lua_State *L;
  struct osc_schema_path path;
  struct osc_schema_failure *fail;
  char *msg; /* osc_schema_check */
  size_t cap;
};

static int schema_fail(struct walk *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int schema_fail(struct walk *w, const char *fmt, ...) {
  char where[256];
  char what[200];
  va_list ap;

  osc_schema_path_format(&w->path, where, sizeof(where));
  va_start(ap, fmt);
  vsnprintf(what, sizeof(what), fmt, ap);
  va_end(ap);
  snprintf(w->msg, w->cap, "settings_schema%s: %s", where + 8, what);
  return -1;
}

static bool push_seg(struct walk *w, const char *key, long long index) {
  if (w->path.n >= OSC_SCHEMA_DEPTH)
    return false;
  w->path.seg[w->path.n].key = key;
  w->path.seg[w->path.n].index = index;
  w->path.n++;
  return true;
}

static int check_spec(struct walk *w, int spec);

/* fields = { name = spec } at idx */
static int check_fields(struct walk *w, int idx) {
  lua_State *L = w->L;

  if (lua_type(L, idx) != LUA_TTABLE)
    return schema_fail(w, "%s", "fields must be a table of field specs");
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING) {
      lua_pop(L, 2);
      return schema_fail(w, "%s", "field names must be strings");
    }
    if (!push_seg(w, lua_tostring(L, -2), 0) ||
        check_spec(w, lua_gettop(L)) < 0) {
      lua_pop(L, 2);
      return w->path.n >= OSC_SCHEMA_DEPTH
                 ? schema_fail(w, "%s", "nested too deeply")
                 : -1;
    }
    w->path.n--;
    lua_pop(L, 1);
  }
  return 0;
}

static int check_table_spec(struct walk *w, int spec) {
  lua_State *L = w->L;
  int rc = 0;

  lua_pushnil(L);
  while (lua_next(L, spec) != 0) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;

    lua_pop(L, 1);
    if (!in_list(k, spec_keys)) {
      lua_pop(L, 1);
      return schema_fail(w,
                         "unknown spec key '%s' (expected type, required, "
                         "enum, list, fields, map or description)",
                         k ? k : "?");
    }
  }
  if (lua_getfield(L, spec, "type") != LUA_TNIL &&
      (lua_type(L, -1) != LUA_TSTRING ||
       !in_list(lua_tostring(L, -1), type_names)))
    rc = schema_fail(w, "unknown type '%s'", luaL_tolstring(L, -1, NULL));
  lua_settop(L, spec);
  if (rc == 0 && lua_getfield(L, spec, "enum") != LUA_TNIL &&
      (lua_type(L, -1) != LUA_TTABLE || lua_rawlen(L, -1) == 0))
    rc = schema_fail(w, "%s", "enum must be a non-empty list of values");
  lua_settop(L, spec);
  if (rc == 0 && lua_getfield(L, spec, "list") != LUA_TNIL)
    rc = check_spec(w, lua_gettop(L));
  lua_settop(L, spec);
  if (rc == 0 && lua_getfield(L, spec, "map") != LUA_TNIL)
    rc = check_spec(w, lua_gettop(L));
  lua_settop(L, spec);
  if (rc == 0 && lua_getfield(L, spec, "fields") != LUA_TNIL)
    rc = check_fields(w, lua_gettop(L));
  lua_settop(L, spec);
  return rc;
}

static int check_spec(struct walk *w, int spec) {
  lua_State *L = w->L;

  if (lua_type(L, spec) == LUA_TSTRING) {
    if (!in_list(lua_tostring(L, spec), type_names))
      return schema_fail(w,
                         "unknown type '%s' (expected string, number, "
                         "integer, boolean, duration, time, table or any)",
                         lua_tostring(L, spec));
    return 0;
  }
  if (lua_type(L, spec) != LUA_TTABLE)
    return schema_fail(w, "a spec is a type name or a table, not a %s",
                       luaL_typename(L, spec));
  return check_table_spec(w, spec);
}

int osc_schema_check(lua_State *L, int sidx, char *msg, size_t cap) {
  struct walk w;
  int top = lua_gettop(L);
  int rc;

  memset(&w, 0, sizeof(w));
  w.L = L;
  w.msg = msg;
  w.cap = cap;
  sidx = lua_absindex(L, sidx);
  rc = check_fields(&w, sidx);
  lua_settop(L, top);
  return rc;
}

/* --- validating settings ------------------------------------------- */

/* "'27/11/2026'", "42", "true", "a table" */
static void describe(lua_State *L, int idx, char *out, size_t cap) {
  size_t len = 0;
  size_t i;

  switch (lua_type(L, idx)) {
  case LUA_TSTRING: {
    const char *s = lua_tolstring(L, idx, &len);
    size_t used = 0;

    if (cap < 8)
      break;
    out[used++] = '\'';
    for (i = 0; i < len && i < 60 && used + 6 < cap; i++)
      out[used++] = isprint((unsigned char)s[i]) ? s[i] : '?';
    if (i < len && used + 6 < cap) {
      memcpy(out + used, "...", 3);
      used += 3;
    }
    out[used++] = '\'';
    out[used] = '\0';
    return;
  }
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx))
      snprintf(out, cap, "%lld", (long long)lua_tointeger(L, idx));
    else
      snprintf(out, cap, "%.14g", (double)lua_tonumber(L, idx));
    return;
  case LUA_TBOOLEAN:
    snprintf(out, cap, "%s", lua_toboolean(L, idx) ? "true" : "false");
    return;
  default:
    snprintf(out, cap, "a %s", luaL_typename(L, idx));
    return;
  }
  out[0] = '\0';
}

static int value_fail(struct walk *w, int vidx, const char *expected) {
  char where[256];
  char desc[96];

  osc_schema_path_format(&w->path, where, sizeof(where));
  describe(w->L, vidx, desc, sizeof(desc));
  w->fail->path = w->path;
  snprintf(w->fail->msg, sizeof(w->fail->msg), "%s is %s (expected %s)", where,
           desc, expected);
  return -1;
}

static bool type_ok(lua_State *L, const char *type, int v) {
  struct osc_error e = OSC_ERROR_INIT;
  int64_t t;

  if (strcmp(type, "any") == 0)
    return true;
  if (strcmp(type, "string") == 0)
    return lua_type(L, v) == LUA_TSTRING;
  if (strcmp(type, "number") == 0)
    return lua_type(L, v) == LUA_TNUMBER;
  if (strcmp(type, "integer") == 0)
    return lua_isinteger(L, v);
  if (strcmp(type, "boolean") == 0)
    return lua_type(L, v) == LUA_TBOOLEAN;
  if (strcmp(type, "table") == 0)
    return lua_type(L, v) == LUA_TTABLE;
  if (strcmp(type, "duration") == 0) {
    if (lua_isinteger(L, v))
      return lua_tointeger(L, v) >= 0;
    return lua_type(L, v) == LUA_TSTRING &&
           osc_duration_parse(lua_tostring(L, v), &t, &e) == 0;
  }
  if (strcmp(type, "time") == 0)
    return lua_type(L, v) == LUA_TSTRING &&
           osc_time_parse_rfc3339(lua_tostring(L, v), &t, &e) == 0;
  return false;
}

static const char *type_expected(const char *type) {
  if (strcmp(type, "duration") == 0)
    return "a duration such as 10m or 1h30m";
  if (strcmp(type, "time") == 0)
    return "an RFC 3339 time such as 2026-11-27T10:00:00Z";
  if (strcmp(type, "integer") == 0)
    return "an integer";
  if (strcmp(type, "table") == 0)
    return "a table";
  if (strcmp(type, "boolean") == 0)
    return "true or false";
  if (strcmp(type, "number") == 0)
    return "a number";
  return "a string";
}

static int validate(struct walk *w, int spec, int v);

/* "'keep', 'disable' or 'delete'" */
static void enum_expected(lua_State *L, int list, char *out, size_t cap) {
  lua_Integer n = (lua_Integer)lua_rawlen(L, list);
  lua_Integer i;
  size_t used = 0;

  out[0] = '\0';
  for (i = 1; i <= n && used + 8 < cap; i++) {
    char one[96];

    lua_rawgeti(L, list, i);
    describe(L, -1, one, sizeof(one));
    lua_pop(L, 1);
    used += (size_t)snprintf(out + used, cap - used, "%s%s",
                             i == 1 ? "" : (i == n ? " or " : ", "), one);
  }
}

static int check_enum(struct walk *w, int list, int v) {
  lua_State *L = w->L;
  lua_Integer n = (lua_Integer)lua_rawlen(L, list);
  lua_Integer i;
  char expected[300];

  for (i = 1; i <= n; i++) {
    bool same;

    lua_rawgeti(L, list, i);
    same = lua_rawequal(L, -1, v);
    lua_pop(L, 1);
    if (same)
      return 0;
  }
  enum_expected(L, list, expected, sizeof(expected));
  return value_fail(w, v, expected);
}

static int check_list(struct walk *w, int item_spec, int v) {
  lua_State *L = w->L;
  lua_Integer n = (lua_Integer)lua_rawlen(L, v);
  lua_Integer count = 0;
  lua_Integer i;

  lua_pushnil(L);
  while (lua_next(L, v) != 0) {
    count++;
    lua_pop(L, 1);
  }
  if (count != n)
    return value_fail(w, v, "a list");
  for (i = 1; i <= n; i++) {
    int rc;

    if (!push_seg(w, NULL, (long long)i))
      return value_fail(w, v, "settings nested less deeply");
    lua_rawgeti(L, v, i);
    rc = validate(w, item_spec, lua_gettop(L));
    lua_pop(L, 1);
    if (rc < 0)
      return rc;
    w->path.n--;
  }
  return 0;
}

/* "a, b or c": the names a fields table allows, sorted. */
static void known_names(lua_State *L, int fields, char *out, size_t cap) {
  const char *names[32];
  size_t n = 0;
  size_t i, j, used = 0;

  lua_pushnil(L);
  while (lua_next(L, fields) != 0) {
    if (n < 32 && lua_type(L, -2) == LUA_TSTRING)
      names[n++] = lua_tostring(L, -2); /* anchored by the fields table */
    lua_pop(L, 1);
  }
  for (i = 1; i < n; i++) {
    for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
      const char *t = names[j];

      names[j] = names[j - 1];
      names[j - 1] = t;
    }
  }
  out[0] = '\0';
  for (i = 0; i < n && used + 4 < cap; i++)
    used +=
        (size_t)snprintf(out + used, cap - used, "%s%s",
                         i == 0 ? "" : (i + 1 == n ? " or " : ", "), names[i]);
}

static int unknown_key(struct walk *w, int fields, const char *key) {
  char where[256];
  char known[300];

  push_seg(w, key, 0);
  osc_schema_path_format(&w->path, where, sizeof(where));
  known_names(w->L, fields, known, sizeof(known));
  w->fail->path = w->path;
  snprintf(w->fail->msg, sizeof(w->fail->msg),
           "%s is not a known setting (expected %s)", where,
           known[0] ? known : "no settings");
  return -1;
}

static int missing_required(struct walk *w, int fields, int v) {
  lua_State *L = w->L;
  char where[256];

  lua_pushnil(L);
  while (lua_next(L, fields) != 0) {
    bool required = false;

    if (lua_type(L, -1) == LUA_TTABLE) {
      lua_getfield(L, -1, "required");
      required = lua_toboolean(L, -1);
      lua_pop(L, 1);
    }
    if (required) {
      lua_pushvalue(L, -2);
      if (lua_rawget(L, v) == LUA_TNIL) {
        push_seg(w, lua_tostring(L, -3), 0);
        osc_schema_path_format(&w->path, where, sizeof(where));
        w->fail->path = w->path;
        snprintf(w->fail->msg, sizeof(w->fail->msg),
                 "%s is missing (settings_schema requires it)", where);
        lua_pop(L, 3);
        return -1;
      }
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  return 0;
}

static int check_fields_value(struct walk *w, int fields, int v) {
  lua_State *L = w->L;

  if (lua_type(L, v) != LUA_TTABLE)
    return value_fail(w, v, "a table of settings");
  lua_pushnil(L);
  while (lua_next(L, v) != 0) { /* [key, value] */
    int rc;

    if (lua_type(L, -2) != LUA_TSTRING)
      return value_fail(w, v, "a table with named settings");
    lua_pushvalue(L, -2);
    if (lua_rawget(L, fields) == LUA_TNIL)
      return unknown_key(w, fields, lua_tostring(L, -3));
    if (!push_seg(w, lua_tostring(L, -3), 0))
      return value_fail(w, v, "settings nested less deeply");
    rc = validate(w, lua_gettop(L), lua_gettop(L) - 1);
    if (rc < 0)
      return rc;
    w->path.n--;
    lua_pop(L, 2);
  }
  return missing_required(w, fields, v);
}

static int check_map(struct walk *w, int value_spec, int v) {
  lua_State *L = w->L;

  if (lua_type(L, v) != LUA_TTABLE)
    return value_fail(w, v, "a table");
  lua_pushnil(L);
  while (lua_next(L, v) != 0) {
    int rc;

    if (lua_type(L, -2) != LUA_TSTRING || !push_seg(w, lua_tostring(L, -2), 0))
      return value_fail(w, v, "a table with named entries");
    rc = validate(w, value_spec, lua_gettop(L));
    if (rc < 0)
      return rc;
    w->path.n--;
    lua_pop(L, 1);
  }
  return 0;
}

/* One value against a table spec: type, then enum / list / fields / map. */
static int validate_table_spec(struct walk *w, int spec, int v) {
  lua_State *L = w->L;
  int top = lua_gettop(L);
  int rc = 0;

  if (lua_getfield(L, spec, "type") == LUA_TSTRING &&
      !type_ok(L, lua_tostring(L, -1), v))
    rc = value_fail(w, v, type_expected(lua_tostring(L, -1)));
  lua_settop(L, top);
  if (rc == 0 && lua_getfield(L, spec, "enum") == LUA_TTABLE)
    rc = check_enum(w, lua_gettop(L), v);
  lua_settop(L, top);
  if (rc == 0 && lua_getfield(L, spec, "list") != LUA_TNIL)
    rc = lua_type(L, v) != LUA_TTABLE ? value_fail(w, v, "a list")
                                      : check_list(w, lua_gettop(L), v);
  lua_settop(L, top);
  if (rc == 0 && lua_getfield(L, spec, "fields") == LUA_TTABLE)
    rc = check_fields_value(w, lua_gettop(L), v);
  lua_settop(L, top);
  if (rc == 0 && lua_getfield(L, spec, "map") != LUA_TNIL)
    rc = check_map(w, lua_gettop(L), v);
  lua_settop(L, top);
  return rc;
}

static int validate(struct walk *w, int spec, int v) {
  lua_State *L = w->L;

  luaL_checkstack(L, 16, "settings nested too deeply");
  if (lua_type(L, spec) == LUA_TSTRING) {
    const char *type = lua_tostring(L, spec);

    return type_ok(L, type, v) ? 0 : value_fail(w, v, type_expected(type));
  }
  return validate_table_spec(w, spec, v);
}

int osc_schema_validate(lua_State *L, int sidx, int vidx,
                        struct osc_schema_failure *out) {
  struct walk w;
  int top = lua_gettop(L);
  int rc;

  memset(&w, 0, sizeof(w));
  memset(out, 0, sizeof(*out));
  w.L = L;
  w.fail = out;
  sidx = lua_absindex(L, sidx);
  vidx = lua_absindex(L, vidx);
  rc = check_fields_value(&w, sidx, vidx);
  lua_settop(L, top);
  return rc;
}
