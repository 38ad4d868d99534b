#include "core/lua/osc_bind_octopus.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/lua/osc_bind_common.h"
#include "core/osc_collect.h"
#include "core/osc_octopus.h"
#include "core/osc_text.h"
#include "core/osc_time.h"

#define CLIENT_MT "octoscale.OctopusClient"
#define BODY_MAX ((size_t)64 << 20)

static const char outputs_key = 'o';
static const char svcmsg_key = 'm';

struct oc_client {
  bool closed;
};

static struct oc_client *check_client(lua_State *L) {
  struct oc_client *c = luaL_checkudata(L, 1, CLIENT_MT);

  if (c->closed)
    luaL_error(L, "attempt to use a closed Octopus client");
  return c;
}

/* The client's Octopus side (a client exists only when it does). */
static struct osc_octopus *need_octopus(lua_State *L,
                                        struct osc_session **out) {
  const char *why = NULL;
  struct osc_session *s = osc_bind_get_session(L, &why);

  if (s == NULL || osc_session_octopus(s) == NULL)
    luaL_error(L, "Octopus client unavailable: %s",
               s == NULL ? why : "no Octopus URL configured");
  if (out != NULL)
    *out = s;
  return osc_session_octopus(s);
}

/* ---- octopus.client ----------------------------------------------------- */

static int oc_client(lua_State *L) {
  static const char *const no_keys[] = {NULL};
  const char *why = NULL;
  struct osc_session *s = osc_bind_get_session(L, &why);
  struct oc_client *c;

  /* no options: the URL and key come from the configuration */
  osc_bind_check_keys(L, 1, "octopus.client", no_keys);
  if (s == NULL)
    return osc_bind_push_fail(L, NULL, why);
  if (osc_session_octopus(s) == NULL)
    return osc_bind_push_fail(L, NULL,
                              "no Octopus URL configured (octopus.url or "
                              "OCTOPUS_URL)");
  c = lua_newuserdatauv(L, sizeof(*c), 0);
  c->closed = true;
  luaL_setmetatable(L, CLIENT_MT);
  c->closed = false;
  return 1;
}

static int oc_close(lua_State *L) {
  struct oc_client *c = luaL_checkudata(L, 1, CLIENT_MT);

  c->closed = true;
  return 0;
}

static int oc_tostring(lua_State *L) {
  struct oc_client *c = luaL_checkudata(L, 1, CLIENT_MT);

  lua_pushfstring(L, "octoscale.OctopusClient (%s)",
                  c->closed ? "closed" : "open");
  return 1;
}

/* ---- c:targets ------------------------------------------------------------
 */

/* An array of the strings in the table at idx, as a userdata left on the
 * stack (Lua owns it: nothing to free on an error). */
static struct osc_strlist check_strings(lua_State *L, int idx,
                                        const char *field) {
  struct osc_strlist l = {NULL, 0};
  size_t n;
  size_t i;

  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) == LUA_TSTRING) {
    l.items = lua_newuserdatauv(L, sizeof(char *), 0);
    l.items[0] = lua_tostring(L, idx);
    l.n = 1;
    return l;
  }
  if (lua_type(L, idx) != LUA_TTABLE)
    luaL_error(L, "%s: expected a string or an array of strings", field);
  n = lua_rawlen(L, idx);
  l.items = lua_newuserdatauv(L, (n ? n : 1) * sizeof(char *), 0);
  for (i = 0; i < n; i++) {
    if (lua_rawgeti(L, idx, (lua_Integer)i + 1) != LUA_TSTRING)
      luaL_error(L, "%s[%d]: expected a string", field, (int)i + 1);
    l.items[i] = lua_tostring(L, -1); /* the table keeps it alive */
    lua_pop(L, 1);
  }
  l.n = n;
  return l;
}

struct targets_push {
  const struct osc_collect_result *res;
  bool all;
};

static int push_targets_l(lua_State *L) {
  struct targets_push *p = lua_touserdata(L, 1);
  const struct osc_collection *col = &p->res->collection;
  lua_Integer k = 0;
  size_t i;

  lua_createtable(L, (int)col->n_targets, 0);
  for (i = 0; i < col->n_targets; i++) {
    if (!p->all && !osc_scope_contains(&p->res->scope, &col->targets[i]))
      continue;
    osc_bind_push_target(L, &col->targets[i]);
    lua_rawseti(L, -2, ++k);
  }
  return 1;
}

static const char *const target_spec_keys[] = {
    "scale_set", "environment", "roles", "tenant", "all", NULL};

static int oc_targets(lua_State *L) {
  struct osc_session *s = NULL;
  struct osc_config_scale_set tmp;
  const struct osc_config_scale_set *e = NULL;
  struct osc_collect_result res;
  struct osc_error err = OSC_ERROR_INIT;
  struct targets_push p;
  const char *name;
  int status;

  check_client(L);
  need_octopus(L, &s);
  luaL_checktype(L, 2, LUA_TTABLE);
  osc_bind_check_keys(L, 2, "targets", target_spec_keys);
  lua_getfield(L, 2, "all");
  p.all = lua_toboolean(L, -1);
  lua_pop(L, 1);
  lua_getfield(L, 2, "scale_set");
  name = lua_tostring(L, -1);
  lua_pop(L, 1);
  if (name != NULL) {
    e = osc_config_find(osc_session_config(s), name);
    if (e == NULL)
      return osc_bind_raise_at_user(
          L, "targets: no scale set named '%s' in the configuration", name);
  } else {
    memset(&tmp, 0, sizeof(tmp));
    lua_getfield(L, 2, "environment");
    tmp.environment = lua_tostring(L, -1);
    lua_pop(L, 1);
    if (tmp.environment == NULL)
      return luaL_argerror(L, 2,
                           "expected {scale_set = NAME} or {environment = "
                           "NAME, roles = {...}}");
    lua_getfield(L, 2, "tenant");
    tmp.tenant = lua_tostring(L, -1);
    lua_pop(L, 1);
    if (lua_getfield(L, 2, "roles") != LUA_TNIL)
      tmp.roles = check_strings(L, -1, "roles"); /* [.., roles, items] */
    tmp.name = tmp.environment;
    e = &tmp;
  }
  if (osc_collect_parts(s, &e, 1, OSC_COLLECT_OCTOPUS, false, &res, &err) < 0)
    return osc_bind_push_fail(L, NULL, err.msg);
  if (res.error_code != OSC_OK || !res.collection.complete)
    return osc_bind_push_collect_fail(L, &res);
  p.res = &res;
  status = osc_bind_ppush(L, push_targets_l, &p, 1);
  osc_collect_result_free(&res);
  if (status != LUA_OK)
    return lua_error(L);
  return 1;
}

/* ---- delete / disable / enable ---------------------------------------------
 */

static int oc_delete_target(lua_State *L) {
  struct osc_octopus *o;
  struct osc_apierr detail;
  struct osc_error err = OSC_ERROR_INIT;
  const char *id;
  bool gone = false;

  check_client(L);
  o = need_octopus(L, NULL);
  id = osc_bind_check_text(L, 2);
  if (osc_octopus_delete_machine(o, id, &gone, &detail, &err) < 0)
    return osc_bind_push_fail(L, &detail, err.msg);
  lua_pushboolean(L, 1);
  lua_pushboolean(L, gone);
  return 2;
}

static int set_disabled(lua_State *L, bool disabled) {
  struct osc_octopus *o;
  struct osc_apierr detail;
  struct osc_error err = OSC_ERROR_INIT;
  const char *id;
  bool changed = false;

  check_client(L);
  o = need_octopus(L, NULL);
  id = osc_bind_check_text(L, 2);
  if (osc_octopus_set_disabled(o, id, disabled, &changed, &detail, &err) < 0)
    return osc_bind_push_fail(L, &detail, err.msg);
  lua_pushboolean(L, 1);
  lua_pushboolean(L, changed);
  return 2;
}

static int oc_disable_target(lua_State *L) {
  return set_disabled(L, true);
}

static int oc_enable_target(lua_State *L) {
  return set_disabled(L, false);
}

/* ---- c:health_check -------------------------------------------------------
 */

static void push_task(lua_State *L, const struct osc_octopus_task *t) {
  lua_createtable(L, 0, 5);
  lua_pushstring(L, t->id);
  lua_setfield(L, -2, "id");
  lua_pushstring(L, t->state);
  lua_setfield(L, -2, "state");
  lua_pushboolean(L, t->completed);
  lua_setfield(L, -2, "completed");
  lua_pushboolean(L, t->succeeded);
  lua_setfield(L, -2, "succeeded");
  if (t->error_message[0] != '\0') {
    lua_pushstring(L, t->error_message);
    lua_setfield(L, -2, "error_message");
  }
}

static const char *const health_keys[] = {"target_ids", "timeout",     "poll",
                                          "wait",       "environment", NULL};

static int oc_health_check(lua_State *L) {
  struct osc_octopus *o;
  struct osc_octopus_task task;
  struct osc_apierr detail;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_strlist ids;
  const char *env = NULL;
  const char *env_id = NULL;
  long long timeout;
  long long poll;
  bool wait = true;
  int rc;

  check_client(L);
  o = need_octopus(L, NULL);
  luaL_checktype(L, 2, LUA_TTABLE);
  osc_bind_check_keys(L, 2, "health_check", health_keys);
  lua_getfield(L, 2, "target_ids");
  ids = check_strings(L, -1, "target_ids");
  if (ids.n == 0)
    return luaL_argerror(L, 2, "target_ids is empty");
  timeout = osc_bind_duration(L, 2, "timeout", 300);
  poll = osc_bind_duration(L, 2, "poll", 4);
  lua_getfield(L, 2, "wait");
  if (!lua_isnil(L, -1))
    wait = lua_toboolean(L, -1);
  lua_pop(L, 1);
  lua_getfield(L, 2, "environment");
  env = lua_tostring(L, -1); /* kept on the stack */
  osc_apierr_clear(&detail);
  if (env != NULL) {
    rc = osc_octopus_resolve(o, OSC_OCTOPUS_ENVIRONMENT, env, &env_id, &detail,
                             &err);
    if (rc < 0)
      return osc_bind_push_fail(L, &detail, err.msg);
  }
  rc = osc_octopus_health_start(o, env_id, ids.items, ids.n, timeout, &task,
                                &detail, &err);
  if (rc >= 0 && wait)
    rc = osc_octopus_task_wait(o, task.id, (timeout + 60) * 1000,
                               poll > 0 ? poll * 1000 : 1000, &task, &detail,
                               &err);
  if (rc < 0) {
    if (rc == OSC_E_TIMEOUT && detail.code[0] == '\0')
      snprintf(detail.code, sizeof(detail.code), "Timeout");
    return osc_bind_push_fail(L, &detail, err.msg);
  }
  push_task(L, &task);
  return 1;
}

/* ---- c:events / c:request / c:space_id --------------------------------------
 */

struct resp_push {
  long status;
  const char *body;
  size_t len;
  int nresults;
};

static int push_resp_l(lua_State *L) {
  struct resp_push *p = lua_touserdata(L, 1);

  if (p->nresults == 2)
    lua_pushinteger(L, p->status);
  osc_bind_push_json(L, p->body, p->len);
  return p->nresults;
}

/* Sends and pushes [status,] decoded body; nil, err when nothing came
 * back (or, with require_ok, for a non-2xx status). Takes url (malloc'ed)
 * and frees it before anything is pushed. */
static int send_push(lua_State *L, struct osc_octopus *o, const char *method,
                     char *url, const char *body, size_t body_len,
                     const char *what, bool require_ok, int nresults) {
  struct osc_http_response resp;
  struct osc_apierr detail;
  struct osc_error err = OSC_ERROR_INIT;
  struct resp_push p;
  int status;
  int rc;

  osc_http_response_init(&resp, BODY_MAX);
  rc = osc_octopus_send(o, method, url, body, body_len, false, what, &resp,
                        &detail, &err);
  free(url);
  if (rc >= 0 && require_ok && (resp.status < 200 || resp.status > 299))
    rc = osc_octopus_fail(o, what, &resp, NULL, OSC_E_RUNTIME, &detail, &err);
  if (rc < 0) {
    osc_http_response_free(&resp);
    return osc_bind_push_fail(L, &detail, err.msg);
  }
  p.status = resp.status;
  p.body = resp.body.data ? resp.body.data : "";
  p.len = resp.body.len;
  p.nresults = nresults;
  status = osc_bind_ppush(L, push_resp_l, &p, nresults);
  osc_http_response_free(&resp);
  if (status != LUA_OK)
    return lua_error(L);
  return nresults;
}

/* Escapes the string at the top in place (a Lua string: nothing for C to
 * free if this raises). */
static void escape_top(lua_State *L) {
  static const char hex[] = "0123456789ABCDEF";
  size_t n;
  size_t i;
  const char *s = lua_tolstring(L, -1, &n);
  luaL_Buffer b;

  luaL_buffinit(L, &b);
  for (i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];

    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
        (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
        ch == '~' || ch == ',') {
      luaL_addchar(&b, (char)ch);
    } else {
      luaL_addchar(&b, '%');
      luaL_addchar(&b, hex[ch >> 4]);
      luaL_addchar(&b, hex[ch & 15]);
    }
  }
  luaL_pushresult(&b); /* [.., s, escaped] */
  lua_remove(L, -2);
}

/* Appends piece (at the top, popped) to the pieces table at idx. */
static void add_piece(lua_State *L, int idx) {
  lua_rawseti(L, idx, (lua_Integer)lua_rawlen(L, idx) + 1);
}

/* The value at the top as a query value (string, number, boolean, or an
 * array of them comma-joined), escaped, replacing it. */
static void query_value(lua_State *L, const char *key) {
  int t = lua_type(L, -1);

  if (t == LUA_TTABLE) {
    int arr = lua_gettop(L);
    size_t n = lua_rawlen(L, arr);
    size_t i;

    lua_pushliteral(L, ""); /* [.., arr, joined] */
    for (i = 1; i <= n; i++) {
      if (i > 1) {
        lua_pushliteral(L, ",");
        lua_concat(L, 2);
      }
      lua_rawgeti(L, arr, (lua_Integer)i);
      luaL_tolstring(L, -1, NULL);
      lua_remove(L, -2);
      lua_concat(L, 2);
    }
    lua_replace(L, arr);
  } else if (t == LUA_TBOOLEAN) {
    lua_pushstring(L, lua_toboolean(L, -1) ? "true" : "false");
    lua_remove(L, -2);
  } else if (t == LUA_TNUMBER && lua_isinteger(L, -1) &&
             (strcmp(key, "from") == 0 || strcmp(key, "to") == 0)) {
    char when[64]; /* Unix seconds, like every time the API returns */

    osc_time_format_rfc3339((int64_t)lua_tointeger(L, -1), when, sizeof(when));
    lua_pushstring(L, when);
    lua_remove(L, -2);
  } else if (t == LUA_TSTRING || t == LUA_TNUMBER) {
    luaL_tolstring(L, -1, NULL);
    lua_remove(L, -2);
  } else {
    luaL_error(L, "events: %s must be a string, number, boolean or array", key);
  }
  escape_top(L);
}

/* The query parameters Octopus's /api/events link template names. */
static const char *const event_query_keys[] = {"skip",
                                               "take",
                                               "regarding",
                                               "regardingAny",
                                               "user",
                                               "users",
                                               "projects",
                                               "projectGroups",
                                               "environments",
                                               "eventGroups",
                                               "eventCategories",
                                               "eventAgents",
                                               "tags",
                                               "tenants",
                                               "from",
                                               "to",
                                               "internal",
                                               "fromAutoId",
                                               "toAutoId",
                                               "documentTypes",
                                               "ids",
                                               "spaces",
                                               "includeSystem",
                                               "excludeDifference",
                                               NULL};

/* [.., s] -> [.., s'] with PascalCase turned into snake_case
 * ("RelatedDocumentIds" -> "related_document_ids"). */
static void snake_top(lua_State *L) {
  size_t n;
  size_t i;
  const char *s = lua_tolstring(L, -1, &n);
  luaL_Buffer b;

  luaL_buffinit(L, &b);
  for (i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];

    if (ch >= 'A' && ch <= 'Z') {
      if (i > 0 && !(s[i - 1] >= 'A' && s[i - 1] <= 'Z'))
        luaL_addchar(&b, '_');
      ch = (unsigned char)(ch - 'A' + 'a');
    }
    luaL_addchar(&b, (char)ch);
  }
  luaL_pushresult(&b);
  lua_remove(L, -2);
}

/* [.., v] -> [.., v'] an event value with snake_case keys, JSON nulls and
 * Links dropped, and Occurred as Unix seconds. */
static void normalise_value(lua_State *L, int depth) {
  int src;

  if (lua_type(L, -1) != LUA_TTABLE || depth > 16)
    return;
  luaL_checkstack(L, 6, "events nested too deeply");
  src = lua_gettop(L);
  lua_newtable(L); /* [.., src, dst] */
  lua_pushnil(L);
  while (lua_next(L, src) != 0) { /* [.., src, dst, k, v] */
    if (lua_type(L, -1) == LUA_TLIGHTUSERDATA ||
        (lua_type(L, -2) == LUA_TSTRING &&
         strcmp(lua_tostring(L, -2), "Links") == 0)) {
      lua_pop(L, 1);
      continue;
    }
    if (lua_type(L, -2) == LUA_TSTRING &&
        strcmp(lua_tostring(L, -2), "Occurred") == 0 &&
        lua_type(L, -1) == LUA_TSTRING) {
      int64_t t = 0;

      if (osc_time_parse_rfc3339(lua_tostring(L, -1), &t, NULL) == 0) {
        lua_pop(L, 1);
        lua_pushinteger(L, (lua_Integer)t);
      }
    }
    normalise_value(L, depth + 1);
    lua_pushvalue(L, -2); /* [.., k, v, k] */
    if (lua_type(L, -1) == LUA_TSTRING)
      snake_top(L);
    lua_insert(L, -2); /* [.., k, k', v] */
    lua_rawset(L, src + 1);
  }
  lua_remove(L, src);
}

/* [.., page] -> [.., list]: the page's Items, normalised (nil stays). */
static int normalise_events(lua_State *L) {
  if (lua_type(L, -1) != LUA_TTABLE)
    return osc_bind_push_fail(L, NULL,
                              "Octopus events query: the response is not "
                              "an events page");
  lua_getfield(L, -1, "Items");
  lua_remove(L, -2);
  if (lua_type(L, -1) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
  }
  normalise_value(L, 0);
  return 1;
}

static int oc_events(lua_State *L) {
  struct osc_session *s = NULL;
  struct osc_octopus *o;
  struct osc_apierr detail;
  struct osc_error err = OSC_ERROR_INIT;
  const char *space_name;
  const char *space = NULL;
  char *url = NULL;
  size_t n;
  size_t i;

  check_client(L);
  o = need_octopus(L, &s);
  if (!lua_isnoneornil(L, 2))
    luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  osc_bind_check_keys(L, 2, "events", event_query_keys);
  space_name = osc_session_config(s)->octopus.space;
  if (osc_octopus_resolve(o, OSC_OCTOPUS_SPACE,
                          space_name ? space_name : "Default", &space, &detail,
                          &err) < 0)
    return osc_bind_push_fail(L, &detail, err.msg);
  lua_newtable(L); /* [self, opts, pieces] */
  lua_pushfstring(L, "/api/%s/events", space);
  add_piece(L, 3);
  if (lua_istable(L, 2)) {
    lua_pushnil(L);
    while (lua_next(L, 2) != 0) { /* [self, opts, pieces, key, value] */
      const char *key;

      if (lua_type(L, -2) != LUA_TSTRING)
        return luaL_error(L, "events: option names must be strings");
      key = lua_tostring(L, -2);
      lua_pushstring(L, lua_rawlen(L, 3) == 1 ? "?" : "&");
      add_piece(L, 3);
      lua_pushvalue(L, -2);
      escape_top(L);
      add_piece(L, 3);
      lua_pushliteral(L, "=");
      add_piece(L, 3);
      query_value(L, key); /* [.., key, escaped value] */
      add_piece(L, 3);     /* [.., key] */
    }
  }
  n = lua_rawlen(L, 3);
  luaL_checkstack(L, (int)n + 1, "events: too many options");
  for (i = 1; i <= n; i++)
    lua_rawgeti(L, 3, (lua_Integer)i);
  lua_concat(L, (int)n); /* [self, opts, pieces, path] */
  if (osc_octopus_url(o, lua_tostring(L, -1), &url, &err) < 0)
    return luaL_error(L, "events: %s", err.msg);
  if (send_push(L, o, "GET", url, NULL, 0, "Octopus events query", true, 1) ==
      2)
    return 2; /* nil, err */
  return normalise_events(L);
}

static int oc_request(lua_State *L) {
  struct osc_octopus *o;
  struct osc_error err = OSC_ERROR_INIT;
  const char *method;
  const char *path;
  const char *body = NULL;
  size_t body_len = 0;
  char what[256];
  char *url = NULL;

  check_client(L);
  o = need_octopus(L, NULL);
  method = osc_bind_check_method(L, 2);
  path = osc_bind_check_text(L, 3);
  if (osc_bind_body_arg(L, 4))
    body = lua_tolstring(L, -1, &body_len);
  if (osc_octopus_url(o, path, &url, &err) < 0)
    return luaL_argerror(L, 3, err.msg);
  snprintf(what, sizeof(what), "Octopus %s %.200s", method, path);
  return send_push(L, o, method, url, body, body_len, what, false, 2);
}

static int oc_space_id(lua_State *L) {
  struct osc_session *s = NULL;
  struct osc_octopus *o;
  struct osc_apierr detail;
  struct osc_error err = OSC_ERROR_INIT;
  const char *space;
  const char *id = NULL;

  check_client(L);
  o = need_octopus(L, &s);
  space = osc_session_config(s)->octopus.space;
  if (osc_octopus_resolve(o, OSC_OCTOPUS_SPACE, space ? space : "Default", &id,
                          &detail, &err) < 0)
    return osc_bind_push_fail(L, &detail, err.msg);
  lua_pushstring(L, id);
  return 1;
}

/* ---- octopus.set_output
 * ------------------------------------------------------ */

static void add_base64(luaL_Buffer *b, const char *s, size_t n) {
  static const char tbl[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i;

  for (i = 0; i + 2 < n; i += 3) {
    unsigned v = ((unsigned char)s[i] << 16) | ((unsigned char)s[i + 1] << 8) |
                 (unsigned char)s[i + 2];

    luaL_addchar(b, tbl[(v >> 18) & 63]);
    luaL_addchar(b, tbl[(v >> 12) & 63]);
    luaL_addchar(b, tbl[(v >> 6) & 63]);
    luaL_addchar(b, tbl[v & 63]);
  }
  if (n - i == 1) {
    unsigned v = (unsigned char)s[i] << 16;

    luaL_addchar(b, tbl[(v >> 18) & 63]);
    luaL_addchar(b, tbl[(v >> 12) & 63]);
    luaL_addstring(b, "==");
  } else if (n - i == 2) {
    unsigned v = ((unsigned char)s[i] << 16) | ((unsigned char)s[i + 1] << 8);

    luaL_addchar(b, tbl[(v >> 18) & 63]);
    luaL_addchar(b, tbl[(v >> 12) & 63]);
    luaL_addchar(b, tbl[(v >> 6) & 63]);
    luaL_addchar(b, '=');
  }
}

/* [] -> the outputs record {names = {...}, values = {...}}. */
static void push_outputs(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &outputs_key) == LUA_TTABLE)
    return;
  lua_pop(L, 1);
  lua_createtable(L, 0, 2);
  lua_newtable(L);
  lua_setfield(L, -2, "names");
  lua_newtable(L);
  lua_setfield(L, -2, "values");
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &outputs_key);
}

void osc_bind_octopus_service_messages(lua_State *L, bool on) {
  lua_pushboolean(L, on);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &svcmsg_key);
}

static int oc_set_output(lua_State *L) {
  const char *name = osc_bind_check_text(L, 1);
  size_t name_len = lua_rawlen(L, 1);
  const char *value;
  size_t value_len;
  bool svc;

  if (name_len == 0)
    return luaL_argerror(L, 1, "empty output name");
  luaL_checkany(L, 2);
  value = luaL_tolstring(L, 2, &value_len); /* [name, value, str] */
  lua_rawgetp(L, LUA_REGISTRYINDEX, &svcmsg_key);
  svc = lua_toboolean(L, -1);
  lua_pop(L, 1);
  if (svc) {
    luaL_Buffer b;

    luaL_buffinit(L, &b);
    luaL_addstring(&b, "##octopus[setVariable name='");
    add_base64(&b, name, name_len);
    luaL_addstring(&b, "' value='");
    add_base64(&b, value, value_len);
    luaL_addstring(&b, "']\n");
    luaL_pushresult(&b);
    fputs(lua_tostring(L, -1), stdout);
    fflush(stdout);
    return 0;
  }
  push_outputs(L); /* [name, value, str, rec] */
  lua_getfield(L, -1, "values");
  if (lua_getfield(L, -1, name) == LUA_TNIL) {
    lua_getfield(L, -3, "names");
    lua_pushvalue(L, 1);
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  lua_pushvalue(L, 3);
  lua_setfield(L, -2, name);
  return 0;
}

static int print_outputs_l(lua_State *L) {
  FILE *out = lua_touserdata(L, 1);
  size_t n;
  size_t i;

  push_outputs(L); /* [out, rec] */
  lua_getfield(L, -1, "names");
  lua_getfield(L, -2, "values");
  n = lua_rawlen(L, -2);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, -2, (lua_Integer)i);
    lua_pushvalue(L, -1);
    lua_gettable(L, -3); /* [.., name, value] */
    osc_text_line(out, "%s=%s", lua_tostring(L, -2), lua_tostring(L, -1));
    lua_pop(L, 2);
  }
  fflush(out);
  return 0;
}

int osc_bind_octopus_print_outputs(lua_State *L, FILE *out) {
  return osc_bind_ppush(L, print_outputs_l, out, 0);
}

static const luaL_Reg client_methods[] = {
    {"targets", oc_targets},
    {"delete_target", oc_delete_target},
    {"disable_target", oc_disable_target},
    {"enable_target", oc_enable_target},
    {"health_check", oc_health_check},
    {"events", oc_events},
    {"request", oc_request},
    {"space_id", oc_space_id},
    {"close", oc_close},
    {NULL, NULL},
};

static const luaL_Reg client_meta[] = {
    {"__index", NULL},           {"__gc", oc_close}, {"__close", oc_close},
    {"__tostring", oc_tostring}, {NULL, NULL},
};

static const luaL_Reg octopus_funcs[] = {
    {"client", oc_client},
    {"set_output", oc_set_output},
    {NULL, NULL},
};

int luaopen_osc_octopus(lua_State *L) {
  if (luaL_newmetatable(L, CLIENT_MT)) {
    luaL_setfuncs(L, client_meta, 0);
    luaL_newlibtable(L, client_methods);
    luaL_setfuncs(L, client_methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
  }
  lua_pop(L, 1);
  luaL_newlib(L, octopus_funcs);
  return 1;
}
