/* App Service (and Functions, Container Apps) managed identity: a GET on
 * IDENTITY_ENDPOINT with the IDENTITY_HEADER secret. */
#include "core/osc_cred.h"

#include <string.h>

int osc_cred_app_service(const struct osc_cred_input *in,
                         struct osc_cred_request *req, struct osc_error *err) {
  const char *endpoint = osc_cred_env("IDENTITY_ENDPOINT");
  const char *header = osc_cred_env("IDENTITY_HEADER");
  int rc;

  if (endpoint == NULL || header == NULL)
    return osc_error_set(err, OSC_E_CONFIG,
                         "App Service identity needs IDENTITY_ENDPOINT and "
                         "IDENTITY_HEADER");
  rc = osc_buf_printf(&req->url, err, "%s%cresource=", endpoint,
                      strchr(endpoint, '?') ? '&' : '?');
  if (rc >= 0)
    rc = osc_http_put_escaped(&req->url, in->audience, err);
  if (rc >= 0)
    rc = osc_buf_puts(&req->url,
                      "&api-version=" OSC_AZURE_APP_SERVICE_TOKEN_API_VERSION,
                      err);
  if (rc >= 0)
    rc = osc_cred_put_client_id(&req->url, in->client_id, err);
  req->method = "GET";
  req->header.name = "X-IDENTITY-HEADER";
  req->header.value = header;
  req->header.secret = true;
  return rc;
}
