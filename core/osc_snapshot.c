#include "core/osc_snapshot.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/osc_buf.h"
#include "core/osc_json.h"
#include "core/osc_parse.h"

#define SNAPSHOT_MAX (1024u * 1024u * 1024u) /* 1 GiB of JSON at most */

struct osc_snapshot {
  lua_State *L; /* index 1: the decoded document */
  char *path;
};

int osc_snapshot_load(const char *path, struct osc_snapshot **out,
                      struct osc_error *err) {
  struct osc_snapshot *snap = NULL;
  struct osc_buf buf;
  int64_t version = 0;
  int rc;

  *out = NULL;
  osc_buf_init(&buf, SNAPSHOT_MAX);
  snap = calloc(1, sizeof(*snap));
  if (snap == NULL) {
    rc = osc_error_set(err, OSC_E_NOMEM, "out of memory");
    goto done;
  }
  snap->path = strdup(path);
  rc = snap->path ? osc_json_state_new(&snap->L, err)
                  : osc_error_set(err, OSC_E_NOMEM, "out of memory");
  if (rc < 0)
    goto done;
  /* This state only holds the decoded document, which stays live until
   * osc_snapshot_free: a collector running while lua-cjson builds tens of
   * MB of tables would only re-mark them (a quarter of the decode time for
   * a 10,000-VM snapshot). lua_close frees everything. */
  lua_gc(snap->L, LUA_GCSTOP);
  rc = osc_buf_read_file(&buf, path, err);
  if (rc < 0) {
    rc =
        osc_error_set(err, OSC_E_RUNTIME, "cannot read snapshot: %s", err->msg);
    goto done;
  }
  rc = osc_json_decode(snap->L, buf.data, buf.len, path, err);
  if (rc < 0) {
    err->code = rc = OSC_E_USAGE;
    goto done;
  }
  if (lua_type(snap->L, 1) != LUA_TTABLE ||
      !osc_json_path_int(snap->L, 1, "format_version", &version)) {
    rc = osc_error_set(err, OSC_E_USAGE,
                       "%s: not an octoscale snapshot (no format_version)",
                       path);
    goto done;
  }
  if (version != 1) {
    rc = osc_error_set(err, OSC_E_USAGE,
                       "%s: unsupported snapshot format_version %lld "
                       "(this octoscale reads 1)",
                       path, (long long)version);
    goto done;
  }
  if (osc_json_push_path(snap->L, 1, "scale_sets") != LUA_TTABLE) {
    lua_pop(snap->L, 1);
    rc = osc_error_set(err, OSC_E_USAGE, "%s: scale_sets must be an array",
                       path);
    goto done;
  }
  lua_pop(snap->L, 1);
  *out = snap;
  snap = NULL;
done:
  osc_buf_free(&buf);
  osc_snapshot_free(snap);
  return rc;
}

/* Pushes the scale_sets[] element named `name` (case-insensitive). */
static bool push_entry(lua_State *L, const char *name) {
  size_t n;
  size_t i;

  osc_json_push_path(L, 1, "scale_sets");
  n = lua_rawlen(L, -1);
  for (i = 1; i <= n; i++) {
    const char *entry_name;

    lua_rawgeti(L, -1, (lua_Integer)i);
    entry_name = osc_json_string(L, -1, "name");
    if (entry_name && strcasecmp(entry_name, name) == 0) {
      lua_remove(L, -2);
      return true;
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return false;
}

static bool has_prefix_ci(const char *s, const char *prefix) {
  return s && strncasecmp(s, prefix, strlen(prefix)) == 0;
}

int osc_snapshot_collect(struct osc_snapshot *snap,
                         const struct osc_config_scale_set *entry,
                         struct osc_collection *c, struct osc_scope *scope,
                         struct osc_error *err) {
  lua_State *L = snap->L;
  int top = lua_gettop(L);
  const char *incomplete;
  const char *env_id;
  const char *tenant_id;
  int entry_idx;
  int rc = OSC_OK;

  memset(scope, 0, sizeof(*scope));
  if (!push_entry(L, entry->name)) {
    rc = osc_error_set(err, OSC_E_RUNTIME,
                       "snapshot %s has no scale set named '%s'", snap->path,
                       entry->name);
    goto done;
  }
  entry_idx = lua_gettop(L);

  /* Scope: ids from the config when it names ids, else from the snapshot;
   * without either, the snapshot's targets are taken as the environment's
   * (the contract says they are). */
  env_id = has_prefix_ci(entry->environment, "Environments-")
               ? entry->environment
               : osc_json_string(L, entry_idx, "environment_id");
  scope->environment_id = osc_arena_strdup(&c->arena, env_id);
  scope->roles = entry->roles;
  if (entry->tenant != NULL) {
    tenant_id = has_prefix_ci(entry->tenant, "Tenants-")
                    ? entry->tenant
                    : osc_json_string(L, entry_idx, "tenant_id");
    if (tenant_id == NULL) {
      rc = osc_error_set(err, OSC_E_RUNTIME,
                         "tenant '%s' of scale set '%s' cannot be resolved "
                         "offline: the snapshot has no tenant_id",
                         entry->tenant, entry->name);
      goto done;
    }
    scope->tenant_id = osc_arena_strdup(&c->arena, tenant_id);
  }

  lua_getfield(L, entry_idx, "vmss");
  if (lua_type(L, -1) == LUA_TTABLE) {
    rc = osc_parse_vmss(L, -1, c, err);
    if (rc < 0)
      goto bad_body;
  } else {
    osc_collection_mark_incomplete(c, "the snapshot has no VMSS body");
  }
  lua_pop(L, 1);

  lua_getfield(L, entry_idx, "instances");
  if (lua_type(L, -1) == LUA_TTABLE) {
    rc = osc_parse_vms(L, -1, c, err);
    if (rc < 0)
      goto bad_body;
  } else {
    osc_collection_mark_incomplete(c, "the snapshot has no instances list");
  }
  lua_pop(L, 1);

  lua_getfield(L, entry_idx, "nics");
  if (lua_type(L, -1) == LUA_TTABLE) {
    rc = osc_parse_nics(L, -1, c, err);
    if (rc < 0)
      goto bad_body;
  }
  lua_pop(L, 1);

  lua_getfield(L, entry_idx, "targets");
  if (lua_type(L, -1) == LUA_TTABLE) {
    rc = osc_parse_targets(L, -1, c, err);
    if (rc < 0)
      goto bad_body;
  } else {
    osc_collection_mark_incomplete(c, "the snapshot has no targets list");
  }
  lua_pop(L, 1);

  incomplete = osc_json_string(L, entry_idx, "incomplete");
  if (incomplete != NULL)
    osc_collection_mark_incomplete(c, incomplete);
  goto done;

bad_body:
  if (rc != OSC_E_NOMEM)
    rc = osc_error_prefix(err, "snapshot %s, scale set '%s'", snap->path,
                          entry->name);
  if (err && rc != OSC_E_NOMEM)
    err->code = rc = OSC_E_USAGE;
done:
  lua_settop(L, top);
  return rc;
}

void osc_snapshot_free(struct osc_snapshot *snap) {
  if (snap == NULL)
    return;
  if (snap->L != NULL)
    lua_close(snap->L);
  free(snap->path);
  free(snap);
}
