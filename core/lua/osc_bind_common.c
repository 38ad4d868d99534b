#include "core/lua/osc_bind_common.h"

#include "core/osc_collect.h"

#include <lauxlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/lua/osc_json_lua.h"
#include "core/osc_suggest.h"
#include "core/osc_time.h"

/* Chunk names of the embedded library (lua/octoscale/). */
#define LIBRARY_SOURCE "@lua/octoscale/"

/* Registry keys (addresses, never strings). */
static const char session_key = 's';
static const char why_key = 'w';
static const char errmeta_key = 'e';

void osc_bind_set_session(lua_State *L, struct osc_session *s,
                          const char *why) {
  lua_pushlightuserdata(L, s);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &session_key);
  if (why != NULL)
    lua_pushstring(L, why);
  else
    lua_pushnil(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &why_key);
}

struct osc_session *osc_bind_get_session(lua_State *L, const char **why) {
  struct osc_session *s;

  lua_rawgetp(L, LUA_REGISTRYINDEX, &session_key);
  s = lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (why != NULL) {
    *why = "no configuration for API clients";
    lua_rawgetp(L, LUA_REGISTRYINDEX, &why_key);
    if (lua_type(L, -1) == LUA_TSTRING)
      *why = lua_tostring(L, -1); /* the registry keeps it alive */
    lua_pop(L, 1);
  }
  return s;
}

static int err_tostring(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, 1, "text");
  if (lua_type(L, -1) != LUA_TSTRING) {
    lua_pop(L, 1);
    lua_getfield(L, 1, "message");
  }
  if (lua_type(L, -1) != LUA_TSTRING) {
    lua_pop(L, 1);
    lua_pushliteral(L, "error");
  }
  return 1;
}

static void push_errmeta(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &errmeta_key) == LUA_TTABLE)
    return;
  lua_pop(L, 1);
  lua_createtable(L, 0, 3);
  lua_pushcfunction(L, err_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushliteral(L, "octoscale.Error");
  lua_setfield(L, -2, "__name");
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &errmeta_key);
}

int osc_bind_push_fail(lua_State *L, const struct osc_apierr *d,
                       const char *line) {
  luaL_checkstack(L, 6, NULL);
  lua_pushnil(L);
  lua_createtable(L, 0, 6);
  if (d != NULL && d->status != 0) {
    lua_pushinteger(L, d->status);
    lua_setfield(L, -2, "status");
  }
  if (d != NULL && d->code[0] != '\0') {
    lua_pushstring(L, d->code);
    lua_setfield(L, -2, "code");
  }
  lua_pushstring(L, d != NULL && d->message[0] != '\0' ? d->message
                                                       : (line ? line : ""));
  lua_setfield(L, -2, "message");
  if (d != NULL && d->request_id[0] != '\0') {
    lua_pushstring(L, d->request_id);
    lua_setfield(L, -2, "request_id");
  }
  lua_pushstring(L, line ? line : "");
  lua_setfield(L, -2, "text");
  push_errmeta(L);
  lua_setmetatable(L, -2);
  return 2;
}

int osc_bind_ppush(lua_State *L, lua_CFunction fn, void *ud, int nresults) {
  lua_pushcfunction(L, fn);
  lua_pushlightuserdata(L, ud);
  return lua_pcall(L, 1, nresults, 0);
}

static void set_str(lua_State *L, const char *key, const char *value) {
  if (value == NULL)
    return;
  lua_pushstring(L, value);
  lua_setfield(L, -2, key);
}

void osc_bind_push_strlist(lua_State *L, const struct osc_strlist *l) {
  size_t i;

  lua_createtable(L, (int)l->n, 0);
  for (i = 0; i < l->n; i++) {
    lua_pushstring(L, l->items[i] ? l->items[i] : "");
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

void osc_bind_push_value(lua_State *L, const struct osc_value *v, int depth) {
  size_t i;

  luaL_checkstack(L, 4, "settings nested too deeply");
  if (depth > 64) {
    lua_pushnil(L);
    return;
  }
  switch (v->type) {
  case OSC_VALUE_BOOL:
    lua_pushboolean(L, v->b);
    break;
  case OSC_VALUE_INT:
    lua_pushinteger(L, (lua_Integer)v->i);
    break;
  case OSC_VALUE_NUMBER:
    lua_pushnumber(L, v->d);
    break;
  case OSC_VALUE_STRING:
    lua_pushstring(L, v->s ? v->s : "");
    break;
  case OSC_VALUE_LIST:
    lua_createtable(L, (int)v->n, 0);
    for (i = 0; i < v->n; i++) {
      osc_bind_push_value(L, &v->items[i], depth + 1);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    break;
  case OSC_VALUE_MAP:
    lua_createtable(L, 0, (int)v->n);
    for (i = 0; i < v->n; i++) {
      osc_bind_push_value(L, &v->items[i], depth + 1);
      lua_setfield(L, -2, v->keys[i] ? v->keys[i] : "");
    }
    break;
  default:
    lua_pushnil(L);
    break;
  }
}

void osc_bind_push_entry(lua_State *L, const struct osc_config_scale_set *e) {
  lua_createtable(L, 0, 10);
  set_str(L, "name", e->name);
  set_str(L, "resource_group", e->resource_group);
  set_str(L, "vmss", e->vmss);
  set_str(L, "subscription", e->subscription);
  set_str(L, "environment", e->environment);
  osc_bind_push_strlist(L, &e->roles);
  lua_setfield(L, -2, "roles");
  set_str(L, "tenant", e->tenant);
  set_str(L, "policy", e->policy);
  osc_bind_push_value(L, &e->settings, 0);
  lua_setfield(L, -2, "settings");
}

const char *osc_bind_state_name(const char *state) {
  /* ARM's provisioning states, spelt as its documentation does. */
  static const char *const known[] = {
      "Creating", "Updating",  "Succeeded", "Failed",       "Deleting",
      "Canceled", "Migrating", "Accepted",  "Deallocating", NULL};
  size_t i;

  for (i = 0; state != NULL && known[i] != NULL; i++) {
    if (strcasecmp(state, known[i]) == 0)
      return known[i];
  }
  return state;
}

/* Mirrors core/lua/osc_policy.c's vm table: scripts and policies see the same
 * fields. */
void osc_bind_push_vm(lua_State *L, const struct osc_vm *vm) {
  size_t i;

  luaL_checkstack(L, 4, NULL);
  lua_createtable(L, 0, 13);
  set_str(L, "id", vm->id);
  set_str(L, "name", vm->name);
  set_str(L, "instance_id", vm->instance_id);
  set_str(L, "computer_name", vm->computer_name);
  set_str(L, "vm_id", vm->vm_id);
  set_str(L, "provisioning_state", osc_bind_state_name(vm->provisioning_state));
  set_str(L, "power_state", vm->power_state);
  osc_bind_push_strlist(L, &vm->private_ips);
  lua_setfield(L, -2, "private_ips");
  if (vm->created_at != 0) {
    lua_pushinteger(L, (lua_Integer)vm->created_at);
    lua_setfield(L, -2, "created_at");
  }
  set_str(L, "zone", vm->zone);
  lua_createtable(L, 0, (int)vm->n_tags);
  for (i = 0; i < vm->n_tags; i++) {
    if (vm->tags[i].key == NULL)
      continue;
    lua_pushstring(L, vm->tags[i].value ? vm->tags[i].value : "");
    lua_setfield(L, -2, vm->tags[i].key);
  }
  lua_setfield(L, -2, "tags");
  set_str(L, "scale_set", vm->scale_set);
}

void osc_bind_push_target(lua_State *L, const struct osc_target *t) {
  luaL_checkstack(L, 4, NULL);
  lua_createtable(L, 0, 11);
  set_str(L, "id", t->id);
  set_str(L, "name", t->name);
  osc_bind_push_strlist(L, &t->roles);
  lua_setfield(L, -2, "roles");
  osc_bind_push_strlist(L, &t->environment_ids);
  lua_setfield(L, -2, "environment_ids");
  osc_bind_push_strlist(L, &t->tenant_ids);
  lua_setfield(L, -2, "tenant_ids");
  set_str(L, "health", t->health);
  lua_pushboolean(L, t->disabled);
  lua_setfield(L, -2, "disabled");
  set_str(L, "comm_style", osc_comm_style_name(t->comm_style));
  set_str(L, "uri", t->uri);
  set_str(L, "thumbprint", t->thumbprint);
}

int osc_bind_push_json(lua_State *L, const char *buf, size_t len) {
  luaL_checkstack(L, 4, NULL);
  if (len == 0) {
    lua_pushnil(L);
    return 0;
  }
  osc_json_lua_module(L);
  lua_getfield(L, -1, "decode"); /* [cjson, decode] */
  lua_remove(L, -2);
  lua_pushlstring(L, buf, len);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    lua_pop(L, 1);
    lua_pushnil(L);
    return 0;
  }
  return 1;
}

bool osc_bind_body_arg(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  switch (lua_type(L, idx)) {
  case LUA_TNONE:
  case LUA_TNIL:
    return false;
  case LUA_TSTRING:
    lua_pushvalue(L, idx);
    return true;
  case LUA_TTABLE:
    osc_json_lua_module(L);
    lua_getfield(L, -1, "encode");
    lua_remove(L, -2);
    lua_pushvalue(L, idx);
    lua_call(L, 1, 1); /* an unencodable value raises: misuse */
    return true;
  default:
    luaL_typeerror(L, idx, "string or table");
    return false;
  }
}

const char *osc_bind_check_text(lua_State *L, int arg) {
  size_t len;
  const char *s = luaL_checklstring(L, arg, &len);

  if (memchr(s, '\0', len) != NULL)
    luaL_argerror(L, arg, "string contains a NUL byte");
  return s;
}

const char *osc_bind_check_method(lua_State *L, int arg) {
  static const char *const methods[] = {"GET",   "PUT",    "POST",
                                        "PATCH", "DELETE", NULL};
  const char *m = osc_bind_check_text(L, arg);
  int i;

  for (i = 0; methods[i] != NULL; i++) {
    if (strcasecmp(m, methods[i]) == 0)
      return methods[i];
  }
  luaL_argerror(L, arg, "expected GET, PUT, POST, PATCH or DELETE");
  return NULL;
}

long long osc_bind_duration(lua_State *L, int idx, const char *field,
                            long long def) {
  struct osc_error err = OSC_ERROR_INIT;
  int64_t secs = 0;
  int type;

  idx = lua_absindex(L, idx);
  type = lua_getfield(L, idx, field);
  if (type == LUA_TNIL) {
    lua_pop(L, 1);
    return def;
  }
  if (type == LUA_TNUMBER) {
    secs = (int64_t)lua_tonumber(L, -1);
  } else if (type != LUA_TSTRING ||
             strlen(lua_tostring(L, -1)) != lua_rawlen(L, -1) ||
             osc_duration_parse(lua_tostring(L, -1), &secs, &err) < 0) {
    luaL_error(L, "%s: expected seconds or a duration such as \"5m\"", field);
  }
  lua_pop(L, 1);
  if (secs < 0)
    luaL_error(L, "%s: must not be negative", field);
  return (long long)secs;
}

int osc_bind_push_collect_fail(lua_State *L, struct osc_collect_result *r) {
  struct osc_apierr detail = r->failure;
  char line[OSC_ERROR_MAX];

  if (r->error_code != OSC_OK)
    snprintf(line, sizeof(line), "%s", r->error);
  else
    snprintf(line, sizeof(line), "%s", r->collection.incomplete_reason);
  if (detail.code[0] == '\0' && r->error_code == OSC_OK)
    snprintf(detail.code, sizeof(detail.code), "Incomplete");
  osc_collect_result_free(r);
  return osc_bind_push_fail(L, &detail, line);
}

/* --- errors at the user's line ------------------------------------- */

void osc_bind_user_where(lua_State *L, char *out, size_t cap) {
  lua_Debug ar;
  int level;
  bool fallback = false;

  out[0] = '\0';
  for (level = 1; lua_getstack(L, level, &ar); level++) {
    if (!lua_getinfo(L, "Sl", &ar) || ar.currentline <= 0)
      continue;
    if (!fallback) {
      snprintf(out, cap, "%s:%d: ", ar.short_src, ar.currentline);
      fallback = true;
    }
    if (strncmp(ar.source, LIBRARY_SOURCE, strlen(LIBRARY_SOURCE)) != 0) {
      snprintf(out, cap, "%s:%d: ", ar.short_src, ar.currentline);
      return;
    }
  }
}

int osc_bind_raise_at_user(lua_State *L, const char *fmt, ...) {
  char where[512];
  char msg[OSC_ERROR_MAX];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  osc_bind_user_where(L, where, sizeof(where));
  lua_pushfstring(L, "%s%s", where, msg);
  return lua_error(L);
}

/* "a, b or c" of keys into out. */
static void list_keys(const char *const *keys, char *out, size_t cap) {
  size_t used = 0;
  size_t i;

  out[0] = '\0';
  for (i = 0; keys[i] != NULL && used < cap; i++) {
    const char *sep = i == 0 ? "" : keys[i + 1] == NULL ? " or " : ", ";
    int n = snprintf(out + used, cap - used, "%s%s", sep, keys[i]);

    if (n < 0)
      break;
    used += (size_t)n;
  }
}

void osc_bind_check_keys(lua_State *L, int idx, const char *fn,
                         const char *const *keys) {
  size_t n_keys = 0;

  if (lua_type(L, idx) != LUA_TTABLE)
    return;
  idx = lua_absindex(L, idx);
  while (keys[n_keys] != NULL)
    n_keys++;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
    const char *hint;
    char expected[512];
    size_t i;

    lua_pop(L, 1);
    for (i = 0; k != NULL && i < n_keys && strcmp(k, keys[i]) != 0; i++)
      ;
    if (k != NULL && i < n_keys)
      continue;
    if (k == NULL)
      osc_bind_raise_at_user(L, "%s: option names must be strings, got %s", fn,
                             luaL_typename(L, -1));
    hint = osc_suggest(k, keys, n_keys);
    list_keys(keys, expected, sizeof(expected));
    if (hint != NULL)
      osc_bind_raise_at_user(L, "%s: unknown option '%s' (did you mean '%s'?)",
                             fn, k, hint);
    if (n_keys == 0)
      osc_bind_raise_at_user(L, "%s: unknown option '%s' (it takes none)", fn,
                             k);
    osc_bind_raise_at_user(L, "%s: unknown option '%s' (expected %s)", fn, k,
                           expected);
  }
}
