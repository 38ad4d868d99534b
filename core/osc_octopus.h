/* Octopus Deploy REST on core/osc_http: API key header (secret), space /
 * environment / tenant names resolved to ids once per run, machine list
 * URLs and Links["Page.Next"], GET+PUT of the full machine resource to
 * disable or enable, DELETE, Health tasks, events, raw requests.
 *
 * Names: "Spaces-N", "Environments-N" and "Tenants-N" pass through;
 * anything else is looked up with ?partialName=<name>&take=100 and matched
 * exactly, case-insensitively (Octopus's own client does the same). A name
 * that does not exist is OSC_E_RUNTIME (exit 1).
 *
 * Disable/enable edits only the top-level "IsDisabled" member of the raw
 * JSON text (core/osc_rawjson.h): unknown fields and empty arrays
 * ("TenantIds": []) go back byte for byte, which a cjson round trip would
 * not do.
 *
 * Errors are one line from Octopus's ErrorMessage/Errors: "Octopus machines
 * list: HTTP 401: You must be logged in to perform this action." Return
 * codes follow core/osc_azure.h: OSC_E_RUNTIME for 401/403 and refusals of
 * writes, OSC_E_SAFETY for reads that could not be completed. */
#ifndef OSC_OCTOPUS_H
#define OSC_OCTOPUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/osc_apierr.h"
#include "core/osc_config.h"
#include "core/osc_error.h"
#include "core/osc_http.h"

/* Page size of the machine list (Octopus defaults to 30: always pass it). */
#define OSC_OCTOPUS_PAGE_SIZE 1000

struct osc_octopus;

enum osc_octopus_kind {
  OSC_OCTOPUS_SPACE = 0,
  OSC_OCTOPUS_ENVIRONMENT,
  OSC_OCTOPUS_TENANT,
};

/* cfg and http are borrowed and must outlive the client. Paces the Octopus
 * host per octopus.requests_per_minute: auto (the default) from its first
 * 429 on, at a rate learned from its answers (osc_http_set_auto_rate); N
 * always (burst N); 0 never. OCTOSCALE_OCTOPUS_RATE="auto" | "0" |
 * "PER_MINUTE[/BURST]" overrides it. */
int osc_octopus_new(const struct osc_config *cfg, struct osc_http *http,
                    struct osc_octopus **out, struct osc_error *err);
void osc_octopus_free(struct osc_octopus *o);

/* Whether the Octopus host is paced now, and at what rate (progress
 * reporting; see osc_http_pacing). */
bool osc_octopus_pacing(const struct osc_octopus *o, double *per_minute);

/* The X-Octopus-ApiKey (secret) and Accept headers; out needs 2 slots. */
size_t osc_octopus_headers(const struct osc_octopus *o,
                           struct osc_http_header *out);

const char *osc_octopus_kind_name(enum osc_octopus_kind kind);

/* Name resolution, blocking and cached (environments and tenants need the
 * space, which is resolved first). *out is borrowed from the client. */
int osc_octopus_resolve(struct osc_octopus *o, enum osc_octopus_kind kind,
                        const char *name_or_id, const char **out,
                        struct osc_apierr *detail, struct osc_error *err);

/* The same in two halves, for concurrent lookups: the cached id (ids pass
 * through) or NULL; the lookup URL; the response's interpretation (caches
 * the id). The space must be resolved before environments and tenants. */
const char *osc_octopus_cached(struct osc_octopus *o,
                               enum osc_octopus_kind kind,
                               const char *name_or_id);
int osc_octopus_lookup_url(struct osc_octopus *o, enum osc_octopus_kind kind,
                           const char *name, char **out, struct osc_error *err);
int osc_octopus_lookup_done(struct osc_octopus *o, enum osc_octopus_kind kind,
                            const char *name,
                            const struct osc_http_response *resp,
                            const struct osc_error *transport, const char **out,
                            struct osc_apierr *detail, struct osc_error *err);

/* The resolved space id, or NULL before resolution. */
const char *osc_octopus_space(const struct osc_octopus *o);

/* First page of /api/{space}/machines?environmentIds=E&skip=0&take=1000
 * (roles and tenants are NOT sent: scope is checked client-side by the
 * engine, and snapshots keep the environment's machines). */
int osc_octopus_machines_url(struct osc_octopus *o, const char *environment_id,
                             char **out, struct osc_error *err);
/* A Links value ("/api/..." server-relative) as an absolute URL on the
 * configured server. */
int osc_octopus_link_url(struct osc_octopus *o, const char *link, char **out,
                         struct osc_error *err);
/* server + path ("/api/..."); the path may not leave the server. */
int osc_octopus_url(struct osc_octopus *o, const char *path, char **out,
                    struct osc_error *err);

void osc_octopus_error_detail(struct osc_octopus *o,
                              const struct osc_http_response *resp,
                              const struct osc_error *transport,
                              struct osc_apierr *detail);
/* detail + err for a failed call named `what`: OSC_E_RUNTIME for 401/403,
 * else `code_otherwise`. */
int osc_octopus_fail(struct osc_octopus *o, const char *what,
                     const struct osc_http_response *resp,
                     const struct osc_error *transport, int code_otherwise,
                     struct osc_apierr *detail, struct osc_error *err);

/* One blocking request with the API key. Returns 0 whenever a response was
 * obtained, whatever its status; < 0 when none was. */
int osc_octopus_send(struct osc_octopus *o, const char *method, const char *url,
                     const char *body, size_t body_len, bool retry_unsafe,
                     const char *what, struct osc_http_response *resp,
                     struct osc_apierr *detail, struct osc_error *err);

/* GET the machine, set IsDisabled in the raw text, PUT it back (skipped
 * when it already has that value). *changed (may be NULL) says whether a
 * PUT was made. */
int osc_octopus_set_disabled(struct osc_octopus *o, const char *machine_id,
                             bool disabled, bool *changed,
                             struct osc_apierr *detail, struct osc_error *err);

/* DELETE; 404 counts as done (*was_gone set, may be NULL). */
int osc_octopus_delete_machine(struct osc_octopus *o, const char *machine_id,
                               bool *was_gone, struct osc_apierr *detail,
                               struct osc_error *err);

struct osc_octopus_task {
  char id[64];
  char state[32]; /* Queued, Executing, Success, Failed, TimedOut, ... */
  bool completed;
  bool succeeded;
  char error_message[512];
};

/* POST /api/{space}/tasks {Name:"Health", ..., OnlyTestConnection:"true"};
 * environment_id may be NULL. */
int osc_octopus_health_start(struct osc_octopus *o, const char *environment_id,
                             const char *const *machine_ids, size_t n,
                             int64_t timeout_s, struct osc_octopus_task *out,
                             struct osc_apierr *detail, struct osc_error *err);
/* GET /api/tasks/{id}. */
int osc_octopus_task_get(struct osc_octopus *o, const char *task_id,
                         struct osc_octopus_task *out,
                         struct osc_apierr *detail, struct osc_error *err);
/* Polls every poll_ms until IsCompleted or timeout_ms has passed (then
 * OSC_E_TIMEOUT with the last state in *out). */
int osc_octopus_task_wait(struct osc_octopus *o, const char *task_id,
                          int64_t timeout_ms, int64_t poll_ms,
                          struct osc_octopus_task *out,
                          struct osc_apierr *detail, struct osc_error *err);

#endif
