/* IMDS managed identity (a VM's system- or user-assigned identity): a GET on
 * the instance metadata service, which takes the resource with its trailing
 * slash. */
#include "core/osc_cred.h"

#include <stdio.h>

int osc_cred_imds(const struct osc_cred_input *in, struct osc_cred_request *req,
                  struct osc_error *err) {
  char resource[1100];
  int rc;

  snprintf(resource, sizeof(resource), "%s/", in->audience);
  rc = osc_http_put_url(&req->url, in->cfg->azure.imds_endpoint,
                        "/metadata/identity/oauth2/"
                        "token?api-version=" OSC_AZURE_IMDS_TOKEN_API_VERSION
                        "&resource=",
                        err);
  if (rc >= 0)
    rc = osc_http_put_escaped(&req->url, resource, err);
  if (rc >= 0)
    rc = osc_cred_put_client_id(&req->url, in->client_id, err);
  req->method = "GET";
  req->header.name = "Metadata";
  req->header.value = "true";
  req->header.secret = false;
  return rc;
}
