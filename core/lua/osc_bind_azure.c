#include "core/lua/osc_bind_azure.h"

#include <lauxlib.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/osc_azure.h"
#include "core/lua/osc_bind_common.h"
#include "core/osc_collect.h"
#include "core/osc_parse.h"

#define CLIENT_MT "octoscale.AzureClient"
#define BODY_MAX ((size_t)64 << 20)

struct az_client {
  bool closed;
  char subscription[256]; /* "" : the configuration's */
};

static struct az_client *check_client(lua_State *L) {
  struct az_client *c = luaL_checkudata(L, 1, CLIENT_MT);

  if (c->closed)
    luaL_error(L, "attempt to use a closed Azure client");
  return c;
}

static struct osc_session *need_session(lua_State *L) {
  const char *why = NULL;
  struct osc_session *s = osc_bind_get_session(L, &why);

  if (s == NULL)
    luaL_error(L, "Azure client unavailable: %s", why);
  return s;
}

/* Reads the scale set argument at idx: {scale_set = NAME} (a config entry)
 * or {resource_group =, vmss =, subscription =}. Strings stay owned by the
 * argument table, which stays on the stack. */
static const char *const spec_keys[] = {"scale_set", "resource_group", "vmss",
                                        "subscription", NULL};
static const char *const capacity_keys[] = {
    "scale_set", "resource_group", "vmss", "subscription", "capacity", NULL};

static const struct osc_config_scale_set *
check_spec(lua_State *L, int idx, struct az_client *c, struct osc_session *s,
           struct osc_config_scale_set *tmp, const char *fn,
           const char *const *keys) {
  const struct osc_config *cfg = osc_session_config(s);
  const char *name;

  luaL_checktype(L, idx, LUA_TTABLE);
  osc_bind_check_keys(L, idx, fn, keys);
  lua_getfield(L, idx, "scale_set");
  name = lua_tostring(L, -1);
  lua_pop(L, 1);
  if (name != NULL) {
    const struct osc_config_scale_set *e = osc_config_find(cfg, name);

    if (e == NULL)
      osc_bind_raise_at_user(
          L, "%s: no scale set named '%s' in the configuration", fn, name);
    return e;
  }
  memset(tmp, 0, sizeof(*tmp));
  lua_getfield(L, idx, "resource_group");
  tmp->resource_group = lua_tostring(L, -1);
  lua_getfield(L, idx, "vmss");
  tmp->vmss = lua_tostring(L, -1);
  lua_getfield(L, idx, "subscription");
  tmp->subscription = lua_tostring(L, -1);
  lua_pop(L, 3);
  if (tmp->resource_group == NULL || tmp->vmss == NULL)
    luaL_argerror(L, idx,
                  "expected {scale_set = NAME} or {resource_group = RG, "
                  "vmss = NAME}");
  if (tmp->subscription == NULL && c->subscription[0] != '\0')
    tmp->subscription = c->subscription;
  tmp->name = tmp->vmss;
  return tmp;
}

/* ---- azure.client ------------------------------------------------------ */

static const char *const client_keys[] = {"subscription", NULL};

static int az_client(lua_State *L) {
  const char *why = NULL;
  const char *sub = NULL;
  struct az_client *c;

  if (!lua_isnoneornil(L, 1)) {
    luaL_checktype(L, 1, LUA_TTABLE);
    osc_bind_check_keys(L, 1, "azure.client", client_keys);
    lua_getfield(L, 1, "subscription");
    sub = lua_tostring(L, -1);
    lua_pop(L, 1);
    if (sub != NULL && strlen(sub) >= sizeof(c->subscription))
      luaL_argerror(L, 1, "subscription too long");
  }
  if (osc_bind_get_session(L, &why) == NULL)
    return osc_bind_push_fail(L, NULL, why);
  c = lua_newuserdatauv(L, sizeof(*c), 0);
  c->closed = true; /* created closed, then opened (liolib) */
  c->subscription[0] = '\0';
  luaL_setmetatable(L, CLIENT_MT);
  if (sub != NULL)
    snprintf(c->subscription, sizeof(c->subscription), "%s", sub);
  c->closed = false;
  return 1;
}

static int az_close(lua_State *L) {
  struct az_client *c = luaL_checkudata(L, 1, CLIENT_MT);

  c->closed = true; /* nothing else to release: the session is shared */
  return 0;
}

static int az_tostring(lua_State *L) {
  struct az_client *c = luaL_checkudata(L, 1, CLIENT_MT);

  lua_pushfstring(L, "octoscale.AzureClient (%s)",
                  c->closed ? "closed" : "open");
  return 1;
}

/* ---- c:scale_set --------------------------------------------------------- */

struct vmss_push {
  const char *body;
  size_t len;
  struct osc_collection col; /* freed by the caller */
  struct osc_error err;
  int rc;
};

/* The model read by osc_parse_vmss_body (p->rc) and the decoded body. */
static int push_vmss_l(lua_State *L) {
  struct vmss_push *p = lua_touserdata(L, 1);
  const struct osc_vmss *v = &p->col.vmss;
  int body;

  if (p->rc < 0) {
    lua_pushnil(L); /* the caller returns nil, err */
    return 1;
  }
  osc_bind_push_json(L, p->body, p->len); /* [body] */
  body = lua_gettop(L);
  lua_createtable(L, 0, 8);
  if (v->id) {
    lua_pushstring(L, v->id);
    lua_setfield(L, -2, "id");
  }
  if (v->name) {
    lua_pushstring(L, v->name);
    lua_setfield(L, -2, "name");
  }
  lua_pushstring(L, v->mode == OSC_FLEXIBLE ? "Flexible" : "Uniform");
  lua_setfield(L, -2, "mode");
  if (v->provisioning_state) {
    lua_pushstring(L, osc_bind_state_name(v->provisioning_state));
    lua_setfield(L, -2, "provisioning_state");
  }
  if (v->capacity >= 0) {
    lua_pushinteger(L, (lua_Integer)v->capacity);
    lua_setfield(L, -2, "capacity");
  }
  lua_pushboolean(L, v->overprovision);
  lua_setfield(L, -2, "overprovision");
  if (v->computer_name_prefix) {
    lua_pushstring(L, v->computer_name_prefix);
    lua_setfield(L, -2, "computer_name_prefix");
  }
  lua_pushvalue(L, body);
  lua_setfield(L, -2, "body");
  return 1;
}

static int az_scale_set(lua_State *L) {
  struct az_client *c = check_client(L);
  struct osc_session *s = need_session(L);
  struct osc_azure *az = osc_session_azure(s);
  struct osc_config_scale_set tmp;
  const struct osc_config_scale_set *e =
      check_spec(L, 2, c, s, &tmp, "scale_set", spec_keys);
  struct osc_http_response resp;
  struct osc_apierr detail;
  struct osc_error err = OSC_ERROR_INIT;
  struct vmss_push p;
  char what[600];
  char *url = NULL;
  int status;
  int rc;

  osc_apierr_clear(&detail);
  snprintf(what, sizeof(what), "Azure VMSS GET %s/%s", e->resource_group,
           e->vmss);
  osc_http_response_init(&resp, BODY_MAX);
  rc = osc_azure_vmss_url(az, e->subscription, e->resource_group, e->vmss, &url,
                          &err);
  if (rc >= 0)
    rc =
        osc_azure_send(az, "GET", url, NULL, false, what, &resp, &detail, &err);
  if (rc >= 0 && resp.status != 200)
    rc = osc_azure_fail(az, what, &resp, NULL, &detail, &err);
  free(url);
  if (rc < 0) {
    osc_http_response_free(&resp);
    return osc_bind_push_fail(L, &detail, err.msg);
  }
  memset(&p, 0, sizeof(p));
  p.body = resp.body.data ? resp.body.data : "";
  p.len = resp.body.len;
  osc_collection_init(&p.col, e->name);
  p.rc = osc_parse_vmss_body(p.body, p.len, &p.col, &p.err);
  status = osc_bind_ppush(L, push_vmss_l, &p, 1);
  osc_collection_free(&p.col);
  osc_http_response_free(&resp);
  if (status != LUA_OK)
    return lua_error(L);
  if (p.rc < 0) {
    lua_pop(L, 1);
    osc_error_prefix(&p.err, "%s", what);
    return osc_bind_push_fail(L, NULL, p.err.msg);
  }
  return 1;
}

/* ---- c:instances --------------------------------------------------------- */

static int push_vms_l(lua_State *L) {
  const struct osc_collection *col = lua_touserdata(L, 1);
  size_t i;

  lua_createtable(L, (int)col->n_vms, 0);
  for (i = 0; i < col->n_vms; i++) {
    osc_bind_push_vm(L, &col->vms[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

static int az_instances(lua_State *L) {
  struct az_client *c = check_client(L);
  struct osc_session *s = need_session(L);
  struct osc_config_scale_set tmp;
  const struct osc_config_scale_set *e =
      check_spec(L, 2, c, s, &tmp, "instances", spec_keys);
  struct osc_collect_result res;
  struct osc_error err = OSC_ERROR_INIT;
  int status;

  if (osc_collect_parts(s, &e, 1, OSC_COLLECT_AZURE, false, &res, &err) < 0)
    return osc_bind_push_fail(L, NULL, err.msg);
  if (res.error_code != OSC_OK || !res.collection.complete)
    return osc_bind_push_collect_fail(L, &res);
  status = osc_bind_ppush(L, push_vms_l, &res.collection, 1);
  osc_collect_result_free(&res);
  if (status != LUA_OK)
    return lua_error(L);
  return 1;
}

/* ---- c:set_capacity ------------------------------------------------------ */

static int az_set_capacity(lua_State *L) {
  struct az_client *c = check_client(L);
  struct osc_session *s = need_session(L);
  struct osc_config_scale_set tmp;
  const struct osc_config_scale_set *e =
      check_spec(L, 2, c, s, &tmp, "set_capacity", capacity_keys);
  struct osc_apierr detail;
  struct osc_error err = OSC_ERROR_INIT;
  lua_Integer capacity;
  int isnum = 0;

  lua_getfield(L, 2, "capacity");
  capacity = lua_tointegerx(L, -1, &isnum);
  lua_pop(L, 1);
  if (!isnum || capacity < 0)
    return luaL_argerror(L, 2, "capacity must be a non-negative integer");
  if (osc_azure_set_capacity(osc_session_azure(s), e->subscription,
                             e->resource_group, e->vmss, (int64_t)capacity,
                             &detail, &err) < 0)
    return osc_bind_push_fail(L, &detail, err.msg);
  lua_pushboolean(L, 1);
  return 1;
}

/* ---- c:request ----------------------------------------------------------- */

struct resp_push {
  long status;
  const char *body;
  size_t len;
};

static int push_resp_l(lua_State *L) {
  struct resp_push *p = lua_touserdata(L, 1);

  lua_pushinteger(L, p->status);
  osc_bind_push_json(L, p->body, p->len);
  return 2;
}

static int az_request(lua_State *L) {
  struct osc_session *s;
  const char *method;
  const char *path;
  const char *body = NULL;
  struct osc_http_response resp;
  struct osc_apierr detail;
  struct osc_error err = OSC_ERROR_INIT;
  struct resp_push p;
  char what[256];
  char *url = NULL;
  int status;
  int rc;

  check_client(L);
  s = need_session(L);
  method = osc_bind_check_method(L, 2);
  path = osc_bind_check_text(L, 3);
  if (osc_bind_body_arg(L, 4))
    body = lua_tostring(L, -1); /* stays on the stack */
  rc = osc_azure_url(osc_session_azure(s), path, &url, &err);
  if (rc < 0)
    return luaL_argerror(L, 3, err.msg);
  snprintf(what, sizeof(what), "Azure %s %.200s", method, path);
  osc_http_response_init(&resp, BODY_MAX);
  rc = osc_azure_send(osc_session_azure(s), method, url, body, false, what,
                      &resp, &detail, &err);
  free(url);
  if (rc < 0) {
    osc_http_response_free(&resp);
    return osc_bind_push_fail(L, &detail, err.msg);
  }
  p.status = resp.status;
  p.body = resp.body.data ? resp.body.data : "";
  p.len = resp.body.len;
  status = osc_bind_ppush(L, push_resp_l, &p, 2);
  osc_http_response_free(&resp);
  if (status != LUA_OK)
    return lua_error(L);
  return 2;
}

static const luaL_Reg client_methods[] = {
    {"scale_set", az_scale_set},
    {"instances", az_instances},
    {"set_capacity", az_set_capacity},
    {"request", az_request},
    {"close", az_close},
    {NULL, NULL},
};

static const luaL_Reg client_meta[] = {
    {"__index", NULL}, /* placeholder */
    {"__gc", az_close},          {"__close", az_close},
    {"__tostring", az_tostring}, {NULL, NULL},
};

static const luaL_Reg azure_funcs[] = {
    {"client", az_client},
    {NULL, NULL},
};

int luaopen_osc_azure(lua_State *L) {
  if (luaL_newmetatable(L, CLIENT_MT)) { /* [mt] */
    luaL_setfuncs(L, client_meta, 0);
    luaL_newlibtable(L, client_methods); /* [mt, methods] */
    luaL_setfuncs(L, client_methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable"); /* scripts cannot swap it */
  }
  lua_pop(L, 1);
  luaL_newlib(L, azure_funcs); /* [azure] */
  return 1;
}
