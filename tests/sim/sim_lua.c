#include "tests/sim/sim_lua.h"

#include <lauxlib.h>
#include <lua-cjson.h>
#include <lua.h>
#include <lualib.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/sim/sim_util.h"
#include "tests/sim/sim_yaml.h"

/* Not declared by Debian's lua-cjson.h, but exported by the archive. */
int luaopen_cjson_safe(lua_State *L);

struct sim_lua {
  lua_State *L;
  pthread_mutex_t mu;
  int server_ref; /* registry reference to the sim.server module table */
  int quiet;
};

/* ---- the simc module: the few things Lua cannot do itself ---------------- */

static int l_monotonic_ms(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)sim_monotonic_ms());
  return 1;
}

/* simc.re_match(pattern, subject) -> boolean | nil, err. POSIX extended,
 * case-insensitive: fault rules match paths, and ARM paths are
 * case-insensitive. */
static int l_re_match(lua_State *L) {
  const char *pattern = luaL_checkstring(L, 1);
  const char *subject = luaL_checkstring(L, 2);
  regex_t re;
  int rc = regcomp(&re, pattern, REG_EXTENDED | REG_ICASE | REG_NOSUB);
  if (rc != 0) {
    char msg[256];
    regerror(rc, &re, msg, sizeof msg);
    regfree(&re);
    lua_pushnil(L);
    lua_pushstring(L, msg);
    return 2;
  }
  int matched = regexec(&re, subject, 0, NULL, 0) == 0;
  regfree(&re);
  lua_pushboolean(L, matched);
  return 1;
}

static const luaL_Reg simc_funcs[] = {
    {"monotonic_ms", l_monotonic_ms},
    {"re_match", l_re_match},
    {"yaml_load", sim_yaml_lua_load},
    {NULL, NULL},
};

static int luaopen_simc(lua_State *L) {
  luaL_newlib(L, simc_funcs);
  return 1;
}

/* ---- protected-call plumbing -------------------------------------------- */

static int msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL)
    msg =
        lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/* Copies the first line of the error on top of the stack into err and
 * prints the whole traceback to stderr: a Lua-side failure is a simulator
 * bug and should be loud. */
static void take_error(lua_State *L, const char *what, char *err,
                       size_t errlen) {
  const char *msg = lua_tostring(L, -1);
  if (msg == NULL)
    msg = "(no message)";
  fprintf(stderr, "octoscale-sim: %s: %s\n", what, msg);
  size_t n = strcspn(msg, "\n");
  snprintf(err, errlen, "%.*s", (int)n, msg);
  lua_pop(L, 1);
}

static void push_server_fn(lua_State *L, struct sim_lua *s, const char *fn) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, s->server_ref);
  lua_getfield(L, -1, fn);
  lua_remove(L, -2);
}

/* ---- creation ------------------------------------------------------------ */

struct create_ctx {
  struct sim_lua *s;
  const struct sim_options *opt;
  int scenario_error;
};

static int create_protected(lua_State *L) {
  struct create_ctx *c = lua_touserdata(L, 1);
  luaL_openlibs(L);

  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_cjson);
  lua_setfield(L, -2, "cjson");
  lua_pushcfunction(L, luaopen_cjson_safe);
  lua_setfield(L, -2, "cjson.safe");
  lua_pushcfunction(L, luaopen_simc);
  lua_setfield(L, -2, "simc");
  lua_pop(L, 1);

  /* Only our own scripts: no module search outside lua_dir, no C modules. */
  lua_getglobal(L, "package");
  lua_pushfstring(L, "%s/?.lua", c->opt->lua_dir);
  lua_setfield(L, -2, "path");
  lua_pushliteral(L, "");
  lua_setfield(L, -2, "cpath");
  lua_pop(L, 1);

  lua_getglobal(L, "require");
  lua_pushliteral(L, "sim.server");
  lua_call(L, 1, 1);
  lua_pushvalue(L, -1);
  c->s->server_ref = luaL_ref(L, LUA_REGISTRYINDEX);

  lua_getfield(L, -1, "init");
  lua_createtable(L, 0, 4);
  lua_pushstring(L, c->opt->scenario);
  lua_setfield(L, -2, "scenario");
  lua_pushnumber(L, c->opt->speed);
  lua_setfield(L, -2, "speed");
  lua_pushboolean(L, c->opt->quiet);
  lua_setfield(L, -2, "quiet");
  lua_call(L, 1, 2);
  if (!lua_toboolean(L, -2)) {
    c->scenario_error = 1;
    if (!lua_isstring(L, -1)) {
      lua_pop(L, 1);
      lua_pushliteral(L, "scenario rejected");
    }
    return lua_error(L);
  }
  return 0;
}

int sim_lua_create(struct sim_lua **out, const struct sim_options *opt,
                   int *scenario_error, char *err, size_t errlen) {
  int rc = -1;
  struct sim_lua *s = calloc(1, sizeof *s);
  *scenario_error = 0;
  if (s == NULL) {
    snprintf(err, errlen, "out of memory");
    goto done;
  }
  s->server_ref = LUA_NOREF;
  s->quiet = opt->quiet;
  if (pthread_mutex_init(&s->mu, NULL) != 0) {
    free(s);
    s = NULL;
    snprintf(err, errlen, "cannot create a mutex");
    goto done;
  }
  s->L = luaL_newstate();
  if (s->L == NULL) {
    snprintf(err, errlen, "cannot create a Lua state");
    goto done;
  }
  struct create_ctx c = {s, opt, 0};
  lua_State *L = s->L;
  lua_pushcfunction(L, msghandler);
  lua_pushcfunction(L, create_protected);
  lua_pushlightuserdata(L, &c);
  if (lua_pcall(L, 1, 0, -3) != LUA_OK) {
    *scenario_error = c.scenario_error;
    if (c.scenario_error) {
      /* A scenario error is the user's, not ours: no traceback. */
      const char *msg = lua_tostring(L, -1);
      size_t n = msg != NULL ? strcspn(msg, "\n") : 0;
      snprintf(err, errlen, "%.*s", (int)n, msg != NULL ? msg : "");
      lua_pop(L, 1);
    } else {
      take_error(L, "startup", err, errlen);
    }
    goto done;
  }
  lua_settop(L, 0);
  rc = 0;
done:
  if (rc != 0 && s != NULL) {
    sim_lua_destroy(s);
    s = NULL;
  }
  *out = s;
  return rc;
}

void sim_lua_destroy(struct sim_lua *s) {
  if (s == NULL)
    return;
  if (s->L != NULL)
    lua_close(s->L);
  pthread_mutex_destroy(&s->mu);
  free(s);
}

/* ---- one request --------------------------------------------------------- */

struct handle_ctx {
  struct sim_lua *s;
  const struct sim_request *req;
  struct sim_response *resp;
};

static int64_t field_int(lua_State *L, int t, const char *name) {
  int64_t v = 0;
  lua_getfield(L, t, name);
  int isnum = 0;
  lua_Number n = lua_tonumberx(L, -1, &isnum);
  if (isnum && n > 0 && n < 1e15)
    v = (int64_t)n;
  lua_pop(L, 1);
  return v;
}

/* Copies the string at the top of the stack into fresh heap memory. The
 * caller stores the pointer in the response at once, so a later Lua error
 * cannot orphan it. */
static char *dup_top(lua_State *L, size_t *len) {
  size_t n = 0;
  const char *p = lua_tolstring(L, -1, &n);
  if (p == NULL)
    return NULL;
  char *copy = malloc(n + 1);
  if (copy == NULL)
    return NULL;
  memcpy(copy, p, n);
  copy[n] = '\0';
  if (len != NULL)
    *len = n;
  return copy;
}

static int handle_protected(lua_State *L) {
  struct handle_ctx *c = lua_touserdata(L, 1);
  const struct sim_request *req = c->req;
  struct sim_response *resp = c->resp;

  push_server_fn(L, c->s, "handle");
  lua_createtable(L, 0, 6);
  lua_pushstring(L, req->method);
  lua_setfield(L, -2, "method");
  lua_pushstring(L, req->uri);
  lua_setfield(L, -2, "uri");
  lua_pushlstring(L, req->body != NULL ? req->body : "", req->body_len);
  lua_setfield(L, -2, "body");
  lua_pushboolean(L, req->body_too_large);
  lua_setfield(L, -2, "body_too_large");
  lua_createtable(L, 0, (int)req->n_headers);
  for (size_t i = 0; i < req->n_headers; i++) {
    lua_pushstring(L,
                   req->headers[i].value != NULL ? req->headers[i].value : "");
    lua_setfield(L, -2, req->headers[i].name);
  }
  lua_setfield(L, -2, "headers");
  lua_call(L, 1, 1);

  int t = lua_gettop(L);
  luaL_checktype(L, t, LUA_TTABLE);
  resp->status = (int)field_int(L, t, "status");
  resp->delay_ms = field_int(L, t, "delay_ms");
  resp->slow_body_ms = field_int(L, t, "slow_body_ms");
  resp->pad_to = field_int(L, t, "pad_to");
  resp->seq = field_int(L, t, "seq");
  lua_getfield(L, t, "reset");
  resp->reset = lua_toboolean(L, -1);
  lua_pop(L, 1);

  if (lua_getfield(L, t, "body") == LUA_TSTRING)
    resp->body = dup_top(L, &resp->body_len);
  lua_pop(L, 1);

  if (lua_getfield(L, t, "headers") == LUA_TTABLE) {
    int h = lua_gettop(L);
    for (lua_Integer i = 1; i <= SIM_MAX_HEADERS; i++) {
      if (lua_rawgeti(L, h, i) != LUA_TTABLE) {
        lua_pop(L, 1);
        break;
      }
      struct sim_owned_header *oh = &resp->headers[resp->n_headers++];
      lua_rawgeti(L, -1, 1);
      oh->name = dup_top(L, NULL);
      lua_pop(L, 1);
      lua_rawgeti(L, -1, 2);
      oh->value = dup_top(L, NULL);
      lua_pop(L, 2);
    }
  }
  lua_pop(L, 1);
  return 0;
}

int sim_lua_handle(struct sim_lua *s, const struct sim_request *req,
                   struct sim_response *resp, char *err, size_t errlen) {
  int rc = -1;
  struct handle_ctx c = {s, req, resp};
  pthread_mutex_lock(&s->mu);
  lua_State *L = s->L;
  int base = lua_gettop(L);
  lua_pushcfunction(L, msghandler);
  lua_pushcfunction(L, handle_protected);
  lua_pushlightuserdata(L, &c);
  if (lua_pcall(L, 1, 0, base + 1) != LUA_OK) {
    take_error(L, "request", err, errlen);
    goto done;
  }
  rc = 0;
done:
  lua_settop(L, base);
  pthread_mutex_unlock(&s->mu);
  return rc;
}

/* ---- small calls --------------------------------------------------------- */

/* Calls server[fn](a[, b]) with nargs integer arguments; used for finish
 * and set_port. */
static int call_ints(struct sim_lua *s, const char *fn, int64_t a, int64_t b,
                     int nargs, char *err, size_t errlen) {
  int rc = -1;
  pthread_mutex_lock(&s->mu);
  lua_State *L = s->L;
  int base = lua_gettop(L);
  lua_pushcfunction(L, msghandler);
  push_server_fn(L, s, fn);
  lua_pushinteger(L, (lua_Integer)a);
  if (nargs > 1)
    lua_pushinteger(L, (lua_Integer)b);
  if (lua_pcall(L, nargs, 0, base + 1) != LUA_OK) {
    take_error(L, fn, err, errlen);
    goto done;
  }
  rc = 0;
done:
  lua_settop(L, base);
  pthread_mutex_unlock(&s->mu);
  return rc;
}

int sim_lua_set_port(struct sim_lua *s, int port, char *err, size_t errlen) {
  return call_ints(s, "set_port", port, 0, 1, err, errlen);
}

void sim_lua_finish(struct sim_lua *s, int64_t seq, int64_t elapsed_ms) {
  char err[SIM_ERR_MAX];
  if (seq > 0)
    call_ints(s, "finish", seq, elapsed_ms, 2, err, sizeof err);
}

int sim_lua_write_log(struct sim_lua *s, const char *path, char *err,
                      size_t errlen) {
  int rc = -1;
  char *text = NULL;
  pthread_mutex_lock(&s->mu);
  lua_State *L = s->L;
  int base = lua_gettop(L);
  lua_pushcfunction(L, msghandler);
  push_server_fn(L, s, "log_lines");
  if (lua_pcall(L, 0, 1, base + 1) != LUA_OK) {
    take_error(L, "log_lines", err, errlen);
    goto done;
  }
  text = dup_top(L, NULL);
  if (text == NULL) {
    snprintf(err, errlen, "log_lines returned no text");
    goto done;
  }
  rc = 0;
done:
  lua_settop(L, base);
  pthread_mutex_unlock(&s->mu);
  if (rc == 0)
    rc = sim_write_file_atomic(path, text, err, errlen);
  free(text);
  return rc;
}

void sim_response_free(struct sim_response *r) {
  free(r->body);
  r->body = NULL;
  for (size_t i = 0; i < r->n_headers; i++) {
    free(r->headers[i].name);
    free(r->headers[i].value);
  }
  r->n_headers = 0;
}
