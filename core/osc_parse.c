#include "core/osc_parse.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/osc_json.h"
#include "core/osc_time.h"

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

/* The strings of an array (other elements are skipped). */
static int string_array(const struct osc_json_value *list,
                        struct osc_collection *c, struct osc_strlist *out) {
  size_t n = osc_json_len(list);
  size_t i;
  size_t k = 0;

  out->items = NULL;
  out->n = 0;
  if (n == 0)
    return 0;
  out->items = osc_arena_alloc(&c->arena, n * sizeof(*out->items));
  if (out->items == NULL)
    return -1;
  for (i = 0; i < n; i++) {
    const char *s = osc_json_str(osc_json_at(list, i), NULL);

    if (s != NULL)
      out->items[k++] = dup(c, s);
  }
  out->n = k;
  return 0;
}

/* sku.capacity of the VMSS body, range-checked: -1 with *problem set when
 * it is missing, null, negative, fractional or beyond any real scale set
 * (safety rule 2 needs to know it is unknown). */
static int64_t read_capacity(const struct osc_json_value *body,
                             struct osc_collection *c, const char **problem) {
  const struct osc_json_value *v = osc_json_path(body, "sku.capacity");
  enum osc_json_type type = osc_json_type(v);
  char msg[128];
  int64_t cap = -1;

  *problem = NULL;
  if (type == OSC_JSON_ABSENT) {
    snprintf(msg, sizeof(msg), "%s",
             osc_json_is_container(osc_json_get(body, "sku"))
                 ? "sku.capacity is missing"
                 : "the scale set body has no sku");
  } else if (type != OSC_JSON_NUMBER && type != OSC_JSON_STRING) {
    snprintf(msg, sizeof(msg), "sku.capacity is %s",
             type == OSC_JSON_NULL ? "null" : "not a number");
  } else if (!osc_json_int(v, &cap)) {
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

/* The string at a dotted path, copied into c's arena (NULL when absent). */
static const char *path_dup(struct osc_collection *c,
                            const struct osc_json_value *v, const char *path) {
  return dup(c, osc_json_str(osc_json_path(v, path), NULL));
}

int osc_parse_vmss(const struct osc_json_value *body, struct osc_collection *c,
                   struct osc_error *err) {
  struct osc_vmss *v = &c->vmss;
  const char *mode;
  bool over = false;

  if (!osc_json_is_container(body))
    return osc_error_set(err, OSC_E_RUNTIME,
                         "scale set body is not a JSON object");
  v->id = path_dup(c, body, "id");
  v->name = path_dup(c, body, "name");
  mode =
      osc_json_str(osc_json_path(body, "properties.orchestrationMode"), NULL);
  v->mode =
      (mode && strcasecmp(mode, "Flexible") == 0) ? OSC_FLEXIBLE : OSC_UNIFORM;
  v->provisioning_state = path_dup(c, body, "properties.provisioningState");
  v->capacity = read_capacity(body, c, &v->capacity_problem);
  if (osc_json_bool(osc_json_path(body, "properties.overprovision"), &over))
    v->overprovision = over;
  else /* ARM's default for Uniform is to overprovision */
    v->overprovision = v->mode == OSC_UNIFORM;
  v->computer_name_prefix = path_dup(
      c, body, "properties.virtualMachineProfile.osProfile.computerNamePrefix");
  c->have_vmss = true;
  return OSC_OK;
}

int osc_parse_vmss_body(const char *text, size_t len, struct osc_collection *c,
                        struct osc_error *err) {
  struct osc_json_doc *doc = NULL;
  int rc;

  /* Undecodable text is no object either: the same one line. */
  if (len > 0 &&
      osc_json_parse(text, len, "scale set body", &doc, NULL) == OSC_E_NOMEM)
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  rc = osc_parse_vmss(osc_json_root(doc), c, err);
  osc_json_doc_free(doc);
  return rc;
}

/* Reads instanceView statuses: "PowerState/running" and
 * "ProvisioningState/succeeded[/...]" (used when the top-level state is
 * missing). */
static void read_statuses(const struct osc_json_value *vm_body,
                          struct osc_collection *c, struct osc_vm *vm,
                          const char **prov_from_status) {
  const struct osc_json_value *statuses =
      osc_json_path(vm_body, "properties.instanceView.statuses");
  size_t n = osc_json_len(statuses);
  size_t i;

  *prov_from_status = NULL;
  for (i = 0; i < n; i++) {
    const char *code =
        osc_json_str(osc_json_get(osc_json_at(statuses, i), "code"), NULL);

    if (code && strncasecmp(code, "PowerState/", 11) == 0) {
      vm->power_state = dup(c, code + 11);
    } else if (code && strncasecmp(code, "ProvisioningState/", 18) == 0) {
      const char *s = code + 18;
      size_t len = strcspn(s, "/");

      *prov_from_status = osc_arena_strndup(&c->arena, s, len);
    }
  }
}

static int read_tags(const struct osc_json_value *vm_body,
                     struct osc_collection *c, struct osc_vm *vm) {
  const struct osc_json_value *tags = osc_json_get(vm_body, "tags");
  size_t n = osc_json_count(tags);
  size_t i;
  size_t k = 0;

  if (n > 0) {
    vm->tags = osc_arena_alloc(&c->arena, n * sizeof(*vm->tags));
    if (vm->tags == NULL)
      return -1;
  }
  for (i = 0; i < n; i++) {
    const char *key;
    const char *value =
        osc_json_str(osc_json_member(tags, i, &key, NULL), NULL);

    /* only string values are tags (JSON keys always are strings) */
    if (value != NULL) {
      vm->tags[k].key = dup(c, key);
      vm->tags[k].value = dup(c, value);
      k++;
    }
  }
  vm->n_tags = k;
  return 0;
}

/* Name, ids and computer name of a VM body (id is required). */
static int read_vm_names(const struct osc_json_value *b,
                         struct osc_collection *c, struct osc_vm *vm,
                         struct osc_error *err, size_t pos) {
  vm->id = path_dup(c, b, "id");
  if (vm->id == NULL)
    return osc_error_set(err, OSC_E_RUNTIME, "VM %zu has no id", pos);
  vm->name = path_dup(c, b, "name");
  if (vm->name == NULL)
    vm->name = dup(c, last_segment(vm->id));
  /* Flexible members are standard VMs: the instance id is the VM name. */
  vm->instance_id = path_dup(c, b, "instanceId");
  if (vm->instance_id == NULL)
    vm->instance_id = vm->name;
  vm->computer_name = path_dup(c, b, "properties.osProfile.computerName");
  if (vm->computer_name == NULL)
    vm->computer_name = path_dup(c, b, "properties.instanceView.computerName");
  vm->vm_id = path_dup(c, b, "properties.vmId");
  return OSC_OK;
}

static int read_vm(const struct osc_json_value *b, struct osc_collection *c,
                   struct osc_vm *vm, struct osc_error *err, size_t pos) {
  const char *prov;
  const char *prov_status;
  const char *created;
  const char *vmss_id;
  char vmss_name[256];
  int rc;

  if (!osc_json_is_container(b))
    return osc_error_set(err, OSC_E_RUNTIME, "VM %zu is not a JSON object",
                         pos);
  rc = read_vm_names(b, c, vm, err, pos);
  if (rc < 0)
    return rc;
  read_statuses(b, c, vm, &prov_status);
  prov = osc_json_str(osc_json_path(b, "properties.provisioningState"), NULL);
  vm->provisioning_state = prov ? dup(c, prov) : prov_status;
  vm->state = osc_vm_state_parse(vm->provisioning_state);
  created = osc_json_str(osc_json_path(b, "properties.timeCreated"), NULL);
  if (created == NULL ||
      osc_time_parse_rfc3339(created, &vm->created_at, NULL) < 0)
    vm->created_at = 0;
  vm->zone =
      dup(c, osc_json_str(osc_json_at(osc_json_get(b, "zones"), 0), NULL));
  if (read_tags(b, c, vm) < 0)
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  vmss_id = osc_json_str(
      osc_json_path(b, "properties.virtualMachineScaleSet.id"), NULL);
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

int osc_parse_vms(const struct osc_json_value *list, struct osc_collection *c,
                  struct osc_error *err) {
  void *vms = c->vms;
  size_t n = osc_json_len(list);
  size_t i;
  int rc;

  if (!osc_json_is_container(list))
    return osc_error_set(err, OSC_E_RUNTIME, "VM list is not a JSON array");
  if (n == 0)
    return OSC_OK;
  if (grow(c, &vms, c->n_vms, &c->cap_vms, n, sizeof(*c->vms)) < 0)
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  c->vms = vms;
  for (i = 0; i < n; i++) {
    rc = read_vm(osc_json_at(list, i), c, &c->vms[c->n_vms], err, c->n_vms + 1);
    if (rc < 0)
      return rc;
    c->n_vms++;
  }
  return OSC_OK;
}

/* The primary IPv4 of one NIC body, primary config first. */
static const char *nic_primary_ip(const struct osc_json_value *nic) {
  const struct osc_json_value *configs =
      osc_json_path(nic, "properties.ipConfigurations");
  const char *best = NULL;
  size_t n = osc_json_len(configs);
  size_t i;

  for (i = 0; i < n; i++) {
    const struct osc_json_value *props =
        osc_json_get(osc_json_at(configs, i), "properties");
    const char *ip =
        osc_json_str(osc_json_get(props, "privateIPAddress"), NULL);
    const char *version =
        osc_json_str(osc_json_get(props, "privateIPAddressVersion"), NULL);
    bool primary = false;

    osc_json_bool(osc_json_get(props, "primary"), &primary);
    if (ip == NULL || (version && strcasecmp(version, "IPv4") != 0))
      continue;
    if (best == NULL || primary)
      best = ip;
    if (primary)
      break;
  }
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

int osc_parse_nics(const struct osc_json_value *list, struct osc_collection *c,
                   struct osc_error *err) {
  size_t n = osc_json_len(list);
  size_t i;
  size_t j;
  size_t cursor = 0;

  if (!osc_json_is_container(list))
    return osc_error_set(err, OSC_E_RUNTIME, "NIC list is not a JSON array");
  for (i = 0; i < n; i++) {
    const struct osc_json_value *nic = osc_json_at(list, i);
    const char *vm_id =
        osc_json_str(osc_json_path(nic, "properties.virtualMachine.id"), NULL);
    const char *ip = vm_id ? nic_primary_ip(nic) : NULL;
    bool primary = false;

    osc_json_bool(osc_json_path(nic, "properties.primary"), &primary);
    if (ip == NULL)
      continue;
    /* NIC lists come in the VM list's order, so searching from the last
     * match keeps the join linear in practice. */
    for (j = 0; j < c->n_vms; j++) {
      struct osc_vm *vm = &c->vms[(cursor + j) % c->n_vms];

      if (vm->id && strcasecmp(vm->id, vm_id) == 0) {
        cursor = (cursor + j + 1) % c->n_vms;
        if (add_ip(c, vm, ip, primary) < 0)
          return osc_error_set(err, OSC_E_NOMEM, "out of memory");
        break;
      }
    }
  }
  return OSC_OK;
}

static int read_target(const struct osc_json_value *b, struct osc_collection *c,
                       struct osc_target *t, struct osc_error *err,
                       size_t pos) {
  const char *style;
  bool disabled = false;

  if (!osc_json_is_container(b))
    return osc_error_set(err, OSC_E_RUNTIME, "machine %zu is not a JSON object",
                         pos);
  t->id = path_dup(c, b, "Id");
  t->name = path_dup(c, b, "Name");
  if (t->id == NULL || t->name == NULL)
    return osc_error_set(err, OSC_E_RUNTIME, "machine %zu has no Id or Name",
                         pos);
  if (string_array(osc_json_get(b, "Roles"), c, &t->roles) < 0 ||
      string_array(osc_json_get(b, "EnvironmentIds"), c, &t->environment_ids) <
          0 ||
      string_array(osc_json_get(b, "TenantIds"), c, &t->tenant_ids) < 0)
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  t->health = path_dup(c, b, "HealthStatus");
  osc_json_bool(osc_json_get(b, "IsDisabled"), &disabled);
  t->disabled = disabled;
  style = osc_json_str(osc_json_path(b, "Endpoint.CommunicationStyle"), NULL);
  t->comm_style_raw = dup(c, style);
  if (style && strcasecmp(style, "TentaclePassive") == 0)
    t->comm_style = OSC_COMM_LISTENING;
  else if (style && strcasecmp(style, "TentacleActive") == 0)
    t->comm_style = OSC_COMM_POLLING;
  else
    t->comm_style = OSC_COMM_OTHER;
  t->uri = path_dup(c, b, "Uri");
  if (t->uri == NULL)
    t->uri = path_dup(c, b, "Endpoint.Uri");
  t->thumbprint = path_dup(c, b, "Thumbprint");
  if (t->thumbprint == NULL)
    t->thumbprint = path_dup(c, b, "Endpoint.Thumbprint");
  return OSC_OK;
}

int osc_parse_targets(const struct osc_json_value *list,
                      struct osc_collection *c, struct osc_error *err) {
  void *ts = c->targets;
  size_t n = osc_json_len(list);
  size_t i;
  int rc;

  if (!osc_json_is_container(list))
    return osc_error_set(err, OSC_E_RUNTIME,
                         "machine list is not a JSON array");
  if (n == 0)
    return OSC_OK;
  if (grow(c, &ts, c->n_targets, &c->cap_targets, n, sizeof(*c->targets)) < 0)
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  c->targets = ts;
  for (i = 0; i < n; i++) {
    rc = read_target(osc_json_at(list, i), c, &c->targets[c->n_targets], err,
                     c->n_targets + 1);
    if (rc < 0)
      return rc;
    c->n_targets++;
  }
  return OSC_OK;
}
