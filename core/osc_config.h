/* octoscale.yaml -> a typed, validated config (DESIGN section 5).
 *
 * Every error is one line "file:line:col: message" with code OSC_E_CONFIG.
 * ${VAR} expands from the environment; an unset variable is an error naming
 * it. Unknown keys are errors. Relative paths are resolved against the
 * config file's directory. */
#ifndef OSC_CONFIG_H
#define OSC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/osc_arena.h"
#include "core/osc_error.h"
#include "core/osc_model.h"

/* A generic YAML value, for `settings` (handed to policies as ctx.settings).
 * Plain scalars become booleans (true/false), integers or numbers when they
 * read as such, else strings; quoted scalars stay strings. */
enum osc_value_type {
  OSC_VALUE_NULL = 0,
  OSC_VALUE_BOOL,
  OSC_VALUE_INT,
  OSC_VALUE_NUMBER,
  OSC_VALUE_STRING,
  OSC_VALUE_LIST,
  OSC_VALUE_MAP,
};

struct osc_value {
  enum osc_value_type type;
  bool b;
  int64_t i;
  double d;
  const char *s;
  const char **keys; /* MAP only, in file order */
  struct osc_value *items;
  size_t n;
};

enum osc_auth {
  OSC_AUTH_AUTO = 0,
  OSC_AUTH_CLIENT_SECRET,
  OSC_AUTH_MANAGED_IDENTITY,
  OSC_AUTH_WORKLOAD_IDENTITY,
};

struct osc_config_scale_set {
  const char *name; /* unique label */
  const char *resource_group;
  const char *vmss;
  const char *subscription; /* the entry's, else azure.subscription */
  const char *environment;  /* name or Environments-N */
  struct osc_strlist roles;
  const char *tenant; /* NULL: untenanted scope */
  const char *policy; /* resolved path: the entry's, else the default */
  struct osc_value settings; /* OSC_VALUE_MAP (empty when absent) */
  int line;                  /* where the entry starts, for messages */
};

struct osc_config {
  struct osc_arena arena;
  const char *path; /* as given */
  const char *dir;  /* its directory, for relative paths */

  struct {
    const char *url;
    const char *api_key;
    const char *space; /* name or Spaces-N; default "Default" */
  } octopus;

  struct {
    const char *subscription;
    const char *tenant;
    enum osc_auth auth;
    const char *client_id;
    const char *client_secret;
    const char *cloud; /* public | usgovernment | china */
    const char *login_endpoint;      /* cloud default unless overridden */
    const char *management_endpoint; /* likewise */
    const char *imds_endpoint;       /* likewise */
    const char *api_version;         /* Compute; default 2024-11-01 */
    const char *network_api_version; /* VMSS NICs; default 2017-03-30 */
  } azure;

  /* Optional `http:` section (an extension of DESIGN 5; defaults shown). */
  struct {
    int64_t connect_timeout_ms; /* connect_timeout: 10s */
    int64_t timeout_ms;         /* timeout: 60s per request */
    int max_attempts;           /* max_attempts: 6 */
    int64_t max_retry_ms;       /* max_retry_time: 2m over all attempts */
    int concurrency;            /* concurrency: 8 per host */
    const char *ca_file;        /* ca_file: private CA bundle; NULL: system */
  } http;

  const char *state;  /* resolved; default .octoscale/state.json */
  const char *policy; /* resolved; default policies/default.lua */

  struct osc_config_scale_set *scale_sets;
  size_t n_scale_sets;
};

/* Loads and validates path. On failure *out is NULL. */
int osc_config_load(const char *path, struct osc_config **out,
                    struct osc_error *err);

/* Like osc_config_load, from memory (tests); `name` is used in messages. */
int osc_config_load_string(const char *name, const char *text, size_t len,
                           struct osc_config **out, struct osc_error *err);

void osc_config_free(struct osc_config *cfg);

/* The entry named `name`, or NULL. */
const struct osc_config_scale_set *
osc_config_find(const struct osc_config *cfg, const char *name);

#endif
