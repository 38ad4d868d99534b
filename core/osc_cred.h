/* Azure credential kinds, one file each (the way curl keeps one file per
 * authentication mechanism): client secret (core/osc_cred_secret.c),
 * workload identity federation (core/osc_cred_workload.c), App Service
 * identity (core/osc_cred_appservice.c) and IMDS managed identity
 * (core/osc_cred_imds.c); core/osc_cred.c holds what they share. A kind only
 * builds its token request; core/osc_azure.c picks the kind (docs/design.md
 * §5), sends the request, reads the token and caches it. The request body
 * and the identity header are secrets: osc_cred_request_free wipes the body,
 * and the caller marks both secret when it sends them. */
#ifndef OSC_CRED_H
#define OSC_CRED_H

#include "core/osc_buf.h"
#include "core/osc_config.h"
#include "core/osc_error.h"
#include "core/osc_http.h"

/* What every kind reads, resolved once by the caller. */
struct osc_cred_input {
  const struct osc_config *cfg;
  const char *name;      /* "client secret", ...: names the kind in messages */
  const char *tenant;    /* azure.tenant, else AZURE_TENANT_ID; may be NULL */
  const char *client_id; /* azure.client_id, else AZURE_CLIENT_ID; may be
                            NULL */
  const char *audience;  /* the token audience, without a trailing slash */
};

/* The token request a kind builds: one header, a form body for POST. */
struct osc_cred_request {
  const char *method;
  struct osc_buf url;
  struct osc_buf body;
  struct osc_http_header header;
};

void osc_cred_request_init(struct osc_cred_request *req);
/* Frees the request and wipes its body. */
void osc_cred_request_free(struct osc_cred_request *req);

/* One builder per kind. Each returns OSC_E_CONFIG when its settings are
 * incomplete. */
int osc_cred_client_secret(const struct osc_cred_input *in,
                           struct osc_cred_request *req, struct osc_error *err);
int osc_cred_workload_identity(const struct osc_cred_input *in,
                               struct osc_cred_request *req,
                               struct osc_error *err);
int osc_cred_app_service(const struct osc_cred_input *in,
                         struct osc_cred_request *req, struct osc_error *err);
int osc_cred_imds(const struct osc_cred_input *in, struct osc_cred_request *req,
                  struct osc_error *err);

/* ---- shared by the kinds --------------------------------------------- */

/* The environment variable when it is set and not empty, else NULL. */
const char *osc_cred_env(const char *name);

/* Appends "&name=value" (value percent-encoded) to a form body. */
int osc_cred_form(struct osc_buf *body, const char *name, const char *value,
                  struct osc_error *err);

/* Appends "&client_id=..." (a user-assigned managed identity) to a URL when
 * client_id is not NULL. */
int osc_cred_put_client_id(struct osc_buf *url, const char *client_id,
                           struct osc_error *err);

/* The Entra v2 client-credentials request the application kinds (client
 * secret, workload identity) start from: POST {login}/{tenant}/oauth2/v2.0/
 * token with grant_type, client_id and scope; the caller adds its proof. */
int osc_cred_entra_request(const struct osc_cred_input *in,
                           struct osc_cred_request *req, struct osc_error *err);

/* Zeroes the whole buffer, then frees it. */
void osc_cred_wipe(struct osc_buf *b);

#endif
