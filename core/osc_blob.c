#include "core/osc_blob.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/osc_azure.h"
#include "core/osc_http.h"
#include "core/osc_sharedkey.h"

#define URL_MAX 2048
#define NAME_MAX_LEN 256
#define MAX_HEADERS 16
#define AUTH_MAX 512
#define STORAGE_AUDIENCE "https://storage.azure.com"

struct osc_blob {
  const struct osc_config *cfg;
  const struct osc_config_state_blob *sb;
  struct osc_http *http;
  struct osc_azure *azure; /* entra only */
  char url[URL_MAX];       /* as configured: no query, nothing secret */
  const char *path;        /* into url: "/container/blob" or "/acct/c/b" */
  char account[NAME_MAX_LEN];
  char container[NAME_MAX_LEN];
  struct osc_apierr last;
};

/* --- URL ------------------------------------------------------------------ */

static bool is_path_style_host(const char *host, size_t len) {
  size_t i;
  bool digits_and_dots = true;

  if (len > 0 && host[0] == '[')
    return true; /* an IPv6 literal */
  if (len == 9 && strncasecmp(host, "localhost", 9) == 0)
    return true;
  if (memchr(host, '.', len) == NULL)
    return true;
  for (i = 0; i < len; i++)
    digits_and_dots =
        digits_and_dots && (isdigit((unsigned char)host[i]) || host[i] == '.');
  return digits_and_dots;
}

/* Copies the next path segment at *p (after a '/') into out. */
static bool next_segment(const char **p, char *out, size_t cap) {
  size_t n;

  if (**p != '/')
    return false;
  (*p)++;
  n = strcspn(*p, "/");
  if (n == 0 || n >= cap)
    return false;
  memcpy(out, *p, n);
  out[n] = '\0';
  *p += n;
  return true;
}

static int parse_url(struct osc_blob *b, struct osc_error *err) {
  const char *host = strstr(b->url, "://");
  const char *p;
  size_t host_len;
  size_t name_len;

  if (host == NULL)
    return osc_error_set(err, OSC_E_CONFIG, "state.url: not a URL: %.200s",
                         b->url);
  host += 3;
  host_len = strcspn(host, "/");
  name_len = host[0] == '[' ? host_len : strcspn(host, ":/");
  if (name_len > host_len)
    name_len = host_len;
  b->path = host + host_len;
  p = b->path;
  if (is_path_style_host(host, name_len)) {
    if (!next_segment(&p, b->account, sizeof(b->account)))
      goto bad;
  } else {
    size_t n = strcspn(host, ".");

    if (n == 0 || n >= sizeof(b->account))
      goto bad;
    memcpy(b->account, host, n);
    b->account[n] = '\0';
  }
  if (!next_segment(&p, b->container, sizeof(b->container)) || p[0] != '/' ||
      p[1] == '\0')
    goto bad;
  return OSC_OK;
bad:
  return osc_error_set(err, OSC_E_CONFIG,
                       "state.url must name a blob: "
                       "https://ACCOUNT.blob.core.windows.net/CONTAINER/PATH "
                       "or, path-style, http://HOST:PORT/ACCOUNT/CONTAINER/"
                       "PATH (not %.200s)",
                       b->url);
}

/* --- lifetime ------------------------------------------------------------- */

int osc_blob_new(const struct osc_config *cfg, int64_t retry_budget_ms,
                 struct osc_blob **out, struct osc_error *err) {
  struct osc_http_options ho = OSC_HTTP_OPTIONS_INIT;
  struct osc_blob *b;
  int rc;

  *out = NULL;
  b = calloc(1, sizeof(*b));
  if (b == NULL)
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  b->cfg = cfg;
  b->sb = &cfg->state_blob;
  if (b->sb->url == NULL || strlen(b->sb->url) >= sizeof(b->url)) {
    rc = osc_error_set(err, OSC_E_CONFIG, "state.url is missing or too long");
    goto fail;
  }
  if (strpbrk(b->sb->url, "?#") != NULL) {
    /* never echoed: a query may be a SAS */
    rc = osc_error_set(err, OSC_E_CONFIG,
                       "a state blob URL must not have a query or fragment "
                       "(a SAS goes in state.sas_token)");
    goto fail;
  }
  memcpy(b->url, b->sb->url, strlen(b->sb->url) + 1);
  rc = parse_url(b, err);
  if (rc < 0)
    goto fail;
  ho.connect_timeout_ms = cfg->http.connect_timeout_ms;
  ho.timeout_ms = cfg->http.timeout_ms;
  ho.max_attempts = cfg->http.max_attempts;
  ho.max_retry_ms = cfg->http.max_retry_ms;
  if (retry_budget_ms > 0) {
    ho.max_retry_ms = retry_budget_ms;
    if (ho.timeout_ms <= 0 || ho.timeout_ms > retry_budget_ms)
      ho.timeout_ms = retry_budget_ms;
  }
  ho.ca_file = cfg->http.ca_file;
  rc = osc_http_new(&ho, &b->http, err);
  if (rc == OSC_OK && b->sb->auth == OSC_BLOB_AUTH_ENTRA) {
    rc = osc_azure_new(cfg, b->http, &b->azure, err);
    if (rc == OSC_OK)
      osc_azure_set_audience(b->azure, STORAGE_AUDIENCE);
  }
  if (rc < 0)
    goto fail;
  *out = b;
  return OSC_OK;
fail:
  osc_blob_free(b);
  return rc;
}

void osc_blob_free(struct osc_blob *b) {
  if (b == NULL)
    return;
  osc_azure_free(b->azure);
  osc_http_free(b->http);
  free(b);
}

const char *osc_blob_url(const struct osc_blob *b) {
  return b->url;
}
const char *osc_blob_container(const struct osc_blob *b) {
  return b->container;
}
const char *osc_blob_account(const struct osc_blob *b) {
  return b->account;
}
const struct osc_apierr *osc_blob_last(const struct osc_blob *b) {
  return &b->last;
}

bool osc_blob_last_is(const struct osc_blob *b, long status, const char *code) {
  return b->last.status == status &&
         (code == NULL || strcmp(b->last.code, code) == 0);
}

/* --- errors ----------------------------------------------------------------
 */

static const char *find(const char *hay, size_t len, const char *needle) {
  size_t n = strlen(needle);
  size_t i;

  for (i = 0; n <= len && i <= len - n; i++) {
    if (memcmp(hay + i, needle, n) == 0)
      return hay + i;
  }
  return NULL;
}

static void copy_tag(const char *body, size_t len, const char *tag, char *out,
                     size_t cap) {
  char open[32];
  char close[32];
  const char *s;
  const char *e;
  char text[512];
  size_t n;

  snprintf(open, sizeof(open), "<%s>", tag);
  snprintf(close, sizeof(close), "</%s>", tag);
  s = find(body, len, open);
  if (s == NULL)
    return;
  s += strlen(open);
  e = find(s, len - (size_t)(s - body), close);
  if (e == NULL)
    return;
  n = (size_t)(e - s) < sizeof(text) - 1 ? (size_t)(e - s) : sizeof(text) - 1;
  memcpy(text, s, n);
  text[n] = '\0';
  osc_apierr_copy_line(out, cap, text);
}

/* Storage errors are XML: <Error><Code>..</Code><Message>..</Message>. */
static void parse_xml_error(const char *text, size_t len,
                            struct osc_apierr *d) {
  copy_tag(text, len, "Code", d->code, sizeof(d->code));
  copy_tag(text, len, "Message", d->message, sizeof(d->message));
}

static const char *hint(const struct osc_blob *b) {
  const struct osc_apierr *d = &b->last;

  if (d->status == 404 && strcmp(d->code, "ContainerNotFound") == 0)
    return "the container does not exist: create it (octoscale creates "
           "only the blob)";
  if (d->status == 403 || d->status == 401) {
    if (b->sb->auth == OSC_BLOB_AUTH_SHARED_KEY)
      return "the account key (state.account_key) was refused";
    if (b->sb->auth == OSC_BLOB_AUTH_SAS)
      return "the SAS token (state.sas_token) was refused: it needs read, "
             "add, create and write permissions on the blob and must not "
             "have expired";
    if (strcmp(d->code, "AuthenticationFailed") == 0)
      return "the bearer token was refused (is the azure credential's tenant "
             "the storage account's?)";
    return "the Azure identity needs the Storage Blob Data Contributor role "
           "on the storage account or container";
  }
  if (d->status == 0 && (strstr(d->message, "SSL") != NULL ||
                         strstr(d->message, "certificate") != NULL))
    return "TLS verification failed: is http.ca_file the CA that signed the "
           "server's certificate?";
  return NULL;
}

/* Fills b->last from a failed exchange and err with one line. */
static int blob_fail(struct osc_blob *b, const char *op,
                     const struct osc_http_response *resp,
                     const struct osc_error *transport, struct osc_error *err) {
  char what[URL_MAX + 128];
  char line[OSC_ERROR_MAX];
  const char *h;

  osc_apierr_fill(&b->last, resp, transport, parse_xml_error);
  if (resp != NULL && b->last.code[0] == '\0')
    osc_http_response_header(resp, "x-ms-error-code", b->last.code,
                             sizeof(b->last.code));
  /* A refused signature's message quotes it: keep the code only. */
  if (b->last.status == 403 && b->sb->auth != OSC_BLOB_AUTH_ENTRA)
    b->last.message[0] = '\0';
  snprintf(what, sizeof(what), "state blob %s: %s", b->url, op);
  osc_apierr_format(&b->last, what, line, sizeof(line));
  h = hint(b);
  if (b->last.status == 404 && strcmp(b->last.code, "ContainerNotFound") == 0)
    return osc_error_set(err, OSC_E_RUNTIME,
                         "%s; container '%s' of storage account '%s': %s", line,
                         b->container, b->account, h);
  if (h != NULL)
    return osc_error_set(err, OSC_E_RUNTIME, "%s; %s", line, h);
  return osc_error_set(err, OSC_E_RUNTIME, "%s", line);
}

/* --- requests ---------------------------------------------------------------
 */

struct blob_call {
  const char *method;
  const char *op;    /* for messages: "Get Blob" */
  const char *query; /* "comp=lease", or NULL */
  struct osc_http_header headers[MAX_HEADERS];
  size_t n;
  const char *body;
  size_t len;
};

static void add(struct blob_call *c, const char *name, const char *value) {
  if (c->n < MAX_HEADERS) {
    c->headers[c->n].name = name;
    c->headers[c->n].value = value;
    c->headers[c->n].secret = false;
    c->n++;
  }
}

static int authorize(struct osc_blob *b, struct blob_call *c, char *auth,
                     size_t cap, struct osc_error *err) {
  struct osc_buf sts;
  int rc;

  if (b->sb->auth == OSC_BLOB_AUTH_SAS)
    return OSC_OK;
  if (b->sb->auth == OSC_BLOB_AUTH_ENTRA) {
    struct osc_http_header h;
    struct osc_apierr detail;

    rc = osc_azure_authorize(b->azure, &h, &detail, err);
    if (rc < 0) {
      b->last = detail;
      return osc_error_prefix(err, "state blob %s: token for %s", b->url,
                              STORAGE_AUDIENCE);
    }
    if (c->n < MAX_HEADERS)
      c->headers[c->n++] = h; /* valid until the next authorize: this call */
    return OSC_OK;
  } else {
    osc_buf_init(&sts, 64 * 1024);
    rc = osc_sharedkey_string_to_sign(c->method, b->account, b->path, c->query,
                                      c->headers, c->n, c->len, &sts, err);
    if (rc == OSC_OK)
      rc = osc_sharedkey_authorization(b->account, b->sb->account_key,
                                       osc_buf_str(&sts), sts.len, auth, cap,
                                       err);
    osc_buf_free(&sts);
    if (rc < 0)
      return rc;
  }
  if (c->n < MAX_HEADERS) {
    c->headers[c->n].name = "Authorization";
    c->headers[c->n].value = auth;
    c->headers[c->n].secret = true;
    c->n++;
  }
  return OSC_OK;
}

/* Sends c; 0 with resp filled on 2xx, else blob_fail's error. */
static int send_call(struct osc_blob *b, struct blob_call *c,
                     struct osc_http_response *resp, struct osc_error *err) {
  char date[64];
  char url[URL_MAX * 2];
  char auth[AUTH_MAX];
  struct osc_http_request req;
  struct osc_error herr = OSC_ERROR_INIT;
  time_t now = time(NULL);
  struct tm tm;
  int rc;

  osc_apierr_clear(&b->last);
  gmtime_r(&now, &tm);
  strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  add(c, "x-ms-version", OSC_AZURE_STORAGE_API_VERSION);
  add(c, "x-ms-date", date);
  if (strcmp(c->method, "PUT") == 0)
    add(c, "Content-Type", "application/octet-stream");
  snprintf(url, sizeof(url), "%s%s%s%s%s", b->url, c->query ? "?" : "",
           c->query ? c->query : "",
           b->sb->auth == OSC_BLOB_AUTH_SAS ? (c->query ? "&" : "?") : "",
           b->sb->auth == OSC_BLOB_AUTH_SAS ? b->sb->sas_token : "");
  rc = authorize(b, c, auth, sizeof(auth), err);
  if (rc < 0)
    goto done;
  memset(&req, 0, sizeof(req));
  req.method = c->method;
  req.url = url;
  req.headers = c->headers;
  req.n_headers = c->n;
  req.body = c->body;
  req.body_len = c->len;
  req.what = c->op;
  rc = osc_http_perform(b->http, &req, resp, &herr);
  if (rc < 0 || resp->status / 100 != 2)
    rc = blob_fail(b, c->op, rc < 0 && resp->status == 0 ? NULL : resp, &herr,
                   err);
done:
  OPENSSL_cleanse(auth, sizeof(auth));
  return rc;
}

/* --- operations ------------------------------------------------------------
 */

static void read_props(const struct osc_http_response *resp,
                       struct osc_blob_props *props) {
  struct osc_blob_holder *h = &props->holder;

  props->exists = true;
  osc_http_response_header(resp, "x-ms-lease-state", props->lease_state,
                           sizeof(props->lease_state));
  osc_http_response_header(resp, "etag", props->etag, sizeof(props->etag));
  osc_http_response_header(resp, "x-ms-meta-octoscale_pid", h->pid,
                           sizeof(h->pid));
  osc_http_response_header(resp, "x-ms-meta-octoscale_host", h->host,
                           sizeof(h->host));
  osc_http_response_header(resp, "x-ms-meta-octoscale_started", h->started,
                           sizeof(h->started));
  osc_http_response_header(resp, "x-ms-meta-octoscale_task", h->task,
                           sizeof(h->task));
}

static int fetch(struct osc_blob *b, const char *method, const char *op,
                 struct osc_buf *out, struct osc_blob_props *props,
                 struct osc_error *err) {
  struct osc_http_response resp;
  struct blob_call c;
  int rc;

  memset(props, 0, sizeof(*props));
  memset(&c, 0, sizeof(c));
  c.method = method;
  c.op = op;
  osc_http_response_init(&resp, out ? out->max : 0);
  rc = send_call(b, &c, &resp, err);
  if (rc < 0 && osc_blob_last_is(b, 404, NULL) &&
      strcmp(b->last.code, "ContainerNotFound") != 0) {
    rc = OSC_OK; /* BlobNotFound (HEAD has no body: any 404 but the
                    container's) */
    osc_error_clear(err);
  } else if (rc == OSC_OK) {
    read_props(&resp, props);
    if (out != NULL)
      rc = osc_buf_append(out, resp.body.data, resp.body.len, err);
  }
  osc_http_response_free(&resp);
  return rc;
}

int osc_blob_get(struct osc_blob *b, struct osc_buf *out,
                 struct osc_blob_props *props, struct osc_error *err) {
  return fetch(b, "GET", "Get Blob", out, props, err);
}

int osc_blob_properties(struct osc_blob *b, struct osc_blob_props *props,
                        struct osc_error *err) {
  return fetch(b, "HEAD", "Get Blob Properties", NULL, props, err);
}

static int simple(struct osc_blob *b, struct blob_call *c,
                  struct osc_error *err) {
  struct osc_http_response resp;
  int rc;

  osc_http_response_init(&resp, 64 * 1024);
  rc = send_call(b, c, &resp, err);
  osc_http_response_free(&resp);
  return rc;
}

int osc_blob_put(struct osc_blob *b, const char *data, size_t len,
                 const char *lease_id, bool create_only,
                 struct osc_error *err) {
  struct blob_call c;

  memset(&c, 0, sizeof(c));
  c.method = "PUT";
  c.op = "Put Blob";
  c.body = data;
  c.len = len;
  add(&c, "x-ms-blob-type", "BlockBlob");
  add(&c, "x-ms-blob-content-type", "application/json");
  if (lease_id != NULL)
    add(&c, "x-ms-lease-id", lease_id);
  if (create_only)
    add(&c, "If-None-Match", "*");
  return simple(b, &c, err);
}

/* Metadata values must be plain ASCII on one line. */
static void clean(char *s) {
  for (; *s; s++) {
    if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
      *s = '?';
  }
}

int osc_blob_set_holder(struct osc_blob *b, const char *lease_id,
                        const struct osc_blob_holder *h,
                        struct osc_error *err) {
  struct osc_blob_holder v = *h;
  struct blob_call c;

  clean(v.pid);
  clean(v.host);
  clean(v.started);
  clean(v.task);
  memset(&c, 0, sizeof(c));
  c.method = "PUT";
  c.op = "Set Blob Metadata";
  c.query = "comp=metadata";
  add(&c, "x-ms-lease-id", lease_id);
  add(&c, "x-ms-meta-octoscale_pid", v.pid);
  add(&c, "x-ms-meta-octoscale_host", v.host);
  add(&c, "x-ms-meta-octoscale_started", v.started);
  if (v.task[0] != '\0')
    add(&c, "x-ms-meta-octoscale_task", v.task);
  return simple(b, &c, err);
}

int osc_blob_lease(struct osc_blob *b, enum osc_blob_lease_action action,
                   const char *lease_id, int duration_s,
                   struct osc_error *err) {
  static const char *const names[] = {"acquire", "renew", "release", "break"};
  static const char *const ops[] = {
      "Lease Blob (acquire)", "Lease Blob (renew)", "Lease Blob (release)",
      "Lease Blob (break)"};
  char duration[16];
  struct blob_call c;

  memset(&c, 0, sizeof(c));
  c.method = "PUT";
  c.op = ops[action];
  c.query = "comp=lease";
  add(&c, "x-ms-lease-action", names[action]);
  if (action == OSC_BLOB_LEASE_ACQUIRE) {
    snprintf(duration, sizeof(duration), "%d", duration_s);
    add(&c, "x-ms-lease-duration", duration);
    add(&c, "x-ms-proposed-lease-id", lease_id);
  } else if (action == OSC_BLOB_LEASE_BREAK) {
    add(&c, "x-ms-lease-break-period", "0");
  } else {
    add(&c, "x-ms-lease-id", lease_id);
  }
  return simple(b, &c, err);
}
