#include "tests/sim/sim_http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tests/sim/sim_util.h"

/* Request bodies past this are refused (413): the largest real body is a
 * machine PUT of a few KiB. */
#define SIM_MAX_BODY (8u * 1024u * 1024u)
/* ARM nextLinks and URLs can be long ("URLs can be >= 4 KB"), but bounded. */
#define SIM_MAX_URI (64u * 1024u)
/* A slow body is sent in this many pieces. */
#define SIM_SLOW_CHUNKS 10

/* One request. Allocated by the URI log callback (the only place the raw,
 * undecoded request target is available) and kept on a list so that
 * requests MHD never presents to us are still freed at shutdown. */
struct sim_conn {
  struct sim_conn *prev, *next;
  char *uri;
  char *body;
  size_t body_len, body_cap;
  int body_too_large;
  int uri_too_long;
  int started;
  int64_t t0;
};

struct sim_http {
  struct MHD_Daemon *daemon;
  struct sim_lua *lua;
  int port;
  int quiet;
  pthread_mutex_t list_mu;
  struct sim_conn *conns;
};

static void conn_free(struct sim_conn *c) {
  free(c->uri);
  free(c->body);
  free(c);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *con) {
  (void)con;
  struct sim_http *h = cls;
  struct sim_conn *c = calloc(1, sizeof *c);
  if (c == NULL)
    return NULL;
  size_t n = strlen(uri);
  if (n > SIM_MAX_URI) {
    c->uri_too_long = 1;
    n = 0;
  }
  c->uri = malloc(n + 1);
  if (c->uri == NULL) {
    free(c);
    return NULL;
  }
  memcpy(c->uri, uri, n);
  c->uri[n] = '\0';
  pthread_mutex_lock(&h->list_mu);
  c->next = h->conns;
  if (h->conns != NULL)
    h->conns->prev = c;
  h->conns = c;
  pthread_mutex_unlock(&h->list_mu);
  return c;
}

static void on_completed(void *cls, struct MHD_Connection *con, void **req_cls,
                         enum MHD_RequestTerminationCode toe) {
  (void)con;
  (void)toe;
  struct sim_http *h = cls;
  struct sim_conn *c = *req_cls;
  if (c == NULL)
    return;
  pthread_mutex_lock(&h->list_mu);
  if (c->prev != NULL)
    c->prev->next = c->next;
  else
    h->conns = c->next;
  if (c->next != NULL)
    c->next->prev = c->prev;
  pthread_mutex_unlock(&h->list_mu);
  conn_free(c);
  *req_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
  struct sim_http *h = cls;
  if (h->quiet)
    return;
  fputs("octoscale-sim: mhd: ", stderr);
  vfprintf(stderr, fmt, ap);
}

static int append_body(struct sim_conn *c, const char *data, size_t n) {
  if (c->body_too_large || c->body_len + n > SIM_MAX_BODY) {
    c->body_too_large = 1;
    return 0;
  }
  if (c->body_len + n + 1 > c->body_cap) {
    size_t cap = c->body_cap ? c->body_cap : 4096;
    while (cap < c->body_len + n + 1)
      cap *= 2;
    char *p = realloc(c->body, cap);
    if (p == NULL)
      return -1;
    c->body = p;
    c->body_cap = cap;
  }
  memcpy(c->body + c->body_len, data, n);
  c->body_len += n;
  c->body[c->body_len] = '\0';
  return 0;
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind,
                                      const char *key, const char *value) {
  (void)kind;
  struct sim_request *req = cls;
  if (req->n_headers >= SIM_MAX_HEADERS)
    return MHD_NO;
  req->headers[req->n_headers].name = key;
  req->headers[req->n_headers].value = value;
  req->n_headers++;
  return MHD_YES;
}

/* ---- slow bodies --------------------------------------------------------- */

struct slow_body {
  char *data;
  size_t len;
  size_t chunk;
  int64_t interval_ms;
};

static ssize_t slow_read(void *cls, uint64_t pos, char *buf, size_t max) {
  struct slow_body *sb = cls;
  if (pos >= sb->len)
    return MHD_CONTENT_READER_END_OF_STREAM;
  /* MHD may ask for less than a chunk; pause only at chunk boundaries so
   * the whole body takes slow_body_ms, not more. */
  if (pos % sb->chunk == 0 && sim_sleep_ms(sb->interval_ms) != 0)
    return MHD_CONTENT_READER_END_WITH_ERROR;
  size_t n = sb->len - (size_t)pos;
  size_t to_boundary = sb->chunk - (size_t)(pos % sb->chunk);
  if (n > to_boundary)
    n = to_boundary;
  if (n > max)
    n = max;
  memcpy(buf, sb->data + pos, n);
  return (ssize_t)n;
}

static void slow_free(void *cls) {
  struct slow_body *sb = cls;
  free(sb->data);
  free(sb);
}

/* ---- oversize bodies -------------------------------------------------------
 * The body, then spaces up to the padded size: generated as MHD reads it,
 * so a body past a client's limit (tens of MiB) costs no memory here. */

struct padded_body {
  char *data;
  size_t len;
  uint64_t total;
};

static ssize_t padded_read(void *cls, uint64_t pos, char *buf, size_t max) {
  struct padded_body *pb = cls;
  if (pos >= pb->total)
    return MHD_CONTENT_READER_END_OF_STREAM;
  uint64_t left = pb->total - pos;
  size_t n = left < max ? (size_t)left : max;
  size_t from_data = 0;
  if (pos < pb->len) {
    from_data = pb->len - (size_t)pos;
    if (from_data > n)
      from_data = n;
    memcpy(buf, pb->data + pos, from_data);
  }
  memset(buf + from_data, ' ', n - from_data);
  return (ssize_t)n;
}

static void padded_free(void *cls) {
  struct padded_body *pb = cls;
  free(pb->data);
  free(pb);
}

static struct MHD_Response *make_padded(struct sim_response *resp) {
  struct padded_body *pb = calloc(1, sizeof *pb);
  if (pb == NULL)
    return NULL;
  pb->data = resp->body;
  pb->len = resp->body_len;
  pb->total = (uint64_t)resp->pad_to;
  resp->body = NULL;
  struct MHD_Response *r = MHD_create_response_from_callback(
      pb->total, 64 * 1024, padded_read, pb, padded_free);
  if (r == NULL)
    padded_free(pb);
  return r;
}

/* Takes ownership of resp->body. */
static struct MHD_Response *make_response(struct sim_response *resp) {
  struct MHD_Response *r = NULL;
  if (resp->pad_to > 0 && (uint64_t)resp->pad_to > resp->body_len)
    return make_padded(resp);
  if (resp->slow_body_ms > 0 && resp->body_len > 0) {
    struct slow_body *sb = calloc(1, sizeof *sb);
    if (sb == NULL)
      return NULL;
    size_t chunks =
        resp->body_len < SIM_SLOW_CHUNKS ? resp->body_len : SIM_SLOW_CHUNKS;
    sb->data = resp->body;
    sb->len = resp->body_len;
    sb->chunk = (sb->len + chunks - 1) / chunks;
    sb->interval_ms = resp->slow_body_ms / (int64_t)chunks;
    resp->body = NULL;
    r = MHD_create_response_from_callback(sb->len, sb->chunk, slow_read, sb,
                                          slow_free);
    if (r == NULL)
      slow_free(sb);
    return r;
  }
  if (resp->body == NULL || resp->body_len == 0)
    return MHD_create_response_from_buffer(0, (void *)"",
                                           MHD_RESPMEM_PERSISTENT);
  r = MHD_create_response_from_buffer(resp->body_len, resp->body,
                                      MHD_RESPMEM_MUST_FREE);
  if (r != NULL)
    resp->body = NULL;
  return r;
}

/* Closes the connection with an RST rather than a FIN, which is what a
 * client sees when a load balancer drops it ("connection reset by peer"). */
static void arm_reset(struct MHD_Connection *con) {
  const union MHD_ConnectionInfo *info =
      MHD_get_connection_info(con, MHD_CONNECTION_INFO_CONNECTION_FD);
  if (info == NULL)
    return;
  struct linger lg = {1, 0};
  setsockopt(info->connect_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

static enum MHD_Result queue_plain(struct MHD_Connection *con, int status,
                                   const char *json) {
  struct MHD_Response *r = MHD_create_response_from_buffer(
      strlen(json), (void *)json, MHD_RESPMEM_MUST_COPY);
  if (r == NULL)
    return MHD_NO;
  MHD_add_response_header(r, "Content-Type", "application/json");
  enum MHD_Result ret = MHD_queue_response(con, (unsigned)status, r);
  MHD_destroy_response(r);
  return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls) {
  (void)url;
  (void)version;
  struct sim_http *h = cls;
  struct sim_conn *c = *req_cls;
  if (c == NULL)
    return MHD_NO;
  if (!c->started) {
    c->started = 1;
    c->t0 = sim_monotonic_ms();
    return MHD_YES;
  }
  if (*upload_size > 0) {
    if (append_body(c, upload, *upload_size) != 0)
      return MHD_NO;
    *upload_size = 0;
    return MHD_YES;
  }
  if (c->uri_too_long)
    return queue_plain(con, 414, "{\"error\":\"request URI too long\"}");

  struct sim_request req;
  memset(&req, 0, sizeof req);
  req.method = method;
  req.uri = c->uri;
  req.body = c->body;
  req.body_len = c->body_len;
  req.body_too_large = c->body_too_large;
  MHD_get_connection_values(con, MHD_HEADER_KIND, collect_header, &req);

  struct sim_response resp;
  memset(&resp, 0, sizeof resp);
  char err[SIM_ERR_MAX];
  enum MHD_Result ret = MHD_NO;
  struct MHD_Response *r = NULL;
  if (sim_lua_handle(h->lua, &req, &resp, err, sizeof err) != 0) {
    sim_response_free(&resp);
    ret = queue_plain(con, 500,
                      "{\"error\":\"octoscale-sim internal error; see its "
                      "stderr\"}");
    goto done;
  }
  /* Latency is slept here, outside the Lua lock, so other requests go on. */
  if (resp.delay_ms > 0 && sim_sleep_ms(resp.delay_ms) != 0) {
    ret = MHD_NO;
    goto done;
  }
  if (resp.reset) {
    arm_reset(con);
    ret = MHD_NO;
    goto done;
  }
  r = make_response(&resp);
  if (r == NULL)
    goto done;
  for (size_t i = 0; i < resp.n_headers; i++) {
    if (resp.headers[i].name != NULL && resp.headers[i].value != NULL)
      MHD_add_response_header(r, resp.headers[i].name, resp.headers[i].value);
  }
  ret = MHD_queue_response(con, (unsigned)(resp.status ? resp.status : 500), r);
  MHD_destroy_response(r);
done:
  /* Logged before the handler returns, so by the time the client has the
   * response the request log already holds its timing. */
  sim_lua_finish(h->lua, resp.seq, sim_monotonic_ms() - c->t0);
  sim_response_free(&resp);
  return ret;
}

int sim_http_start(struct sim_http **out, struct sim_lua *lua, int port,
                   int quiet, char *err, size_t errlen) {
  int rc = -1;
  struct sim_http *h = calloc(1, sizeof *h);
  if (h == NULL) {
    snprintf(err, errlen, "out of memory");
    goto done;
  }
  h->lua = lua;
  h->quiet = quiet;
  pthread_mutex_init(&h->list_mu, NULL);

  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

  h->daemon = MHD_start_daemon(
      MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_THREAD_PER_CONNECTION |
          MHD_USE_ERROR_LOG,
      (uint16_t)port, NULL, NULL, on_request, h,
      /* the logger must come first to catch errors in the options */
      MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h, MHD_OPTION_SOCK_ADDR,
      (struct sockaddr *)&addr, MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
      MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_CONNECTION_LIMIT,
      (unsigned int)512, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120,
      MHD_OPTION_END);
  if (h->daemon == NULL) {
    snprintf(err, errlen, "cannot listen on 127.0.0.1:%d", port);
    goto done;
  }
  const union MHD_DaemonInfo *info =
      MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
  if (info == NULL || info->port == 0) {
    snprintf(err, errlen, "cannot read the bound port");
    goto done;
  }
  h->port = info->port;
  rc = 0;
done:
  if (rc != 0 && h != NULL) {
    sim_http_stop(h);
    h = NULL;
  }
  *out = h;
  return rc;
}

int sim_http_port(const struct sim_http *h) {
  return h->port;
}

void sim_http_stop(struct sim_http *h) {
  if (h == NULL)
    return;
  if (h->daemon != NULL)
    MHD_stop_daemon(h->daemon);
  /* Whatever MHD never handed back (requests it dropped before presenting
   * them) is ours to free. */
  struct sim_conn *c = h->conns;
  while (c != NULL) {
    struct sim_conn *next = c->next;
    conn_free(c);
    c = next;
  }
  pthread_mutex_destroy(&h->list_mu);
  free(h);
}
