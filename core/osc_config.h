/* octoscale.yaml -> a typed, validated config (docs/design.md §5).
 *
 * Every error is one line "file:line:col: message" with code OSC_E_CONFIG
 * (exit 3), FILE being the path as given; an unreadable file is
 * "FILE: reason", also OSC_E_CONFIG. No message quotes the value of
 * octopus.api_key, azure.client_secret, state.account_key or
 * state.sas_token.
 *
 * - ${VAR} expands from the environment inside any scalar value (not keys),
 *   several per value; $$ is a literal $, and a $ followed by anything but
 *   { or $ stays as it is. An unset variable is an error naming it; one set
 *   to "" is allowed. ${VAR:-default} is not supported (an error says so).
 *   Expansion happens after YAML parsing, so a value can never inject YAML.
 * - Unknown keys are errors at every level except inside `settings`, with a
 *   "did you mean" hint for near misses. Duplicate keys in one mapping are
 *   errors everywhere. Anchors, aliases and `<<` merge keys work.
 * - An optional string key whose value is empty (or null) counts as unset.
 * - Relative paths are resolved against the config file's directory; "d/.."
 *   is collapsed only when d is a real directory (not a symbolic link).
 *
 * Extensions of docs/design.md §5: azure.api_version, azure.network_api_version
 * and the `http:` section (examples/octoscale.yaml documents them). Decisions:
 * octopus.api_key is optional here (plan --snapshot and check need none);
 * `roles` is required and must list at least one role (an empty list would
 * put every target of the environment in scope); a plain string for roles
 * is an error with the fix in the message; azure.cloud also accepts the ARM
 * names AzureCloud, AzureUSGovernment and AzureChinaCloud; enum values
 * compare case-insensitively. */
#ifndef OSC_CONFIG_H
#define OSC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/osc_arena.h"
#include "core/osc_error.h"
#include "core/osc_model.h"

/* The Azure clouds octoscale knows, with the defaults their login and
 * management endpoints take (azure.endpoints overrides them). The
 * management endpoint is also the cloud's ARM token audience. `name` is
 * the value of azure.cloud; `arm_name` the ARM metadata name, accepted as
 * an alias. The first entry is the default cloud. */
struct osc_azure_cloud {
  const char *name;       /* "public" */
  const char *arm_name;   /* "AzureCloud" */
  const char *login;      /* "https://login.microsoftonline.com" */
  const char *management; /* "https://management.azure.com" */
};

#define OSC_AZURE_CLOUD_COUNT 3
extern const struct osc_azure_cloud osc_azure_clouds[OSC_AZURE_CLOUD_COUNT];

/* The cloud called name or its ARM name (case-insensitive), else NULL. */
const struct osc_azure_cloud *osc_azure_cloud_find(const char *name);

/* The API versions and the endpoint defaults that hold for every cloud:
 * Compute (azure.api_version), Network for VMSS NICs
 * (azure.network_api_version), the Blob REST API's x-ms-version of the
 * state store, the managed identity token endpoints of the instance
 * metadata service and of App Service, and the instance metadata service
 * (azure.endpoints.imds). */
#define OSC_AZURE_COMPUTE_API_VERSION "2024-11-01"
#define OSC_AZURE_NETWORK_API_VERSION "2017-03-30"
#define OSC_AZURE_STORAGE_API_VERSION "2021-08-06"
#define OSC_AZURE_IMDS_TOKEN_API_VERSION "2018-02-01"
#define OSC_AZURE_APP_SERVICE_TOKEN_API_VERSION "2019-08-01"
#define OSC_AZURE_IMDS_ENDPOINT "http://169.254.169.254"

/* A generic YAML value, for `settings` (handed to policies as ctx.settings).
 * Plain scalars are typed by the YAML 1.2 core schema after ${VAR}
 * expansion: ~/null/empty -> NULL, true/false (also True, TRUE...) -> BOOL,
 * 42, -7, 0x1F, 0o17 -> INT, 3.5, 1e3, .5 -> NUMBER, anything else
 * (including yes/no, .inf and integers beyond 64 bits) -> STRING; quoted
 * scalars stay strings. `s` holds the expanded text of every non-null
 * scalar, whatever its type. */
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
  int line; /* in the config file; 0 when not from a file */
};

enum osc_auth {
  OSC_AUTH_AUTO = 0,
  OSC_AUTH_CLIENT_SECRET,
  OSC_AUTH_MANAGED_IDENTITY,
  OSC_AUTH_WORKLOAD_IDENTITY,
};

enum osc_blob_auth {
  OSC_BLOB_AUTH_ENTRA = 0, /* the azure section's credential */
  OSC_BLOB_AUTH_SHARED_KEY,
  OSC_BLOB_AUTH_SAS,
};

/* state: {url, auth, account_key, sas_token, lease} (extension of
 * docs/design.md §5 documented in examples/octoscale.yaml). */
struct osc_config_state_blob {
  const char *url; /* NULL: the file backend */
  enum osc_blob_auth auth;
  const char *account_key; /* shared_key: base64, never printed */
  const char *sas_token;   /* sas: without a leading '?', never printed */
  int lease_seconds;       /* 15..60, default 60 */
};

struct osc_config_scale_set {
  const char *name; /* unique label */
  const char *resource_group;
  const char *vmss;
  const char *subscription; /* the entry's, else azure.subscription */
  const char *environment;  /* name or Environments-N */
  struct osc_strlist roles;
  const char *tenant;        /* NULL: untenanted scope */
  const char *policy;        /* resolved path: the entry's, else the default */
  struct osc_value settings; /* OSC_VALUE_MAP (empty when absent) */
  int line;                  /* where the entry starts, for messages */
  const char *config_path;   /* the config file, for messages */
};

/* octopus.requests_per_minute: auto */
#define OSC_RATE_AUTO (-1)

struct osc_config {
  struct osc_arena arena;
  const char *path; /* as given */
  const char *dir;  /* its directory, for relative paths */

  struct {
    const char *url;
    const char *api_key;
    const char *space; /* name or Spaces-N; default "Default" */
    /* requests_per_minute: client-side pacing of the Octopus host.
     * OSC_RATE_AUTO (the default): only after a 429, at a learned rate
     * (core/osc_pace.h); N > 0: always, N a minute, burst N; 0: never. */
    int requests_per_minute;
  } octopus;

  struct {
    const char *subscription;
    const char *tenant;
    enum osc_auth auth;
    const char *client_id;
    const char *client_secret;
    const char *cloud;               /* public | usgovernment | china */
    const char *login_endpoint;      /* cloud default unless overridden */
    const char *management_endpoint; /* likewise */
    const char *imds_endpoint;       /* likewise */
    const char *api_version;         /* Compute; OSC_AZURE_COMPUTE_... */
    const char *network_api_version; /* VMSS NICs; OSC_AZURE_NETWORK_... */
  } azure;

  /* Optional `http:` section (an extension of docs/design.md §5; defaults
   * shown). */
  struct {
    int64_t connect_timeout_ms; /* connect_timeout: 10s */
    int64_t timeout_ms;         /* timeout: 60s per request */
    int max_attempts;           /* max_attempts: 6 */
    int64_t max_retry_ms;       /* max_retry_time: 2m over all attempts */
    int concurrency;            /* concurrency: 8 per host */
    const char *ca_file;        /* ca_file: private CA bundle; NULL: system */
  } http;

  /* `state:` a path (file backend), or a mapping with `url` (the blob
   * backend, core/osc_store.h): then `state` is NULL and state_blob.url is
   * set. */
  const char *state; /* resolved; default .octoscale/state.json */
  struct osc_config_state_blob state_blob;
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

/* The version of the libyaml the config is read with ("0.2.5"). */
const char *osc_config_yaml_version(void);

/* The entry named `name`, or NULL. */
const struct osc_config_scale_set *osc_config_find(const struct osc_config *cfg,
                                                   const char *name);

#endif
