#include "core/osc_cred.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounds: an ARM or identity-endpoint URL, and a form body that carries a
 * projected service-account token (core/osc_cred_workload.c). */
#define URL_MAX (64 * 1024)
#define BODY_MAX (64 * 1024 + 8192)

void osc_cred_request_init(struct osc_cred_request *req) {
  memset(req, 0, sizeof(*req));
  req->method = "GET";
  osc_buf_init(&req->url, URL_MAX);
  osc_buf_init(&req->body, BODY_MAX);
}

void osc_cred_request_free(struct osc_cred_request *req) {
  osc_cred_wipe(&req->body);
  osc_buf_free(&req->url);
}

const char *osc_cred_env(const char *name) {
  const char *v = getenv(name);

  return (v != NULL && v[0] != '\0') ? v : NULL;
}

int osc_cred_form(struct osc_buf *body, const char *name, const char *value,
                  struct osc_error *err) {
  int rc;

  if (body->len > 0 && osc_buf_puts(body, "&", err) < 0)
    return err ? err->code : OSC_E_RUNTIME;
  rc = osc_buf_printf(body, err, "%s=", name);
  if (rc >= 0)
    rc = osc_http_put_escaped(body, value, err);
  return rc;
}

int osc_cred_put_client_id(struct osc_buf *url, const char *client_id,
                           struct osc_error *err) {
  int rc;

  if (client_id == NULL)
    return OSC_OK;
  rc = osc_buf_puts(url, "&client_id=", err);
  if (rc >= 0)
    rc = osc_http_put_escaped(url, client_id, err);
  return rc;
}

int osc_cred_entra_request(const struct osc_cred_input *in,
                           struct osc_cred_request *req,
                           struct osc_error *err) {
  char scope[1100];
  int rc;

  if (in->tenant == NULL || in->client_id == NULL)
    return osc_error_set(err, OSC_E_CONFIG,
                         "Azure %s authentication needs azure.tenant and "
                         "azure.client_id",
                         in->name);
  snprintf(scope, sizeof(scope), "%s/.default", in->audience);
  rc = osc_http_put_url(&req->url, in->cfg->azure.login_endpoint, "/", err);
  if (rc >= 0)
    rc = osc_http_put_escaped(&req->url, in->tenant, err);
  if (rc >= 0)
    rc = osc_buf_puts(&req->url, "/oauth2/v2.0/token", err);
  if (rc >= 0)
    rc = osc_cred_form(&req->body, "grant_type", "client_credentials", err);
  if (rc >= 0)
    rc = osc_cred_form(&req->body, "client_id", in->client_id, err);
  if (rc >= 0)
    rc = osc_cred_form(&req->body, "scope", scope, err);
  req->method = "POST";
  req->header.name = "Content-Type";
  req->header.value = "application/x-www-form-urlencoded";
  req->header.secret = false;
  return rc;
}

void osc_cred_wipe(struct osc_buf *b) {
  if (b->data != NULL)
    memset(b->data, 0, b->cap);
  osc_buf_free(b);
}
