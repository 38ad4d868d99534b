#include "core/osc_snapshot.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/osc_buf.h"
#include "core/osc_json.h"
#include "core/osc_parse.h"

#define SNAPSHOT_MAX (1024u * 1024u * 1024u) /* 1 GiB of JSON at most */

struct osc_snapshot {
  struct osc_json_doc *doc;
  const struct osc_json_value *sets; /* scale_sets[] */
  char *path;
};

/* The parsed document's checks: a snapshot of format_version 1. */
static int check_document(struct osc_snapshot *snap, struct osc_error *err) {
  const struct osc_json_value *root = osc_json_root(snap->doc);
  const struct osc_json_value *version_value;
  const char *path = snap->path;
  int64_t version = 0;

  version_value = osc_json_get(root, "format_version");
  if (version_value == NULL)
    return osc_error_set(err, OSC_E_USAGE,
                         "%s: not an octoscale snapshot (no format_version)",
                         path);
  /* The integer 1: not "1", not 1.5 */
  if (!osc_json_number_int(version_value, &version))
    return osc_error_set(err, OSC_E_USAGE,
                         "%s: format_version must be the integer 1", path);
  if (version != 1)
    return osc_error_set(err, OSC_E_USAGE,
                         "%s: unsupported snapshot format_version %lld "
                         "(this octoscale reads 1)",
                         path, (long long)version);
  snap->sets = osc_json_get(root, "scale_sets");
  if (!osc_json_is_container(snap->sets))
    return osc_error_set(err, OSC_E_USAGE, "%s: scale_sets must be an array",
                         path);
  return OSC_OK;
}

int osc_snapshot_load(const char *path, struct osc_snapshot **out,
                      struct osc_error *err) {
  struct osc_snapshot *snap = NULL;
  struct osc_buf buf;
  int rc;

  *out = NULL;
  osc_buf_init(&buf, SNAPSHOT_MAX);
  snap = calloc(1, sizeof(*snap));
  if (snap == NULL || (snap->path = strdup(path)) == NULL) {
    rc = osc_error_set(err, OSC_E_NOMEM, "out of memory");
    goto done;
  }
  rc = osc_buf_read_any_file(&buf, path, err);
  if (rc < 0) {
    rc =
        osc_error_set(err, OSC_E_RUNTIME, "cannot read snapshot: %s", err->msg);
    goto done;
  }
  rc = osc_json_parse(buf.data, buf.len, path, &snap->doc, err);
  if (rc < 0) {
    if (rc != OSC_E_NOMEM)
      err->code = rc = OSC_E_USAGE;
    goto done;
  }
  rc = check_document(snap, err);
  if (rc < 0)
    goto done;
  *out = snap;
  snap = NULL;
done:
  osc_buf_free(&buf);
  osc_snapshot_free(snap);
  return rc;
}

/* The scale_sets[] element named `name` (case-insensitive), or NULL. */
static const struct osc_json_value *find_entry(const struct osc_snapshot *snap,
                                               const char *name) {
  size_t n = osc_json_len(snap->sets);
  size_t i;

  for (i = 0; i < n; i++) {
    const struct osc_json_value *entry = osc_json_at(snap->sets, i);
    const char *entry_name = osc_json_str(osc_json_get(entry, "name"), NULL);

    if (entry_name && strcasecmp(entry_name, name) == 0)
      return entry;
  }
  return NULL;
}

static bool has_prefix_ci(const char *s, const char *prefix) {
  return s && strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* Without an environment id the snapshot's targets are taken as the
 * entry's environment (the contract says they are): only when they all
 * share one. Targets of several environments would widen the scope. */
static int one_environment(const struct osc_snapshot *snap,
                           const struct osc_config_scale_set *entry,
                           const struct osc_collection *c,
                           struct osc_error *err) {
  const char *first = NULL;
  const char *other = NULL;
  size_t i, j;

  for (i = 0; i < c->n_targets && other == NULL; i++) {
    const struct osc_strlist *envs = &c->targets[i].environment_ids;

    for (j = 0; j < envs->n && other == NULL; j++) {
      if (first == NULL)
        first = envs->items[j];
      else if (strcasecmp(first, envs->items[j]) != 0)
        other = envs->items[j];
    }
  }
  if (other == NULL)
    return OSC_OK;
  return osc_error_set(
      err, OSC_E_CONFIG,
      "snapshot %s, scale set '%s': its targets belong to more than one "
      "environment (%.100s, %.100s, ...) and nothing says which is the "
      "entry's: add \"environment_id\": \"Environments-N\" to the scale set "
      "in the snapshot, or name the environment by id (environment: "
      "Environments-N) in the config",
      snap->path, entry->name, first, other);
}

/* Scope: ids from the config when it names ids, else from the snapshot;
 * without either, the snapshot's targets are taken as the environment's
 * (the contract says they are). *env_id is NULL in that last case. */
static int read_scope(const struct osc_json_value *entry,
                      const struct osc_config_scale_set *cfg,
                      struct osc_collection *c, struct osc_scope *scope,
                      const char **env_id, struct osc_error *err) {
  const char *tenant_id;

  *env_id = has_prefix_ci(cfg->environment, "Environments-")
                ? cfg->environment
                : osc_json_str(osc_json_get(entry, "environment_id"), NULL);
  scope->environment_id = osc_arena_strdup(&c->arena, *env_id);
  scope->roles = cfg->roles;
  if (cfg->tenant == NULL)
    return OSC_OK;
  tenant_id = has_prefix_ci(cfg->tenant, "Tenants-")
                  ? cfg->tenant
                  : osc_json_str(osc_json_get(entry, "tenant_id"), NULL);
  if (tenant_id == NULL)
    return osc_error_set(err, OSC_E_RUNTIME,
                         "tenant '%s' of scale set '%s' cannot be resolved "
                         "offline: the snapshot has no tenant_id",
                         cfg->tenant, cfg->name);
  scope->tenant_id = osc_arena_strdup(&c->arena, tenant_id);
  return OSC_OK;
}

typedef int (*body_parser)(const struct osc_json_value *v,
                           struct osc_collection *c, struct osc_error *err);

/* Parses entry[key] when it is a table; else marks c incomplete with
 * `missing` (unless NULL: an optional part). */
static int read_body(const struct osc_json_value *entry, const char *key,
                     body_parser parse, const char *missing,
                     struct osc_collection *c, struct osc_error *err) {
  const struct osc_json_value *v = osc_json_get(entry, key);

  if (osc_json_is_container(v))
    return parse(v, c, err);
  if (missing != NULL)
    osc_collection_mark_incomplete(c, missing);
  return OSC_OK;
}

/* The entry's bodies into c: VMSS, instances, NICs (optional), targets. */
static int read_bodies(const struct osc_json_value *entry,
                       struct osc_collection *c, struct osc_error *err) {
  int rc = read_body(entry, "vmss", osc_parse_vmss,
                     "the snapshot has no VMSS body", c, err);

  if (rc >= 0)
    rc = read_body(entry, "instances", osc_parse_vms,
                   "the snapshot has no instances list", c, err);
  if (rc >= 0)
    rc = read_body(entry, "nics", osc_parse_nics, NULL, c, err);
  if (rc >= 0)
    rc = read_body(entry, "targets", osc_parse_targets,
                   "the snapshot has no targets list", c, err);
  return rc;
}

int osc_snapshot_collect(struct osc_snapshot *snap,
                         const struct osc_config_scale_set *entry,
                         struct osc_collection *c, struct osc_scope *scope,
                         struct osc_error *err) {
  const struct osc_json_value *body = find_entry(snap, entry->name);
  const char *incomplete;
  const char *env_id;
  int rc;

  memset(scope, 0, sizeof(*scope));
  if (body == NULL)
    return osc_error_set(err, OSC_E_RUNTIME,
                         "snapshot %s has no scale set named '%s'", snap->path,
                         entry->name);
  rc = read_scope(body, entry, c, scope, &env_id, err);
  if (rc < 0)
    return rc;
  /* The recorded reason first, so the plan says what a live run said. */
  incomplete = osc_json_str(osc_json_get(body, "incomplete"), NULL);
  if (incomplete != NULL)
    osc_collection_mark_incomplete(c, incomplete);
  rc = read_bodies(body, c, err);
  if (rc == OSC_E_NOMEM)
    return rc;
  if (rc < 0) {
    osc_error_prefix(err, "snapshot %s, scale set '%s'", snap->path,
                     entry->name);
    if (err)
      err->code = OSC_E_USAGE;
    return OSC_E_USAGE;
  }
  return env_id == NULL ? one_environment(snap, entry, c, err) : OSC_OK;
}

void osc_snapshot_free(struct osc_snapshot *snap) {
  if (snap == NULL)
    return;
  osc_json_doc_free(snap->doc);
  free(snap->path);
  free(snap);
}
