#include "core/lua/osc_bind_reconcile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "core/lua/osc_bind_common.h"
#include "core/osc_model.h"
#include "core/lua/osc_policy.h"
#include "core/lua/osc_sandbox.h"
#include "core/osc_time.h"

static const char live_key = 'L';

/* A Plan userdata. While reconcile.plan builds, it also owns the input
 * (collection, scope, orphan list) so a raise at any point frees them. */
struct plan_ud {
  struct osc_plan *plan;
  bool closed;
  bool what_if; /* live, with a policy other than the configured one */
  bool have_input;
  struct osc_collection col;
  struct osc_arena scratch; /* scope, orphans */
  /* offline: kept with col until plan:vms()/targets() first asks (or the
   * plan is freed), so a plan nobody asks pays nothing for them */
  struct osc_scope scope;
};

static void free_input(struct plan_ud *u) {
  if (u->have_input) {
    osc_collection_free(&u->col);
    osc_arena_free(&u->scratch);
    u->have_input = false;
  }
}

static int plan_gc(lua_State *L) {
  struct plan_ud *u = luaL_checkudata(L, 1, OSC_PLAN_METATABLE);

  free_input(u);
  osc_plan_free(u->plan);
  u->plan = NULL;
  u->closed = true;
  return 0;
}

#define bad_arg(L, ...)                                                        \
  osc_bind_raise_at_user(L, "bad argument #1 to 'reconcile.plan' "             \
                            "(" __VA_ARGS__)

/* --- reading the argument tables ----------------------------------- */

struct reader {
  lua_State *L;
  struct osc_arena *arena;
  char path[256]; /* "instances[3]" for messages */
};

static const char *copy_str(struct reader *r, const char *s) {
  const char *c = osc_arena_strdup(r->arena, s);

  if (c == NULL)
    luaL_error(r->L, "not enough memory");
  return c;
}

/* Field `key` of the table at -1 as a string (numbers accepted) or NULL. */
static const char *opt_str(struct reader *r, const char *key) {
  lua_State *L = r->L;
  const char *s = NULL;
  int t = lua_getfield(L, -1, key);

  if (t == LUA_TSTRING || t == LUA_TNUMBER)
    s = copy_str(r, lua_tostring(L, -1));
  else if (t != LUA_TNIL)
    bad_arg(L, "%s.%s: expected a string, got %s)", r->path, key,
            luaL_typename(L, -1));
  lua_pop(L, 1);
  return s;
}

static bool opt_bool(struct reader *r, const char *key, bool def) {
  lua_State *L = r->L;
  bool v = def;
  int t = lua_getfield(L, -1, key);

  if (t == LUA_TBOOLEAN)
    v = lua_toboolean(L, -1);
  else if (t != LUA_TNIL)
    bad_arg(L, "%s.%s: expected a boolean, got %s)", r->path, key,
            luaL_typename(L, -1));
  lua_pop(L, 1);
  return v;
}

static int64_t opt_int(struct reader *r, const char *key, int64_t def) {
  lua_State *L = r->L;
  int64_t v = def;
  int t = lua_getfield(L, -1, key);
  int isint = 0;

  if (t == LUA_TNUMBER) {
    /* an integral float converts; 1.5 or 1e30 is refused, never cast */
    v = (int64_t)lua_tointegerx(L, -1, &isint);
    if (!isint)
      bad_arg(L, "%s.%s: expected an integer, got %s)", r->path, key,
              lua_tostring(L, -1));
  } else if (t != LUA_TNIL)
    bad_arg(L, "%s.%s: expected a number, got %s)", r->path, key,
            luaL_typename(L, -1));
  lua_pop(L, 1);
  return v;
}

/* Field `key` (an array of strings) of the table at -1. */
static void opt_strlist(struct reader *r, const char *key,
                        struct osc_strlist *out) {
  lua_State *L = r->L;
  int t = lua_getfield(L, -1, key);
  lua_Integer n;
  lua_Integer i;

  out->items = NULL;
  out->n = 0;
  if (t == LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  if (t == LUA_TSTRING) { /* a single name */
    n = 1;
    out->items = osc_arena_alloc(r->arena, sizeof(*out->items));
    if (out->items == NULL)
      luaL_error(L, "not enough memory");
    out->items[0] = copy_str(r, lua_tostring(L, -1));
    out->n = 1;
    lua_pop(L, 1);
    return;
  }
  if (t != LUA_TTABLE)
    bad_arg(L, "%s.%s: expected an array of strings, got %s)", r->path, key,
            luaL_typename(L, -1));
  n = (lua_Integer)luaL_len(L, -1);
  if (n > 0) {
    out->items = osc_arena_alloc(r->arena, sizeof(*out->items) * (size_t)n);
    if (out->items == NULL)
      luaL_error(L, "not enough memory");
  }
  for (i = 1; i <= n; i++) {
    int et = lua_geti(L, -1, i);

    if (et != LUA_TSTRING && et != LUA_TNUMBER)
      bad_arg(L, "%s.%s[%d]: expected a string, got %s)", r->path, key, (int)i,
              luaL_typename(L, -1));
    out->items[i - 1] = copy_str(r, lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  out->n = (size_t)n;
  lua_pop(L, 1);
}

static void read_tags(struct reader *r, struct osc_vm *vm) {
  lua_State *L = r->L;
  size_t n = 0;
  size_t i = 0;
  int t = lua_getfield(L, -1, "tags");

  if (t == LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  if (t != LUA_TTABLE)
    bad_arg(L, "%s.tags: expected a table, got %s)", r->path,
            luaL_typename(L, -1));
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    n++;
    lua_pop(L, 1);
  }
  if (n == 0) {
    lua_pop(L, 1);
    return;
  }
  vm->tags = osc_arena_alloc(r->arena, sizeof(*vm->tags) * n);
  if (vm->tags == NULL)
    luaL_error(L, "not enough memory");
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) { /* [tags, key, value] */
    if (i == n) {                /* the table grew under us (a metamethod) */
      lua_pop(L, 2);
      break;
    }
    if (lua_type(L, -2) != LUA_TSTRING ||
        (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER))
      bad_arg(L, "%s.tags: expected string keys and values)", r->path);
    vm->tags[i].key = copy_str(r, lua_tostring(L, -2));
    lua_pushvalue(L, -1);
    vm->tags[i].value = copy_str(r, lua_tostring(L, -1));
    lua_pop(L, 2);
    i++;
  }
  vm->n_tags = i;
  lua_pop(L, 1);
}

static void read_vm(struct reader *r, struct osc_vm *vm) {
  lua_State *L = r->L;

  memset(vm, 0, sizeof(*vm));
  vm->id = opt_str(r, "id");
  vm->name = opt_str(r, "name");
  vm->instance_id = opt_str(r, "instance_id");
  vm->computer_name = opt_str(r, "computer_name");
  vm->vm_id = opt_str(r, "vm_id");
  vm->provisioning_state = opt_str(r, "provisioning_state");
  if (vm->provisioning_state == NULL)
    vm->provisioning_state = "Succeeded";
  vm->state = osc_vm_state_parse(vm->provisioning_state);
  vm->power_state = opt_str(r, "power_state");
  opt_strlist(r, "private_ips", &vm->private_ips);
  vm->created_at = opt_int(r, "created_at", 0);
  vm->zone = opt_str(r, "zone");
  read_tags(r, vm);
  vm->scale_set = opt_str(r, "scale_set");
  if (vm->name == NULL)
    vm->name = vm->computer_name != NULL ? vm->computer_name : vm->id;
  if (vm->id == NULL)
    vm->id = vm->name;
  if (vm->id == NULL)
    bad_arg(L, "%s: a VM needs an id, a name or a computer_name)", r->path);
  if (vm->instance_id == NULL)
    vm->instance_id = vm->name;
}

static enum osc_comm_style comm_style_parse(const char *s) {
  if (s == NULL)
    return OSC_COMM_LISTENING;
  if (strcmp(s, "listening") == 0 || strcmp(s, "TentaclePassive") == 0)
    return OSC_COMM_LISTENING;
  if (strcmp(s, "polling") == 0 || strcmp(s, "TentacleActive") == 0)
    return OSC_COMM_POLLING;
  return OSC_COMM_OTHER;
}

static void read_target(struct reader *r, struct osc_target *t) {
  lua_State *L = r->L;
  const char *style;

  memset(t, 0, sizeof(*t));
  t->id = opt_str(r, "id");
  t->name = opt_str(r, "name");
  if (t->id == NULL || t->name == NULL)
    bad_arg(L, "%s: a target needs an id and a name)", r->path);
  opt_strlist(r, "roles", &t->roles);
  opt_strlist(r, "environment_ids", &t->environment_ids);
  opt_strlist(r, "tenant_ids", &t->tenant_ids);
  t->health = opt_str(r, "health");
  t->disabled = opt_bool(r, "disabled", false);
  style = opt_str(r, "comm_style");
  t->comm_style = comm_style_parse(style);
  t->comm_style_raw = opt_str(r, "comm_style_raw");
  if (t->comm_style_raw == NULL)
    t->comm_style_raw = t->comm_style == OSC_COMM_POLLING ? "TentacleActive"
                        : t->comm_style == OSC_COMM_LISTENING
                            ? "TentaclePassive"
                            : style;
  t->uri = opt_str(r, "uri");
  t->thumbprint = opt_str(r, "thumbprint");
}

/* Array field `key` of the args table (at index 1) -> count; pushes it. */
static size_t push_array(lua_State *L, const char *key) {
  int t = lua_getfield(L, 1, key);

  if (t == LUA_TNIL) {
    lua_pop(L, 1);
    lua_newtable(L);
    return 0;
  }
  if (t != LUA_TTABLE)
    bad_arg(L, "%s: expected an array, got %s)", key, luaL_typename(L, -1));
  return (size_t)luaL_len(L, -1);
}

static void read_collection(lua_State *L, struct plan_ud *u) {
  struct reader r;
  size_t n;
  size_t i;

  r.L = L;
  r.arena = &u->col.arena;
  n = push_array(L, "instances"); /* [args, ud, instances] */
  if (n > 0) {
    u->col.vms = osc_arena_alloc(&u->col.arena, sizeof(*u->col.vms) * n);
    if (u->col.vms == NULL)
      luaL_error(L, "not enough memory");
  }
  for (i = 0; i < n; i++) {
    snprintf(r.path, sizeof(r.path), "instances[%zu]", i + 1);
    if (lua_geti(L, -1, (lua_Integer)i + 1) != LUA_TTABLE)
      bad_arg(L, "%s: expected a VM table, got %s)", r.path,
              luaL_typename(L, -1));
    read_vm(&r, &u->col.vms[i]);
    u->col.n_vms = i + 1;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  n = push_array(L, "targets");
  if (n > 0) {
    u->col.targets =
        osc_arena_alloc(&u->col.arena, sizeof(*u->col.targets) * n);
    if (u->col.targets == NULL)
      luaL_error(L, "not enough memory");
  }
  for (i = 0; i < n; i++) {
    snprintf(r.path, sizeof(r.path), "targets[%zu]", i + 1);
    if (lua_geti(L, -1, (lua_Integer)i + 1) != LUA_TTABLE)
      bad_arg(L, "%s: expected a target table, got %s)", r.path,
              luaL_typename(L, -1));
    read_target(&r, &u->col.targets[i]);
    u->col.n_targets = i + 1;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

/* args.state[field] = {[target_id] = unix seconds} -> (id, time) pairs in
 * the scratch arena (orphaned_since, disabled_since). */
static void read_times(lua_State *L, struct plan_ud *u, const char *field,
                       struct osc_orphan_entry **out, size_t *n_out) {
  size_t n = 0;
  size_t i = 0;

  *out = NULL;
  *n_out = 0;
  if (lua_getfield(L, 1, "state") == LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  if (lua_type(L, -1) != LUA_TTABLE)
    bad_arg(L, "state: expected a table, got %s)", luaL_typename(L, -1));
  if (lua_getfield(L, -1, field) == LUA_TNIL) {
    lua_pop(L, 2);
    return;
  }
  if (lua_type(L, -1) != LUA_TTABLE)
    bad_arg(L, "state.%s: expected a table, got %s)", field,
            luaL_typename(L, -1));
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    n++;
    lua_pop(L, 1);
  }
  if (n > 0) {
    *out = osc_arena_alloc(&u->scratch, sizeof(**out) * n);
    if (*out == NULL)
      luaL_error(L, "not enough memory");
  }
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) { /* [state, os, key, value] */
    if (i == n) {
      lua_pop(L, 2);
      break;
    }
    if (lua_type(L, -2) != LUA_TSTRING || !lua_isinteger(L, -1))
      bad_arg(L, "state.%s: expected {[target_id] = unix seconds})", field);
    (*out)[i].target_id = osc_arena_strdup(&u->scratch, lua_tostring(L, -2));
    if ((*out)[i].target_id == NULL)
      luaL_error(L, "not enough memory");
    (*out)[i].since = (int64_t)lua_tointeger(L, -1);
    lua_pop(L, 1);
    i++;
  }
  *n_out = i;
  lua_pop(L, 2);
}

static void read_scope(lua_State *L, struct plan_ud *u,
                       struct osc_scope *scope) {
  struct reader r;

  r.L = L;
  r.arena = &u->scratch;
  memset(scope, 0, sizeof(*scope));
  /* Defaults from a scale_set table (the config entry's shape). */
  if (lua_getfield(L, 1, "scale_set") == LUA_TTABLE) {
    snprintf(r.path, sizeof(r.path), "scale_set");
    scope->environment_id = opt_str(&r, "environment");
    opt_strlist(&r, "roles", &scope->roles);
    scope->tenant_id = opt_str(&r, "tenant");
  }
  lua_pop(L, 1);
  if (lua_getfield(L, 1, "scope") == LUA_TTABLE) {
    const char *env;
    const char *tenant;

    snprintf(r.path, sizeof(r.path), "scope");
    env = opt_str(&r, "environment_id");
    tenant = opt_str(&r, "tenant_id");
    if (env != NULL)
      scope->environment_id = env;
    if (tenant != NULL)
      scope->tenant_id = tenant;
    lua_getfield(L, -1, "roles");
    if (!lua_isnil(L, -1)) {
      lua_pop(L, 1);
      opt_strlist(&r, "roles", &scope->roles);
    } else {
      lua_pop(L, 1);
    }
  } else if (!lua_isnil(L, -1)) {
    bad_arg(L, "scope: expected a table, got %s)", luaL_typename(L, -1));
  }
  lua_pop(L, 1);
}

/* A relative policy path names a file beside the calling script or test
 * when one is there (tests run from anywhere); else it stays relative to
 * the working directory. [.., path] -> [.., path'] */
static void resolve_beside_caller(lua_State *L) {
  const char *path;
  char where[512];
  char candidate[1024];
  char *colon;
  char *slash;

  if (lua_type(L, -1) != LUA_TSTRING) /* never convert a number in place */
    return;
  path = lua_tostring(L, -1);
  if (path[0] == '/')
    return;
  osc_bind_user_where(L, where, sizeof(where)); /* "dir/x_test.lua:12: " */
  colon = strchr(where, ':');
  if (colon != NULL)
    *colon = '\0';
  slash = strrchr(where, '/');
  if (slash == NULL)
    return;
  *slash = '\0';
  if (snprintf(candidate, sizeof(candidate), "%s/%s", where, path) >=
          (int)sizeof(candidate) ||
      access(candidate, R_OK) != 0)
    return;
  lua_pop(L, 1);
  lua_pushstring(L, candidate);
}

/* --- reconcile.plan ------------------------------------------------ */

/* The keys each option table of reconcile.plan accepts. */
static const char *const offline_keys[] = {"instances",
                                           "targets",
                                           "policy",
                                           "now",
                                           "state",
                                           "scope",
                                           "scale_set",
                                           "settings",
                                           "capacity",
                                           "complete",
                                           "incomplete_reason",
                                           "force",
                                           "computer_name_prefix",
                                           NULL};
static const char *const live_keys[] = {"scale_set", "policy", "force", "now",
                                        NULL};
static const char *const scope_keys[] = {"environment_id", "roles", "tenant_id",
                                         NULL};
static const char *const state_keys[] = {"orphaned_since", "disabled_since",
                                         NULL};
/* A config entry's fields, as config.scale_sets() and ctx.scale_set give
 * them. */
static const char *const entry_keys[] = {
    "name",  "resource_group", "vmss",   "subscription", "environment",
    "roles", "tenant",         "policy", "settings",     NULL};

/* Unknown keys anywhere in the argument table (at 1) raise at the caller's
 * line, before anything is read. */
static void check_plan_keys(lua_State *L, bool live) {
  osc_bind_check_keys(L, 1, "reconcile.plan", live ? live_keys : offline_keys);
  if (live)
    return;
  lua_getfield(L, 1, "scope");
  osc_bind_check_keys(L, -1, "reconcile.plan: scope", scope_keys);
  lua_getfield(L, 1, "state");
  osc_bind_check_keys(L, -1, "reconcile.plan: state", state_keys);
  lua_getfield(L, 1, "scale_set");
  osc_bind_check_keys(L, -1, "reconcile.plan: scale_set", entry_keys);
  lua_pop(L, 3);
}

struct osc_plan **osc_bind_reconcile_new_plan(lua_State *L) {
  struct plan_ud *u = lua_newuserdatauv(L, sizeof(*u), 1);

  memset(u, 0, sizeof(*u));
  u->closed = true; /* until the plan is in */
  luaL_setmetatable(L, OSC_PLAN_METATABLE);
  u->closed = false;
  return &u->plan;
}

struct inventory {
  const struct osc_collection *col;
  const struct osc_scope *scope;
};

/* [ud] -> {vms = {...}, targets = {...}}: the VMs and in-scope targets a
 * plan was made from, for plan:vms() and plan:targets(). */
static int push_inventory_l(lua_State *L) {
  const struct inventory *inv = lua_touserdata(L, 1);
  lua_Integer k = 0;
  size_t i;

  lua_createtable(L, 0, 2);
  lua_createtable(L, (int)inv->col->n_vms, 0);
  for (i = 0; i < inv->col->n_vms; i++) {
    osc_bind_push_vm(L, &inv->col->vms[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, "vms");
  lua_createtable(L, (int)inv->col->n_targets, 0);
  for (i = 0; i < inv->col->n_targets; i++) {
    if (!osc_scope_contains(inv->scope, &inv->col->targets[i]))
      continue;
    osc_bind_push_target(L, &inv->col->targets[i]);
    lua_rawseti(L, -2, ++k);
  }
  lua_setfield(L, -2, "targets");
  return 1;
}

int osc_bind_reconcile_set_inventory(lua_State *L, int idx,
                                     const struct osc_collection *col,
                                     const struct osc_scope *scope) {
  struct inventory inv;
  int status;

  idx = lua_absindex(L, idx);
  inv.col = col;
  inv.scope = scope;
  status = osc_bind_ppush(L, push_inventory_l, &inv, 1);
  if (status != LUA_OK)
    return status;
  lua_setiuservalue(L, idx, 1);
  return LUA_OK;
}

static int live_call(lua_State *L, bool apply) {
  const struct osc_reconcile_live *live;

  lua_rawgetp(L, LUA_REGISTRYINDEX, &live_key);
  live = lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (live == NULL || (apply ? live->apply : live->plan) == NULL)
    return osc_bind_raise_at_user(
        L, "%s is not available here (offline: pass instances and targets)",
        apply ? "Plan:apply()" : "reconcile.plan{scale_set = NAME}");
  return apply ? live->apply(L, live->payload) : live->plan(L, live->payload);
}

/* The offline input besides VMs and targets: now, force, the VMSS facts
 * and the entry's names, from the argument table at 1. */
static void read_options(lua_State *L, struct plan_ud *u, int64_t *now,
                         bool *force) {
  struct reader r;
  const char *entry_name = NULL;
  const char *vmss_name = NULL;

  r.L = L;
  r.arena = &u->col.arena;
  lua_pushvalue(L, 1);
  snprintf(r.path, sizeof(r.path), "plan");
  *now = opt_int(&r, "now", INT64_MIN);
  /* Offline, the caller's instances are the list: their number is the
   * capacity unless one is given (-1: unknown). */
  u->col.vmss.capacity = opt_int(&r, "capacity", (int64_t)u->col.n_vms);
  /* The ownership rule's prefix; without it (and without a policy owns)
   * every target no VM claims is foreign. */
  u->col.vmss.computer_name_prefix = opt_str(&r, "computer_name_prefix");
  u->col.complete = opt_bool(&r, "complete", true);
  *force = opt_bool(&r, "force", false);
  if (!u->col.complete) {
    const char *why = opt_str(&r, "incomplete_reason");

    osc_collection_mark_incomplete(
        &u->col, why != NULL ? why : "incomplete data (complete = false)");
  }
  lua_pop(L, 1);
  if (lua_getfield(L, 1, "scale_set") == LUA_TTABLE) {
    snprintf(r.path, sizeof(r.path), "scale_set");
    entry_name = opt_str(&r, "name");
    vmss_name = opt_str(&r, "vmss");
  } else if (lua_type(L, -1) == LUA_TSTRING) {
    entry_name = copy_str(&r, lua_tostring(L, -1));
  } else if (!lua_isnil(L, -1)) {
    bad_arg(L, "scale_set: expected a table or a name, got %s)",
            luaL_typename(L, -1));
  }
  lua_pop(L, 1);
  u->col.entry_name = entry_name != NULL ? entry_name : "offline";
  u->col.have_vmss = true;
  u->col.vmss.name = vmss_name != NULL ? vmss_name : u->col.entry_name;
  u->col.vmss.provisioning_state = "Succeeded";
}

int osc_bind_reconcile_load_policy(lua_State *L, int args, int64_t now,
                                   struct osc_policy **out) {
  struct osc_error err = OSC_ERROR_INIT;
  int rc;

  args = lua_absindex(L, args);
  lua_getfield(L, args, "policy");
  resolve_beside_caller(L);
  if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TTABLE &&
      lua_type(L, -1) != LUA_TSTRING)
    return bad_arg(L, "policy: expected a table or a path, got %s)",
                   luaL_typename(L, -1));
  lua_getfield(L, args, "scale_set");
  if (lua_type(L, -1) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_pushnil(L);
  }
  lua_getfield(L, args, "settings"); /* nil: the entry's */
  if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TTABLE)
    return bad_arg(L, "settings: expected a table, got %s)",
                   luaL_typename(L, -1));
  luaL_checkstack(L, 8, "reconcile.plan");
  rc = osc_policy_from_lua(L, now, out, &err); /* pops 3 */
  if (rc == OSC_OK)
    return OSC_OK;
  /* The policy file's name or position when it has one, else the caller's
   * line (a table policy). */
  if (strncmp(err.msg, "policy:", 7) == 0 ||
      strncmp(err.msg, "policy must", 11) == 0)
    return osc_bind_raise_at_user(L, "%s", err.msg);
  lua_pushstring(L, err.msg);
  return lua_error(L);
}

/* Offline: reads the tables into the Plan userdata u (which owns
 * everything C allocates, so a raise frees it), then plans. */
static int plan_offline(lua_State *L, struct plan_ud *u) {
  struct osc_policy *policy = NULL;
  struct osc_engine_input in;
  struct osc_scope scope;
  struct osc_orphan_entry *orphans;
  struct osc_orphan_entry *disabled;
  struct osc_error err = OSC_ERROR_INIT;
  size_t n_orphans;
  size_t n_disabled;
  int64_t now;
  bool force;
  int rc;

  read_collection(L, u);
  read_scope(L, u, &scope);
  read_times(L, u, "orphaned_since", &orphans, &n_orphans);
  read_times(L, u, "disabled_since", &disabled, &n_disabled);
  if (osc_collection_mark_disabled(&u->col, disabled, n_disabled) < 0)
    return luaL_error(L, "not enough memory");
  read_options(L, u, &now, &force);
  if (now == INT64_MIN && osc_time_now(&now, &err) < 0)
    return osc_bind_raise_at_user(L, "%s", err.msg);
  /* The policy last: from here on nothing raises until it is freed. */
  osc_bind_reconcile_load_policy(L, 1, now, &policy);
  memset(&in, 0, sizeof(in));
  in.force = force;
  in.collection = &u->col;
  in.scope = &scope;
  in.orphans = orphans;
  in.n_orphans = n_orphans;
  in.policy = osc_policy_get_ops(policy);
  in.now = now;
  rc = osc_engine_plan(&in, &u->plan, &err);
  osc_policy_free(policy);
  u->scope = scope; /* its strings live in u->scratch */
  if (rc < 0)
    return luaL_error(L, "reconcile.plan: %s", err.msg);
  return 1; /* [args, ud] */
}

static int r_plan(lua_State *L) {
  struct plan_ud *u;
  bool live;

  if (lua_type(L, 1) != LUA_TTABLE)
    return bad_arg(L, "expected a table, got %s)", luaL_typename(L, 1));
  lua_settop(L, 1);
  /* Live: no instances or targets, and a config entry's name (or the
   * entry itself, as config.scale_sets() gives it). */
  live = lua_getfield(L, 1, "instances") == LUA_TNIL &&
         lua_getfield(L, 1, "targets") == LUA_TNIL &&
         (lua_getfield(L, 1, "scale_set") == LUA_TSTRING ||
          (lua_istable(L, -1) && lua_getfield(L, -1, "name") == LUA_TSTRING));
  lua_settop(L, 1);
  check_plan_keys(L, live);
  if (live)
    return live_call(L, false);
  u = lua_newuserdatauv(L, sizeof(*u), 1); /* [args, ud] */
  memset(u, 0, sizeof(*u));
  luaL_setmetatable(L, OSC_PLAN_METATABLE);
  osc_collection_init(&u->col, NULL);
  u->have_input = true;
  if (u->col.entry_name == NULL)
    return luaL_error(L, "not enough memory");
  return plan_offline(L, u);
}

/* --- Plan methods -------------------------------------------------- */

static struct plan_ud *check_open(lua_State *L) {
  struct plan_ud *u = luaL_checkudata(L, 1, OSC_PLAN_METATABLE);

  if (u->closed || u->plan == NULL)
    luaL_error(L, "attempt to use a closed plan");
  return u;
}

struct osc_plan *osc_bind_reconcile_check_plan(lua_State *L, int idx) {
  struct plan_ud *u = luaL_checkudata(L, idx, OSC_PLAN_METATABLE);

  if (u->closed || u->plan == NULL)
    luaL_error(L, "attempt to use a closed plan");
  return u->plan;
}

void osc_bind_reconcile_replace_plan(lua_State *L, int idx,
                                     struct osc_plan *plan) {
  struct plan_ud *u = luaL_checkudata(L, idx, OSC_PLAN_METATABLE);

  osc_plan_free(u->plan);
  u->plan = plan;
  u->closed = plan == NULL;
}

/* [t] -> a deep copy of t (VM and target tables: strings, numbers,
 * booleans, nested lists and maps). */
static int copy_table_l(lua_State *L) {
  luaL_checkstack(L, 6, "table nested too deeply");
  lua_newtable(L); /* [t, copy] */
  lua_pushnil(L);
  while (lua_next(L, 1) != 0) { /* [t, copy, k, v] */
    lua_pushvalue(L, -2);
    lua_insert(L, -2); /* [t, copy, k, k, v] */
    if (lua_type(L, -1) == LUA_TTABLE) {
      lua_pushcfunction(L, copy_table_l);
      lua_insert(L, -2);
      lua_call(L, 1, 1);
    }
    lua_rawset(L, 2);
  }
  return 1;
}

void osc_bind_reconcile_set_what_if(lua_State *L, int idx) {
  struct plan_ud *u = luaL_checkudata(L, idx, OSC_PLAN_METATABLE);

  u->what_if = true;
}

bool osc_bind_reconcile_is_what_if(lua_State *L, int idx) {
  return ((struct plan_ud *)luaL_checkudata(L, idx, OSC_PLAN_METATABLE))
      ->what_if;
}

/* plan:vms() / plan:targets(): copies of the lists the plan was made from
 * (a script may change them freely). */
static int push_inventory_list(lua_State *L, const char *field) {
  struct plan_ud *u = check_open(L);
  size_t n;
  size_t i;

  if (lua_getiuservalue(L, 1, 1) != LUA_TTABLE && u->have_input) {
    lua_pop(L, 1); /* offline: built on first use from the kept input */
    if (osc_bind_reconcile_set_inventory(L, 1, &u->col, &u->scope) != LUA_OK)
      return lua_error(L);
    free_input(u);
    lua_getiuservalue(L, 1, 1);
  }
  if (lua_type(L, -1) != LUA_TTABLE ||
      lua_getfield(L, -1, field) != LUA_TTABLE) {
    lua_newtable(L);
    return 1;
  }
  n = lua_rawlen(L, -1);
  lua_createtable(L, (int)n, 0); /* [.., inv, list, copy] */
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, -2, (lua_Integer)i);
    lua_pushcfunction(L, copy_table_l);
    lua_insert(L, -2);
    lua_call(L, 1, 1);
    lua_rawseti(L, -2, (lua_Integer)i);
  }
  return 1;
}

static int m_vms(lua_State *L) {
  return push_inventory_list(L, "vms");
}

static int m_targets(lua_State *L) {
  return push_inventory_list(L, "targets");
}

static void set_opt(lua_State *L, const char *key, const char *value) {
  if (value == NULL)
    return;
  lua_pushstring(L, value);
  lua_setfield(L, -2, key);
}

static int m_actions(lua_State *L) {
  const struct osc_plan *p = check_open(L)->plan;
  size_t i;

  lua_createtable(L, (int)p->n_actions, 0);
  for (i = 0; i < p->n_actions; i++) {
    const struct osc_action *a = &p->actions[i];

    lua_createtable(L, 0, 7);
    set_opt(L, "action", osc_action_name(a->kind));
    set_opt(L, "class", osc_class_name(a->cls));
    set_opt(L, "target_id", a->target_id);
    set_opt(L, "target_name", a->target_name);
    set_opt(L, "vm", a->vm_name);
    set_opt(L, "reason", a->reason);
    set_opt(L, "policy_reason", a->policy_reason);
    if (a->kept_by_policy) {
      lua_pushboolean(L, 1);
      lua_setfield(L, -2, "kept_by_policy");
    }
    if (a->result != OSC_RESULT_PENDING) {
      lua_pushboolean(L, a->result == OSC_RESULT_DONE);
      lua_setfield(L, -2, "done");
      set_opt(L, "result_message", a->result_message);
    }
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

static int m_summary(lua_State *L) {
  static const enum osc_action_kind kinds[] = {
      OSC_ACT_KEEP,   OSC_ACT_WAIT,    OSC_ACT_REPORT,
      OSC_ACT_ENABLE, OSC_ACT_DISABLE, OSC_ACT_DELETE,
  };
  const struct osc_plan *p = check_open(L)->plan;
  size_t counts[sizeof(kinds) / sizeof(kinds[0])] = {0};
  size_t i;
  size_t k;

  for (i = 0; i < p->n_actions; i++) {
    for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
      if (p->actions[i].kind == kinds[k])
        counts[k]++;
    }
  }
  lua_createtable(L, 0, 16);
  set_opt(L, "scale_set", p->scale_set);
  set_opt(L, "status", osc_plan_status_name(p->status));
  lua_pushstring(L, p->message);
  lua_setfield(L, -2, "message");
  for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
    lua_pushinteger(L, (lua_Integer)counts[k]);
    lua_setfield(L, -2, osc_action_name(kinds[k]));
  }
  lua_pushinteger(L, (lua_Integer)p->n_actions);
  lua_setfield(L, -2, "actions");
  lua_pushinteger(L, (lua_Integer)p->n_vms);
  lua_setfield(L, -2, "vms");
  lua_pushinteger(L, (lua_Integer)p->n_in_scope);
  lua_setfield(L, -2, "in_scope");
  lua_pushinteger(L, (lua_Integer)p->n_destructive);
  lua_setfield(L, -2, "destructive");
  lua_pushinteger(L, (lua_Integer)p->budget);
  lua_setfield(L, -2, "budget");
  lua_pushinteger(L, (lua_Integer)p->n_kept_by_policy);
  lua_setfield(L, -2, "kept_by_policy");
  lua_pushinteger(L, (lua_Integer)p->n_deployable);
  lua_setfield(L, -2, "deployable");
  lua_pushboolean(L, osc_plan_has_changes(p));
  lua_setfield(L, -2, "changes");
  lua_createtable(L, 0, OSC_CLASS_COUNT);
  for (k = 0; k < OSC_CLASS_COUNT; k++) {
    lua_pushinteger(L, (lua_Integer)p->class_counts[k]);
    lua_setfield(L, -2, osc_class_name((enum osc_class)k));
  }
  lua_setfield(L, -2, "classes");
  return 1;
}

static int m_outputs(lua_State *L) {
  const struct osc_plan *p = check_open(L)->plan;
  luaL_Buffer b;
  size_t i;

  lua_createtable(L, 0, 3);
  lua_pushstring(L, p->n_deployable > 0 ? "True" : "False");
  lua_setfield(L, -2, "VMSSHasServersToDeployTo");
  luaL_buffinit(L, &b);
  for (i = 0; i < p->n_deployable; i++) {
    if (i > 0)
      luaL_addchar(&b, ',');
    luaL_addstring(&b, p->deployable[i].id ? p->deployable[i].id : "");
  }
  luaL_pushresult(&b);
  lua_setfield(L, -2, "VMSSDeploymentTargetIds");
  luaL_buffinit(L, &b);
  for (i = 0; i < p->n_deployable; i++) {
    if (i > 0)
      luaL_addchar(&b, ',');
    luaL_addstring(&b, p->deployable[i].name ? p->deployable[i].name : "");
  }
  luaL_pushresult(&b);
  lua_setfield(L, -2, "VMSSDeploymentTargetNames");
  return 1;
}

static int m_status(lua_State *L) {
  lua_pushstring(L, osc_plan_status_name(check_open(L)->plan->status));
  return 1;
}

static int m_message(lua_State *L) {
  lua_pushstring(L, check_open(L)->plan->message);
  return 1;
}

static int m_exit_code(lua_State *L) {
  lua_pushinteger(L, osc_plan_exit_code(check_open(L)->plan, false));
  return 1;
}

/* {[target_id] = disabled_since}: what apply would remember (before the
 * disables it does itself). */
static int m_disabled(lua_State *L) {
  const struct osc_plan *p = check_open(L)->plan;
  size_t i;

  lua_createtable(L, 0, (int)p->n_disabled);
  for (i = 0; i < p->n_disabled; i++) {
    lua_pushinteger(L, (lua_Integer)p->disabled[i].since);
    lua_setfield(L, -2, p->disabled[i].target_id);
  }
  return 1;
}

static int m_orphans(lua_State *L) {
  const struct osc_plan *p = check_open(L)->plan;
  size_t i;

  lua_createtable(L, 0, (int)p->n_orphans);
  for (i = 0; i < p->n_orphans; i++) {
    lua_pushinteger(L, (lua_Integer)p->orphans[i].since);
    lua_setfield(L, -2, p->orphans[i].target_id);
  }
  return 1;
}

static int m_apply(lua_State *L) {
  check_open(L);
  return live_call(L, true);
}

static int m_tostring(lua_State *L) {
  struct plan_ud *u = luaL_checkudata(L, 1, OSC_PLAN_METATABLE);

  if (u->closed || u->plan == NULL)
    lua_pushliteral(L, "octoscale.Plan (closed)");
  else
    lua_pushfstring(L, "octoscale.Plan (%s: %s, %d actions)",
                    u->plan->scale_set ? u->plan->scale_set : "?",
                    osc_plan_status_name(u->plan->status),
                    (int)u->plan->n_actions);
  return 1;
}

static const luaL_Reg plan_methods[] = {
    {"actions", m_actions}, {"summary", m_summary},
    {"outputs", m_outputs}, {"status", m_status},
    {"message", m_message}, {"exit_code", m_exit_code},
    {"orphans", m_orphans}, {"disabled", m_disabled},
    {"apply", m_apply},     {"close", plan_gc},
    {"vms", m_vms},         {"targets", m_targets},
    {NULL, NULL},
};

static const luaL_Reg plan_meta[] = {
    {"__index", NULL}, /* the method table */
    {"__gc", plan_gc},          {"__close", plan_gc},
    {"__tostring", m_tostring}, {NULL, NULL},
};

static const luaL_Reg reconcile_funcs[] = {
    {"plan", r_plan},
    {NULL, NULL},
};

int osc_bind_reconcile_open(lua_State *L) {
  if (luaL_newmetatable(L, OSC_PLAN_METATABLE)) { /* [mt] */
    luaL_setfuncs(L, plan_meta, 0);
    luaL_newlibtable(L, plan_methods);
    luaL_setfuncs(L, plan_methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
  }
  lua_pop(L, 1);
  luaL_newlib(L, reconcile_funcs);
  return 1;
}

static int set_live(lua_State *L) {
  const struct osc_reconcile_live *src = lua_touserdata(L, 1);
  struct osc_reconcile_live *copy = lua_newuserdatauv(L, sizeof(*copy), 0);

  *copy = *src;
  lua_rawsetp(L, LUA_REGISTRYINDEX, &live_key);
  return 0;
}

int osc_bind_reconcile_set_live(struct osc_sandbox *sb,
                                const struct osc_reconcile_live *live,
                                struct osc_error *err) {
  return osc_sandbox_cpcall(sb, set_live, (void *)live, 0, err);
}
