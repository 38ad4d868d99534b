#include "core/osc_octopus.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/osc_arena.h"
#include "core/osc_buf.h"
#include "core/osc_json.h"
#include "core/osc_jsonw.h"
#include "core/osc_log.h"
#include "core/osc_rawjson.h"
#include "core/osc_time.h"

#define URL_MAX (64 * 1024)
#define SMALL_BODY (8u << 20)
#define MACHINE_BODY (16u << 20)

struct name_entry {
  enum osc_octopus_kind kind;
  const char *name; /* as configured */
  const char *id;
  struct name_entry *next;
};

struct osc_octopus {
  const struct osc_config *cfg;
  struct osc_http *http;
  struct osc_arena arena; /* names and ids */
  struct name_entry *names;
  const char *space_id;
  char base[2048];   /* configured URL without trailing slashes */
  size_t origin_len; /* "scheme://host[:port]" prefix of base */
};

static const char *id_prefix(enum osc_octopus_kind kind) {
  switch (kind) {
  case OSC_OCTOPUS_SPACE:
    return "Spaces-";
  case OSC_OCTOPUS_ENVIRONMENT:
    return "Environments-";
  default:
    return "Tenants-";
  }
}

const char *osc_octopus_kind_name(enum osc_octopus_kind kind) {
  switch (kind) {
  case OSC_OCTOPUS_SPACE:
    return "space";
  case OSC_OCTOPUS_ENVIRONMENT:
    return "environment";
  default:
    return "tenant";
  }
}

static const char *collection(enum osc_octopus_kind kind) {
  switch (kind) {
  case OSC_OCTOPUS_SPACE:
    return "spaces";
  case OSC_OCTOPUS_ENVIRONMENT:
    return "environments";
  default:
    return "tenants";
  }
}

/* "Environments-12" for kind ENVIRONMENT (case-insensitive prefix). */
static bool is_id(enum osc_octopus_kind kind, const char *s) {
  const char *prefix = id_prefix(kind);
  size_t n = strlen(prefix);
  const char *p;

  if (strncasecmp(s, prefix, n) != 0 || s[n] == '\0')
    return false;
  for (p = s + n; *p; p++) {
    if (!isdigit((unsigned char)*p))
      return false;
  }
  return true;
}

/* host[:port] of url into out (for the rate limit). */
static int url_host(const char *url, char *out, size_t cap) {
  const char *p = strstr(url, "://");
  const char *at;
  size_t n;
  size_t i;

  if (p == NULL)
    return -1;
  p += 3;
  n = strcspn(p, "/?#");
  at = memchr(p, '@', n);
  if (at != NULL) {
    n -= (size_t)(at + 1 - p);
    p = at + 1;
  }
  if (n == 0 || n >= cap)
    return -1;
  for (i = 0; i < n; i++)
    out[i] = (char)tolower((unsigned char)p[i]);
  out[n] = '\0';
  return 0;
}

/* OCTOSCALE_OCTOPUS_RATE="auto" | "0" | "PER_MINUTE[/BURST]" replaces
 * octopus.requests_per_minute (benchmarks, experiments). */
static void rate_from_env(double *per_minute, double *burst) {
  const char *env = getenv("OCTOSCALE_OCTOPUS_RATE");
  char *end = NULL;
  double v;

  if (env == NULL || env[0] == '\0')
    return;
  if (strcmp(env, "auto") == 0) {
    *per_minute = OSC_RATE_AUTO;
    return;
  }
  v = strtod(env, &end);
  if (end == env || v < 0)
    return;
  *per_minute = v;
  *burst = v;
  if (*end == '/') {
    const char *b = end + 1;

    v = strtod(b, &end);
    if (end != b && v >= 1)
      *burst = v;
  }
}

static void rate_limit(struct osc_octopus *o) {
  double per_minute = o->cfg->octopus.requests_per_minute;
  double burst = per_minute;
  char host[512];
  struct osc_error err = OSC_ERROR_INIT;
  int rc;

  rate_from_env(&per_minute, &burst);
  if (per_minute == 0)
    return; /* requests_per_minute: 0 */
  if (url_host(o->base, host, sizeof(host)) < 0)
    return;
  if (per_minute < 0)
    rc = osc_http_set_auto_rate(o->http, host, 0, &err);
  else
    rc = osc_http_set_rate_limit(o->http, host, per_minute, burst, &err);
  if (rc < 0)
    osc_log_warn("cannot set the Octopus rate limit: %s", err.msg);
}

bool osc_octopus_pacing(const struct osc_octopus *o, double *per_minute) {
  char host[512];

  if (url_host(o->base, host, sizeof(host)) < 0) {
    if (per_minute != NULL)
      *per_minute = 0;
    return false;
  }
  return osc_http_pacing(o->http, host, per_minute);
}

int osc_octopus_new(const struct osc_config *cfg, struct osc_http *http,
                    struct osc_octopus **out, struct osc_error *err) {
  struct osc_octopus *o;
  const char *url = cfg->octopus.url;
  const char *p;
  size_t n;

  *out = NULL;
  if (url == NULL || url[0] == '\0')
    return osc_error_set(err, OSC_E_CONFIG, "no Octopus URL (octopus.url)");
  n = strlen(url);
  while (n > 0 && url[n - 1] == '/')
    n--;
  p = strstr(url, "://");
  if (p == NULL || n >= 2048)
    return osc_error_set(err, OSC_E_CONFIG, "invalid Octopus URL");
  o = calloc(1, sizeof(*o));
  if (o == NULL)
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  memcpy(o->base, url, n);
  o->base[n] = '\0';
  p = strstr(o->base, "://") + 3;
  p += strcspn(p, "/?#");
  o->origin_len = (size_t)(p - o->base);
  o->cfg = cfg;
  o->http = http;
  rate_limit(o);
  *out = o;
  return OSC_OK;
}

void osc_octopus_free(struct osc_octopus *o) {
  if (o == NULL)
    return;
  osc_arena_free(&o->arena);
  free(o);
}

size_t osc_octopus_headers(const struct osc_octopus *o,
                           struct osc_http_header *out) {
  out[0].name = "X-Octopus-ApiKey";
  out[0].value = o->cfg->octopus.api_key ? o->cfg->octopus.api_key : "";
  out[0].secret = true;
  out[1].name = "Accept";
  out[1].value = "application/json";
  out[1].secret = false;
  return 2;
}

const char *osc_octopus_space(const struct osc_octopus *o) {
  return o->space_id;
}

/* ---- URLs ------------------------------------------------------------ */

static int finish_url(struct osc_buf *b, int rc, char **out) {
  if (rc < 0) {
    osc_buf_free(b);
    return rc;
  }
  *out = osc_buf_detach(b);
  return OSC_OK;
}

static int need_space(struct osc_octopus *o, struct osc_error *err) {
  if (o->space_id == NULL)
    return osc_error_set(err, OSC_E_RUNTIME, "Octopus space not resolved yet");
  return OSC_OK;
}

int osc_octopus_url(struct osc_octopus *o, const char *path, char **out,
                    struct osc_error *err) {
  struct osc_buf b;
  int rc;

  if (path[0] != '/' || strstr(path, "//") == path ||
      strstr(path, "/../") != NULL)
    return osc_error_set(err, OSC_E_USAGE,
                         "Octopus path must start with '/api/': %s", path);
  osc_buf_init(&b, URL_MAX);
  rc = osc_buf_puts(&b, o->base, err);
  if (rc >= 0)
    rc = osc_buf_puts(&b, path, err);
  if (rc >= 0) {
    char *fixed = NULL;

    rc = osc_http_fix_url(osc_buf_str(&b), &fixed, err);
    osc_buf_free(&b);
    if (rc < 0)
      return rc;
    *out = fixed;
    return OSC_OK;
  }
  return finish_url(&b, rc, out);
}

int osc_octopus_link_url(struct osc_octopus *o, const char *link, char **out,
                         struct osc_error *err) {
  struct osc_buf b;
  const char *path = o->base + o->origin_len; /* "" or "/octopus" */
  size_t plen = strlen(path);
  int rc;

  *out = NULL;
  if (strstr(link, "://") != NULL) {
    if (strncasecmp(link, o->base, o->origin_len) != 0 ||
        (link[o->origin_len] != '/' && link[o->origin_len] != '\0'))
      return osc_error_set(err, OSC_E_SAFETY,
                           "Octopus link points at another server");
    return osc_http_fix_url(link, out, err);
  }
  if (link[0] == '~')
    link++;
  if (link[0] != '/')
    return osc_error_set(err, OSC_E_SAFETY, "unexpected Octopus link");
  osc_buf_init(&b, URL_MAX);
  /* "/octopus/api/..." already carries the virtual directory. */
  if (plen > 0 && strncasecmp(link, path, plen) == 0 && link[plen] == '/')
    rc = osc_buf_append(&b, o->base, o->origin_len, err);
  else
    rc = osc_buf_puts(&b, o->base, err);
  if (rc >= 0)
    rc = osc_buf_puts(&b, link, err);
  if (rc >= 0) {
    rc = osc_http_fix_url(osc_buf_str(&b), out, err);
    osc_buf_free(&b);
    return rc;
  }
  return finish_url(&b, rc, out);
}

int osc_octopus_lookup_url(struct osc_octopus *o, enum osc_octopus_kind kind,
                           const char *name, char **out,
                           struct osc_error *err) {
  struct osc_buf b;
  int rc;

  if (kind != OSC_OCTOPUS_SPACE) {
    rc = need_space(o, err);
    if (rc < 0)
      return rc;
  }
  osc_buf_init(&b, URL_MAX);
  if (kind == OSC_OCTOPUS_SPACE)
    rc = osc_buf_printf(&b, err, "%s/api/spaces?partialName=", o->base);
  else
    rc = osc_buf_printf(&b, err, "%s/api/%s/%s?partialName=", o->base,
                        o->space_id, collection(kind));
  if (rc >= 0)
    rc = osc_http_put_escaped(&b, name, err);
  if (rc >= 0)
    rc = osc_buf_puts(&b, "&skip=0&take=100", err);
  return finish_url(&b, rc, out);
}

int osc_octopus_machines_url(struct osc_octopus *o, const char *environment_id,
                             char **out, struct osc_error *err) {
  struct osc_buf b;
  int rc = need_space(o, err);

  if (rc < 0)
    return rc;
  osc_buf_init(&b, URL_MAX);
  rc = osc_buf_printf(&b, err, "%s/api/%s/machines?environmentIds=", o->base,
                      o->space_id);
  if (rc >= 0)
    rc = osc_http_put_escaped(&b, environment_id, err);
  if (rc >= 0)
    rc = osc_buf_printf(&b, err, "&skip=0&take=%d", OSC_OCTOPUS_PAGE_SIZE);
  return finish_url(&b, rc, out);
}

/* ---- errors ---------------------------------------------------------- */

/* Appends the "Errors" lines the message does not hold yet. */
static void add_errors(const struct osc_json_value *errors,
                       struct osc_apierr *d) {
  size_t n = osc_json_len(errors);
  size_t i;

  for (i = 0; i < n; i++) {
    const char *e = osc_json_str(osc_json_at(errors, i), NULL);
    size_t used = strlen(d->message);
    char line[512];

    if (e == NULL)
      continue;
    osc_apierr_copy_line(line, sizeof(line), e);
    if (line[0] != '\0' && strstr(d->message, line) == NULL)
      snprintf(d->message + used, sizeof(d->message) - used, "%s%s",
               used ? "; " : "", line);
  }
}

/* Reads {"ErrorMessage", "Errors": [...]}. */
static void parse_error_body(const char *text, size_t len,
                             struct osc_apierr *d) {
  struct osc_json_doc *doc = NULL;
  const struct osc_json_value *root;
  const char *msg;

  if (osc_json_parse(text, len, "error body", &doc, NULL) < 0)
    return;
  root = osc_json_root(doc);
  msg = osc_json_str(osc_json_get(root, "ErrorMessage"), NULL);
  if (msg != NULL)
    osc_apierr_copy_line(d->message, sizeof(d->message), msg);
  add_errors(osc_json_get(root, "Errors"), d);
  osc_json_doc_free(doc);
}

void osc_octopus_error_detail(struct osc_octopus *o,
                              const struct osc_http_response *resp,
                              const struct osc_error *transport,
                              struct osc_apierr *detail) {
  osc_apierr_fill(detail, resp, transport, parse_error_body);
}

int osc_octopus_fail(struct osc_octopus *o, const char *what,
                     const struct osc_http_response *resp,
                     const struct osc_error *transport, int code_otherwise,
                     struct osc_apierr *detail, struct osc_error *err) {
  struct osc_apierr local;

  if (detail == NULL)
    detail = &local;
  osc_octopus_error_detail(o, resp, transport, detail);
  return osc_apierr_to_error(detail, what, code_otherwise, err);
}

/* A write that could not be sent after retries is a failed action (exit 1),
 * not a failed read. */
static int as_runtime(struct osc_error *err) {
  if (err != NULL)
    err->code = OSC_E_RUNTIME;
  return OSC_E_RUNTIME;
}

/* ---- requests -------------------------------------------------------- */

int osc_octopus_send(struct osc_octopus *o, const char *method, const char *url,
                     const char *body, size_t body_len, bool retry_unsafe,
                     const char *what, struct osc_http_response *resp,
                     struct osc_apierr *detail, struct osc_error *err) {
  struct osc_http_header hdr[3];
  struct osc_http_request req;
  struct osc_error herr = OSC_ERROR_INIT;
  size_t n = osc_octopus_headers(o, hdr);
  int rc;

  osc_apierr_clear(detail);
  if (body != NULL) {
    hdr[n].name = "Content-Type";
    hdr[n].value = "application/json; charset=utf-8";
    hdr[n].secret = false;
    n++;
  }
  memset(&req, 0, sizeof(req));
  req.method = method;
  req.url = url;
  req.headers = hdr;
  req.n_headers = n;
  req.body = body;
  req.body_len = body_len;
  req.retry_unsafe = retry_unsafe;
  req.what = what;
  rc = osc_http_perform(o->http, &req, resp, &herr);
  if (rc < 0)
    return osc_octopus_fail(o, what, resp, &herr, OSC_E_SAFETY, detail, err);
  return OSC_OK;
}

/* ---- names ----------------------------------------------------------- */

static struct name_entry *
find_name(struct osc_octopus *o, enum osc_octopus_kind kind, const char *name) {
  struct name_entry *e;

  for (e = o->names; e != NULL; e = e->next) {
    if (e->kind == kind && strcasecmp(e->name, name) == 0)
      return e;
  }
  return NULL;
}

static const char *remember(struct osc_octopus *o, enum osc_octopus_kind kind,
                            const char *name, const char *id) {
  struct name_entry *e = find_name(o, kind, name);

  if (e == NULL) {
    e = osc_arena_alloc(&o->arena, sizeof(*e));
    if (e == NULL)
      return NULL;
    e->kind = kind;
    e->name = osc_arena_strdup(&o->arena, name);
    e->next = o->names;
    o->names = e;
  }
  e->id = osc_arena_strdup(&o->arena, id);
  if (e->name == NULL || e->id == NULL)
    return NULL;
  if (kind == OSC_OCTOPUS_SPACE && o->space_id == NULL)
    o->space_id = e->id;
  return e->id;
}

const char *osc_octopus_cached(struct osc_octopus *o,
                               enum osc_octopus_kind kind,
                               const char *name_or_id) {
  struct name_entry *e;

  if (is_id(kind, name_or_id)) {
    if (kind == OSC_OCTOPUS_SPACE && o->space_id == NULL)
      return remember(o, kind, name_or_id, name_or_id);
    return kind == OSC_OCTOPUS_SPACE ? o->space_id : name_or_id;
  }
  e = find_name(o, kind, name_or_id);
  return e ? e->id : NULL;
}

/* What a lookup answer says about one name. */
struct lookup_match {
  const char *name;
  char id[128];
  int found;
};

/* A name is unique only if every match was seen: an answer that has a
 * next page (or says it holds fewer items than match) is incomplete. */
static int lookup_complete(const struct osc_json_value *doc, size_t n_items,
                           struct osc_error *err) {
  const char *next =
      osc_json_str(osc_json_get(osc_json_get(doc, "Links"), "Page.Next"), NULL);
  int64_t total = -1;

  if (!osc_json_int(osc_json_get(doc, "TotalResults"), &total))
    total = -1;
  if ((next != NULL && next[0] != '\0') || total > (int64_t)n_items)
    return osc_error_set(err, OSC_E_SAFETY,
                         "the matches do not fit in one answer (%zu items of "
                         "TotalResults %lld%s); give the id (e.g. "
                         "Environments-1) in the config instead",
                         n_items, (long long)total,
                         next != NULL ? ", and a next page" : "");
  return OSC_OK;
}

/* Counts the Items named m->name (any case) and keeps the first one's id. */
static int lookup_parse(const struct osc_http_response *resp,
                        struct lookup_match *m, struct osc_error *err) {
  struct osc_json_doc *doc = NULL;
  const struct osc_json_value *items;
  size_t n;
  size_t i;
  int rc = osc_json_parse(resp->body.data, resp->body.len, "lookup response",
                          &doc, err);

  if (rc < 0) {
    if (rc != OSC_E_NOMEM) /* a broken answer, not a refusal */
      rc = err->code = OSC_E_SAFETY;
    return rc;
  }
  items = osc_json_get(osc_json_root(doc), "Items");
  n = osc_json_len(items);
  if (!osc_json_is_container(osc_json_root(doc)))
    rc = osc_error_set(err, OSC_E_SAFETY, "response is not an object");
  else if (!osc_json_is_container(items))
    rc = osc_error_set(err, OSC_E_SAFETY, "response has no Items");
  else
    rc = lookup_complete(osc_json_root(doc), n, err);
  for (i = 0; rc >= 0 && i < n; i++) {
    const struct osc_json_value *item = osc_json_at(items, i);
    const char *name = osc_json_str(osc_json_get(item, "Name"), NULL);
    const char *id = osc_json_str(osc_json_get(item, "Id"), NULL);

    if (name != NULL && id != NULL && strcasecmp(name, m->name) == 0 &&
        strlen(id) < sizeof(m->id) && ++m->found == 1)
      memcpy(m->id, id, strlen(id) + 1);
  }
  osc_json_doc_free(doc);
  return rc;
}

int osc_octopus_lookup_done(struct osc_octopus *o, enum osc_octopus_kind kind,
                            const char *name,
                            const struct osc_http_response *resp,
                            const struct osc_error *transport, const char **out,
                            struct osc_apierr *detail, struct osc_error *err) {
  struct lookup_match p;
  char what[320];
  const char *id;

  *out = NULL;
  osc_apierr_clear(detail);
  snprintf(what, sizeof(what), "Octopus %s lookup '%s'",
           osc_octopus_kind_name(kind), name);
  if (transport != NULL || resp->status != 200)
    return osc_octopus_fail(o, what, resp, transport, OSC_E_SAFETY, detail,
                            err);
  memset(&p, 0, sizeof(p));
  p.name = name;
  if (lookup_parse(resp, &p, err) < 0)
    return osc_error_prefix(err, "%s", what);
  if (p.found == 0) {
    if (kind == OSC_OCTOPUS_SPACE)
      return osc_error_set(err, OSC_E_RUNTIME,
                           "Octopus space '%s' does not exist", name);
    return osc_error_set(err, OSC_E_RUNTIME,
                         "Octopus %s '%s' does not exist in %s",
                         osc_octopus_kind_name(kind), name, o->space_id);
  }
  if (p.found > 1)
    return osc_error_set(err, OSC_E_RUNTIME,
                         "Octopus %s name '%s' is ambiguous (%d matches)",
                         osc_octopus_kind_name(kind), name, p.found);
  id = remember(o, kind, name, p.id);
  if (id == NULL)
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  *out = id;
  return OSC_OK;
}

int osc_octopus_resolve(struct osc_octopus *o, enum osc_octopus_kind kind,
                        const char *name_or_id, const char **out,
                        struct osc_apierr *detail, struct osc_error *err) {
  struct osc_http_response resp;
  char what[320];
  char *url = NULL;
  const char *id;
  int rc;

  *out = NULL;
  osc_apierr_clear(detail);
  if (name_or_id == NULL || name_or_id[0] == '\0')
    return osc_error_set(err, OSC_E_CONFIG, "no Octopus %s given",
                         osc_octopus_kind_name(kind));
  if (kind != OSC_OCTOPUS_SPACE && o->space_id == NULL) {
    const char *space =
        o->cfg->octopus.space ? o->cfg->octopus.space : "Default";

    rc = osc_octopus_resolve(o, OSC_OCTOPUS_SPACE, space, &id, detail, err);
    if (rc < 0)
      return rc;
  }
  id = osc_octopus_cached(o, kind, name_or_id);
  if (id != NULL) {
    *out = id;
    return OSC_OK;
  }
  snprintf(what, sizeof(what), "Octopus %s lookup '%s'",
           osc_octopus_kind_name(kind), name_or_id);
  osc_http_response_init(&resp, SMALL_BODY);
  rc = osc_octopus_lookup_url(o, kind, name_or_id, &url, err);
  if (rc >= 0)
    rc = osc_octopus_send(o, "GET", url, NULL, 0, false, what, &resp, detail,
                          err);
  if (rc >= 0)
    rc = osc_octopus_lookup_done(o, kind, name_or_id, &resp, NULL, out, detail,
                                 err);
  free(url);
  osc_http_response_free(&resp);
  return rc;
}

/* ---- machines -------------------------------------------------------- */

/* The configured space's id (octopus.space, else "Default"), resolved on
 * first use. */
static int resolve_space(struct osc_octopus *o, struct osc_apierr *detail,
                         struct osc_error *err) {
  const char *id;

  if (o->space_id != NULL)
    return OSC_OK;
  return osc_octopus_resolve(o, OSC_OCTOPUS_SPACE,
                             o->cfg->octopus.space ? o->cfg->octopus.space
                                                   : "Default",
                             &id, detail, err);
}

static int machine_url(struct osc_octopus *o, const char *machine_id,
                       char **out, struct osc_error *err) {
  struct osc_buf b;
  int rc;

  if (machine_id == NULL || machine_id[0] == '\0')
    return osc_error_set(err, OSC_E_USAGE, "no machine id");
  rc = resolve_space(o, NULL, err);
  if (rc < 0)
    return rc;
  osc_buf_init(&b, URL_MAX);
  rc = osc_buf_printf(&b, err, "%s/api/%s/machines/", o->base, o->space_id);
  if (rc >= 0)
    rc = osc_http_put_escaped(&b, machine_id, err);
  return finish_url(&b, rc, out);
}

int osc_octopus_set_disabled(struct osc_octopus *o, const char *machine_id,
                             bool disabled, bool *changed,
                             struct osc_apierr *detail, struct osc_error *err) {
  struct osc_http_response get;
  struct osc_http_response put;
  struct osc_buf body;
  struct osc_rawjson_span root;
  struct osc_rawjson_span cur;
  char what[256];
  char *url = NULL;
  const char *want = disabled ? "true" : "false";
  int rc;

  if (changed != NULL)
    *changed = false;
  osc_http_response_init(&get, MACHINE_BODY);
  osc_http_response_init(&put, MACHINE_BODY);
  osc_buf_init(&body, MACHINE_BODY + 64);
  rc = machine_url(o, machine_id, &url, err);
  if (rc < 0)
    goto done;
  snprintf(what, sizeof(what), "Octopus machine GET %s", machine_id);
  rc = osc_octopus_send(o, "GET", url, NULL, 0, false, what, &get, detail, err);
  if (rc < 0)
    goto done;
  if (get.status != 200) {
    rc = osc_octopus_fail(o, what, &get, NULL, OSC_E_RUNTIME, detail, err);
    goto done;
  }
  rc = osc_rawjson_root(get.body.data, get.body.len, &root, err);
  if (rc >= 0 && !osc_rawjson_is_object(get.body.data, root))
    rc = osc_error_set(err, OSC_E_RUNTIME, "not a JSON object");
  if (rc < 0) {
    osc_error_prefix(err, "%s", what);
    goto done;
  }
  rc = osc_rawjson_member(get.body.data, root, "IsDisabled", &cur, err);
  if (rc < 0)
    goto done;
  if (rc == 1 && cur.end - cur.start == strlen(want) &&
      memcmp(get.body.data + cur.start, want, cur.end - cur.start) == 0) {
    rc = OSC_OK; /* already so */
    goto done;
  }
  rc = osc_rawjson_set_member(get.body.data, get.body.len, "IsDisabled", want,
                              &body, err);
  if (rc < 0)
    goto done;
  snprintf(what, sizeof(what), "Octopus machine PUT %s", machine_id);
  /* The PUT carries the full resource: repeating it is harmless. */
  rc = osc_octopus_send(o, "PUT", url, body.data, body.len, true, what, &put,
                        detail, err);
  if (rc < 0) {
    rc = as_runtime(err);
    goto done;
  }
  if (put.status < 200 || put.status > 299) {
    rc = osc_octopus_fail(o, what, &put, NULL, OSC_E_RUNTIME, detail, err);
    goto done;
  }
  if (changed != NULL)
    *changed = true;
done:
  free(url);
  osc_buf_free(&body);
  osc_http_response_free(&get);
  osc_http_response_free(&put);
  return rc;
}

int osc_octopus_delete_machine(struct osc_octopus *o, const char *machine_id,
                               bool *was_gone, struct osc_apierr *detail,
                               struct osc_error *err) {
  struct osc_http_response resp;
  char what[256];
  char *url = NULL;
  int rc;

  if (was_gone != NULL)
    *was_gone = false;
  osc_http_response_init(&resp, SMALL_BODY);
  rc = machine_url(o, machine_id, &url, err);
  if (rc < 0)
    goto done;
  snprintf(what, sizeof(what), "Octopus machine DELETE %s", machine_id);
  rc = osc_octopus_send(o, "DELETE", url, NULL, 0, false, what, &resp, detail,
                        err);
  if (rc < 0) {
    rc = as_runtime(err);
    goto done;
  }
  if (resp.status == 404) {
    if (was_gone != NULL)
      *was_gone = true;
  } else if (resp.status < 200 || resp.status > 299) {
    rc = osc_octopus_fail(o, what, &resp, NULL, OSC_E_RUNTIME, detail, err);
  }
done:
  free(url);
  osc_http_response_free(&resp);
  return rc;
}

/* ---- tasks ----------------------------------------------------------- */

static void copy_field(const struct osc_json_value *v, const char *key,
                       char *out, size_t cap) {
  const char *s = osc_json_str(osc_json_get(v, key), NULL);

  osc_apierr_copy_line(out, cap, s ? s : "");
}

static int parse_task(const struct osc_buf *body, struct osc_octopus_task *t,
                      struct osc_error *err) {
  struct osc_json_doc *doc = NULL;
  const struct osc_json_value *v;
  bool b = false;
  int rc;

  memset(t, 0, sizeof(*t));
  rc = osc_json_parse(body->data, body->len, "task", &doc, err);
  if (rc < 0)
    return rc;
  v = osc_json_root(doc);
  copy_field(v, "Id", t->id, sizeof(t->id));
  copy_field(v, "State", t->state, sizeof(t->state));
  copy_field(v, "ErrorMessage", t->error_message, sizeof(t->error_message));
  t->completed = osc_json_bool(osc_json_get(v, "IsCompleted"), &b) && b;
  b = false;
  t->succeeded =
      osc_json_bool(osc_json_get(v, "FinishedSuccessfully"), &b) && b;
  if (t->id[0] == '\0')
    rc = osc_error_set(err, OSC_E_RUNTIME, "task has no Id");
  osc_json_doc_free(doc);
  return rc;
}

/* Octopus's TimeSpan text: "HH:MM:SS", 300 s when unset, under a day. */
static void health_timeout(int64_t timeout_s, char *out, size_t cap) {
  if (timeout_s <= 0)
    timeout_s = 300;
  if (timeout_s > 86399)
    timeout_s = 86399;
  snprintf(out, cap, "%02d:%02d:%02d", (int)(timeout_s / 3600),
           (int)(timeout_s / 60 % 60), (int)(timeout_s % 60));
}

/* The Health task resource: a connection test of machine_ids. */
static int health_body(const struct osc_octopus *o, const char *environment_id,
                       const char *const *machine_ids, size_t n,
                       const char *timeout, struct osc_buf *body,
                       struct osc_error *err) {
  struct osc_jsonw w;
  size_t i;

  osc_jsonw_init(&w, body, false);
  osc_jsonw_object_begin(&w);
  osc_jsonw_key(&w, "Name");
  osc_jsonw_string(&w, "Health");
  osc_jsonw_key(&w, "Description");
  osc_jsonw_string(&w, "Health check started by octoscale");
  osc_jsonw_key(&w, "SpaceId");
  osc_jsonw_string(&w, o->space_id);
  osc_jsonw_key(&w, "Arguments");
  osc_jsonw_object_begin(&w);
  osc_jsonw_key(&w, "Timeout");
  osc_jsonw_string(&w, timeout);
  osc_jsonw_key(&w, "MachineTimeout");
  osc_jsonw_string(&w, timeout);
  if (environment_id != NULL) {
    osc_jsonw_key(&w, "EnvironmentId");
    osc_jsonw_string(&w, environment_id);
  }
  osc_jsonw_key(&w, "MachineIds");
  osc_jsonw_array_begin(&w);
  for (i = 0; i < n; i++)
    osc_jsonw_string(&w, machine_ids[i]);
  osc_jsonw_array_end(&w);
  osc_jsonw_key(&w, "OnlyTestConnection");
  osc_jsonw_string(&w, "true");
  osc_jsonw_object_end(&w);
  osc_jsonw_object_end(&w);
  return osc_jsonw_finish(&w, err);
}

int osc_octopus_health_start(struct osc_octopus *o, const char *environment_id,
                             const char *const *machine_ids, size_t n,
                             int64_t timeout_s, struct osc_octopus_task *out,
                             struct osc_apierr *detail, struct osc_error *err) {
  struct osc_http_response resp;
  struct osc_buf body;
  struct osc_buf u;
  char timeout[32];
  char what[] = "Octopus health check start";
  char *url = NULL;
  int rc;

  memset(out, 0, sizeof(*out));
  osc_http_response_init(&resp, SMALL_BODY);
  osc_buf_init(&body, SMALL_BODY);
  if (n == 0) {
    rc = osc_error_set(err, OSC_E_USAGE, "health check needs target ids");
    goto done;
  }
  rc = resolve_space(o, detail, err);
  if (rc < 0)
    goto done;
  health_timeout(timeout_s, timeout, sizeof(timeout));
  rc = health_body(o, environment_id, machine_ids, n, timeout, &body, err);
  if (rc >= 0) {
    osc_buf_init(&u, URL_MAX);
    rc = osc_buf_printf(&u, err, "%s/api/%s/tasks", o->base, o->space_id);
    rc = finish_url(&u, rc, &url);
  }
  if (rc < 0)
    goto done;
  /* Not retried: a repeated POST would queue a second task. */
  rc = osc_octopus_send(o, "POST", url, body.data, body.len, false, what, &resp,
                        detail, err);
  if (rc < 0) {
    rc = as_runtime(err);
    goto done;
  }
  if (resp.status != 200 && resp.status != 201) {
    rc = osc_octopus_fail(o, what, &resp, NULL, OSC_E_RUNTIME, detail, err);
    goto done;
  }
  rc = parse_task(&resp.body, out, err);
  if (rc < 0)
    osc_error_prefix(err, "%s", what);
done:
  free(url);
  osc_buf_free(&body);
  osc_http_response_free(&resp);
  return rc;
}

int osc_octopus_task_get(struct osc_octopus *o, const char *task_id,
                         struct osc_octopus_task *out,
                         struct osc_apierr *detail, struct osc_error *err) {
  struct osc_http_response resp;
  struct osc_buf u;
  char what[128];
  int rc;

  osc_http_response_init(&resp, SMALL_BODY);
  osc_buf_init(&u, URL_MAX);
  snprintf(what, sizeof(what), "Octopus task GET %s", task_id);
  rc = osc_buf_printf(&u, err, "%s/api/tasks/", o->base);
  if (rc >= 0)
    rc = osc_http_put_escaped(&u, task_id, err);
  if (rc >= 0)
    rc = osc_octopus_send(o, "GET", osc_buf_str(&u), NULL, 0, false, what,
                          &resp, detail, err);
  if (rc >= 0 && resp.status != 200)
    rc = osc_octopus_fail(o, what, &resp, NULL, OSC_E_RUNTIME, detail, err);
  if (rc >= 0) {
    rc = parse_task(&resp.body, out, err);
    if (rc < 0)
      osc_error_prefix(err, "%s", what);
  }
  osc_buf_free(&u);
  osc_http_response_free(&resp);
  return rc;
}

static void sleep_ms(int64_t ms) {
  struct timespec ts;

  if (ms <= 0)
    return;
  ts.tv_sec = (time_t)(ms / 1000);
  ts.tv_nsec = (long)(ms % 1000) * 1000000L;
  while (nanosleep(&ts, &ts) != 0) {
  }
}

int osc_octopus_task_wait(struct osc_octopus *o, const char *task_id,
                          int64_t timeout_ms, int64_t poll_ms,
                          struct osc_octopus_task *out,
                          struct osc_apierr *detail, struct osc_error *err) {
  int64_t deadline = osc_time_monotonic_ms() + timeout_ms;
  int rc;

  if (poll_ms <= 0)
    poll_ms = 4000;
  for (;;) {
    int64_t left;

    rc = osc_octopus_task_get(o, task_id, out, detail, err);
    if (rc < 0 || out->completed)
      return rc;
    left = deadline - osc_time_monotonic_ms();
    if (left <= 0)
      return osc_error_set(err, OSC_E_TIMEOUT,
                           "Octopus task %s not completed after %llds "
                           "(state %s)",
                           task_id, (long long)(timeout_ms / 1000),
                           out->state[0] ? out->state : "unknown");
    sleep_ms(poll_ms < left ? poll_ms : left);
  }
}
