/* Azure: Entra/managed-identity tokens and ARM requests on core/osc_http.
 *
 * Credentials (docs/design.md §5): client secret, workload identity federation
 * (AZURE_FEDERATED_TOKEN_FILE re-read on every token fetch), App Service
 * identity (IDENTITY_ENDPOINT + IDENTITY_HEADER) and IMDS managed identity;
 * `auto` picks them in that order; each kind builds its token request in its
 * own file (core/osc_cred.h). The token is cached for the life of the
 * struct (one per process) and refreshed 5 minutes before it expires (a
 * token issued with less than 10 minutes left: after half of it). The
 * audience is the cloud's ARM audience (azure.cloud), not the management
 * endpoint, which may point at a proxy or a simulator. It
 * never leaves this module except inside an Authorization header marked
 * secret, and never appears in a message.
 *
 * Errors are one line: "Azure VMSS GET rg-web/vmss-web: HTTP 404
 * ResourceNotFound: The Resource ... was not found (request id abc-123)",
 * from both error shapes (with and without the "error" wrapper) and Entra's
 * {error, error_description, correlation_id}. Return codes: OSC_E_RUNTIME
 * when the service refused (401/403, or a 4xx from a token endpoint),
 * OSC_E_SAFETY when a read could not be completed (5xx, 429, timeouts,
 * other 4xx such as 404 on the scale set), OSC_E_CONFIG when the
 * credential settings are incomplete. */
#ifndef OSC_AZURE_H
#define OSC_AZURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/osc_apierr.h"
#include "core/osc_config.h"
#include "core/osc_error.h"
#include "core/osc_http.h"
#include "core/osc_model.h"

/* Standard Microsoft.Network NIC API (resource-group NIC list, Flexible). */
#define OSC_AZURE_NIC_API_VERSION "2024-05-01"
/* Refresh a cached token this long before it expires. */
#define OSC_AZURE_TOKEN_SKEW_S 300

struct osc_azure;

enum osc_azure_credential {
  OSC_AZURE_CRED_CLIENT_SECRET = 0,
  OSC_AZURE_CRED_WORKLOAD_IDENTITY,
  OSC_AZURE_CRED_APP_SERVICE,
  OSC_AZURE_CRED_IMDS,
};

/* cfg and http are borrowed and must outlive the client. */
int osc_azure_new(const struct osc_config *cfg, struct osc_http *http,
                  struct osc_azure **out, struct osc_error *err);
void osc_azure_free(struct osc_azure *az);

/* Tokens for another resource than ARM (a static string, e.g.
 * "https://storage.azure.com" for Blob Storage); call before the first
 * osc_azure_authorize. */
void osc_azure_set_audience(struct osc_azure *az, const char *audience);

/* The credential `auth` (and the environment) selects. */
enum osc_azure_credential osc_azure_credential(const struct osc_azure *az);
const char *osc_azure_credential_name(enum osc_azure_credential cred);

/* An "Authorization: Bearer ..." header (secret), fetching or refreshing
 * the token when needed. out->value stays valid until the next call. */
int osc_azure_authorize(struct osc_azure *az, struct osc_http_header *out,
                        struct osc_apierr *detail, struct osc_error *err);

/* Number of token requests made so far (tests, -v). */
int osc_azure_token_fetches(const struct osc_azure *az);

/* URLs (malloc'ed). Names are percent-encoded; sub may be NULL for the
 * config's subscription. */
int osc_azure_vmss_url(struct osc_azure *az, const char *sub, const char *rg,
                       const char *vmss, char **out, struct osc_error *err);
/* Uniform: the VMSS VM list; Flexible: the resource group's VM list
 * filtered by 'virtualMachineScaleSet/id' (vmss_id from the VMSS GET; NULL
 * builds it). Both with $expand=instanceView. */
int osc_azure_vm_list_url(struct osc_azure *az, const char *sub, const char *rg,
                          const char *vmss, const char *vmss_id,
                          enum osc_orchestration mode, char **out,
                          struct osc_error *err);
/* Uniform: the VMSS NIC list (network_api_version); Flexible: the resource
 * group's NIC list (OSC_AZURE_NIC_API_VERSION), to join on
 * properties.virtualMachine.id. */
int osc_azure_nic_list_url(struct osc_azure *az, const char *sub,
                           const char *rg, const char *vmss,
                           enum osc_orchestration mode, char **out,
                           struct osc_error *err);
/* management endpoint + path ("/subscriptions/..."); an absolute URL on the
 * management host is accepted as is. api-version (the Compute default) is
 * appended when the path has none. */
int osc_azure_url(struct osc_azure *az, const char *path, char **out,
                  struct osc_error *err);
/* A nextLink made safe to send (osc_http_fix_url) and checked to point at
 * the management host, so the token never goes elsewhere. */
int osc_azure_next_link(struct osc_azure *az, const char *link, char **out,
                        struct osc_error *err);

/* Fills detail from a failed exchange: resp may be NULL; transport is the
 * error osc_http reported (may be NULL). */
void osc_azure_error_detail(struct osc_azure *az,
                            const struct osc_http_response *resp,
                            const struct osc_error *transport,
                            struct osc_apierr *detail);

/* detail + err for a failed read named `what`; returns OSC_E_RUNTIME for
 * 401/403, else OSC_E_SAFETY. */
int osc_azure_fail(struct osc_azure *az, const char *what,
                   const struct osc_http_response *resp,
                   const struct osc_error *transport, struct osc_apierr *detail,
                   struct osc_error *err);

/* One blocking ARM request with the bearer token. Returns 0 whenever a
 * response was obtained, whatever its status (resp holds it); < 0 when none
 * was (detail and err say why). body may be NULL; JSON content type. */
int osc_azure_send(struct osc_azure *az, const char *method, const char *url,
                   const char *body, bool retry_unsafe, const char *what,
                   struct osc_http_response *resp, struct osc_apierr *detail,
                   struct osc_error *err);

/* PATCH {"sku":{"capacity":N}} on the scale set (an absolute value, so
 * safe to retry). Returns 0 on 200/202. */
int osc_azure_set_capacity(struct osc_azure *az, const char *sub,
                           const char *rg, const char *vmss, int64_t capacity,
                           struct osc_apierr *detail, struct osc_error *err);

#endif
