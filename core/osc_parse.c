#include "core/osc_parse.h"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/osc_json.h"
#include "core/osc_time.h"

/* Arguments of one protected parse call. */
struct parse_call {
  struct osc_collection *c;
  int idx; /* absolute index of the input value in the caller's frame */
  struct osc_error *err;
  int rc;
};

typedef int (*parse_fn)(lua_State *L, struct parse_call *call);

static int parse_trampoline(lua_State *L) {
  struct parse_call *call = lua_touserdata(L, 1);
  parse_fn fn = *(parse_fn *)lua_touserdata(L, 2);

  lua_remove(L, 1); /* the input value is now at index 1 */
  lua_remove(L, 1);
  call->rc = fn(L, call);
  return 0;
}

/* Runs fn under lua_pcall so a memory error cannot unwind through C frames
 * that hold state; everything fn allocates lives in the collection's arena,
 * which the caller frees on any failure. fn finds the input at index 1. */
static int run_protected(lua_State *L, int idx, struct osc_collection *c,
                         parse_fn fn, struct osc_error *err) {
  struct parse_call call = {c, 0, err, OSC_OK};
  int top = lua_gettop(L);
  int status;

  idx = lua_absindex(L, idx);
  if (!lua_checkstack(L, 8))
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  lua_pushcfunction(L, parse_trampoline);
  lua_pushlightuserdata(L, &call);
  lua_pushlightuserdata(L, (void *)&fn);
  lua_pushvalue(L, idx);
  status = lua_pcall(L, 3, 0, 0);
  if (status != LUA_OK) {
    osc_error_set(err, status == LUA_ERRMEM ? OSC_E_NOMEM : OSC_E_RUNTIME,
                  "parse error: %s",
                  lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                                                 : "unknown");
    lua_settop(L, top);
    return err ? err->code : OSC_E_RUNTIME;
  }
  lua_settop(L, top);
  return call.rc;
}

static const char *dup(struct osc_collection *c, const char *s) {
  return s ? osc_arena_strdup(&c->arena, s) : NULL;
}

static const char *last_segment(const char *id) {
  const char *slash = id ? strrchr(id, '/') : NULL;

  return slash ? slash + 1 : id;
}

/* Name after "/virtualMachineScaleSets/" in an ARM id, into out. */
static int vmss_name_from_id(const char *id, char *out, size_t cap) {
  static const char marker[] = "/virtualmachinescalesets/";
  const char *p;
  size_t n;

  if (id == NULL)
    return -1;
  for (p = id; *p; p++) {
    if (strncasecmp(p, marker, sizeof(marker) - 1) == 0)
      break;
  }
  if (*p == '\0')
    return -1;
  p += sizeof(marker) - 1;
  n = strcspn(p, "/");
  if (n == 0 || n >= cap)
    return -1;
  memcpy(out, p, n);
  out[n] = '\0';
  return 0;
}

static int string_array(lua_State *L, int idx, struct osc_collection *c,
                        struct osc_strlist *out) {
  size_t n;
  size_t i;
  size_t k = 0;

  out->items = NULL;
  out->n = 0;
  if (lua_type(L, idx) != LUA_TTABLE)
    return 0;
  n = lua_rawlen(L, idx);
  if (n == 0)
    return 0;
  out->items = osc_arena_alloc(&c->arena, n * sizeof(*out->items));
  if (out->items == NULL)
    return -1;
  for (i = 1; i <= n; i++) {
    if (lua_rawgeti(L, idx, (lua_Integer)i) == LUA_TSTRING)
      out->items[k++] = dup(c, lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  out->n = k;
  return 0;
}

/* sku.capacity of the VMSS body at index 1, range-checked: -1 with *problem
 * set when it is missing, null, negative, fractional or beyond any real
 * scale set (safety rule 2 needs to know it is unknown). */
static int64_t read_capacity(lua_State *L, struct osc_collection *c,
                             const char **problem) {
  char msg[128];
  int64_t cap = -1;
  int type = osc_json_push_path(L, 1, "sku.capacity");

  lua_pop(L, 1);
  *problem = NULL;
  if (type == LUA_TNIL) {
    type = osc_json_push_path(L, 1, "sku");
    lua_pop(L, 1);
    snprintf(msg, sizeof(msg), "%s",
             type == LUA_TTABLE ? "sku.capacity is missing"
                                : "the scale set body has no sku");
  } else if (type != LUA_TNUMBER && type != LUA_TSTRING) {
    snprintf(msg, sizeof(msg), "sku.capacity is %s",
             type == LUA_TLIGHTUSERDATA ? "null" : "not a number");
  } else if (!osc_json_path_int(L, 1, "sku.capacity", &cap)) {
    snprintf(msg, sizeof(msg),
             "sku.capacity is not an integer that fits in 64 bits");
  } else if (cap < 0 || cap > OSC_VMSS_MAX_CAPACITY) {
    snprintf(msg, sizeof(msg), "sku.capacity %lld is out of range (0 to %d)",
             (long long)cap, OSC_VMSS_MAX_CAPACITY);
  } else {
    return cap;
  }
  *problem = dup(c, msg);
  return -1;
}

static int do_vmss(lua_State *L, struct parse_call *call) {
  struct osc_collection *c = call->c;
  struct osc_vmss *v = &c->vmss;
  const char *mode;
  bool over = false;

  if (lua_type(L, 1) != LUA_TTABLE)
    return osc_error_set(call->err, OSC_E_RUNTIME,
                         "scale set body is not a JSON object");
  v->id = dup(c, osc_json_string(L, 1, "id"));
  v->name = dup(c, osc_json_string(L, 1, "name"));
  mode = osc_json_path_string(L, 1, "properties.orchestrationMode");
  v->mode =
      (mode && strcasecmp(mode, "Flexible") == 0) ? OSC_FLEXIBLE : OSC_UNIFORM;
  v->provisioning_state =
      dup(c, osc_json_path_string(L, 1, "properties.provisioningState"));
  v->capacity = read_capacity(L, c, &v->capacity_problem);
  if (osc_json_path_bool(L, 1, "properties.overprovision", &over))
    v->overprovision = over;
  else /* ARM's default for Uniform is to overprovision */
    v->overprovision = v->mode == OSC_UNIFORM;
  v->computer_name_prefix =
      dup(c, osc_json_path_string(L, 1,
                                  "properties.virtualMachineProfile.osProfile."
                                  "computerNamePrefix"));
  c->have_vmss = true;
  return OSC_OK;
}

int osc_parse_vmss(lua_State *L, int idx, struct osc_collection *c,
                   struct osc_error *err) {
  return run_protected(L, idx, c, do_vmss, err);
}

/* Reads instanceView statuses: "PowerState/running" and
 * "ProvisioningState/succeeded[/...]" (used when the top-level state is
 * missing). Expects the VM table at vm_idx. */
static void read_statuses(lua_State *L, int vm_idx, struct osc_collection *c,
                          struct osc_vm *vm, const char **prov_from_status) {
  size_t n;
  size_t i;

  *prov_from_status = NULL;
  if (osc_json_push_path(L, vm_idx, "properties.instanceView.statuses") !=
      LUA_TTABLE) {
    lua_pop(L, 1);
    return;
  }
  n = lua_rawlen(L, -1);
  for (i = 1; i <= n; i++) {
    const char *code;

    lua_rawgeti(L, -1, (lua_Integer)i);
    code = osc_json_string(L, -1, "code");
    if (code && strncasecmp(code, "PowerState/", 11) == 0) {
      vm->power_state = dup(c, code + 11);
    } else if (code && strncasecmp(code, "ProvisioningState/", 18) == 0) {
      const char *s = code + 18;
      size_t len = strcspn(s, "/");

      *prov_from_status = osc_arena_strndup(&c->arena, s, len);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

static int read_tags(lua_State *L, int vm_idx, struct osc_collection *c,
                     struct osc_vm *vm) {
  size_t n = 0;
  size_t k = 0;

  lua_getfield(L, vm_idx, "tags");
  if (lua_type(L, -1) != LUA_TTABLE) {
    lua_pop(L, 1);
    return 0;
  }
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    n++;
    lua_pop(L, 1);
  }
  if (n > 0) {
    vm->tags = osc_arena_alloc(&c->arena, n * sizeof(*vm->tags));
    if (vm->tags == NULL) {
      lua_pop(L, 1);
      return -1;
    }
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
      /* only string keys and string values are tags */
      if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING &&
          k < n) {
        vm->tags[k].key = dup(c, lua_tostring(L, -2));
        vm->tags[k].value = dup(c, lua_tostring(L, -1));
        k++;
      }
      lua_pop(L, 1);
    }
  }
  vm->n_tags = k;
  lua_pop(L, 1);
  return 0;
}

static int read_vm(lua_State *L, int vm_idx, struct osc_collection *c,
                   struct osc_vm *vm, struct osc_error *err, size_t pos) {
  const char *prov;
  const char *prov_status;
  const char *created;
  const char *vmss_id;
  char vmss_name[256];

  if (lua_type(L, vm_idx) != LUA_TTABLE)
    return osc_error_set(err, OSC_E_RUNTIME, "VM %zu is not a JSON object",
                         pos);
  vm->id = dup(c, osc_json_string(L, vm_idx, "id"));
  if (vm->id == NULL)
    return osc_error_set(err, OSC_E_RUNTIME, "VM %zu has no id", pos);
  vm->name = dup(c, osc_json_string(L, vm_idx, "name"));
  if (vm->name == NULL)
    vm->name = dup(c, last_segment(vm->id));
  /* Flexible members are standard VMs: the instance id is the VM name. */
  vm->instance_id = dup(c, osc_json_string(L, vm_idx, "instanceId"));
  if (vm->instance_id == NULL)
    vm->instance_id = vm->name;
  vm->computer_name = dup(
      c, osc_json_path_string(L, vm_idx, "properties.osProfile.computerName"));
  if (vm->computer_name == NULL)
    vm->computer_name =
        dup(c, osc_json_path_string(L, vm_idx,
                                    "properties.instanceView.computerName"));
  vm->vm_id = dup(c, osc_json_path_string(L, vm_idx, "properties.vmId"));
  read_statuses(L, vm_idx, c, vm, &prov_status);
  prov = osc_json_path_string(L, vm_idx, "properties.provisioningState");
  vm->provisioning_state = prov ? dup(c, prov) : prov_status;
  vm->state = osc_vm_state_parse(vm->provisioning_state);
  created = osc_json_path_string(L, vm_idx, "properties.timeCreated");
  if (created == NULL ||
      osc_time_parse_rfc3339(created, &vm->created_at, NULL) < 0)
    vm->created_at = 0;
  if (osc_json_push_path(L, vm_idx, "zones") == LUA_TTABLE) {
    if (lua_rawgeti(L, -1, 1) == LUA_TSTRING)
      vm->zone = dup(c, lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  if (read_tags(L, vm_idx, c, vm) < 0)
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  vmss_id =
      osc_json_path_string(L, vm_idx, "properties.virtualMachineScaleSet.id");
  if (vmss_name_from_id(vmss_id ? vmss_id : vm->id, vmss_name,
                        sizeof(vmss_name)) == 0)
    vm->scale_set = dup(c, vmss_name);
  else
    vm->scale_set = c->vmss.name;
  return OSC_OK;
}

/* Makes room for `more` items after the `n` in *items (capacity *cap).
 * The arena never frees, so the array doubles: every page appends without
 * copying the whole list again, and memory stays linear in the items. */
static int grow(struct osc_collection *c, void **items, size_t n, size_t *cap,
                size_t more, size_t size) {
  size_t want;
  void *fresh;

  if (more > (SIZE_MAX / size) - n)
    return -1;
  if (n + more <= *cap)
    return 0;
  want = *cap > n ? *cap : n;
  want = want < 16 ? 16 : want;
  while (want < n + more)
    want = want > SIZE_MAX / size / 2 ? n + more : want * 2;
  fresh = osc_arena_alloc(&c->arena, want * size);
  if (fresh == NULL)
    return -1;
  if (n > 0)
    memcpy(fresh, *items, n * size);
  *items = fresh;
  *cap = want;
  return 0;
}

static int do_vms(lua_State *L, struct parse_call *call) {
  struct osc_collection *c = call->c;
  void *vms = c->vms;
  size_t n;
  size_t i;
  int rc;

  if (lua_type(L, 1) != LUA_TTABLE)
    return osc_error_set(call->err, OSC_E_RUNTIME,
                         "VM list is not a JSON array");
  n = lua_rawlen(L, 1);
  if (n == 0)
    return OSC_OK;
  if (grow(c, &vms, c->n_vms, &c->cap_vms, n, sizeof(*c->vms)) < 0)
    return osc_error_set(call->err, OSC_E_NOMEM, "out of memory");
  c->vms = vms;
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, 1, (lua_Integer)(i + 1));
    rc = read_vm(L, lua_gettop(L), c, &c->vms[c->n_vms], call->err,
                 c->n_vms + 1);
    lua_pop(L, 1);
    if (rc < 0)
      return rc;
    c->n_vms++;
  }
  return OSC_OK;
}

int osc_parse_vms(lua_State *L, int idx, struct osc_collection *c,
                  struct osc_error *err) {
  return run_protected(L, idx, c, do_vms, err);
}

/* The primary IPv4 of one NIC body at nic_idx, primary config first. */
static const char *nic_primary_ip(lua_State *L, int nic_idx) {
  const char *best = NULL;
  size_t n;
  size_t i;

  if (osc_json_push_path(L, nic_idx, "properties.ipConfigurations") !=
      LUA_TTABLE) {
    lua_pop(L, 1);
    return NULL;
  }
  n = lua_rawlen(L, -1);
  for (i = 1; i <= n; i++) {
    const char *ip;
    const char *version;
    bool primary = false;

    lua_rawgeti(L, -1, (lua_Integer)i);
    ip = osc_json_path_string(L, -1, "properties.privateIPAddress");
    version = osc_json_path_string(L, -1, "properties.privateIPAddressVersion");
    osc_json_path_bool(L, -1, "properties.primary", &primary);
    lua_pop(L, 1);
    if (ip == NULL || (version && strcasecmp(version, "IPv4") != 0))
      continue;
    if (best == NULL || primary)
      best = ip;
    if (primary)
      break;
  }
  lua_pop(L, 1);
  return best;
}

static int add_ip(struct osc_collection *c, struct osc_vm *vm, const char *ip,
                  bool first) {
  const char **items;

  if (osc_strlist_contains_ci(&vm->private_ips, ip))
    return 0;
  items = osc_arena_alloc(&c->arena, (vm->private_ips.n + 1) * sizeof(*items));
  if (items == NULL)
    return -1;
  if (first) {
    items[0] = dup(c, ip);
    if (vm->private_ips.n > 0)
      memcpy(items + 1, vm->private_ips.items,
             vm->private_ips.n * sizeof(*items));
  } else {
    if (vm->private_ips.n > 0)
      memcpy(items, vm->private_ips.items, vm->private_ips.n * sizeof(*items));
    items[vm->private_ips.n] = dup(c, ip);
  }
  vm->private_ips.items = items;
  vm->private_ips.n++;
  return 0;
}

static int do_nics(lua_State *L, struct parse_call *call) {
  struct osc_collection *c = call->c;
  size_t n;
  size_t i;
  size_t j;
  size_t cursor = 0;

  if (lua_type(L, 1) != LUA_TTABLE)
    return osc_error_set(call->err, OSC_E_RUNTIME,
                         "NIC list is not a JSON array");
  n = lua_rawlen(L, 1);
  for (i = 1; i <= n; i++) {
    const char *vm_id;
    const char *ip;
    bool primary = false;

    lua_rawgeti(L, 1, (lua_Integer)i);
    vm_id = osc_json_path_string(L, -1, "properties.virtualMachine.id");
    osc_json_path_bool(L, -1, "properties.primary", &primary);
    ip = vm_id ? nic_primary_ip(L, lua_gettop(L)) : NULL;
    if (ip != NULL) {
      /* NIC lists come in the VM list's order, so searching from the last
       * match keeps the join linear in practice. */
      for (j = 0; j < c->n_vms; j++) {
        struct osc_vm *vm = &c->vms[(cursor + j) % c->n_vms];

        if (vm->id && strcasecmp(vm->id, vm_id) == 0) {
          cursor = (cursor + j + 1) % c->n_vms;
          if (add_ip(c, vm, ip, primary) < 0) {
            lua_pop(L, 1);
            return osc_error_set(call->err, OSC_E_NOMEM, "out of memory");
          }
          break;
        }
      }
    }
    lua_pop(L, 1);
  }
  return OSC_OK;
}

int osc_parse_nics(lua_State *L, int idx, struct osc_collection *c,
                   struct osc_error *err) {
  return run_protected(L, idx, c, do_nics, err);
}

static int read_target(lua_State *L, int t_idx, struct osc_collection *c,
                       struct osc_target *t, struct osc_error *err,
                       size_t pos) {
  const char *style;
  bool disabled = false;

  if (lua_type(L, t_idx) != LUA_TTABLE)
    return osc_error_set(err, OSC_E_RUNTIME, "machine %zu is not a JSON object",
                         pos);
  t->id = dup(c, osc_json_string(L, t_idx, "Id"));
  t->name = dup(c, osc_json_string(L, t_idx, "Name"));
  if (t->id == NULL || t->name == NULL)
    return osc_error_set(err, OSC_E_RUNTIME, "machine %zu has no Id or Name",
                         pos);
  lua_getfield(L, t_idx, "Roles");
  string_array(L, lua_gettop(L), c, &t->roles);
  lua_pop(L, 1);
  lua_getfield(L, t_idx, "EnvironmentIds");
  string_array(L, lua_gettop(L), c, &t->environment_ids);
  lua_pop(L, 1);
  lua_getfield(L, t_idx, "TenantIds");
  string_array(L, lua_gettop(L), c, &t->tenant_ids);
  lua_pop(L, 1);
  t->health = dup(c, osc_json_string(L, t_idx, "HealthStatus"));
  osc_json_path_bool(L, t_idx, "IsDisabled", &disabled);
  t->disabled = disabled;
  style = osc_json_path_string(L, t_idx, "Endpoint.CommunicationStyle");
  t->comm_style_raw = dup(c, style);
  if (style && strcasecmp(style, "TentaclePassive") == 0)
    t->comm_style = OSC_COMM_LISTENING;
  else if (style && strcasecmp(style, "TentacleActive") == 0)
    t->comm_style = OSC_COMM_POLLING;
  else
    t->comm_style = OSC_COMM_OTHER;
  t->uri = dup(c, osc_json_string(L, t_idx, "Uri"));
  if (t->uri == NULL)
    t->uri = dup(c, osc_json_path_string(L, t_idx, "Endpoint.Uri"));
  t->thumbprint = dup(c, osc_json_string(L, t_idx, "Thumbprint"));
  if (t->thumbprint == NULL)
    t->thumbprint =
        dup(c, osc_json_path_string(L, t_idx, "Endpoint.Thumbprint"));
  return OSC_OK;
}

static int do_targets(lua_State *L, struct parse_call *call) {
  struct osc_collection *c = call->c;
  void *ts = c->targets;
  size_t n;
  size_t i;
  int rc;

  if (lua_type(L, 1) != LUA_TTABLE)
    return osc_error_set(call->err, OSC_E_RUNTIME,
                         "machine list is not a JSON array");
  n = lua_rawlen(L, 1);
  if (n == 0)
    return OSC_OK;
  if (grow(c, &ts, c->n_targets, &c->cap_targets, n, sizeof(*c->targets)) < 0)
    return osc_error_set(call->err, OSC_E_NOMEM, "out of memory");
  c->targets = ts;
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, 1, (lua_Integer)(i + 1));
    rc = read_target(L, lua_gettop(L), c, &c->targets[c->n_targets], call->err,
                     c->n_targets + 1);
    lua_pop(L, 1);
    if (rc < 0)
      return rc;
    c->n_targets++;
  }
  return OSC_OK;
}

int osc_parse_targets(lua_State *L, int idx, struct osc_collection *c,
                      struct osc_error *err) {
  return run_protected(L, idx, c, do_targets, err);
}
