/* HTTP over the libcurl multi interface (see core/osc_http.h).
 *
 * The request state machine. Every request is an xfer that sits in exactly
 * one of three lists:
 *
 *   submit --> pending --start_ready--> running --finish_attempt--+
 *                 ^                                               |
 *                 +---- retry: back in turn, with a not-before ---+
 *                                                                 v
 *   callback <--drain_done-- done <------ answered, or failed -----+
 *
 *  - Queue: osc_http_submit() deep-copies the request into an xfer and
 *    appends it to `pending`, which stays sorted by submission number, so a
 *    retry keeps its turn ahead of later requests.
 *  - Pacing: start_ready() walks `pending`; ready_at() says when an xfer may
 *    start: not before its backoff (not_before), nor while its host is
 *    paused after a 429 (paused_until), nor while the host has
 *    concurrency_per_host attempts in flight, nor without a token of the
 *    host's bucket (a fixed rate limit, or the adaptive pacing that
 *    core/osc_pace.h controls). A request whose host stays paused beyond
 *    its retry budget fails at once (fail_paused).
 *  - Attempt: start_attempt() sets up a pooled easy handle and adds it to
 *    the multi handle (`running`); on_header/on_body capture the answer,
 *    the body bounded by max_body. With an injected transport
 *    (osc_http_set_transport, for tests) answer_attempt() gets the answer
 *    at once through the same capture and goes straight to settling.
 *  - Retry/backoff: finish_attempt() reads how the attempt ended from curl
 *    and settle_attempt() feeds the answer to the pacing controller and
 *    follows the pure retry decision (core/osc_retry.h): back to `pending`
 *    with a not-before time (backoff with jitter, at least Retry-After; a
 *    429 pauses the whole host), or on to `done`.
 *  - Completion: drain_done() takes each xfer off `done` and runs its
 *    callback with no list holding it, so the callback may submit more
 *    (the next page), perform, or run.
 *  - Cancellation: if the loop itself breaks down (curl_multi_* failing),
 *    osc_http_perform() forgets its xfer wherever it is (forget_ud), so no
 *    callback runs into its stack frame later; osc_http_free() drops
 *    whatever is left in the three lists without calling back.
 *
 * Timers live in the loop: curl_multi_poll sleeps until the nearest
 * not-before, pause or token time (at most HTTP_POLL_MAX_MS), so a backoff
 * never blocks other transfers. */
#include "core/osc_http.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/osc_curl.h"
#include "core/osc_log.h"
#include "core/osc_pace.h"
#include "core/osc_progress.h"
#include "core/osc_retry.h"
#include "core/osc_time.h"

#ifndef OSC_VERSION
#define OSC_VERSION "dev"
#endif

#define HTTP_DEFAULT_CONNECT_TIMEOUT_MS 10000
#define HTTP_DEFAULT_TIMEOUT_MS 60000
#define HTTP_DEFAULT_MAX_ATTEMPTS 6
#define HTTP_DEFAULT_MAX_RETRY_MS 120000
#define HTTP_DEFAULT_MAX_BACKOFF_MS 30000
#define HTTP_DEFAULT_BASE_BACKOFF_MS 500
#define HTTP_DEFAULT_CONCURRENCY 8
#define HTTP_DEFAULT_MAX_BODY ((size_t)64 * 1024 * 1024)
#define HTTP_HOST_MAX 256
#define HTTP_POOL_MAX 16
#define HTTP_RETRY_AFTER_MAX 64
#define HTTP_WHAT_MAX 512
#define HTTP_LOG_URL_MAX 1024
/* A poll never sleeps longer, so a stuck timer computation cannot hang us. */
#define HTTP_POLL_MAX_MS 1000
#define HTTP_NEVER INT64_MAX

struct http_host {
  struct http_host *next;
  char name[HTTP_HOST_MAX]; /* "host" or "host:port" */
  int in_flight;
  int64_t paused_until; /* after a 429: no new attempt before (monotonic) */
  bool limited;
  struct osc_pace_bucket bucket; /* while limited */
  bool auto_pace; /* requests_per_minute: auto (core/osc_pace.h) */
  struct osc_pace pace;
};

struct xfer {
  struct xfer *prev;
  struct xfer *next;
  uint64_t seq;
  struct osc_http_request req; /* deep copy; strings below are owned */
  osc_http_done_fn done;
  void *ud;
  struct http_host *host;
  CURL *easy;
  struct curl_slist *slist;
  char errbuf[CURL_ERROR_SIZE];
  struct osc_http_response resp;
  char retry_after[HTTP_RETRY_AFTER_MAX];
  int id_rank;       /* rank of the header that filled request_id */
  bool has_async_op; /* location came from Azure-AsyncOperation */
  bool body_too_big;
  bool nomem;
  bool idempotent;
  bool waited_for_token; /* counted once in stats.rate_waits */
  bool took_token;       /* this attempt was paced */
  int throttled;         /* 429s: attempts the server did not process */
  double advertised_rpm; /* Octopus-RateLimit-Policy rpm=, 0: none */
  int64_t first_start;
  int64_t attempt_start;
  int64_t not_before;
  bool failed;
  struct osc_error err;
};

struct xlist {
  struct xfer *head;
  struct xfer *tail;
};

struct osc_http {
  struct osc_http_options opt;
  char *ca_file;
  char *user_agent;
  CURLM *multi;
  CURLSH *share;
  struct http_host *hosts;
  struct xlist pending; /* sorted by seq, so retries keep their turn */
  struct xlist running;
  struct xlist done;
  size_t n_active; /* submitted, callback not yet started */
  size_t n_running;
  CURL *pool[HTTP_POOL_MAX];
  int n_pool;
  uint64_t rng;
  uint64_t next_seq;
  bool verbose;
  struct osc_http_stats stats;
  osc_http_answer_fn answer; /* NULL: the network (curl) */
  void *answer_ud;
};

/* --- small helpers --- */

static int64_t realtime_ms(void) {
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* xorshift64*: jitter only needs to be spread, not unpredictable. */
static uint64_t rng_next(uint64_t *s) {
  uint64_t x = *s;

  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return x * UINT64_C(2685821657736338717);
}

static char *dup_bytes(const char *s, size_t len) {
  char *p = malloc(len + 1);

  if (p == NULL)
    return NULL;
  if (len > 0)
    memcpy(p, s, len);
  p[len] = '\0';
  return p;
}

static char *dup_str(const char *s) {
  return s ? dup_bytes(s, strlen(s)) : NULL;
}

/* Appends to a fixed buffer, truncating with "..." (log lines, messages). */
struct sbuf {
  char *p;
  size_t cap;
  size_t len;
  bool full;
};

static void sb_put(struct sbuf *b, const char *s, size_t n) {
  size_t room;

  if (b->full || b->cap == 0)
    return;
  room = b->cap - 1 - b->len;
  if (n > room) {
    memcpy(b->p + b->len, s, room);
    b->len += room;
    if (b->cap >= 4)
      memcpy(b->p + b->cap - 4, "...", 3);
    b->full = true;
  } else {
    memcpy(b->p + b->len, s, n);
    b->len += n;
  }
  b->p[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s) {
  sb_put(b, s, strlen(s));
}

static void sb_init(struct sbuf *b, char *p, size_t cap) {
  b->p = p;
  b->cap = cap;
  b->len = 0;
  b->full = false;
  if (cap > 0)
    p[0] = '\0';
}

/* --- lists --- */

static void list_remove(struct xlist *l, struct xfer *x) {
  if (x->prev)
    x->prev->next = x->next;
  else
    l->head = x->next;
  if (x->next)
    x->next->prev = x->prev;
  else
    l->tail = x->prev;
  x->prev = NULL;
  x->next = NULL;
}

static void list_append(struct xlist *l, struct xfer *x) {
  x->next = NULL;
  x->prev = l->tail;
  if (l->tail)
    l->tail->next = x;
  else
    l->head = x;
  l->tail = x;
}

/* Keeps pending in submission order: a retry does not lose its turn. */
static void list_insert_sorted(struct xlist *l, struct xfer *x) {
  struct xfer *at = l->tail;

  while (at && at->seq > x->seq)
    at = at->prev;
  if (at == NULL) {
    x->prev = NULL;
    x->next = l->head;
    if (l->head)
      l->head->prev = x;
    else
      l->tail = x;
    l->head = x;
    return;
  }
  x->prev = at;
  x->next = at->next;
  if (at->next)
    at->next->prev = x;
  else
    l->tail = x;
  at->next = x;
}

/* --- URLs: redaction, description, fixing, escaping --- */

static bool is_secret_param(const char *name, size_t len) {
  static const char *const exact[] = {"sig", "code", "key", "pwd", NULL};
  static const char *const parts[] = {
      "token",   "secret",    "password",   "passwd",    "apikey", "api_key",
      "api-key", "assertion", "credential", "signature", NULL};
  char low[64];
  size_t i;

  if (len >= sizeof(low))
    return true; /* unusual enough to hide */
  for (i = 0; i < len; i++)
    low[i] =
        (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
  low[len] = '\0';
  /* ARM's paging cursor: needed to debug paging and not a credential. */
  if (strcmp(low, "$skiptoken") == 0 || strcmp(low, "skiptoken") == 0)
    return false;
  for (i = 0; exact[i]; i++) {
    if (strcmp(low, exact[i]) == 0)
      return true;
  }
  for (i = 0; parts[i]; i++) {
    if (strstr(low, parts[i]))
      return true;
  }
  return false;
}

/* Writes scheme://authority with any userinfo replaced; returns the rest. */
static const char *put_origin(struct sbuf *b, const char *url) {
  const char *p = strstr(url, "://");
  const char *auth;
  const char *end;
  const char *at;

  if (p == NULL)
    return url;
  auth = p + 3;
  end = auth + strcspn(auth, "/?#");
  sb_put(b, url, (size_t)(auth - url));
  at = memchr(auth, '@', (size_t)(end - auth));
  if (at) {
    sb_puts(b, "REDACTED@");
    auth = at + 1;
  }
  sb_put(b, auth, (size_t)(end - auth));
  return end;
}

/* The URL for logs: secret-looking query values and userinfo replaced by
 * REDACTED, fragment dropped. */
static void redact_url(const char *url, char *out, size_t cap) {
  struct sbuf b;
  const char *p;
  size_t n;

  sb_init(&b, out, cap);
  p = put_origin(&b, url);
  n = strcspn(p, "?#");
  sb_put(&b, p, n);
  p += n;
  if (*p != '?')
    return;
  sb_puts(&b, "?");
  p++;
  while (*p && *p != '#') {
    size_t plen = strcspn(p, "&#");
    const char *eq = memchr(p, '=', plen);

    if (eq && is_secret_param(p, (size_t)(eq - p))) {
      sb_put(&b, p, (size_t)(eq - p) + 1);
      sb_puts(&b, "REDACTED");
    } else {
      sb_put(&b, p, plen);
    }
    p += plen;
    if (*p == '&') {
      sb_puts(&b, "&");
      p++;
    }
  }
}

/* "GET https://host/path" for messages when the caller gave no `what`. */
static void describe(const char *method, const char *url, char *out,
                     size_t cap) {
  struct sbuf b;
  const char *p;

  sb_init(&b, out, cap);
  sb_puts(&b, method);
  sb_puts(&b, " ");
  p = put_origin(&b, url);
  sb_put(&b, p, strcspn(p, "?#"));
}

static bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
         (c >= 'A' && c <= 'F');
}

static bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

static int put_pct(struct osc_buf *b, unsigned char c, struct osc_error *err) {
  static const char hex[] = "0123456789ABCDEF";
  char e[3];

  e[0] = '%';
  e[1] = hex[c >> 4];
  e[2] = hex[c & 15];
  return osc_buf_append(b, e, 3, err);
}

/* Appends s percent-encoded to b: unreserved characters and those in `keep`
 * stay; with keep_encoded, an existing %XX stays too. */
static int percent_encode(struct osc_buf *b, const char *s, const char *keep,
                          bool keep_encoded, struct osc_error *err) {
  const char *p;
  int rc = OSC_OK;

  for (p = s; *p && rc == OSC_OK; p++) {
    unsigned char c = (unsigned char)*p;

    if (is_unreserved(c) || strchr(keep, c) != NULL ||
        (keep_encoded && c == '%' && is_hex(p[1]) && is_hex(p[2])))
      rc = osc_buf_append(b, p, 1, err);
    else
      rc = put_pct(b, c, err);
  }
  return rc;
}

int osc_http_fix_url(const char *url, char **out, struct osc_error *err) {
  /* Reserved characters keep their meaning; the quote is a sub-delim but
   * ARM rejects it raw in $filter (docs/api-notes.md §1), so it is encoded. */
  static const char keep[] = ":/?#@!$&()*+,;=";
  struct osc_buf b;
  const char *p;
  const char *start;
  int rc = OSC_OK;

  *out = NULL;
  if (url == NULL)
    return osc_error_set(err, OSC_E_RUNTIME, "fix URL: no URL");
  osc_buf_init(&b, strlen(url) * 3 + 1);
  /* The authority may hold an IPv6 literal's brackets: copy it as is. */
  start = url;
  p = strstr(url, "://");
  if (p) {
    p += 3;
    p += strcspn(p, "/?#");
    rc = osc_buf_append(&b, url, (size_t)(p - url), err);
    start = p;
  }
  if (rc == OSC_OK)
    rc = percent_encode(&b, start, keep, true, err);
  if (rc == OSC_OK)
    rc = osc_buf_append(&b, "", 0, err);
  if (rc == OSC_OK)
    *out = osc_buf_detach(&b);
  osc_buf_free(&b);
  return rc;
}

int osc_http_escape(const char *s, char **out, struct osc_error *err) {
  struct osc_buf b;
  int rc;

  *out = NULL;
  if (s == NULL)
    s = "";
  osc_buf_init(&b, strlen(s) * 3 + 1);
  rc = percent_encode(&b, s, "", false, err);
  if (rc == OSC_OK)
    rc = osc_buf_append(&b, "", 0, err);
  if (rc == OSC_OK)
    *out = osc_buf_detach(&b);
  osc_buf_free(&b);
  return rc;
}

int osc_http_put_escaped(struct osc_buf *b, const char *s,
                         struct osc_error *err) {
  char *e = NULL;
  int rc = osc_http_escape(s, &e, err);

  if (rc < 0)
    return rc;
  rc = osc_buf_puts(b, e, err);
  free(e);
  return rc;
}

int osc_http_put_url(struct osc_buf *b, const char *base, const char *path,
                     struct osc_error *err) {
  size_t n = strlen(base);

  while (n > 0 && base[n - 1] == '/')
    n--;
  if (osc_buf_append(b, base, n, err) < 0)
    return err ? err->code : OSC_E_RUNTIME;
  return osc_buf_puts(b, path, err);
}

/* --- responses --- */

void osc_http_response_init(struct osc_http_response *resp, size_t max_body) {
  resp->status = 0;
  osc_buf_init(&resp->body, max_body);
  resp->request_id[0] = '\0';
  resp->location[0] = '\0';
  resp->location_too_long = false;
  resp->retry_after_ms = -1;
  resp->headers[0] = '\0';
  resp->headers_truncated = false;
  resp->attempts = 0;
  resp->elapsed_ms = 0;
}

void osc_http_response_move(struct osc_http_response *dst,
                            struct osc_http_response *src) {
  memcpy(dst, src, sizeof(*dst));
  osc_http_response_init(src, src->body.max);
}

void osc_http_response_free(struct osc_http_response *resp) {
  if (resp == NULL)
    return;
  osc_buf_free(&resp->body);
  osc_http_response_init(resp, resp->body.max);
}

/* --- hosts --- */

static struct http_host *host_get(struct osc_http *h, const char *name,
                                  struct osc_error *err) {
  struct http_host *hs;
  size_t len = strlen(name);
  size_t i;

  for (hs = h->hosts; hs; hs = hs->next) {
    if (strcasecmp(hs->name, name) == 0)
      return hs;
  }
  if (len == 0 || len >= HTTP_HOST_MAX) {
    osc_error_set(err, OSC_E_RUNTIME, "host name too long or empty");
    return NULL;
  }
  hs = calloc(1, sizeof(*hs));
  if (hs == NULL) {
    osc_error_set(err, OSC_E_NOMEM, "out of memory");
    return NULL;
  }
  for (i = 0; i <= len; i++)
    hs->name[i] =
        (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
  hs->next = h->hosts;
  h->hosts = hs;
  return hs;
}

/* "host" or "host:port" for the URL's authority; checks the scheme too. */
static int url_host_key(const char *url, char *out, size_t cap,
                        struct osc_error *err) {
  CURLU *u = curl_url();
  char *scheme = NULL;
  char *host = NULL;
  char *port = NULL;
  CURLUcode uc;
  int rc = OSC_OK;

  if (u == NULL)
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  uc = curl_url_set(u, CURLUPART_URL, url, 0);
  if (uc != CURLUE_OK) {
    rc = osc_error_set(err, OSC_E_RUNTIME, "invalid URL (%s)",
                       curl_url_strerror(uc));
    goto done;
  }
  uc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
  if (uc != CURLUE_OK ||
      (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)) {
    rc = osc_error_set(err, OSC_E_RUNTIME,
                       "invalid URL (only http and https are allowed)");
    goto done;
  }
  uc = curl_url_get(u, CURLUPART_HOST, &host, 0);
  if (uc != CURLUE_OK) {
    rc = osc_error_set(err, OSC_E_RUNTIME, "invalid URL (%s)",
                       curl_url_strerror(uc));
    goto done;
  }
  uc = curl_url_get(u, CURLUPART_PORT, &port, CURLU_NO_DEFAULT_PORT);
  if (uc == CURLUE_OK && port)
    snprintf(out, cap, "%s:%s", host, port);
  else
    snprintf(out, cap, "%s", host);
done:
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_url_cleanup(u);
  return rc;
}

/* --- xfers --- */

static void xfer_free(struct xfer *x) {
  size_t i;

  if (x == NULL)
    return;
  free((char *)x->req.method);
  free((char *)x->req.url);
  free((char *)x->req.body);
  free((char *)x->req.what);
  if (x->req.headers) {
    for (i = 0; i < x->req.n_headers; i++) {
      free((char *)x->req.headers[i].name);
      free((char *)x->req.headers[i].value);
    }
    free((struct osc_http_header *)x->req.headers);
  }
  curl_slist_free_all(x->slist);
  osc_http_response_free(&x->resp);
  free(x);
}

static bool has_line_break(const char *s) {
  return strpbrk(s, "\r\n") != NULL;
}

static int xfer_copy_request(struct xfer *x, const struct osc_http_request *r,
                             struct osc_error *err) {
  struct osc_http_header *hdrs = NULL;
  char what[HTTP_WHAT_MAX];
  size_t i;

  x->req = *r;
  x->req.headers = NULL;
  x->req.n_headers = 0;
  x->req.method = dup_str(r->method);
  x->req.url = dup_str(r->url);
  x->req.body = r->body ? dup_bytes(r->body, r->body_len) : NULL;
  if (r->what) {
    x->req.what = dup_str(r->what);
  } else {
    describe(r->method, r->url, what, sizeof(what));
    x->req.what = dup_str(what);
  }
  if (!x->req.method || !x->req.url || !x->req.what ||
      (r->body && !x->req.body))
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  if (r->n_headers == 0)
    return OSC_OK;
  hdrs = calloc(r->n_headers, sizeof(*hdrs));
  if (hdrs == NULL)
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  x->req.headers = hdrs;
  x->req.n_headers = r->n_headers;
  for (i = 0; i < r->n_headers; i++) {
    const char *name = r->headers[i].name;
    const char *value = r->headers[i].value ? r->headers[i].value : "";

    if (name == NULL || *name == '\0' || strchr(name, ':') ||
        has_line_break(name) || has_line_break(value))
      return osc_error_set(err, OSC_E_RUNTIME,
                           "%s: invalid request header #%zu", x->req.what,
                           i + 1);
    hdrs[i].name = dup_str(name);
    hdrs[i].value = dup_str(value);
    hdrs[i].secret = r->headers[i].secret;
    if (!hdrs[i].name || !hdrs[i].value)
      return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  }
  return OSC_OK;
}

static int xfer_build_headers(struct xfer *x, struct osc_error *err) {
  struct curl_slist *l = NULL;
  struct curl_slist *t;
  struct osc_buf line;
  size_t i;
  int rc = OSC_OK;

  osc_buf_init(&line, 64 * 1024);
  /* No "Expect: 100-continue" round trip (a 1 s stall on some servers). */
  t = curl_slist_append(l, "Expect:");
  if (t == NULL)
    goto nomem;
  l = t;
  for (i = 0; i < x->req.n_headers; i++) {
    const struct osc_http_header *hd = &x->req.headers[i];

    osc_buf_reset(&line);
    /* curl sends "Name;" as a header with an empty value. */
    if (*hd->value)
      rc = osc_buf_printf(&line, err, "%s: %s", hd->name, hd->value);
    else
      rc = osc_buf_printf(&line, err, "%s;", hd->name);
    if (rc < 0)
      goto done;
    t = curl_slist_append(l, osc_buf_str(&line));
    if (t == NULL)
      goto nomem;
    l = t;
  }
  x->slist = l;
  l = NULL;
  goto done;
nomem:
  rc = osc_error_set(err, OSC_E_NOMEM, "out of memory");
done:
  curl_slist_free_all(l);
  osc_buf_free(&line);
  return rc;
}

/* --- curl callbacks (no user code runs here) --- */

static size_t on_body(char *data, size_t size, size_t n, void *ud) {
  struct xfer *x = ud;
  size_t len = size * n;

  if (len > x->resp.body.max - x->resp.body.len) {
    x->body_too_big = true;
    return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
  }
  if (osc_buf_append(&x->resp.body, data, len, NULL) < 0) {
    x->nomem = true;
    return 0;
  }
  return len;
}

static void reset_captured_headers(struct xfer *x) {
  x->resp.headers[0] = '\0';
  x->resp.headers_truncated = false;
  x->resp.request_id[0] = '\0';
  x->resp.location[0] = '\0';
  x->resp.location_too_long = false;
  x->retry_after[0] = '\0';
  x->advertised_rpm = 0;
  x->id_rank = INT_MAX;
  x->has_async_op = false;
}

static bool header_is(const char *line, size_t name_len, const char *name) {
  return strlen(name) == name_len && strncasecmp(line, name, name_len) == 0;
}

static void copy_value(char *dst, size_t cap, const char *v, size_t len) {
  if (len >= cap)
    len = cap - 1;
  memcpy(dst, v, len);
  dst[len] = '\0';
}

bool osc_http_response_header(const struct osc_http_response *resp,
                              const char *name, char *out, size_t cap) {
  size_t n = strlen(name);
  const char *p = resp->headers;

  while (*p != '\0') {
    const char *nl = strchr(p, '\n');
    const char *eol = nl ? nl : p + strlen(p);

    if ((size_t)(eol - p) > n + 1 && strncasecmp(p, name, n) == 0 &&
        p[n] == ':' && p[n + 1] == ' ') {
      copy_value(out, cap, p + n + 2, (size_t)(eol - p - n - 2));
      return true;
    }
    p = nl ? nl + 1 : eol;
  }
  return false;
}

/* Appends "name: value\n" (name lowercased) for x-ms-* and ETag. */
static void keep_header(struct osc_http_response *resp, const char *name,
                        size_t name_len, const char *v, size_t vlen) {
  size_t used = strlen(resp->headers);
  size_t i;

  if (!(name_len > 5 && strncasecmp(name, "x-ms-", 5) == 0) &&
      !header_is(name, name_len, "etag"))
    return;
  if (used + name_len + vlen + 3 >= sizeof(resp->headers)) {
    resp->headers_truncated = true;
    return;
  }
  for (i = 0; i < name_len; i++)
    resp->headers[used++] = (char)tolower((unsigned char)name[i]);
  resp->headers[used++] = ':';
  resp->headers[used++] = ' ';
  for (i = 0; i < vlen; i++) /* one line each, whatever the server sent */
    resp->headers[used++] = (v[i] == '\n' || v[i] == '\r') ? ' ' : v[i];
  resp->headers[used++] = '\n';
  resp->headers[used] = '\0';
}

static size_t on_header(char *data, size_t size, size_t n, void *ud) {
  static const char *const id_names[] = {"x-ms-request-id", "x-request-id",
                                         "request-id"};
  struct xfer *x = ud;
  size_t len = size * n;
  const char *colon;
  const char *v;
  size_t name_len;
  size_t vlen;
  int i;

  /* A new status line (after 100 Continue, or a proxy's CONNECT reply)
   * starts a new set of headers. */
  if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
    reset_captured_headers(x);
    return len;
  }
  colon = memchr(data, ':', len);
  if (colon == NULL)
    return len;
  name_len = (size_t)(colon - data);
  v = colon + 1;
  vlen = len - name_len - 1;
  while (vlen > 0 && (*v == ' ' || *v == '\t')) {
    v++;
    vlen--;
  }
  while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' ||
                      v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
    vlen--;
  keep_header(&x->resp, data, name_len, v, vlen);
  for (i = 0; i < 3; i++) {
    if (header_is(data, name_len, id_names[i]) && i < x->id_rank) {
      copy_value(x->resp.request_id, sizeof(x->resp.request_id), v, vlen);
      x->id_rank = i;
      return len;
    }
  }
  if (header_is(data, name_len, "retry-after")) {
    copy_value(x->retry_after, sizeof(x->retry_after), v, vlen);
  } else if (header_is(data, name_len, "octopus-ratelimit-policy")) {
    char policy[128];

    copy_value(policy, sizeof(policy), v, vlen);
    x->advertised_rpm = osc_pace_parse_policy(policy);
  } else if (header_is(data, name_len, "azure-asyncoperation") ||
             (header_is(data, name_len, "location") && !x->has_async_op)) {
    /* A truncated URL would be polled as if it were right: drop it. */
    if (vlen >= sizeof(x->resp.location)) {
      x->resp.location[0] = '\0';
      x->resp.location_too_long = true;
    } else {
      copy_value(x->resp.location, sizeof(x->resp.location), v, vlen);
      x->resp.location_too_long = false;
    }
    if (header_is(data, name_len, "azure-asyncoperation"))
      x->has_async_op = true;
  }
  return len;
}

int64_t osc_http_parse_retry_after(const char *v, int64_t now_ms) {
  const char *p;
  int64_t secs = 0;
  time_t t;
  int64_t ms;

  if (*v == '\0')
    return -1;
  for (p = v; *p >= '0' && *p <= '9'; p++) {
    if (secs < 100000000)
      secs = secs * 10 + (*p - '0');
  }
  if (p != v && *p == '\0')
    return secs * 1000;
  t = curl_getdate(v, NULL);
  if (t == (time_t)-1)
    return -1;
  /* Millisecond arithmetic so that "not before the date" holds exactly. */
  ms = (int64_t)t * 1000 - now_ms;
  return ms < 0 ? 0 : ms;
}

/* --- starting an attempt --- */

static CURL *pool_get(struct osc_http *h) {
  if (h->n_pool > 0)
    return h->pool[--h->n_pool];
  return curl_easy_init();
}

static void pool_put(struct osc_http *h, CURL *e) {
  if (e == NULL)
    return;
  /* Drop pointers into the finished xfer; connections live in the multi. */
  curl_easy_reset(e);
  if (h->n_pool < HTTP_POOL_MAX)
    h->pool[h->n_pool++] = e;
  else
    curl_easy_cleanup(e);
}

#define SETOPT(opt, val)                                                       \
  do {                                                                         \
    cc = curl_easy_setopt(e, opt, val);                                        \
    if (cc != CURLE_OK)                                                        \
      goto done;                                                               \
  } while (0)

static int setup_easy(struct osc_http *h, struct xfer *x, CURL *e,
                      struct osc_error *err) {
  const char *m = x->req.method;
  const char *body = x->req.body ? x->req.body : "";
  CURLcode cc = CURLE_OK;

  SETOPT(CURLOPT_URL, x->req.url);
  SETOPT(CURLOPT_PRIVATE, (void *)x);
  SETOPT(CURLOPT_ERRORBUFFER, x->errbuf);
  SETOPT(CURLOPT_NOSIGNAL, 1L);
  SETOPT(CURLOPT_CONNECTTIMEOUT_MS, (long)h->opt.connect_timeout_ms);
  SETOPT(CURLOPT_TIMEOUT_MS, (long)h->opt.timeout_ms);
#if LIBCURL_VERSION_NUM >= 0x075500
  SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
  SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
  SETOPT(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
  SETOPT(CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  /* Callers read `location`: credentials never follow a redirect. */
  SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
  SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
  SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
  if (h->ca_file)
    SETOPT(CURLOPT_CAINFO, h->ca_file);
  SETOPT(CURLOPT_ACCEPT_ENCODING, "");
  SETOPT(CURLOPT_USERAGENT, h->user_agent);
  SETOPT(CURLOPT_HTTPHEADER, x->slist);
  SETOPT(CURLOPT_WRITEFUNCTION, on_body);
  SETOPT(CURLOPT_WRITEDATA, (void *)x);
  SETOPT(CURLOPT_HEADERFUNCTION, on_header);
  SETOPT(CURLOPT_HEADERDATA, (void *)x);
  /* Refuses early when Content-Length already says too much. */
  SETOPT(CURLOPT_MAXFILESIZE_LARGE, x->resp.body.max > (size_t)INT64_MAX
                                        ? (curl_off_t)INT64_MAX
                                        : (curl_off_t)x->resp.body.max);
  SETOPT(CURLOPT_SHARE, h->share);
  SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
  /* HTTP/2: wait to multiplex on one connection rather than open many. */
  SETOPT(CURLOPT_PIPEWAIT, 1L);
  if (strcmp(m, "GET") == 0) {
    SETOPT(CURLOPT_HTTPGET, 1L);
  } else if (strcmp(m, "HEAD") == 0) {
    SETOPT(CURLOPT_NOBODY, 1L);
  } else if (strcmp(m, "POST") == 0) {
    SETOPT(CURLOPT_POST, 1L);
    SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->req.body_len);
    SETOPT(CURLOPT_POSTFIELDS, body);
  } else {
    SETOPT(CURLOPT_CUSTOMREQUEST, m);
    if (x->req.body || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0) {
      SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->req.body_len);
      SETOPT(CURLOPT_POSTFIELDS, body);
    }
  }
done:
  if (cc != CURLE_OK)
    return osc_error_set(err, OSC_E_RUNTIME, "%s: cannot set up request: %s",
                         x->req.what, curl_easy_strerror(cc));
  return OSC_OK;
}

#undef SETOPT

static void fail_now(struct osc_http *h, struct xfer *x) {
  x->failed = true;
  list_append(&h->done, x);
}

/* A fresh attempt: nothing of the previous answer survives. */
static void reset_attempt(struct xfer *x) {
  x->errbuf[0] = '\0';
  x->resp.status = 0;
  osc_buf_reset(&x->resp.body);
  reset_captured_headers(x);
  x->body_too_big = false;
  x->nomem = false;
}

static void count_attempt(struct osc_http *h, struct xfer *x, int64_t now) {
  if (x->resp.attempts == 0)
    x->first_start = now;
  x->attempt_start = now;
  x->resp.attempts++;
  h->stats.requests++;
}

static void answer_attempt(struct osc_http *h, struct xfer *x, int64_t now);

static void start_attempt(struct osc_http *h, struct xfer *x, int64_t now) {
  CURL *e;
  CURLMcode mc;

  if (h->answer != NULL) {
    answer_attempt(h, x, now);
    return;
  }
  e = pool_get(h);
  if (e == NULL) {
    osc_error_set(&x->err, OSC_E_NOMEM, "%s: cannot create a curl handle",
                  x->req.what);
    fail_now(h, x);
    return;
  }
  reset_attempt(x);
  if (setup_easy(h, x, e, &x->err) < 0) {
    pool_put(h, e);
    fail_now(h, x);
    return;
  }
  mc = curl_multi_add_handle(h->multi, e);
  if (mc != CURLM_OK) {
    osc_error_set(&x->err, OSC_E_RUNTIME, "%s: %s", x->req.what,
                  curl_multi_strerror(mc));
    pool_put(h, e);
    fail_now(h, x);
    return;
  }
  x->easy = e;
  count_attempt(h, x, now);
  x->host->in_flight++;
  h->n_running++;
  if (h->n_running > h->stats.peak_in_flight)
    h->stats.peak_in_flight = h->n_running;
  list_append(&h->running, x);
}

/* When x may start: now (a token was taken), a later time, or HTTP_NEVER
 * (waits for a slot of its host to free up). */
static int64_t ready_at(struct osc_http *h, struct xfer *x, int64_t now) {
  struct http_host *hs = x->host;

  if (x->not_before > now)
    return x->not_before;
  if (hs->paused_until > now)
    return hs->paused_until;
  if (hs->in_flight >= h->opt.concurrency_per_host)
    return HTTP_NEVER;
  x->took_token = false;
  if (hs->limited) {
    int64_t token_at;

    if (!osc_pace_bucket_take(&hs->bucket, now, &token_at)) {
      if (!x->waited_for_token) {
        x->waited_for_token = true;
        h->stats.rate_waits++;
      }
      return token_at;
    }
    x->took_token = true;
  }
  return now;
}

/* A host paused longer than x's retry budget allows: waiting would only
 * end in the same failure, minutes later. */
static bool pause_exceeds_budget(struct osc_http *h, struct xfer *x,
                                 int64_t now) {
  int64_t since = x->resp.attempts > 0 ? x->first_start : now;

  return x->not_before <= now && x->host->paused_until > now &&
         x->host->paused_until - since > h->opt.max_retry_ms;
}

static void fail_paused(struct osc_http *h, struct xfer *x, int64_t now) {
  osc_error_set(&x->err, OSC_E_RUNTIME,
                "%s: %s is throttled (HTTP 429) for another %lld s, beyond "
                "the retry budget of %lld s",
                x->req.what, x->host->name,
                (long long)((x->host->paused_until - now + 999) / 1000),
                (long long)(h->opt.max_retry_ms / 1000));
  fail_now(h, x);
}

/* Starts what may start; returns the nearest time something else may. */
static int64_t start_ready(struct osc_http *h, int64_t now) {
  int64_t wake = HTTP_NEVER;
  struct xfer *x = h->pending.head;

  while (x) {
    struct xfer *next = x->next;
    int64_t at;

    if (pause_exceeds_budget(h, x, now)) {
      list_remove(&h->pending, x);
      fail_paused(h, x, now);
      x = next;
      continue;
    }
    at = ready_at(h, x, now);
    if (at <= now) {
      list_remove(&h->pending, x);
      start_attempt(h, x, now);
    } else if (at < wake) {
      wake = at;
    }
    x = next;
  }
  return wake;
}

/* --- finishing an attempt --- */

static bool transport_retryable(CURLcode cc) {
  switch (cc) {
  case CURLE_COULDNT_CONNECT:
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_PARTIAL_FILE:
    return true;
  default:
    return false;
  }
}

static void transport_text(struct xfer *x, CURLcode cc, long os_errno,
                           char *out, size_t cap) {
  char *ip = NULL;
  long port = 0;

  if (cc == CURLE_COULDNT_CONNECT && os_errno != 0) {
    curl_easy_getinfo(x->easy, CURLINFO_PRIMARY_IP, &ip);
    curl_easy_getinfo(x->easy, CURLINFO_PRIMARY_PORT, &port);
    if (ip && *ip && port > 0)
      snprintf(out, cap, "connect to %s:%ld failed: %s", ip, port,
               strerror((int)os_errno));
    else
      snprintf(out, cap, "connect to %s failed: %s", x->host->name,
               strerror((int)os_errno));
  } else {
    snprintf(out, cap, "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc));
  }
}

static void log_attempt(struct osc_http *h, struct xfer *x, const char *outcome,
                        int64_t took, int64_t retry_in) {
  char url[HTTP_LOG_URL_MAX];
  char retry[64] = "";

  if (!h->verbose || !osc_log_enabled(OSC_LOG_DEBUG))
    return;
  redact_url(x->req.url, url, sizeof(url));
  if (retry_in >= 0)
    snprintf(retry, sizeof(retry), ", retry in %lld ms", (long long)retry_in);
  /* Headers and bodies are never logged: they carry keys and tokens. */
  osc_log(OSC_LOG_DEBUG, "http", "%s %s -> %s (%lld ms, attempt %d%s)",
          x->req.method, url, outcome, (long long)took, x->resp.attempts,
          retry);
}

/* The bucket follows the controller's rate. After a decrease it starts
 * empty (the server's is); after a rise it keeps what it holds. */
static void pace_apply(struct http_host *hs, enum osc_pace_change change,
                       int64_t now) {
  double was = hs->limited ? hs->bucket.per_ms * 60000.0 : 0;
  double rate = hs->pace.per_minute;

  if (hs->limited)
    osc_pace_bucket_refill(&hs->bucket, now);
  hs->limited = true;
  hs->bucket.per_ms = rate / 60000.0;
  hs->bucket.burst = osc_pace_burst(rate);
  if (change != OSC_PACE_RAISED && hs->bucket.tokens > 0)
    hs->bucket.tokens = 0;
  if (hs->bucket.tokens > hs->bucket.burst)
    hs->bucket.tokens = hs->bucket.burst;
  hs->bucket.refilled_at = now;
  if (change == OSC_PACE_STARTED)
    osc_log_info("%s answered HTTP 429: pacing its requests at %.0f a "
                 "minute from now on (requests_per_minute: auto)",
                 hs->name, rate);
  else
    osc_log(OSC_LOG_DEBUG, "http", "pacing %s at %.0f a minute (was %.0f)",
            hs->name, rate, was);
}

/* Feeds an answer to the host's controller (auto pacing only). */
static void pace_answer(struct xfer *x, long status, int64_t now) {
  struct http_host *hs = x->host;
  enum osc_pace_change change;

  if (!hs->auto_pace)
    return;
  if (status == 429) {
    change = osc_pace_throttled(&hs->pace, now, x->attempt_start,
                                x->resp.retry_after_ms, x->advertised_rpm);
  } else {
    /* Sent unpaced before pacing began, it took a token of the server's
     * bucket all the same: ours owes it. */
    if (hs->limited && !x->took_token)
      hs->bucket.tokens -= 1.0;
    change = osc_pace_accepted(&hs->pace, now, x->attempt_start,
                               x->waited_for_token);
  }
  if (change != OSC_PACE_SAME)
    pace_apply(hs, change, now);
}

/* How an attempt ended, whichever transport ran it. */
struct attempt_end {
  enum osc_retry_ending ending;
  long status; /* OSC_RETRY_HTTP */
  bool nothing_sent;
  char transport[CURL_ERROR_SIZE + 64];
};

static void fill_retry_input(const struct osc_http *h, const struct xfer *x,
                             const struct attempt_end *end, uint64_t jitter,
                             struct osc_retry_input *in) {
  memset(in, 0, sizeof(*in));
  in->ending = end->ending;
  in->status = end->status;
  in->transport = end->transport;
  in->nothing_sent = end->nothing_sent;
  in->method = x->req.method;
  in->idempotent = x->idempotent;
  in->retry_unsafe = x->req.retry_unsafe;
  in->attempts = x->resp.attempts;
  in->throttled = x->throttled;
  in->retry_after_ms = x->resp.retry_after_ms;
  in->elapsed_ms = x->resp.elapsed_ms;
  in->jitter = jitter;
  in->what = x->req.what;
  in->request_id = x->resp.request_id;
  in->max_body = x->resp.body.max;
  in->limits.max_attempts = h->opt.max_attempts;
  in->limits.max_retry_ms = h->opt.max_retry_ms;
  in->limits.base_backoff_ms = h->opt.base_backoff_ms;
  in->limits.max_backoff_ms = h->opt.max_backoff_ms;
}

static void log_decision(struct osc_http *h, struct xfer *x,
                         const struct attempt_end *end,
                         const struct osc_retry_decision *d, int64_t took) {
  char status[32];
  const char *label = "error";

  if (end->ending == OSC_RETRY_NOMEM)
    return;
  if (end->ending == OSC_RETRY_BODY_TOO_LARGE) {
    label = "body too large";
  } else if (end->ending == OSC_RETRY_HTTP) {
    snprintf(status, sizeof(status), "%ld", end->status);
    label = status;
  }
  log_attempt(h, x, label, took,
              d->action == OSC_RETRY_AGAIN ? d->wait_ms : -1);
}

/* The attempt is over (x has left `running`): records the answer, feeds
 * the pacing, and follows the retry decision: back to `pending` with a
 * not-before time, or to `done` (answered or failed). */
static void settle_attempt(struct osc_http *h, struct xfer *x,
                           const struct attempt_end *end, int64_t now) {
  bool answered = end->ending == OSC_RETRY_HTTP;
  struct osc_retry_input in;
  struct osc_retry_decision d;

  x->resp.elapsed_ms = now - x->first_start;
  x->resp.status = answered ? end->status : 0;
  x->resp.retry_after_ms =
      answered ? osc_http_parse_retry_after(x->retry_after, realtime_ms()) : -1;
  if (answered) {
    pace_answer(x, end->status, now);
    if (end->status == 429) {
      h->stats.throttled++;
      x->throttled++;
    }
  }
  /* Drawn for every answer, used only by a retry. */
  fill_retry_input(h, x, end, rng_next(&h->rng), &in);
  osc_retry_decide(&in, &d);
  if (d.pause_host_ms >= 0 && x->host->paused_until < now + d.pause_host_ms)
    x->host->paused_until = now + d.pause_host_ms;
  log_decision(h, x, end, &d, now - x->attempt_start);
  pool_put(h, x->easy);
  x->easy = NULL;
  if (d.action == OSC_RETRY_AGAIN) {
    x->not_before = now + d.wait_ms;
    h->stats.retries++;
    list_insert_sorted(&h->pending, x);
    return;
  }
  if (d.action == OSC_RETRY_FAIL) {
    x->err = d.err;
    x->failed = true;
  }
  list_append(&h->done, x);
}

/* The injected transport (osc_http_set_transport) answers at once; the
 * answer goes through the same capture of headers and body, and the same
 * decision, as one from the network. */
static void answer_attempt(struct osc_http *h, struct xfer *x, int64_t now) {
  struct osc_http_answer a;
  struct attempt_end end;
  const char *line;
  size_t len;

  memset(&a, 0, sizeof(a));
  memset(&end, 0, sizeof(end));
  reset_attempt(x);
  count_attempt(h, x, now);
  h->answer(h->answer_ud, &x->req, &a);
  for (line = a.headers; line != NULL && *line != '\0'; line += len) {
    len = strcspn(line, "\n");
    on_header((char *)line, 1, len, x);
    len += line[len] == '\n';
  }
  len = a.body == NULL ? 0 : a.body_len > 0 ? a.body_len : strlen(a.body);
  if (a.status > 0 && len > 0)
    on_body((char *)a.body, 1, len, x);
  if (a.status <= 0) {
    end.ending = OSC_RETRY_TRANSIENT;
    end.nothing_sent = true;
    snprintf(end.transport, sizeof(end.transport),
             "connect to %s failed: no answer", x->host->name);
  } else if (x->body_too_big) {
    end.ending = OSC_RETRY_BODY_TOO_LARGE;
  } else if (x->nomem) {
    end.ending = OSC_RETRY_NOMEM;
  } else {
    end.ending = OSC_RETRY_HTTP;
    end.status = a.status;
  }
  settle_attempt(h, x, &end, now);
}

/* Reads how curl's attempt ended, then takes it off the multi handle. */
static void finish_attempt(struct osc_http *h, struct xfer *x, CURLcode cc) {
  int64_t now = osc_time_monotonic_ms();
  struct attempt_end end;
  long status = 0;
  long req_size = 0;
  long os_errno = 0;

  memset(&end, 0, sizeof(end));
  curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(x->easy, CURLINFO_REQUEST_SIZE, &req_size);
  curl_easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &os_errno);
  if (x->body_too_big || cc == CURLE_FILESIZE_EXCEEDED) {
    end.ending = OSC_RETRY_BODY_TOO_LARGE;
  } else if (x->nomem) {
    end.ending = OSC_RETRY_NOMEM;
  } else if (cc != CURLE_OK) {
    transport_text(x, cc, os_errno, end.transport, sizeof(end.transport));
    end.ending =
        transport_retryable(cc) ? OSC_RETRY_TRANSIENT : OSC_RETRY_TRANSPORT;
    /* Nothing sent (connect failed): repeating cannot do anything twice. */
    end.nothing_sent = req_size == 0;
  } else {
    end.ending = OSC_RETRY_HTTP;
    end.status = status;
  }
  curl_multi_remove_handle(h->multi, x->easy);
  list_remove(&h->running, x);
  x->host->in_flight--;
  h->n_running--;
  settle_attempt(h, x, &end, now);
}

static int collect_finished(struct osc_http *h) {
  CURLMsg *msg;
  int left = 0;
  int n = 0;

  for (;;) {
    CURL *e;
    CURLcode cc;
    void *priv = NULL;

    msg = curl_multi_info_read(h->multi, &left);
    if (msg == NULL)
      break;
    if (msg->msg != CURLMSG_DONE)
      continue;
    /* Read everything before finish_attempt invalidates msg. */
    e = msg->easy_handle;
    cc = msg->data.result;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
    finish_attempt(h, priv, cc);
    n++;
  }
  return n;
}

/* Runs callbacks; each xfer leaves every list before its callback runs, so a
 * callback may submit, perform or run. */
static void drain_done(struct osc_http *h) {
  struct xfer *x;

  for (;;) {
    x = h->done.head;
    if (x == NULL)
      break;
    list_remove(&h->done, x);
    h->n_active--;
    if (x->failed)
      h->stats.failed++;
    else
      h->stats.completed++;
    if (x->done)
      x->done(x->ud, &x->req, &x->resp, x->failed ? &x->err : NULL);
    xfer_free(x);
  }
}

static int loop(struct osc_http *h, const bool *until, struct osc_error *err) {
  for (;;) {
    int64_t now;
    int64_t wake;
    int64_t timeout;
    int still = 0;
    CURLMcode mc;

    drain_done(h);
    if (until ? *until : h->n_active == 0)
      return OSC_OK;
    now = osc_time_monotonic_ms();
    wake = start_ready(h, now);
    if (h->done.head)
      continue;
    mc = curl_multi_perform(h->multi, &still);
    if (mc != CURLM_OK)
      return osc_error_set(err, OSC_E_RUNTIME, "http: %s",
                           curl_multi_strerror(mc));
    if (collect_finished(h) > 0)
      continue;
    timeout = HTTP_POLL_MAX_MS;
    if (wake != HTTP_NEVER) {
      int64_t d = wake - osc_time_monotonic_ms();

      if (d <= 0)
        continue;
      if (d < timeout)
        timeout = d;
    }
    /* a sign of life while paced or slow requests wait (at most 1 s) */
    osc_progress_tick();
    mc = curl_multi_poll(h->multi, NULL, 0, (int)timeout, NULL);
    if (mc != CURLM_OK)
      return osc_error_set(err, OSC_E_RUNTIME, "http: %s",
                           curl_multi_strerror(mc));
  }
}

/* --- public API --- */

static int check_options(const struct osc_http_options *o,
                         struct osc_error *err) {
  if (o->connect_timeout_ms < 0 || o->timeout_ms < 0 || o->max_attempts < 0 ||
      o->max_retry_ms < 0 || o->max_backoff_ms < 0 || o->base_backoff_ms < 0 ||
      o->concurrency_per_host < 0)
    return osc_error_set(err, OSC_E_CONFIG,
                         "http options: negative values are not allowed");
  if (o->timeout_ms > LONG_MAX || o->connect_timeout_ms > LONG_MAX)
    return osc_error_set(err, OSC_E_CONFIG, "http options: timeout too large");
  return OSC_OK;
}

int osc_http_new(const struct osc_http_options *options, struct osc_http **out,
                 struct osc_error *err) {
  struct osc_http_options defaults = OSC_HTTP_OPTIONS_INIT;
  struct osc_http *h = NULL;
  struct osc_http_options *o;
  int rc = OSC_OK;

  *out = NULL;
  if (options == NULL)
    options = &defaults;
  rc = check_options(options, err);
  if (rc < 0)
    goto done;
  rc = osc_curl_load(err);
  if (rc < 0)
    goto done;
  h = calloc(1, sizeof(*h));
  if (h == NULL) {
    rc = osc_error_set(err, OSC_E_NOMEM, "out of memory");
    goto done;
  }
  h->opt = *options;
  o = &h->opt;
  if (o->connect_timeout_ms == 0)
    o->connect_timeout_ms = HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
  if (o->timeout_ms == 0)
    o->timeout_ms = HTTP_DEFAULT_TIMEOUT_MS;
  if (o->max_attempts == 0)
    o->max_attempts = HTTP_DEFAULT_MAX_ATTEMPTS;
  if (o->max_retry_ms == 0)
    o->max_retry_ms = HTTP_DEFAULT_MAX_RETRY_MS;
  if (o->max_backoff_ms == 0)
    o->max_backoff_ms = HTTP_DEFAULT_MAX_BACKOFF_MS;
  if (o->base_backoff_ms == 0)
    o->base_backoff_ms = HTTP_DEFAULT_BASE_BACKOFF_MS;
  if (o->concurrency_per_host == 0)
    o->concurrency_per_host = HTTP_DEFAULT_CONCURRENCY;
  if (o->max_body == 0)
    o->max_body = HTTP_DEFAULT_MAX_BODY;
  h->ca_file = dup_str(options->ca_file);
  h->user_agent = dup_str(options->user_agent ? options->user_agent
                                              : "octoscale/" OSC_VERSION);
  o->ca_file = h->ca_file;
  o->user_agent = h->user_agent;
  if ((options->ca_file && h->ca_file == NULL) || h->user_agent == NULL) {
    rc = osc_error_set(err, OSC_E_NOMEM, "out of memory");
    goto done;
  }
  h->multi = curl_multi_init();
  h->share = curl_share_init();
  if (h->multi == NULL || h->share == NULL) {
    rc = osc_error_set(err, OSC_E_RUNTIME, "http: cannot create curl handles");
    goto done;
  }
  /* The multi caches connections; the share lets new connections resume
   * TLS sessions whichever easy handle they run on. */
  curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS,
                    (long)(o->concurrency_per_host * 4 < 16
                               ? 16
                               : o->concurrency_per_host * 4));
  curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  h->rng = o->jitter_seed;
  if (h->rng == 0)
    h->rng = (uint64_t)realtime_ms() ^ ((uint64_t)getpid() << 32) ^
             (uint64_t)(uintptr_t)h;
  if (h->rng == 0)
    h->rng = UINT64_C(0x9E3779B97F4A7C15);
  *out = h;
  h = NULL;
done:
  osc_http_free(h);
  return rc;
}

static void free_list(struct osc_http *h, struct xlist *l) {
  struct xfer *x;

  for (;;) {
    x = l->head;
    if (x == NULL)
      break;
    list_remove(l, x);
    if (x->easy) {
      curl_multi_remove_handle(h->multi, x->easy);
      curl_easy_cleanup(x->easy);
      x->easy = NULL;
    }
    xfer_free(x);
  }
}

void osc_http_free(struct osc_http *http) {
  struct http_host *hs;
  int i;

  if (http == NULL)
    return;
  free_list(http, &http->running);
  free_list(http, &http->pending);
  free_list(http, &http->done);
  for (i = 0; i < http->n_pool; i++)
    curl_easy_cleanup(http->pool[i]);
  if (http->multi)
    curl_multi_cleanup(http->multi);
  if (http->share)
    curl_share_cleanup(http->share);
  while (http->hosts) {
    hs = http->hosts;
    http->hosts = hs->next;
    free(hs);
  }
  free(http->ca_file);
  free(http->user_agent);
  free(http);
}

/* Request URLs are keyed without a default port ("x:443" is "x"). */
static int host_key(const char *host, char *name, size_t cap,
                    struct osc_error *err) {
  size_t n;

  if (host == NULL)
    return osc_error_set(err, OSC_E_CONFIG, "rate limit: no host");
  n = strlen(host);
  if (n >= cap)
    return osc_error_set(err, OSC_E_CONFIG, "rate limit: host name too long");
  memcpy(name, host, n + 1);
  if (n > 4 && strcmp(name + n - 4, ":443") == 0)
    name[n - 4] = '\0';
  else if (n > 3 && strcmp(name + n - 3, ":80") == 0)
    name[n - 3] = '\0';
  return OSC_OK;
}

int osc_http_set_rate_limit(struct osc_http *http, const char *host,
                            double per_minute, double burst,
                            struct osc_error *err) {
  struct http_host *hs;
  char name[HTTP_HOST_MAX];
  int rc = host_key(host, name, sizeof(name), err);

  if (rc < 0)
    return rc;
  if (per_minute > 0 && !(burst >= 1.0))
    return osc_error_set(err, OSC_E_CONFIG,
                         "rate limit for %s: burst must be at least 1", name);
  hs = host_get(http, name, err);
  if (hs == NULL)
    return err ? err->code : OSC_E_RUNTIME;
  hs->auto_pace = false;
  if (!(per_minute > 0)) {
    hs->limited = false;
    return OSC_OK;
  }
  hs->bucket.per_ms = per_minute / 60000.0;
  /* One token of headroom (see the header): the server counts our request
   * when it arrives, and arrival delays vary. */
  hs->bucket.burst = burst >= 2.0 ? burst - 1.0 : burst;
  if (!hs->limited || hs->bucket.tokens > hs->bucket.burst)
    hs->bucket.tokens = hs->bucket.burst;
  hs->bucket.refilled_at = osc_time_monotonic_ms();
  hs->limited = true;
  return OSC_OK;
}

int osc_http_set_auto_rate(struct osc_http *http, const char *host,
                           double start_per_minute, struct osc_error *err) {
  struct http_host *hs;
  char name[HTTP_HOST_MAX];
  int rc = host_key(host, name, sizeof(name), err);

  if (rc < 0)
    return rc;
  hs = host_get(http, name, err);
  if (hs == NULL)
    return err ? err->code : OSC_E_RUNTIME;
  hs->limited = false;
  hs->auto_pace = true;
  osc_pace_init(&hs->pace, start_per_minute);
  return OSC_OK;
}

bool osc_http_pacing(const struct osc_http *http, const char *host,
                     double *per_minute) {
  const struct http_host *hs;
  char name[HTTP_HOST_MAX];

  if (per_minute != NULL)
    *per_minute = 0;
  if (http == NULL || host_key(host, name, sizeof(name), NULL) < 0)
    return false;
  for (hs = http->hosts; hs; hs = hs->next) {
    if (strcasecmp(hs->name, name) != 0)
      continue;
    if (hs->limited && per_minute != NULL)
      *per_minute = hs->bucket.per_ms * 60000.0;
    return hs->limited;
  }
  return false;
}

void osc_http_set_verbose(struct osc_http *http, bool verbose) {
  http->verbose = verbose;
}

void osc_http_set_transport(struct osc_http *http, osc_http_answer_fn answer,
                            void *ud) {
  http->answer = answer;
  http->answer_ud = ud;
}

static bool method_ok(const char *m) {
  const char *p;

  if (m == NULL || *m == '\0' || strlen(m) > 16)
    return false;
  for (p = m; *p; p++) {
    if (*p < 'A' || *p > 'Z')
      return false;
  }
  return true;
}

int osc_http_submit(struct osc_http *http, const struct osc_http_request *req,
                    osc_http_done_fn done, void *ud, struct osc_error *err) {
  struct xfer *x = NULL;
  char key[HTTP_HOST_MAX + 16];
  const char *what;
  int rc;

  what = req->what ? req->what : "http request";
  if (!method_ok(req->method))
    return osc_error_set(err, OSC_E_RUNTIME, "%s: invalid method", what);
  if (req->url == NULL)
    return osc_error_set(err, OSC_E_RUNTIME, "%s: no URL", what);
  if (req->body == NULL && req->body_len > 0)
    return osc_error_set(err, OSC_E_RUNTIME, "%s: body length without body",
                         what);
  x = calloc(1, sizeof(*x));
  if (x == NULL)
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  osc_http_response_init(&x->resp,
                         req->max_body ? req->max_body : http->opt.max_body);
  rc = xfer_copy_request(x, req, err);
  if (rc < 0)
    goto done;
  rc = url_host_key(x->req.url, key, sizeof(key), err);
  if (rc < 0) {
    osc_error_prefix(err, "%s", x->req.what);
    goto done;
  }
  x->host = host_get(http, key, err);
  if (x->host == NULL) {
    rc = err ? err->code : OSC_E_RUNTIME;
    goto done;
  }
  rc = xfer_build_headers(x, err);
  if (rc < 0)
    goto done;
  x->idempotent = strcmp(x->req.method, "GET") == 0 ||
                  strcmp(x->req.method, "HEAD") == 0 ||
                  strcmp(x->req.method, "PUT") == 0 ||
                  strcmp(x->req.method, "DELETE") == 0 ||
                  strcmp(x->req.method, "OPTIONS") == 0;
  x->done = done;
  x->ud = ud;
  x->seq = http->next_seq++;
  list_append(&http->pending, x);
  http->n_active++;
  x = NULL;
done:
  xfer_free(x);
  return rc;
}

int osc_http_run(struct osc_http *http, struct osc_error *err) {
  return loop(http, NULL, err);
}

static void forget_in(struct osc_http *h, struct xlist *l, void *ud) {
  struct xfer *x = l->head;

  while (x) {
    struct xfer *next = x->next;

    if (x->ud == ud) {
      list_remove(l, x);
      if (x->easy) {
        curl_multi_remove_handle(h->multi, x->easy);
        x->host->in_flight--;
        h->n_running--;
        pool_put(h, x->easy);
        x->easy = NULL;
      }
      h->n_active--;
      xfer_free(x);
    }
    x = next;
  }
}

static void forget_ud(struct osc_http *h, void *ud) {
  forget_in(h, &h->pending, ud);
  forget_in(h, &h->running, ud);
  forget_in(h, &h->done, ud);
}

struct perform_ctx {
  bool done;
  struct osc_http_response *resp;
  struct osc_error *err;
  int rc;
};

static void perform_done(void *ud, const struct osc_http_request *req,
                         struct osc_http_response *resp,
                         const struct osc_error *err) {
  struct perform_ctx *c = ud;

  (void)req;
  c->done = true;
  osc_http_response_move(c->resp, resp);
  if (err) {
    c->rc = err->code;
    if (c->err)
      *c->err = *err;
  }
}

int osc_http_perform(struct osc_http *http, const struct osc_http_request *req,
                     struct osc_http_response *resp, struct osc_error *err) {
  struct perform_ctx c = {false, resp, err, OSC_OK};
  struct osc_http_request r = *req;
  int rc;

  /* The limit: the request's, else the one resp was initialised with. */
  if (r.max_body == 0)
    r.max_body = resp->body.max ? resp->body.max : http->opt.max_body;
  osc_http_response_free(resp);
  osc_http_response_init(resp, r.max_body);
  rc = osc_http_submit(http, &r, perform_done, &c, err);
  if (rc < 0)
    return rc;
  rc = loop(http, &c.done, err);
  if (rc < 0) {
    /* The loop broke down: the queued xfer must not call back into c. */
    forget_ud(http, &c);
    return rc;
  }
  return c.rc;
}

void osc_http_get_stats(const struct osc_http *http,
                        struct osc_http_stats *out) {
  *out = http->stats;
}
