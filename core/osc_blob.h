/* A state blob in Azure Blob Storage over the Blob REST API (x-ms-version
 * OSC_AZURE_STORAGE_API_VERSION, core/osc_config.h), on core/osc_http: Get
 * Blob, Get Blob Properties, Put Blob (BlockBlob), Set Blob Metadata and Lease
 * Blob (acquire, renew, release, break). No SDK. References:
 *   https://learn.microsoft.com/rest/api/storageservices/get-blob
 *   https://learn.microsoft.com/rest/api/storageservices/put-blob
 *   https://learn.microsoft.com/rest/api/storageservices/lease-blob
 *   https://learn.microsoft.com/rest/api/storageservices/set-blob-metadata
 *
 * URLs: https://ACCOUNT.blob.core.windows.net/CONTAINER/path/blob (the
 * account is the host's first label) or path-style,
 * http://127.0.0.1:10000/ACCOUNT/CONTAINER/path/blob, which is assumed when
 * the host is an IP address, "localhost" or a name without a dot (Azurite's
 * rule).
 *
 * Authorization (state.auth): `entra` sends a bearer token for
 * https://storage.azure.com from the azure section's credential
 * (core/osc_azure.h), `shared_key` signs with the account key
 * (core/osc_sharedkey.h), `sas` appends the SAS token to the query. The key,
 * the token and the SAS never appear in messages or logs (the Authorization
 * header is marked secret; "sig" is redacted from logged URLs).
 *
 * Each client owns its HTTP client and credential: one per thread. Errors
 * are one line naming the blob URL, the HTTP status, the storage error code
 * and the request id; a 403 says what the identity needs, a missing
 * container names it. Every failure is OSC_E_RUNTIME (exit 1) except a
 * malformed URL or key (OSC_E_CONFIG, exit 3). */
#ifndef OSC_BLOB_H
#define OSC_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/osc_apierr.h"
#include "core/osc_buf.h"
#include "core/osc_config.h"
#include "core/osc_error.h"

struct osc_blob;

/* Who holds the lease, as the holder recorded it in the blob's metadata
 * (octoscale_pid, _host, _started, _task). Fields are "" when absent. */
struct osc_blob_holder {
  char pid[32];
  char host[256];
  char started[64];
  char task[128]; /* OCTOPUS_TASK_ID */
};

struct osc_blob_props {
  bool exists;
  char lease_state[32]; /* available | leased | expired | breaking | broken */
  char etag[128];
  struct osc_blob_holder holder;
};

/* Parses cfg->state_blob.url (a bad URL is OSC_E_CONFIG). The HTTP
 * client follows cfg->http; retry_budget_ms > 0 bounds the retries and
 * each attempt instead (the lease renewer must not outwait its lease). */
int osc_blob_new(const struct osc_config *cfg, int64_t retry_budget_ms,
                 struct osc_blob **out, struct osc_error *err);
void osc_blob_free(struct osc_blob *b);

/* The blob's URL (no query, nothing secret), its container and account. */
const char *osc_blob_url(const struct osc_blob *b);
const char *osc_blob_container(const struct osc_blob *b);
const char *osc_blob_account(const struct osc_blob *b);

/* The last response's status and storage error code ("LeaseAlreadyPresent",
 * "BlobNotFound", ...), for callers that act on specific refusals. */
const struct osc_apierr *osc_blob_last(const struct osc_blob *b);
bool osc_blob_last_is(const struct osc_blob *b, long status, const char *code);

/* Get Blob into out (bounded by out->max); a missing blob is OSC_OK with
 * props->exists false (a missing container is an error). */
int osc_blob_get(struct osc_blob *b, struct osc_buf *out,
                 struct osc_blob_props *props, struct osc_error *err);

/* Get Blob Properties: lease state and holder metadata. */
int osc_blob_properties(struct osc_blob *b, struct osc_blob_props *props,
                        struct osc_error *err);

/* Put Blob (BlockBlob). lease_id: the write needs that active lease;
 * create_only: fails (409 BlobAlreadyExists) when the blob exists. */
int osc_blob_put(struct osc_blob *b, const char *data, size_t len,
                 const char *lease_id, bool create_only, struct osc_error *err);

/* Set Blob Metadata to the holder record (under the lease). */
int osc_blob_set_holder(struct osc_blob *b, const char *lease_id,
                        const struct osc_blob_holder *h, struct osc_error *err);

enum osc_blob_lease_action {
  OSC_BLOB_LEASE_ACQUIRE = 0,
  OSC_BLOB_LEASE_RENEW,
  OSC_BLOB_LEASE_RELEASE,
  OSC_BLOB_LEASE_BREAK, /* break period 0: at once */
};

/* Lease Blob. lease_id: the proposed id (acquire) or the held one (renew,
 * release; NULL for break). duration_s for acquire (15..60). */
int osc_blob_lease(struct osc_blob *b, enum osc_blob_lease_action action,
                   const char *lease_id, int duration_s, struct osc_error *err);

#endif
