#include "core/osc_azure.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/osc_buf.h"
#include "core/osc_cred.h"
#include "core/osc_json.h"
#include "core/osc_log.h"

#define TOKEN_MAX_BODY (256 * 1024)
#define URL_MAX (64 * 1024)

struct osc_azure {
  const struct osc_config *cfg;
  struct osc_http *http;
  enum osc_azure_credential cred;
  char *auth_value;   /* "Bearer <token>", NULL until fetched */
  int64_t expires_at; /* Unix seconds */
  int64_t refresh_at; /* fetch a new one from then on */
  int fetches;
  const char *audience; /* NULL: the cloud's ARM audience */
};

static const char *nonempty(const char *s) {
  return (s != NULL && s[0] != '\0') ? s : NULL;
}

static enum osc_azure_credential pick_credential(const struct osc_config *cfg) {
  switch (cfg->azure.auth) {
  case OSC_AUTH_CLIENT_SECRET:
    return OSC_AZURE_CRED_CLIENT_SECRET;
  case OSC_AUTH_WORKLOAD_IDENTITY:
    return OSC_AZURE_CRED_WORKLOAD_IDENTITY;
  case OSC_AUTH_MANAGED_IDENTITY:
    return osc_cred_env("IDENTITY_ENDPOINT") ? OSC_AZURE_CRED_APP_SERVICE
                                             : OSC_AZURE_CRED_IMDS;
  default:
    break;
  }
  if (nonempty(cfg->azure.client_secret))
    return OSC_AZURE_CRED_CLIENT_SECRET;
  if (osc_cred_env("AZURE_FEDERATED_TOKEN_FILE"))
    return OSC_AZURE_CRED_WORKLOAD_IDENTITY;
  if (osc_cred_env("IDENTITY_ENDPOINT"))
    return OSC_AZURE_CRED_APP_SERVICE;
  return OSC_AZURE_CRED_IMDS;
}

int osc_azure_new(const struct osc_config *cfg, struct osc_http *http,
                  struct osc_azure **out, struct osc_error *err) {
  struct osc_azure *az;

  *out = NULL;
  az = calloc(1, sizeof(*az));
  if (az == NULL)
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  az->cfg = cfg;
  az->http = http;
  az->cred = pick_credential(cfg);
  *out = az;
  return OSC_OK;
}

static void forget_token(struct osc_azure *az) {
  if (az->auth_value != NULL) {
    memset(az->auth_value, 0, strlen(az->auth_value));
    free(az->auth_value);
    az->auth_value = NULL;
  }
  az->expires_at = 0;
  az->refresh_at = 0;
}

void osc_azure_free(struct osc_azure *az) {
  if (az == NULL)
    return;
  forget_token(az);
  free(az);
}

void osc_azure_set_audience(struct osc_azure *az, const char *audience) {
  az->audience = audience;
}

enum osc_azure_credential osc_azure_credential(const struct osc_azure *az) {
  return az->cred;
}

const char *osc_azure_credential_name(enum osc_azure_credential cred) {
  switch (cred) {
  case OSC_AZURE_CRED_CLIENT_SECRET:
    return "client secret";
  case OSC_AZURE_CRED_WORKLOAD_IDENTITY:
    return "workload identity";
  case OSC_AZURE_CRED_APP_SERVICE:
    return "App Service managed identity";
  default:
    return "managed identity";
  }
}

int osc_azure_token_fetches(const struct osc_azure *az) {
  return az->fetches;
}

/* ---- error bodies ---------------------------------------------------- */

/* Reads {"error":{code,message}}, {code,message} and Entra's
 * {error:"invalid_client", error_description, correlation_id}. */
static void parse_error_body(const char *text, size_t len,
                             struct osc_apierr *d) {
  struct osc_json_doc *doc = NULL;
  const struct osc_json_value *root;
  const struct osc_json_value *e;
  const char *code;
  const char *msg;
  const char *corr;

  if (osc_json_parse(text, len, "error body", &doc, NULL) < 0)
    return;
  root = osc_json_root(doc);
  e = osc_json_get(root, "error");
  if (osc_json_type(e) == OSC_JSON_STRING) {
    code = osc_json_str(e, NULL);
    msg = osc_json_str(osc_json_get(root, "error_description"), NULL);
  } else {
    if (!osc_json_is_container(e))
      e = root;
    code = osc_json_str(osc_json_get(e, "code"), NULL);
    msg = osc_json_str(osc_json_get(e, "message"), NULL);
  }
  if (code != NULL)
    osc_apierr_copy_line(d->code, sizeof(d->code), code);
  if (msg != NULL)
    osc_apierr_copy_line(d->message, sizeof(d->message), msg);
  corr = osc_json_str(osc_json_get(root, "correlation_id"), NULL);
  if (d->request_id[0] == '\0' && corr != NULL)
    osc_apierr_copy_line(d->request_id, sizeof(d->request_id), corr);
  osc_json_doc_free(doc);
}

void osc_azure_error_detail(struct osc_azure *az,
                            const struct osc_http_response *resp,
                            const struct osc_error *transport,
                            struct osc_apierr *detail) {
  osc_apierr_fill(detail, resp, transport, parse_error_body);
}

int osc_azure_fail(struct osc_azure *az, const char *what,
                   const struct osc_http_response *resp,
                   const struct osc_error *transport, struct osc_apierr *detail,
                   struct osc_error *err) {
  struct osc_apierr local;

  if (detail == NULL)
    detail = &local;
  osc_azure_error_detail(az, resp, transport, detail);
  return osc_apierr_to_error(detail, what, OSC_E_SAFETY, err);
}

/* ---- URLs ------------------------------------------------------------ */

static const char *subscription(struct osc_azure *az, const char *sub) {
  return nonempty(sub) ? sub : az->cfg->azure.subscription;
}

static const char *compute_version(struct osc_azure *az) {
  return nonempty(az->cfg->azure.api_version) ? az->cfg->azure.api_version
                                              : OSC_AZURE_COMPUTE_API_VERSION;
}

static const char *network_version(struct osc_azure *az) {
  return nonempty(az->cfg->azure.network_api_version)
             ? az->cfg->azure.network_api_version
             : OSC_AZURE_NETWORK_API_VERSION;
}

/* {management}/subscriptions/S/resourceGroups/R into b. */
static int put_rg(struct osc_azure *az, struct osc_buf *b, const char *sub,
                  const char *rg, struct osc_error *err) {
  int rc;

  sub = subscription(az, sub);
  if (!nonempty(sub))
    return osc_error_set(err, OSC_E_CONFIG,
                         "no Azure subscription (azure.subscription)");
  if (!nonempty(rg))
    return osc_error_set(err, OSC_E_CONFIG, "no resource group");
  rc = osc_http_put_url(b, az->cfg->azure.management_endpoint,
                        "/subscriptions/", err);
  if (rc >= 0)
    rc = osc_http_put_escaped(b, sub, err);
  if (rc >= 0)
    rc = osc_buf_puts(b, "/resourceGroups/", err);
  if (rc >= 0)
    rc = osc_http_put_escaped(b, rg, err);
  return rc;
}

static int put_vmss(struct osc_azure *az, struct osc_buf *b, const char *sub,
                    const char *rg, const char *vmss, struct osc_error *err) {
  int rc = put_rg(az, b, sub, rg, err);

  if (rc >= 0 && !nonempty(vmss))
    rc = osc_error_set(err, OSC_E_CONFIG, "no scale set name");
  if (rc >= 0)
    rc = osc_buf_puts(
        b, "/providers/Microsoft.Compute/virtualMachineScaleSets/", err);
  if (rc >= 0)
    rc = osc_http_put_escaped(b, vmss, err);
  return rc;
}

static int finish_url(struct osc_buf *b, int rc, char **out) {
  if (rc < 0) {
    osc_buf_free(b);
    return rc;
  }
  *out = osc_buf_detach(b);
  return OSC_OK;
}

int osc_azure_vmss_url(struct osc_azure *az, const char *sub, const char *rg,
                       const char *vmss, char **out, struct osc_error *err) {
  struct osc_buf b;
  int rc;

  osc_buf_init(&b, URL_MAX);
  rc = put_vmss(az, &b, sub, rg, vmss, err);
  if (rc >= 0)
    rc = osc_buf_printf(&b, err, "?api-version=%s", compute_version(az));
  return finish_url(&b, rc, out);
}

int osc_azure_vm_list_url(struct osc_azure *az, const char *sub, const char *rg,
                          const char *vmss, const char *vmss_id,
                          enum osc_orchestration mode, char **out,
                          struct osc_error *err) {
  struct osc_buf b;
  struct osc_buf id;
  struct osc_buf filter;
  int rc;

  osc_buf_init(&b, URL_MAX);
  osc_buf_init(&id, URL_MAX);
  osc_buf_init(&filter, URL_MAX);
  if (mode == OSC_UNIFORM) {
    rc = put_vmss(az, &b, sub, rg, vmss, err);
    if (rc >= 0)
      rc = osc_buf_printf(&b, err,
                          "/virtualMachines?api-version=%s"
                          "&$expand=instanceView",
                          compute_version(az));
    goto done;
  }
  if (nonempty(vmss_id)) {
    rc = osc_buf_puts(&id, vmss_id, err);
  } else {
    rc = osc_buf_printf(&id, err,
                        "/subscriptions/%s/resourceGroups/%s/providers/"
                        "Microsoft.Compute/virtualMachineScaleSets/%s",
                        subscription(az, sub), rg, vmss);
  }
  if (rc >= 0)
    rc = osc_buf_printf(&filter, err, "'virtualMachineScaleSet/id' eq '%s'",
                        osc_buf_str(&id));
  if (rc >= 0)
    rc = put_rg(az, &b, sub, rg, err);
  if (rc >= 0)
    rc = osc_buf_printf(&b, err,
                        "/providers/Microsoft.Compute/virtualMachines"
                        "?api-version=%s&$filter=",
                        compute_version(az));
  if (rc >= 0)
    rc = osc_http_put_escaped(&b, osc_buf_str(&filter), err);
  if (rc >= 0)
    rc = osc_buf_puts(&b, "&$expand=instanceView", err);
done:
  osc_buf_free(&id);
  osc_buf_free(&filter);
  return finish_url(&b, rc, out);
}

int osc_azure_nic_list_url(struct osc_azure *az, const char *sub,
                           const char *rg, const char *vmss,
                           enum osc_orchestration mode, char **out,
                           struct osc_error *err) {
  struct osc_buf b;
  int rc;

  osc_buf_init(&b, URL_MAX);
  if (mode == OSC_UNIFORM) {
    rc = put_vmss(az, &b, sub, rg, vmss, err);
    if (rc >= 0)
      rc = osc_buf_printf(&b, err, "/networkInterfaces?api-version=%s",
                          network_version(az));
  } else {
    rc = put_rg(az, &b, sub, rg, err);
    if (rc >= 0)
      rc = osc_buf_printf(&b, err,
                          "/providers/Microsoft.Network/networkInterfaces"
                          "?api-version=%s",
                          OSC_AZURE_NIC_API_VERSION);
  }
  return finish_url(&b, rc, out);
}

/* Length of "scheme://authority" at the start of url, or 0. */
static size_t origin_len(const char *url) {
  const char *p = strstr(url, "://");

  if (p == NULL)
    return 0;
  p += 3;
  p += strcspn(p, "/?#");
  return (size_t)(p - url);
}

static bool same_origin(const char *a, const char *b) {
  size_t na = origin_len(a);
  size_t nb = origin_len(b);

  return na > 0 && na == nb && strncasecmp(a, b, na) == 0;
}

int osc_azure_url(struct osc_azure *az, const char *path, char **out,
                  struct osc_error *err) {
  struct osc_buf b;
  int rc;

  osc_buf_init(&b, URL_MAX);
  if (strstr(path, "://") != NULL) {
    if (!same_origin(path, az->cfg->azure.management_endpoint)) {
      osc_buf_free(&b);
      return osc_error_set(err, OSC_E_USAGE,
                           "URL is not on the Azure management endpoint");
    }
    rc = osc_buf_puts(&b, path, err);
  } else if (path[0] != '/') {
    osc_buf_free(&b);
    return osc_error_set(err, OSC_E_USAGE, "Azure path must start with '/': %s",
                         path);
  } else {
    rc = osc_http_put_url(&b, az->cfg->azure.management_endpoint, path, err);
  }
  if (rc >= 0 && strstr(osc_buf_str(&b), "api-version=") == NULL)
    rc = osc_buf_printf(&b, err, "%capi-version=%s",
                        strchr(osc_buf_str(&b), '?') ? '&' : '?',
                        compute_version(az));
  if (rc >= 0)
    rc = osc_http_fix_url(osc_buf_str(&b), out, err);
  osc_buf_free(&b);
  return rc;
}

int osc_azure_next_link(struct osc_azure *az, const char *link, char **out,
                        struct osc_error *err) {
  *out = NULL;
  if (!same_origin(link, az->cfg->azure.management_endpoint))
    return osc_error_set(err, OSC_E_SAFETY,
                         "nextLink does not point at the management endpoint");
  return osc_http_fix_url(link, out, err);
}

/* ---- tokens ---------------------------------------------------------- */

/* A token response: {"access_token", "expires_in" or "expires_on"}. */
struct token {
  char *auth_value; /* malloc'ed "Bearer ..." */
  int64_t expires_in;
  int64_t expires_on;
};

static void token_wipe(struct token *t) {
  if (t->auth_value != NULL) {
    memset(t->auth_value, 0, strlen(t->auth_value));
    free(t->auth_value);
    t->auth_value = NULL;
  }
}

/* Reads the token out of a 2xx body. A 200 that carries no usable token is
 * a failed read (exit 4, as for every other read); only a refusal is
 * exit 1. */
static int parse_token(const struct osc_buf *body, struct token *t,
                       struct osc_error *err) {
  struct osc_json_doc *doc = NULL;
  const struct osc_json_value *root;
  const char *tok;
  size_t n;
  int rc = osc_json_parse(body->data, body->len, "token response", &doc, err);

  if (rc < 0) {
    if (rc != OSC_E_NOMEM)
      rc = err->code = OSC_E_SAFETY;
    return rc;
  }
  root = osc_json_root(doc);
  tok = osc_json_str(osc_json_get(root, "access_token"), NULL);
  if (tok == NULL || tok[0] == '\0') {
    rc = osc_error_set(err, OSC_E_SAFETY, "token response has no access_token");
    goto done;
  }
  n = strlen(tok) + sizeof("Bearer ");
  t->auth_value = malloc(n);
  if (t->auth_value == NULL) {
    rc = osc_error_set(err, OSC_E_NOMEM, "out of memory");
    goto done;
  }
  snprintf(t->auth_value, n, "Bearer %s", tok);
  if (!osc_json_int(osc_json_get(root, "expires_in"), &t->expires_in))
    t->expires_in = -1;
  if (!osc_json_int(osc_json_get(root, "expires_on"), &t->expires_on))
    t->expires_on = -1;
done:
  osc_json_doc_free(doc);
  return rc;
}

/* The token audience (without a trailing slash): the cloud's ARM audience,
 * not the management endpoint, which may be overridden (a proxy, a
 * simulator) while tokens are still issued for the cloud. An unknown cloud
 * falls back to the management endpoint. */
static int audience(struct osc_azure *az, char *out, size_t cap) {
  const struct osc_azure_cloud *cloud = osc_azure_cloud_find(
      az->cfg->azure.cloud ? az->cfg->azure.cloud : "public");
  const char *m = az->cfg->azure.management_endpoint;
  size_t n;

  if (cloud != NULL)
    m = cloud->management;
  if (az->audience != NULL)
    m = az->audience;
  n = m ? strlen(m) : 0;
  while (n > 0 && m[n - 1] == '/')
    n--;
  if (n == 0 || n >= cap)
    return -1;
  memcpy(out, m, n);
  out[n] = '\0';
  return 0;
}

/* Resolves what every credential kind reads and lets the selected kind
 * build its token request. */
static int token_request(struct osc_azure *az, struct osc_cred_request *req,
                         struct osc_error *err) {
  static int (*const build[])(const struct osc_cred_input *,
                              struct osc_cred_request *, struct osc_error *) = {
      [OSC_AZURE_CRED_CLIENT_SECRET] = osc_cred_client_secret,
      [OSC_AZURE_CRED_WORKLOAD_IDENTITY] = osc_cred_workload_identity,
      [OSC_AZURE_CRED_APP_SERVICE] = osc_cred_app_service,
      [OSC_AZURE_CRED_IMDS] = osc_cred_imds,
  };
  const struct osc_config *cfg = az->cfg;
  struct osc_cred_input in;
  char aud[1024];

  in.cfg = cfg;
  in.name = osc_azure_credential_name(az->cred);
  in.tenant = nonempty(cfg->azure.tenant) ? cfg->azure.tenant
                                          : osc_cred_env("AZURE_TENANT_ID");
  in.client_id = nonempty(cfg->azure.client_id)
                     ? cfg->azure.client_id
                     : osc_cred_env("AZURE_CLIENT_ID");
  if (audience(az, aud, sizeof(aud)) < 0)
    return osc_error_set(err, OSC_E_CONFIG,
                         "no Azure management endpoint configured");
  in.audience = aud;
  return build[az->cred](&in, req, err);
}

/* Sends the token request; a failure (no response, or not 2xx) becomes
 * err's one line. */
static int send_token_request(struct osc_azure *az,
                              const struct osc_cred_request *creq,
                              const char *what, struct osc_http_response *resp,
                              struct osc_apierr *detail,
                              struct osc_error *err) {
  struct osc_http_request req;
  struct osc_error herr = OSC_ERROR_INIT;
  struct osc_apierr local;
  struct osc_apierr *d = detail ? detail : &local;
  char line[OSC_ERROR_MAX];
  int rc;

  memset(&req, 0, sizeof(req));
  req.method = creq->method;
  req.url = osc_buf_str(&creq->url);
  req.headers = &creq->header;
  req.n_headers = 1;
  req.body = creq->body.len ? creq->body.data : NULL;
  req.body_len = creq->body.len;
  req.body_secret = true;
  req.retry_unsafe = true; /* a token request can be repeated */
  req.what = what;
  az->fetches++;
  osc_log_debug("requesting an Azure token (%s)",
                osc_azure_credential_name(az->cred));
  rc = osc_http_perform(az->http, &req, resp, &herr);
  if (rc >= 0 && resp->status >= 200 && resp->status <= 299)
    return OSC_OK;
  osc_azure_error_detail(az, resp, rc < 0 ? &herr : NULL, d);
  osc_apierr_format(d, what, line, sizeof(line));
  /* Entra and the identity endpoints answer 400/401 when they refuse
   * the credential: that is "authentication refused" (exit 1). */
  return osc_error_set(err,
                       (d->status >= 400 && d->status < 500 &&
                        d->status != 408 && d->status != 429)
                           ? OSC_E_RUNTIME
                           : OSC_E_SAFETY,
                       "%s", line);
}

/* Caches the token t carries and decides when to fetch the next one. */
static void keep_token(struct osc_azure *az, struct token *t) {
  /* The real clock, even when OCTOSCALE_NOW replays another time. */
  int64_t now = (int64_t)time(NULL);

  forget_token(az);
  az->auth_value = t->auth_value;
  t->auth_value = NULL;
  if (t->expires_in > 0)
    az->expires_at = now + t->expires_in;
  else if (t->expires_on > 0)
    az->expires_at = t->expires_on;
  else
    az->expires_at = now + 3600;
  /* Refresh 5 minutes early; a token issued with less left than that
   * (a cached managed-identity token) is used for half of what is left
   * rather than fetched again for every request. */
  if (az->expires_at - now > 2 * OSC_AZURE_TOKEN_SKEW_S)
    az->refresh_at = az->expires_at - OSC_AZURE_TOKEN_SKEW_S;
  else
    az->refresh_at = now + (az->expires_at - now) / 2;
}

static int fetch_token(struct osc_azure *az, struct osc_apierr *detail,
                       struct osc_error *err) {
  struct osc_cred_request creq;
  struct osc_http_response resp;
  struct token tok;
  char what[96];
  int rc;

  memset(&tok, 0, sizeof(tok));
  osc_cred_request_init(&creq);
  osc_http_response_init(&resp, TOKEN_MAX_BODY);
  snprintf(what, sizeof(what), "Azure token (%s)",
           osc_azure_credential_name(az->cred));
  rc = token_request(az, &creq, err);
  if (rc >= 0)
    rc = send_token_request(az, &creq, what, &resp, detail, err);
  if (rc >= 0) {
    rc = parse_token(&resp.body, &tok, err);
    if (rc < 0)
      osc_error_prefix(err, "%s", what);
  }
  if (rc >= 0)
    keep_token(az, &tok);
  token_wipe(&tok);
  osc_cred_request_free(&creq);
  if (resp.body.data != NULL)
    memset(resp.body.data, 0, resp.body.len);
  osc_http_response_free(&resp);
  return rc;
}

int osc_azure_authorize(struct osc_azure *az, struct osc_http_header *out,
                        struct osc_apierr *detail, struct osc_error *err) {
  int64_t now = (int64_t)time(NULL);
  int rc;

  osc_apierr_clear(detail);
  if (az->auth_value == NULL || now >= az->refresh_at) {
    rc = fetch_token(az, detail, err);
    if (rc < 0)
      return rc;
  }
  out->name = "Authorization";
  out->value = az->auth_value;
  out->secret = true;
  return OSC_OK;
}

/* ---- requests -------------------------------------------------------- */

int osc_azure_send(struct osc_azure *az, const char *method, const char *url,
                   const char *body, bool retry_unsafe, const char *what,
                   struct osc_http_response *resp, struct osc_apierr *detail,
                   struct osc_error *err) {
  struct osc_http_header hdr[3];
  struct osc_http_request req;
  struct osc_error herr = OSC_ERROR_INIT;
  int rc;

  rc = osc_azure_authorize(az, &hdr[0], detail, err);
  if (rc < 0)
    return rc;
  hdr[1].name = "Accept";
  hdr[1].value = "application/json";
  hdr[1].secret = false;
  hdr[2].name = "Content-Type";
  hdr[2].value = "application/json";
  hdr[2].secret = false;
  memset(&req, 0, sizeof(req));
  req.method = method;
  req.url = url;
  req.headers = hdr;
  req.n_headers = body ? 3 : 2;
  req.body = body;
  req.body_len = body ? strlen(body) : 0;
  req.retry_unsafe = retry_unsafe;
  req.what = what;
  rc = osc_http_perform(az->http, &req, resp, &herr);
  if (rc < 0)
    return osc_azure_fail(az, what, resp, &herr, detail, err);
  return OSC_OK;
}

int osc_azure_set_capacity(struct osc_azure *az, const char *sub,
                           const char *rg, const char *vmss, int64_t capacity,
                           struct osc_apierr *detail, struct osc_error *err) {
  struct osc_http_response resp;
  char body[96];
  char what[512];
  char *url = NULL;
  int rc;

  osc_http_response_init(&resp, 8u << 20);
  if (capacity < 0) {
    rc = osc_error_set(err, OSC_E_USAGE, "capacity must be >= 0");
    goto done;
  }
  snprintf(what, sizeof(what), "Azure VMSS PATCH %s/%s", rg ? rg : "",
           vmss ? vmss : "");
  rc = osc_azure_vmss_url(az, sub, rg, vmss, &url, err);
  if (rc < 0)
    goto done;
  snprintf(body, sizeof(body), "{\"sku\":{\"capacity\":%lld}}",
           (long long)capacity);
  rc = osc_azure_send(az, "PATCH", url, body, true, what, &resp, detail, err);
  if (rc < 0)
    goto done;
  if (resp.status != 200 && resp.status != 202)
    rc = osc_azure_fail(az, what, &resp, NULL, detail, err);
done:
  free(url);
  osc_http_response_free(&resp);
  return rc;
}
