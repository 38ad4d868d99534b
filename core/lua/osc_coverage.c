#include "core/lua/osc_coverage.h"

#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "core/lua/osc_sandbox.h"

#define MAX_LINES 65536

/* registry[&cov_key] = { ["@file"] = { [line] = true (run) | false } } */
static const char cov_key = 'c';

static bool is_policy_source(const char *src) {
  size_t n;

  if (src == NULL || src[0] != '@' || strncmp(src, "@lua/octoscale/", 15) == 0)
    return false;
  n = strlen(src);
  return !(n >= 9 && strcmp(src + n - 9, "_test.lua") == 0);
}

/* [..] -> [.., lines-of-src] */
static void push_file(lua_State *L, const char *src) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &cov_key);
  if (lua_getfield(L, -1, src) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, src);
  }
  lua_remove(L, -2);
}

static void on_line(lua_State *L, lua_Debug *ar) {
  if (!lua_getinfo(L, "S", ar) || !is_policy_source(ar->source) ||
      ar->currentline <= 0)
    return;
  push_file(L, ar->source);
  lua_pushboolean(L, 1);
  lua_rawseti(L, -2, ar->currentline);
  lua_pop(L, 1);
}

static int enable_l(lua_State *L) {
  lua_newtable(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &cov_key);
  return 0;
}

int osc_coverage_enable(struct osc_sandbox *sb, struct osc_error *err) {
  int rc = osc_sandbox_cpcall(sb, enable_l, NULL, 0, err);

  if (rc == 0)
    osc_sandbox_set_line_hook(sb, on_line);
  return rc;
}

bool osc_coverage_on(lua_State *L) {
  bool on = lua_rawgetp(L, LUA_REGISTRYINDEX, &cov_key) == LUA_TTABLE;

  lua_pop(L, 1);
  return on;
}

static void add_value(lua_State *L, int idx, int depth, int seen);

static void add_function(lua_State *L, int fn, int depth, int seen) {
  lua_Debug ar;
  int i;

  lua_pushvalue(L, fn);
  if (lua_rawget(L, seen) != LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  lua_pop(L, 1);
  lua_pushvalue(L, fn);
  lua_pushboolean(L, 1);
  lua_rawset(L, seen);
  lua_pushvalue(L, fn);
  if (!lua_getinfo(L, ">SL", &ar)) /* pushes the active lines */
    return;
  if (is_policy_source(ar.source) && lua_istable(L, -1)) {
    int lines = lua_gettop(L);

    push_file(L, ar.source); /* [.., lines, file] */
    lua_pushnil(L);
    while (lua_next(L, lines) != 0) {
      lua_pop(L, 1);
      lua_pushvalue(L, -1);
      if (lua_rawget(L, lines + 1) == LUA_TNIL) {
        lua_pushvalue(L, -2);
        lua_pushboolean(L, 0);
        lua_rawset(L, lines + 1);
      }
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  for (i = 1; lua_getupvalue(L, fn, i) != NULL; i++) {
    add_value(L, lua_gettop(L), depth + 1, seen);
    lua_pop(L, 1);
  }
}

static void add_value(lua_State *L, int idx, int depth, int seen) {
  if (depth > 8)
    return;
  luaL_checkstack(L, 8, "coverage");
  if (lua_type(L, idx) == LUA_TFUNCTION && !lua_iscfunction(L, idx)) {
    add_function(L, idx, depth, seen);
  } else if (lua_type(L, idx) == LUA_TTABLE) {
    lua_pushvalue(L, idx);
    if (lua_rawget(L, seen) != LUA_TNIL) {
      lua_pop(L, 1);
      return;
    }
    lua_pop(L, 1);
    lua_pushvalue(L, idx);
    lua_pushboolean(L, 1);
    lua_rawset(L, seen);
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
      add_value(L, lua_gettop(L), depth + 1, seen);
      lua_pop(L, 1);
    }
  }
}

void osc_coverage_add(lua_State *L, int idx) {
  int top = lua_gettop(L);

  idx = lua_absindex(L, idx);
  lua_newtable(L); /* visited */
  add_value(L, idx, 0, lua_gettop(L));
  lua_settop(L, top);
}

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a;
  int y = *(const int *)b;

  return (x > y) - (x < y);
}

/* [.., file] -> one line on f */
static void print_file(lua_State *L, const char *src, FILE *f, int *lines) {
  size_t n = 0;
  size_t run = 0;
  size_t i;
  bool any = false;

  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    if (lua_isinteger(L, -2) && n < MAX_LINES) {
      int line = (int)lua_tointeger(L, -2);

      run += lua_toboolean(L, -1);
      lines[n++] = lua_toboolean(L, -1) ? -line : line;
    }
    lua_pop(L, 1);
  }
  for (i = 0; i < n; i++)
    lines[i] = lines[i] < 0 ? -lines[i] + (1 << 30) : lines[i];
  qsort(lines, n, sizeof(*lines), cmp_int); /* not run first, then run */
  fprintf(f, "coverage: %s: %zu/%zu lines (%d%%)", src + 1, run, n,
          n ? (int)(100 * run / n) : 100);
  for (i = 0; i < n && lines[i] < (1 << 30); i++) {
    size_t j = i;

    while (j + 1 < n && lines[j + 1] == lines[j] + 1)
      j++;
    fprintf(f, "%s%d", any ? ", " : "; not run: ", lines[i]);
    if (j > i)
      fprintf(f, "-%d", lines[j]);
    any = true;
    i = j;
  }
  fputc('\n', f);
}

struct print_args {
  FILE *f;
  int *lines;
};

static int print_l(lua_State *L) {
  struct print_args *a = lua_touserdata(L, 1);
  const char *names[256];
  size_t n = 0;
  size_t i, j;

  lua_rawgetp(L, LUA_REGISTRYINDEX, &cov_key); /* [ud, cov] */
  if (!lua_istable(L, -1))
    return 0;
  lua_pushnil(L);
  while (lua_next(L, 2) != 0) {
    if (n < 256 && lua_type(L, -2) == LUA_TSTRING)
      names[n++] = lua_tostring(L, -2); /* anchored by cov */
    lua_pop(L, 1);
  }
  for (i = 1; i < n; i++) {
    for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
      const char *t = names[j];

      names[j] = names[j - 1];
      names[j - 1] = t;
    }
  }
  for (i = 0; i < n; i++) {
    lua_getfield(L, 2, names[i]);
    print_file(L, names[i], a->f, a->lines);
    lua_pop(L, 1);
  }
  fflush(a->f);
  return 0;
}

int osc_coverage_print(struct osc_sandbox *sb, FILE *f, struct osc_error *err) {
  struct print_args a;
  int rc;

  a.f = f;
  a.lines = malloc(MAX_LINES * sizeof(*a.lines));
  if (a.lines == NULL)
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  /* print_l raises only for memory, and a.lines is freed either way */
  rc = osc_sandbox_cpcall(sb, print_l, &a, 0, err);
  free(a.lines);
  return rc;
}
