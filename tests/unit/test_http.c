/* core/osc_http against a loopback libmicrohttpd server that answers each
 * request from a script (by arrival order) and records what it saw; the
 * retry decision (core/osc_retry.h) from a table, without sleeping. The
 * loop tests check that the loop follows the decision (attempts, order of
 * arrival, the wait it logs), never how long anything took. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/osc_http.h"
#include "core/osc_log.h"
#include "core/osc_pace.h"
#include "core/osc_retry.h"
#include "core/osc_time.h"

enum reply_mode {
  R_NORMAL,
  R_CUT,     /* Content-Length `size`, connection closed after `cut` */
  R_CHUNKED, /* `size` bytes, chunked (no Content-Length) */
};

struct reply {
  int status;
  const char *body; /* NULL: the request path */
  const char *retry_after;
  int delay_ms;
  enum reply_mode mode;
  size_t size;
  size_t cut;
  const char *location;
  const char *async_op;
};

#define MAX_SEEN 256

struct seen {
  char method[16];
  char path[256];
};

struct server {
  struct MHD_Daemon *d;
  unsigned short port;
  pthread_mutex_t lock;
  const struct reply *script;
  size_t n_script;
  struct reply fallback;
  struct seen seen[MAX_SEEN];
  size_t n_seen;
  int in_flight;
  int peak;
};

struct body_src {
  size_t size;
  size_t cut; /* 0: none */
};

static ssize_t body_reader(void *cls, uint64_t pos, char *buf, size_t max) {
  struct body_src *b = cls;
  size_t end = b->cut ? b->cut : b->size;
  size_t n;

  if (pos >= end)
    return b->cut ? MHD_CONTENT_READER_END_WITH_ERROR
                  : MHD_CONTENT_READER_END_OF_STREAM;
  n = end - (size_t)pos;
  if (n > max)
    n = max;
  memset(buf, 'x', n);
  return (ssize_t)n;
}

static struct MHD_Response *make_response(const struct reply *r,
                                          const char *path) {
  struct body_src *src;

  if (r->mode == R_CUT || r->mode == R_CHUNKED) {
    src = calloc(1, sizeof(*src));
    src->size = r->size;
    src->cut = r->mode == R_CUT ? r->cut : 0;
    return MHD_create_response_from_callback(
        r->mode == R_CUT ? r->size : MHD_SIZE_UNKNOWN, 1024, body_reader, src,
        free);
  }
  const char *body = r->body ? r->body : path;
  return MHD_create_response_from_buffer(strlen(body), (void *)body,
                                         MHD_RESPMEM_MUST_COPY);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c,
                               const char *url, const char *method,
                               const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls) {
  static int marker;
  struct server *s = cls;
  struct reply r;
  struct MHD_Response *resp;
  enum MHD_Result ret;
  char rid[32];
  size_t idx;

  (void)version;
  (void)upload_data;
  if (*con_cls == NULL) {
    *con_cls = &marker;
    return MHD_YES;
  }
  if (*upload_data_size) {
    *upload_data_size = 0;
    return MHD_YES;
  }
  pthread_mutex_lock(&s->lock);
  idx = s->n_seen;
  if (idx < MAX_SEEN) {
    struct seen *w = &s->seen[idx];

    snprintf(w->method, sizeof(w->method), "%s", method);
    snprintf(w->path, sizeof(w->path), "%s", url);
    s->n_seen++;
  }
  r = idx < s->n_script ? s->script[idx] : s->fallback;
  s->in_flight++;
  if (s->in_flight > s->peak)
    s->peak = s->in_flight;
  pthread_mutex_unlock(&s->lock);

  if (r.delay_ms > 0)
    usleep((useconds_t)r.delay_ms * 1000);
  resp = make_response(&r, url);
  snprintf(rid, sizeof(rid), "req-%zu", idx);
  MHD_add_response_header(resp, "x-ms-request-id", rid);
  if (r.retry_after)
    MHD_add_response_header(resp, "Retry-After", r.retry_after);
  if (r.location)
    MHD_add_response_header(resp, "Location", r.location);
  if (r.async_op)
    MHD_add_response_header(resp, "Azure-AsyncOperation", r.async_op);

  pthread_mutex_lock(&s->lock);
  s->in_flight--;
  pthread_mutex_unlock(&s->lock);
  ret = MHD_queue_response(c, (unsigned)r.status, resp);
  MHD_destroy_response(resp);
  return ret;
}

static int server_setup(void **state) {
  struct server *s = calloc(1, sizeof(*s));
  struct sockaddr_in a;
  const union MHD_DaemonInfo *info;

  if (s == NULL)
    return -1;
  pthread_mutex_init(&s->lock, NULL);
  s->fallback.status = 200;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_port = 0;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  s->d = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL,
      NULL, handler, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
  if (s->d == NULL)
    return -1;
  info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
  s->port = info->port;
  *state = s;
  return 0;
}

static int server_teardown(void **state) {
  struct server *s = *state;

  MHD_stop_daemon(s->d);
  pthread_mutex_destroy(&s->lock);
  free(s);
  return 0;
}

static void script(struct server *s, const struct reply *r, size_t n) {
  pthread_mutex_lock(&s->lock);
  s->script = r;
  s->n_script = n;
  pthread_mutex_unlock(&s->lock);
}

/* The server thread reads the fallback under the lock. */
static void set_fallback(struct server *s, const struct reply *r) {
  pthread_mutex_lock(&s->lock);
  s->fallback = *r;
  pthread_mutex_unlock(&s->lock);
}

static void url_of(struct server *s, const char *path, char *out, size_t cap) {
  snprintf(out, cap, "http://127.0.0.1:%u%s", (unsigned)s->port, path);
}

/* Small backoffs keep the suite fast; the seed keeps jitter repeatable. */
static struct osc_http *fast_client(struct osc_http_options *o) {
  struct osc_http *h = NULL;
  struct osc_error e = OSC_ERROR_INIT;

  if (o->base_backoff_ms == 0)
    o->base_backoff_ms = 10;
  if (o->max_backoff_ms == 0)
    o->max_backoff_ms = 50;
  o->jitter_seed = 42;
  assert_int_equal(osc_http_new(o, &h, &e), 0);
  return h;
}

static int get(struct osc_http *h, const char *url, const char *what,
               struct osc_http_response *resp, struct osc_error *e) {
  struct osc_http_request req = {0};

  req.method = "GET";
  req.url = url;
  req.what = what;
  osc_http_response_init(resp, 0);
  return osc_http_perform(h, &req, resp, e);
}

static char *capture_begin(int *saved) {
  static char path[] = "/tmp/octoscale-test-http-XXXXXX";
  int fd;

  memcpy(path + sizeof(path) - 7, "XXXXXX", 6);
  fd = mkstemp(path);
  assert_true(fd >= 0);
  fflush(stderr);
  *saved = dup(2);
  dup2(fd, 2);
  close(fd);
  return path;
}

static char *capture_end(int saved, const char *path) {
  struct osc_buf b;
  struct osc_error e = OSC_ERROR_INIT;

  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  osc_buf_init(&b, 1 << 20);
  assert_int_equal(osc_buf_read_file(&b, path, &e), 0);
  unlink(path);
  return osc_buf_detach(&b);
}

/* --- cases --- */

static void test_http__get_200(void **state) {
  static const struct reply r[] = {
      {.status = 200, .body = "hello"},
      {.status = 202,
       .body = "",
       .location = "http://x/loc",
       .async_op = "http://x/op?api-version=1"},
  };
  struct server *s = *state;
  struct osc_http_options o = OSC_HTTP_OPTIONS_INIT;
  struct osc_http *h = fast_client(&o);
  struct osc_http_response resp;
  struct osc_error e = OSC_ERROR_INIT;
  struct osc_http_stats st;
  char u[128];

  script(s, r, 2);
  url_of(s, "/hello", u, sizeof(u));
  assert_int_equal(get(h, u, "hello", &resp, &e), 0);
  assert_int_equal(resp.status, 200);
  assert_string_equal(osc_buf_str(&resp.body), "hello");
  assert_int_equal(resp.attempts, 1);
  assert_string_equal(resp.request_id, "req-0");
  assert_string_equal(resp.location, "");
  assert_int_equal(resp.retry_after_ms, -1);
  osc_http_response_free(&resp);

  /* Azure-AsyncOperation wins over Location (docs/api-notes.md §2). */
  assert_int_equal(get(h, u, "lro", &resp, &e), 0);
  assert_int_equal(resp.status, 202);
  assert_string_equal(resp.location, "http://x/op?api-version=1");
  osc_http_response_free(&resp);

  osc_http_get_stats(h, &st);
  assert_int_equal(st.requests, 2);
  assert_int_equal(st.retries, 0);
  assert_int_equal(st.completed, 2);
  osc_http_free(h);
}

static void test_http__retry_503_then_200(void **state) {
  static const struct reply r[] = {
      {.status = 503, .body = "busy"},
      {.status = 503, .body = "busy"},
      {.status = 200, .body = "ok"},
  };
  struct server *s = *state;
  struct osc_http_options o = OSC_HTTP_OPTIONS_INIT;
  struct osc_http *h = fast_client(&o);
  struct osc_http_response resp;
  struct osc_error e = OSC_ERROR_INIT;
  struct osc_http_stats st;
  char u[128];

  script(s, r, 3);
  url_of(s, "/x", u, sizeof(u));
  assert_int_equal(get(h, u, "x", &resp, &e), 0);
  assert_int_equal(resp.status, 200);
  assert_int_equal(resp.attempts, 3);
  assert_string_equal(osc_buf_str(&resp.body), "ok");
  osc_http_get_stats(h, &st);
  assert_int_equal(st.requests, 3);
  assert_int_equal(st.retries, 2);
  assert_int_equal(s->n_seen, 3);
  osc_http_response_free(&resp);
  osc_http_free(h);
}

/* The loop waits what the decision says: Retry-After 1 beats the 10 ms
 * backoff, as the debug log of the attempt shows. */
static void test_http__retry_after_seconds(void **state) {
  static const struct reply r[] = {
      {.status = 429, .body = "slow down", .retry_after = "1"},
      {.status = 200, .body = "ok"},
  };
  struct server *s = *state;
  struct osc_http_options o = OSC_HTTP_OPTIONS_INIT;
  struct osc_http *h = fast_client(&o);
  struct osc_http_response resp;
  struct osc_error e = OSC_ERROR_INIT;
  struct osc_http_stats st;
  char u[128];
  char *path;
  char *log;
  int saved;

  script(s, r, 2);
  url_of(s, "/throttled", u, sizeof(u));
  osc_log_set_level(OSC_LOG_DEBUG);
  osc_http_set_verbose(h, true);
  path = capture_begin(&saved);
  assert_int_equal(get(h, u, "throttled", &resp, &e), 0);
  log = capture_end(saved, path);
  osc_log_set_level(OSC_LOG_INFO);
  assert_int_equal(resp.status, 200);
  assert_int_equal(resp.attempts, 2);
  assert_int_equal(s->n_seen, 2);
  assert_non_null(strstr(log, "/throttled -> 429 ("));
  assert_non_null(strstr(log, "ms, attempt 1, retry in 1000 ms)"));
  assert_non_null(strstr(log, "ms, attempt 2)"));
  osc_http_get_stats(h, &st);
  assert_int_equal(st.throttled, 1);
  assert_int_equal(st.retries, 1);
  free(log);
  osc_http_response_free(&resp);
  osc_http_free(h);
}

/* An HTTP-date is understood: one far beyond the budget fails at once
 * instead of being retried as if there were no Retry-After. */
static void test_http__retry_after_http_date(void **state) {
  static const struct reply r[] = {
      {.status = 429,
       .body = "",
       .retry_after = "Fri, 01 Jan 2100 00:00:00 GMT"},
  };
  struct server *s = *state;
  struct osc_http_options o = OSC_HTTP_OPTIONS_INIT;
  struct osc_http *h = fast_client(&o);
  struct osc_http_response resp;
  struct osc_error e = OSC_ERROR_INIT;
  char u[128];

  script(s, r, 1);
  url_of(s, "/dated", u, sizeof(u));
  assert_true(get(h, u, "dated", &resp, &e) < 0);
  assert_int_equal(resp.status, 429);
  assert_int_equal(resp.attempts, 1);
  assert_int_equal(s->n_seen, 1);
  assert_true(resp.retry_after_ms > (int64_t)70 * 365 * 86400 * 1000);
  assert_non_null(strstr(e.msg, "dated: HTTP 429 after 1 attempt; Retry-After "
                                "of "));
  /* of 119 or 120 s: the budget is 2 min less the attempt's time */
  assert_non_null(strstr(e.msg, " s exceeds the remaining retry budget of "
                                "1"));
  assert_non_null(strstr(e.msg, " s (request id req-0)"));
  osc_http_response_free(&resp);
  osc_http_free(h);
}

static void test_http__404_not_retried(void **state) {
  static const struct reply r[] = {
      {.status = 404, .body = "{\"error\":{\"code\":\"ResourceNotFound\"}}"},
  };
  struct server *s = *state;
  struct osc_http_options o = OSC_HTTP_OPTIONS_INIT;
  struct osc_http *h = fast_client(&o);
  struct osc_http_response resp;
  struct osc_error e = OSC_ERROR_INIT;
  char u[128];

  script(s, r, 1);
  url_of(s, "/gone", u, sizeof(u));
  assert_int_equal(get(h, u, "gone", &resp, &e), 0);
  assert_int_equal(resp.status, 404);
  assert_int_equal(resp.attempts, 1);
  assert_non_null(strstr(osc_buf_str(&resp.body), "ResourceNotFound"));
  assert_int_equal(s->n_seen, 1);
  osc_http_response_free(&resp);
  osc_http_free(h);
}

static void test_http__post_not_retried_unless_unsafe_ok(void **state) {
  static const struct reply r[] = {
      {.status = 503, .body = "busy"},
      {.status = 503, .body = "busy"},
      {.status = 200, .body = "created"},
  };
  struct server *s = *state;
  struct osc_http_options o = OSC_HTTP_OPTIONS_INIT;
  struct osc_http *h = fast_client(&o);
  struct osc_http_request req = {0};
  struct osc_http_response resp;
  struct osc_error e = OSC_ERROR_INIT;
  char u[128];

  script(s, r, 3);
  url_of(s, "/tasks", u, sizeof(u));
  req.method = "POST";
  req.url = u;
  req.body = "{\"Name\":\"Health\"}";
  req.body_len = strlen(req.body);
  req.what = "Octopus health task";
  osc_http_response_init(&resp, 0);
  assert_true(osc_http_perform(h, &req, &resp, &e) < 0);
  assert_int_equal(resp.attempts, 1);
  assert_int_equal(resp.status, 503);
  assert_string_equal(e.msg, "Octopus health task: HTTP 503 after 1 attempt "
                             "(POST is not retried) (request id req-0)");
  assert_int_equal(s->n_seen, 1);
  osc_http_response_free(&resp);

  req.retry_unsafe = true;
  assert_int_equal(osc_http_perform(h, &req, &resp, &e), 0);
  assert_int_equal(resp.status, 200);
  assert_int_equal(resp.attempts, 2);
  assert_int_equal(s->n_seen, 3);
  osc_http_response_free(&resp);
  osc_http_free(h);
}

static unsigned short closed_port(void) {
  struct sockaddr_in a;
  socklen_t len = sizeof(a);
  int fd = socket(AF_INET, SOCK_STREAM, 0);

  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
  assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
  close(fd);
  return ntohs(a.sin_port);
}

static void test_http__post_retried_on_connect_refused(void **state) {
  struct osc_http_options o = OSC_HTTP_OPTIONS_INIT;
  struct osc_http *h;
  struct osc_http_request req = {0};
  struct osc_http_response resp;
  struct osc_error e = OSC_ERROR_INIT;
  unsigned short port = closed_port();
  char u[128];
  char want[128];

  (void)state;
  o.max_attempts = 3;
  h = fast_client(&o);
  snprintf(u, sizeof(u), "http://127.0.0.1:%u/api/tasks", (unsigned)port);
  req.method = "POST";
  req.url = u;
  req.body = "{}";
  req.body_len = 2;
  req.what = "Octopus machines list";
  osc_http_response_init(&resp, 0);
  assert_true(osc_http_perform(h, &req, &resp, &e) < 0);
  assert_int_equal(resp.attempts, 3);
  assert_int_equal(resp.status, 0);
  print_message("%s\n", e.msg);
  snprintf(want, sizeof(want),
           "Octopus machines list: connect to 127.0.0.1:%u failed: "
           "Connection refused (after 3 attempts over ",
           (unsigned)port);
  assert_memory_equal(e.msg, want, strlen(want));
  osc_http_response_free(&resp);
  osc_http_free(h);
}

static void test_http__reset_mid_body_retried(void **state) {
  static const struct reply r[] = {
      {.status = 200, .mode = R_CUT, .size = 10000, .cut = 100},
      {.status = 200, .body = "complete"},
  };
  struct server *s = *state;
  struct osc_http_options o = OSC_HTTP_OPTIONS_INIT;
  struct osc_http *h = fast_client(&o);
  struct osc_http_response resp;
  struct osc_error e = OSC_ERROR_INIT;
  char u[128];

  script(s, r, 2);
  url_of(s, "/cut", u, sizeof(u));
  assert_int_equal(get(h, u, "cut", &resp, &e), 0);
  assert_int_equal(resp.attempts, 2);
  assert_string_equal(osc_buf_str(&resp.body), "complete");
  osc_http_response_free(&resp);
  osc_http_free(h);
}

static void test_http__timeout_retried(void **state) {
  struct server *s = *state;
  struct osc_http_options o = OSC_HTTP_OPTIONS_INIT;
  struct osc_http *h;
  struct osc_http_response resp;
  struct osc_error e = OSC_ERROR_INIT;
  char u[128];

  set_fallback(s, &(struct reply){.status = 200, .delay_ms = 300});
  o.timeout_ms = 100;
  o.max_attempts = 2;
  h = fast_client(&o);
  url_of(s, "/stuck", u, sizeof(u));
  assert_true(get(h, u, "stuck", &resp, &e) < 0);
  print_message("%s\n", e.msg);
  assert_int_equal(resp.attempts, 2);
  assert_non_null(strstr(e.msg, "stuck: Operation timed out after "));
  assert_non_null(strstr(e.msg, "(after 2 attempts over "));
  osc_http_response_free(&resp);
  osc_http_free(h);
}

static void test_http__body_over_max(void **state) {
  static const struct reply r[] = {
      {.status = 200, .mode = R_CUT, .size = 4096}, /* Content-Length */
      {.status = 200, .mode = R_CHUNKED, .size = 4096},
      {.status = 200, .mode = R_CHUNKED, .size = 4096},
      {.status = 200, .mode = R_CHUNKED, .size = 4096},
  };
  struct server *s = *state;
  struct osc_http_options o = OSC_HTTP_OPTIONS_INIT;
  struct osc_http *h;
  struct osc_http_request req = {0};
  struct osc_http_response resp;
  struct osc_error e = OSC_ERROR_INIT;
  char u[128];

  o.max_body = 1024;
  h = fast_client(&o);
  script(s, r, 4);
  url_of(s, "/big", u, sizeof(u));
  assert_true(get(h, u, "big page", &resp, &e) < 0);
  assert_string_equal(e.msg, "big page: response body exceeds the limit of "
                             "1024 bytes (request id req-0)");
  assert_int_equal(resp.attempts, 1);
  osc_http_response_free(&resp);
  assert_true(get(h, u, "big page", &resp, &e) < 0);
  assert_non_null(strstr(e.msg, "exceeds the limit of 1024 bytes"));
  assert_int_equal(resp.attempts, 1);
  osc_http_response_free(&resp);
  req.method = "GET";
  req.url = u;
  /* perform honours the limit resp was initialised with... */
  osc_http_response_init(&resp, 100);
  assert_true(osc_http_perform(h, &req, &resp, &e) < 0);
  assert_non_null(strstr(e.msg, "exceeds the limit of 100 bytes"));
  osc_http_response_free(&resp);
  /* ...and a per-request limit overrides the client's. */
  req.max_body = 8192;
  osc_http_response_init(&resp, 0);
  assert_int_equal(osc_http_perform(h, &req, &resp, &e), 0);
  assert_int_equal(resp.body.len, 4096);
  assert_int_equal(s->n_seen, 4);
  osc_http_response_free(&resp);
  osc_http_free(h);
}

static void test_http__max_attempts_exhausted(void **state) {
  struct server *s = *state;
  struct osc_http_options o = OSC_HTTP_OPTIONS_INIT;
  struct osc_http *h;
  struct osc_http_response resp;
  struct osc_error e = OSC_ERROR_INIT;
  char u[128];

  set_fallback(s, &(struct reply){.status = 503, .body = "busy"});
  o.max_attempts = 3;
  h = fast_client(&o);
  url_of(s, "/vms?$skiptoken=2", u, sizeof(u));
  assert_true(get(h, u, "Azure VM list page 2", &resp, &e) < 0);
  assert_string_equal(e.msg, "Azure VM list page 2: HTTP 503 after 3 attempts "
                             "(request id req-2)");
  assert_int_equal(resp.status, 503);
  assert_int_equal(resp.attempts, 3);
  assert_string_equal(osc_buf_str(&resp.body), "busy");
  osc_http_response_free(&resp);
  osc_http_free(h);
}

static void test_http__max_retry_budget(void **state) {
  static const struct reply r[] = {
      {.status = 429, .body = "", .retry_after = "5"},
  };
  struct server *s = *state;
  struct osc_http_options o = OSC_HTTP_OPTIONS_INIT;
  struct osc_http *h;
  struct osc_http_response resp;
  struct osc_error e = OSC_ERROR_INIT;
  char u[128];

  set_fallback(s, &(struct reply){.status = 503, .body = ""});
  o.max_attempts = 100;
  o.base_backoff_ms = 50;
  o.max_backoff_ms = 200;
  o.max_retry_ms = 700;
  h = fast_client(&o);
  url_of(s, "/budget", u, sizeof(u));

  /* Plain backoff: attempts stop once the budget is spent, long before
   * max_attempts. */
  assert_true(get(h, u, "budget", &resp, &e) < 0);
  print_message("budget 700 ms: %d attempts\n", resp.attempts);
  assert_true(resp.attempts > 2);
  assert_true(resp.attempts < 100);
  assert_int_equal(s->n_seen, (size_t)resp.attempts);
  assert_true(resp.elapsed_ms >= 700);
  assert_non_null(strstr(e.msg, "budget: HTTP 503 after "));
  osc_http_response_free(&resp);

  /* Retry-After 5 s does not fit in 0.7 s: stop at once and say so (this
   * pauses the host, so it comes last). */
  set_fallback(s, &r[0]);
  assert_true(get(h, u, "budget", &resp, &e) < 0);
  assert_int_equal(resp.attempts, 1);
  assert_non_null(strstr(e.msg, "Retry-After of 5 s exceeds the remaining "
                                "retry budget"));
  osc_http_response_free(&resp);

  osc_http_free(h);
}

struct outcome {
  int n;
  char msg[2][OSC_ERROR_MAX];
};

static void keep_error(void *ud, const struct osc_http_request *req,
                       struct osc_http_response *resp,
                       const struct osc_error *err) {
  struct outcome *o = ud;

  (void)req;
  (void)resp;
  if (o->n < 2)
    snprintf(o->msg[o->n], sizeof(o->msg[0]), "%s", err ? err->msg : "ok");
  o->n++;
}

static void test_http__throttled_host_fails_fast(void **state) {
  static const struct reply r[] = {
      {.status = 429, .body = "", .retry_after = "5"},
  };
  struct server *s = *state;
  struct osc_http_options o = OSC_HTTP_OPTIONS_INIT;
  struct osc_http *h;
  struct osc_http_request req = {0};
  struct osc_error e = OSC_ERROR_INIT;
  struct outcome out = {0};
  char u[128];
  char want[160];

  o.concurrency_per_host = 1;
  o.max_retry_ms = 1000;
  h = fast_client(&o);
  script(s, r, 1);
  url_of(s, "/q", u, sizeof(u));
  req.method = "GET";
  req.url = u;
  req.what = "page";
  assert_int_equal(osc_http_submit(h, &req, keep_error, &out, &e), 0);
  assert_int_equal(osc_http_submit(h, &req, keep_error, &out, &e), 0);
  assert_int_equal(osc_http_run(h, &e), 0);
  assert_int_equal(out.n, 2);
  /* The second failed without waiting out the pause: it never went out. */
  assert_int_equal(s->n_seen, 1);
  assert_non_null(strstr(out.msg[0], "Retry-After of 5 s exceeds"));
  snprintf(want, sizeof(want),
           "page: 127.0.0.1:%u is throttled (HTTP 429) for another 5 s, "
           "beyond the retry budget of 1 s",
           (unsigned)s->port);
  assert_string_equal(out.msg[1], want);
  osc_http_free(h);
}

struct counter {
  int ok;
  int failed;
};

static void count_done(void *ud, const struct osc_http_request *req,
                       struct osc_http_response *resp,
                       const struct osc_error *err) {
  struct counter *c = ud;

  (void)req;
  if (err == NULL && resp->status == 200)
    c->ok++;
  else
    c->failed++;
}

static void test_http__concurrency_per_host(void **state) {
  struct server *s = *state;
  struct osc_http_options o = OSC_HTTP_OPTIONS_INIT;
  struct osc_http *h;
  struct osc_http_request req = {0};
  struct osc_error e = OSC_ERROR_INIT;
  struct osc_http_stats st;
  struct counter c = {0, 0};
  char u[128];
  int i;

  set_fallback(s, &(struct reply){.status = 200, .delay_ms = 50});
  o.concurrency_per_host = 4;
  h = fast_client(&o);
  url_of(s, "/slow", u, sizeof(u));
  req.method = "GET";
  req.url = u;
  for (i = 0; i < 20; i++)
    assert_int_equal(osc_http_submit(h, &req, count_done, &c, &e), 0);
  assert_int_equal(osc_http_run(h, &e), 0);
  osc_http_get_stats(h, &st);
  print_message("20 x 50 ms at 4 per host: server peak %d\n", s->peak);
  assert_int_equal(c.ok, 20);
  assert_int_equal(s->n_seen, 20);
  assert_int_equal(s->peak, 4);
  assert_int_equal(st.peak_in_flight, 4);
  osc_http_free(h);
}

/* The loop asks the host's bucket before every attempt: 600 a minute with a
 * burst of 10 (9 after the headroom token) sends 9 at once and makes the
 * other 3 wait for tokens (when they arrive: test_http__bucket_times). */
static void test_http__token_bucket(void **state) {
  struct server *s = *state;
  struct osc_http_options o = OSC_HTTP_OPTIONS_INIT;
  struct osc_http *h;
  struct osc_http_request req = {0};
  struct osc_error e = OSC_ERROR_INIT;
  struct osc_http_stats st;
  struct counter c = {0, 0};
  char u[128];
  char host[64];
  double rate = 0;
  size_t k;

  o.concurrency_per_host = 64;
  h = fast_client(&o);
  url_of(s, "/limited", u, sizeof(u));
  snprintf(host, sizeof(host), "127.0.0.1:%u", (unsigned)s->port);
  assert_false(osc_http_pacing(h, host, &rate));
  assert_int_equal(osc_http_set_rate_limit(h, host, 600, 10, &e), 0);
  assert_true(osc_http_pacing(h, host, &rate));
  assert_true(rate > 599.999 && rate < 600.001);
  req.method = "GET";
  req.url = u;
  for (k = 0; k < 12; k++)
    assert_int_equal(osc_http_submit(h, &req, count_done, &c, &e), 0);
  assert_int_equal(osc_http_run(h, &e), 0);
  osc_http_get_stats(h, &st);
  assert_int_equal(c.ok, 12);
  assert_int_equal(s->n_seen, 12);
  assert_int_equal(st.requests, 12);
  assert_int_equal(st.rate_waits, 3);
  osc_http_free(h);
}

/* The bucket alone (core/osc_pace.h), clock passed in: when each of a
 * queue of requests gets its token, as the loop would ask. */
static void test_http__bucket_times(void **state) {
  static const struct {
    double per_minute;
    double burst;
    int n;
    int64_t want_last;       /* when the n-th request gets its token */
    int64_t want_first_wait; /* ... and the first one that waited */
  } cases[] = {
      {600, 9, 9, 0, -1},     /* the burst: no wait */
      {600, 9, 10, 100, 100}, /* then one every 100 ms */
      {600, 9, 30, 2100, 100},  {60, 1, 3, 2000, 1000}, /* one a second */
      {90, 2, 4, 1334, 667},    /* 666.7 ms a token, rounded up */
      {6000, 100, 101, 10, 10}, /* fast: 10 ms */
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct osc_pace_bucket b = {cases[i].per_minute / 60000.0, cases[i].burst,
                                cases[i].burst, 1000};
    int64_t now = 1000;
    int64_t first_wait = -1;
    int64_t ready;
    int k;

    for (k = 0; k < cases[i].n; k++) {
      while (!osc_pace_bucket_take(&b, now, &ready)) {
        assert_true(ready > now);
        if (first_wait < 0)
          first_wait = ready - 1000;
        now = ready;
      }
    }
    print_message("%.0f/min burst %.0f: request %d at +%lld ms\n",
                  cases[i].per_minute, cases[i].burst, cases[i].n,
                  (long long)(now - 1000));
    assert_int_equal(now - 1000, cases[i].want_last);
    assert_int_equal(first_wait, cases[i].want_first_wait);
  }
}

static void test_http__throttle_pauses_host(void **state) {
  static const struct reply r[] = {
      {.status = 429, .body = "", .retry_after = "1"},
  };
  struct server *s = *state;
  struct osc_http_options o = OSC_HTTP_OPTIONS_INIT;
  struct osc_http *h;
  struct osc_http_request a = {0};
  struct osc_http_request b = {0};
  struct osc_error e = OSC_ERROR_INIT;
  struct counter c = {0, 0};
  char ua[128];
  char ub[128];

  o.concurrency_per_host = 1;
  h = fast_client(&o);
  script(s, r, 1);
  url_of(s, "/a", ua, sizeof(ua));
  url_of(s, "/b", ub, sizeof(ub));
  a.method = b.method = "GET";
  a.url = ua;
  b.url = ub;
  assert_int_equal(osc_http_submit(h, &a, count_done, &c, &e), 0);
  assert_int_equal(osc_http_submit(h, &b, count_done, &c, &e), 0);
  assert_int_equal(osc_http_run(h, &e), 0);
  assert_int_equal(c.ok, 2);
  assert_int_equal(s->n_seen, 3);
  /* Without the pause /b would go out as soon as /a's slot freed up, while
   * /a waits out its Retry-After; paused, both wait and /a keeps its turn. */
  assert_string_equal(s->seen[0].path, "/a");
  assert_string_equal(s->seen[1].path, "/a");
  assert_string_equal(s->seen[2].path, "/b");
  osc_http_free(h);
}

struct pager {
  struct osc_http *h;
  struct server *s;
  char list;
  int page;
  char *order; /* completions, e.g. "a1b1a2..." */
  bool nested_ok;
};

static void page_done(void *ud, const struct osc_http_request *req,
                      struct osc_http_response *resp,
                      const struct osc_error *err) {
  struct pager *p = ud;
  struct osc_http_request next = {0};
  struct osc_error e = OSC_ERROR_INIT;
  char want[32];
  char u[128];
  size_t n = strlen(p->order);

  (void)req;
  assert_null(err);
  snprintf(want, sizeof(want), "/%c/%d", p->list, p->page);
  assert_string_equal(osc_buf_str(&resp->body), want);
  p->order[n] = p->list;
  p->order[n + 1] = (char)('0' + p->page);
  p->order[n + 2] = '\0';
  if (p->list == 'b' && p->page == 2) {
    /* A blocking call from a callback (a token refresh, say). */
    struct osc_http_response tok;

    url_of(p->s, "/token", u, sizeof(u));
    assert_int_equal(get(p->h, u, "token", &tok, &e), 0);
    p->nested_ok = strcmp(osc_buf_str(&tok.body), "/token") == 0;
    osc_http_response_free(&tok);
  }
  if (p->page == 3)
    return;
  p->page++;
  snprintf(want, sizeof(want), "/%c/%d", p->list, p->page);
  url_of(p->s, want, u, sizeof(u));
  next.method = "GET";
  next.url = u;
  assert_int_equal(osc_http_submit(p->h, &next, page_done, p, &e), 0);
}

static size_t seen_index(struct server *s, const char *path) {
  size_t i;

  for (i = 0; i < s->n_seen; i++) {
    if (strcmp(s->seen[i].path, path) == 0)
      return i;
  }
  fail_msg("%s never requested", path);
  return 0;
}

static void test_http__paging_callbacks_in_order(void **state) {
  struct server *s = *state;
  struct osc_http_options o = OSC_HTTP_OPTIONS_INIT;
  struct osc_http *h = fast_client(&o);
  struct osc_http_request req = {0};
  struct osc_error e = OSC_ERROR_INIT;
  char order[64] = "";
  struct pager pa = {h, s, 'a', 1, order, false};
  struct pager pb = {h, s, 'b', 1, order, false};
  char u[128];
  const char *p;

  set_fallback(s, &(struct reply){.status = 200, .delay_ms = 5});
  req.method = "GET";
  req.url = u;
  url_of(s, "/a/1", u, sizeof(u));
  assert_int_equal(osc_http_submit(h, &req, page_done, &pa, &e), 0);
  url_of(s, "/b/1", u, sizeof(u));
  assert_int_equal(osc_http_submit(h, &req, page_done, &pb, &e), 0);
  assert_int_equal(osc_http_run(h, &e), 0);
  print_message("completion order %s\n", order);
  assert_int_equal(strlen(order), 12);
  p = strstr(order, "a1");
  assert_non_null(p);
  assert_true(strstr(order, "a2") > p);
  assert_true(strstr(order, "a3") > strstr(order, "a2"));
  assert_true(strstr(order, "b2") > strstr(order, "b1"));
  assert_true(strstr(order, "b3") > strstr(order, "b2"));
  assert_true(pb.nested_ok);
  assert_true(seen_index(s, "/a/2") > seen_index(s, "/a/1"));
  assert_true(seen_index(s, "/a/3") > seen_index(s, "/a/2"));
  assert_true(seen_index(s, "/b/3") > seen_index(s, "/b/2"));
  assert_int_equal(s->n_seen, 7);
  osc_http_free(h);
}

static void test_http__verbose_redacts_secrets(void **state) {
  static const struct reply r[] = {
      {.status = 200, .body = "{}"}, {.status = 200, .body = "{}"},
      {.status = 200, .body = "{}"}, {.status = 503, .body = "no"},
      {.status = 503, .body = "no"},
  };
  struct server *s = *state;
  struct osc_http_options o = OSC_HTTP_OPTIONS_INIT;
  struct osc_http *h;
  struct osc_http_request req = {0};
  struct osc_http_response resp;
  struct osc_error e = OSC_ERROR_INIT;
  struct osc_http_header hdrs[] = {
      {"Authorization", "Bearer SECRETTOKEN4", true},
      {"X-Octopus-ApiKey", "API-SECRETKEY1", true},
      {"Accept", "application/json", false},
  };
  char u[512];
  char *path;
  char *log;
  int saved;

  o.max_attempts = 2;
  h = fast_client(&o);
  script(s, r, 5);
  osc_log_set_level(OSC_LOG_DEBUG);
  osc_http_set_verbose(h, true);
  path = capture_begin(&saved);

  snprintf(u, sizeof(u),
           "http://127.0.0.1:%u/list?api-version=2024-11-01&$skiptoken=page2"
           "&apikey=API-SECRETKEY1&client_secret=SECRETVALUE2&sig=SECRETSIG3"
           "&access_token=SECRETTOKEN4",
           (unsigned)s->port);
  req.method = "GET";
  req.url = u;
  req.headers = hdrs;
  req.n_headers = 3;
  osc_http_response_init(&resp, 0);
  assert_int_equal(osc_http_perform(h, &req, &resp, &e), 0);
  osc_http_response_free(&resp);

  req.method = "POST";
  req.body = "client_secret=SECRETVALUE2&client_assertion=SECRETASSERT5";
  req.body_len = strlen(req.body);
  req.body_secret = true;
  assert_int_equal(osc_http_perform(h, &req, &resp, &e), 0);
  osc_http_response_free(&resp);

  snprintf(u, sizeof(u), "http://user:SECRETPASS6@127.0.0.1:%u/userinfo",
           (unsigned)s->port);
  req.method = "GET";
  req.body = NULL;
  req.body_len = 0;
  assert_int_equal(osc_http_perform(h, &req, &resp, &e), 0);
  osc_http_response_free(&resp);

  snprintf(u, sizeof(u),
           "http://127.0.0.1:%u/fail?client_secret=SECRETVALUE2&code=SECRET7",
           (unsigned)s->port);
  assert_true(osc_http_perform(h, &req, &resp, &e) < 0);
  osc_http_response_free(&resp);

  log = capture_end(saved, path);
  osc_log_set_level(OSC_LOG_INFO);
  print_message("--- verbose log ---\n%s--- error ---\n%s\n", log, e.msg);
  assert_null(strstr(log, "SECRET"));
  assert_null(strstr(e.msg, "SECRET"));
  assert_non_null(strstr(log, "octoscale: http: GET http://127.0.0.1:"));
  assert_non_null(strstr(log, "/list?api-version=2024-11-01&$skiptoken=page2"
                              "&apikey=REDACTED&client_secret=REDACTED"
                              "&sig=REDACTED&access_token=REDACTED -> 200 ("));
  assert_non_null(strstr(log, "http://REDACTED@127.0.0.1:"));
  assert_non_null(strstr(log, "ms, attempt 1, retry in "));
  assert_non_null(strstr(log, "-> 503 ("));
  assert_non_null(strstr(e.msg, "/fail: HTTP 503 after 2 attempts"));
  free(log);
  osc_http_free(h);
}

/* --- an injected transport (osc_http_set_transport): no sockets --- */

struct scripted {
  const struct osc_http_answer *answers;
  size_t n;
  size_t calls;
};

static void scripted_answer(void *ud, const struct osc_http_request *req,
                            struct osc_http_answer *answer) {
  struct scripted *sc = ud;

  (void)req;
  *answer = sc->answers[sc->calls < sc->n ? sc->calls : sc->n - 1];
  sc->calls++;
}

/* The same capture, decision and messages as for the network: a refused
 * connect and a 503 are retried, the answer's headers are read. */
static void test_http__injected_transport(void **state) {
  static const struct osc_http_answer answers[] = {
      {0, NULL, NULL, 0},
      {503, "x-ms-request-id: r-1\nRetry-After: 0\n", "busy", 0},
      {202,
       "x-ms-request-id: r-2\r\nLocation: https://h/loc\r\n"
       "Azure-AsyncOperation: https://h/op\r\nx-ms-lease-state: leased",
       "{\"ok\":true}", 0},
      {200, NULL, "0123456789", 0},
  };
  struct scripted sc = {answers, 3, 0};
  struct osc_http_options o = OSC_HTTP_OPTIONS_INIT;
  struct osc_http *h = fast_client(&o);
  struct osc_http_response resp;
  struct osc_http_request req = {0};
  struct osc_error e = OSC_ERROR_INIT;
  struct osc_http_stats st;
  char v[32];

  (void)state;
  osc_http_set_transport(h, scripted_answer, &sc);
  assert_int_equal(get(h, "https://nowhere.test/x", "x", &resp, &e), 0);
  assert_int_equal(sc.calls, 3);
  assert_int_equal(resp.attempts, 3);
  assert_int_equal(resp.status, 202);
  assert_string_equal(osc_buf_str(&resp.body), "{\"ok\":true}");
  assert_string_equal(resp.request_id, "r-2");
  assert_string_equal(resp.location, "https://h/op");
  assert_true(
      osc_http_response_header(&resp, "x-ms-lease-state", v, sizeof(v)));
  assert_string_equal(v, "leased");
  osc_http_get_stats(h, &st);
  assert_int_equal(st.requests, 3);
  assert_int_equal(st.retries, 2);
  osc_http_response_free(&resp);

  /* A POST whose connection failed sent nothing: retried; then out of
   * attempts with the usual message. */
  sc.answers = answers;
  sc.n = 1;
  sc.calls = 0;
  req.method = "POST";
  req.url = "https://nowhere.test/tasks";
  req.what = "task";
  req.body = "{}";
  req.body_len = 2;
  osc_http_response_init(&resp, 0);
  assert_true(osc_http_perform(h, &req, &resp, &e) < 0);
  assert_int_equal(sc.calls, 6);
  assert_memory_equal(e.msg,
                      "task: connect to nowhere.test failed: no answer "
                      "(after 6 attempts over ",
                      strlen("task: connect to nowhere.test failed: no answer "
                             "(after 6 attempts over "));
  osc_http_response_free(&resp);

  /* The body limit holds for injected answers too. */
  sc.answers = &answers[3];
  sc.n = 1;
  sc.calls = 0;
  req.method = "GET";
  req.body = NULL;
  req.body_len = 0;
  req.max_body = 4;
  osc_http_response_init(&resp, 0);
  assert_true(osc_http_perform(h, &req, &resp, &e) < 0);
  assert_string_equal(e.msg, "task: response body exceeds the limit of 4 "
                             "bytes");
  assert_int_equal(sc.calls, 1);
  osc_http_response_free(&resp);
  osc_http_free(h);
}

/* --- the retry decision, from a table (no server, no clock) --- */

#define REFUSED "connect to 10.0.0.4:443 failed: Connection refused"

struct retry_case {
  const char *name;
  enum osc_retry_ending ending;
  long status;
  const char *method;
  bool retry_unsafe;
  bool nothing_sent;
  int attempts;
  int throttled;
  int64_t retry_after_ms;
  int64_t elapsed_ms;
  uint64_t jitter;
  /* expected */
  enum osc_retry_action action;
  enum osc_retry_reason reason;
  int64_t wait_ms;
  int64_t pause_host_ms;
  const char *msg;
};

/* Limits of every case: 3 attempts, 10 s, backoff 500 ms doubling to 4 s. */
static const struct retry_case retry_cases[] = {
    {"200 is the answer", OSC_RETRY_HTTP, 200, "GET", false, false, 1, 0, -1, 5,
     77, OSC_RETRY_DONE, OSC_RETRY_ANSWERED, 0, -1, NULL},
    {"404 is the answer, not retried", OSC_RETRY_HTTP, 404, "GET", false, false,
     1, 0, -1, 5, 77, OSC_RETRY_DONE, OSC_RETRY_ANSWERED, 0, -1, NULL},
    {"409 of a POST is the answer", OSC_RETRY_HTTP, 409, "POST", false, false,
     1, 0, -1, 5, 77, OSC_RETRY_DONE, OSC_RETRY_ANSWERED, 0, -1, NULL},
    {"503: jitter within the first backoff", OSC_RETRY_HTTP, 503, "GET", false,
     false, 1, 0, -1, 5, 123, OSC_RETRY_AGAIN, OSC_RETRY_RETRYABLE, 123, -1,
     NULL},
    {"503: the jitter wraps at the cap + 1", OSC_RETRY_HTTP, 503, "GET", false,
     false, 1, 0, -1, 5, 501, OSC_RETRY_AGAIN, OSC_RETRY_RETRYABLE, 0, -1,
     NULL},
    {"500: the second backoff doubles", OSC_RETRY_HTTP, 500, "PUT", false,
     false, 2, 0, -1, 500, 5000, OSC_RETRY_AGAIN, OSC_RETRY_RETRYABLE,
     5000 % 1001, -1, NULL},
    {"502: Retry-After is a minimum", OSC_RETRY_HTTP, 502, "DELETE", false,
     false, 1, 0, 3000, 5, 100, OSC_RETRY_AGAIN, OSC_RETRY_RETRYABLE, 3000, -1,
     NULL},
    {"504: the wait ends with the budget", OSC_RETRY_HTTP, 504, "GET", false,
     false, 2, 0, 50, 9900, 400, OSC_RETRY_AGAIN, OSC_RETRY_RETRYABLE, 100, -1,
     NULL},
    {"503: out of attempts", OSC_RETRY_HTTP, 503, "GET", false, false, 3, 0, -1,
     2000, 1, OSC_RETRY_FAIL, OSC_RETRY_ATTEMPTS_SPENT, 0, -1,
     "VM list: HTTP 503 after 3 attempts (request id rid-7)"},
    {"503: out of time", OSC_RETRY_HTTP, 503, "GET", false, false, 2, 0, -1,
     10000, 1, OSC_RETRY_FAIL, OSC_RETRY_BUDGET_SPENT, 0, -1,
     "VM list: HTTP 503 after 2 attempts (request id rid-7)"},
    {"503 of a POST is not repeated", OSC_RETRY_HTTP, 503, "POST", false, false,
     1, 0, -1, 5, 1, OSC_RETRY_FAIL, OSC_RETRY_UNSAFE, 0, -1,
     "VM list: HTTP 503 after 1 attempt (POST is not retried) "
     "(request id rid-7)"},
    {"503 of a POST the caller allows", OSC_RETRY_HTTP, 503, "POST", true,
     false, 1, 0, -1, 5, 9, OSC_RETRY_AGAIN, OSC_RETRY_RETRYABLE, 9, -1, NULL},
    {"429: the host pauses for the wait", OSC_RETRY_HTTP, 429, "GET", false,
     false, 1, 1, 2000, 5, 7, OSC_RETRY_AGAIN, OSC_RETRY_RETRYABLE, 2000, 2000,
     NULL},
    {"429 of a POST was not processed", OSC_RETRY_HTTP, 429, "POST", false,
     false, 1, 1, -1, 5, 100, OSC_RETRY_AGAIN, OSC_RETRY_RETRYABLE, 100, 100,
     NULL},
    {"429s do not count as attempts", OSC_RETRY_HTTP, 429, "GET", false, false,
     7, 6, 1000, 8000, 3, OSC_RETRY_AGAIN, OSC_RETRY_RETRYABLE, 1000, 1000,
     NULL},
    {"429 with Retry-After beyond the budget", OSC_RETRY_HTTP, 429, "GET",
     false, false, 1, 1, 20000, 1000, 3, OSC_RETRY_FAIL,
     OSC_RETRY_AFTER_TOO_LONG, 0, 20000,
     "VM list: HTTP 429 after 1 attempt; Retry-After of 20 s exceeds the "
     "remaining retry budget of 9 s (request id rid-7)"},
    {"429 rounds Retry-After up, the budget down", OSC_RETRY_HTTP, 429, "GET",
     false, false, 2, 2, 9001, 1500, 3, OSC_RETRY_FAIL,
     OSC_RETRY_AFTER_TOO_LONG, 0, 9001,
     "VM list: HTTP 429 after 2 attempts; Retry-After of 10 s exceeds the "
     "remaining retry budget of 8 s (request id rid-7)"},
    {"429 out of time, no Retry-After: no pause", OSC_RETRY_HTTP, 429, "GET",
     false, false, 4, 4, -1, 10000, 3, OSC_RETRY_FAIL, OSC_RETRY_BUDGET_SPENT,
     0, -1, "VM list: HTTP 429 after 4 attempts (request id rid-7)"},
    {"refused connect of a POST: nothing was sent", OSC_RETRY_TRANSIENT, 0,
     "POST", false, true, 1, 0, -1, 5, 42, OSC_RETRY_AGAIN, OSC_RETRY_RETRYABLE,
     42, -1, NULL},
    {"reset of a POST after sending", OSC_RETRY_TRANSIENT, 0, "POST", false,
     false, 1, 0, -1, 5, 42, OSC_RETRY_FAIL, OSC_RETRY_UNSAFE, 0, -1,
     "VM list: " REFUSED " (POST is not retried)"},
    {"transient failures out of attempts", OSC_RETRY_TRANSIENT, 0, "GET", false,
     false, 3, 0, -1, 2500, 1, OSC_RETRY_FAIL, OSC_RETRY_ATTEMPTS_SPENT, 0, -1,
     "VM list: " REFUSED " (after 3 attempts over 2.5s)"},
    {"... over whole seconds past 10 s", OSC_RETRY_TRANSIENT, 0, "GET", false,
     false, 2, 0, -1, 15400, 1, OSC_RETRY_FAIL, OSC_RETRY_BUDGET_SPENT, 0, -1,
     "VM list: " REFUSED " (after 2 attempts over 15s)"},
    {"one transient failure out of time", OSC_RETRY_TRANSIENT, 0, "GET", false,
     false, 1, 0, -1, 10000, 1, OSC_RETRY_FAIL, OSC_RETRY_BUDGET_SPENT, 0, -1,
     "VM list: " REFUSED},
    {"a permanent transport failure", OSC_RETRY_TRANSPORT, 0, "GET", false,
     false, 1, 0, -1, 5, 1, OSC_RETRY_FAIL, OSC_RETRY_FATAL, 0, -1,
     "VM list: " REFUSED},
    {"a body over the limit", OSC_RETRY_BODY_TOO_LARGE, 0, "GET", false, false,
     1, 0, -1, 5, 1, OSC_RETRY_FAIL, OSC_RETRY_FATAL, 0, -1,
     "VM list: response body exceeds the limit of 1024 bytes "
     "(request id rid-7)"},
    {"out of memory", OSC_RETRY_NOMEM, 0, "GET", false, false, 1, 0, -1, 5, 1,
     OSC_RETRY_FAIL, OSC_RETRY_FATAL, 0, -1, "VM list: out of memory"},
};

static void test_http__retry_decision(void **state) {
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(retry_cases) / sizeof(retry_cases[0]); i++) {
    const struct retry_case *c = &retry_cases[i];
    struct osc_retry_input in;
    struct osc_retry_decision d;
    const char *m = c->method;

    memset(&in, 0, sizeof(in));
    in.ending = c->ending;
    in.status = c->status;
    in.transport = REFUSED;
    in.nothing_sent = c->nothing_sent;
    in.method = m;
    in.idempotent = strcmp(m, "GET") == 0 || strcmp(m, "PUT") == 0 ||
                    strcmp(m, "DELETE") == 0;
    in.retry_unsafe = c->retry_unsafe;
    in.attempts = c->attempts;
    in.throttled = c->throttled;
    in.retry_after_ms = c->retry_after_ms;
    in.elapsed_ms = c->elapsed_ms;
    in.jitter = c->jitter;
    in.what = "VM list";
    in.request_id = "rid-7";
    in.max_body = 1024;
    in.limits.max_attempts = 3;
    in.limits.max_retry_ms = 10000;
    in.limits.base_backoff_ms = 500;
    in.limits.max_backoff_ms = 4000;
    osc_retry_decide(&in, &d);
    print_message("%s: action %d reason %d wait %lld pause %lld %s\n", c->name,
                  (int)d.action, (int)d.reason, (long long)d.wait_ms,
                  (long long)d.pause_host_ms, d.err.msg);
    assert_int_equal(d.action, c->action);
    assert_int_equal(d.reason, c->reason);
    assert_int_equal(d.pause_host_ms, c->pause_host_ms);
    if (c->action == OSC_RETRY_AGAIN)
      assert_int_equal(d.wait_ms, c->wait_ms);
    if (c->msg != NULL) {
      assert_int_equal(d.err.code, c->ending == OSC_RETRY_NOMEM
                                       ? OSC_E_NOMEM
                                       : OSC_E_RUNTIME);
      assert_string_equal(d.err.msg, c->msg);
    } else {
      assert_int_equal(d.err.code, OSC_OK);
    }
  }
}

/* The backoff's upper bound doubles per attempt up to max_backoff: the
 * largest draw shows it. */
static void test_http__retry_backoff_caps(void **state) {
  static const int64_t want[] = {500, 1000, 2000, 4000, 4000, 4000};
  struct osc_retry_input in;
  struct osc_retry_decision d;
  size_t i;

  (void)state;
  memset(&in, 0, sizeof(in));
  in.ending = OSC_RETRY_HTTP;
  in.status = 503;
  in.method = "GET";
  in.idempotent = true;
  in.retry_after_ms = -1;
  in.what = "x";
  in.request_id = "";
  in.limits.max_attempts = 100;
  in.limits.max_retry_ms = 1000000;
  in.limits.base_backoff_ms = 500;
  in.limits.max_backoff_ms = 4000;
  for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
    in.attempts = (int)i + 1;
    in.jitter = (uint64_t)want[i]; /* draw % (cap + 1) == cap */
    osc_retry_decide(&in, &d);
    assert_int_equal(d.action, OSC_RETRY_AGAIN);
    assert_int_equal(d.wait_ms, want[i]);
    in.jitter = (uint64_t)want[i] + 1; /* wraps to 0 */
    osc_retry_decide(&in, &d);
    assert_int_equal(d.wait_ms, 0);
  }
  /* No backoff configured: retry at once. */
  in.limits.base_backoff_ms = 0;
  in.jitter = 12345;
  osc_retry_decide(&in, &d);
  assert_int_equal(d.wait_ms, 0);
}

/* Retry-After as seconds or an HTTP-date, against a given clock. */
static void test_http__parse_retry_after(void **state) {
  static const int64_t date = INT64_C(1445412480000); /* the date below */
  static const struct {
    const char *value;
    int64_t now_ms;
    int64_t want;
  } cases[] = {
      {"0", 0, 0},
      {"2", 0, 2000},
      {"120", date, 120000},
      {"", 0, -1},
      {"soon", 0, -1},
      {"Wed, 21 Oct 2015 07:28:00 GMT", date - 5500, 5500},
      {"Wed, 21 Oct 2015 07:28:00 GMT", date, 0},
      {"Wed, 21 Oct 2015 07:28:00 GMT", date + 60000, 0}, /* past */
      {"Wednesday, 21-Oct-15 07:28:00 GMT", date - 1000, 1000},
      {"Wed Oct 21 07:28:00 2015", date - 1000, 1000},
  };
  struct osc_http_options o = OSC_HTTP_OPTIONS_INIT;
  struct osc_http *h = fast_client(&o); /* loads libcurl's date parser */
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    int64_t got = osc_http_parse_retry_after(cases[i].value, cases[i].now_ms);

    print_message("\"%s\" -> %lld\n", cases[i].value, (long long)got);
    assert_int_equal(got, cases[i].want);
  }
  osc_http_free(h);
}

static void check_fix(const char *in, const char *want) {
  struct osc_error e = OSC_ERROR_INIT;
  char *out = NULL;
  char *again = NULL;

  assert_int_equal(osc_http_fix_url(in, &out, &e), 0);
  assert_string_equal(out, want);
  assert_int_equal(osc_http_fix_url(out, &again, &e), 0);
  assert_string_equal(again, out); /* idempotent */
  free(out);
  free(again);
}

static void test_http__fix_url_and_escape(void **state) {
  struct osc_error e = OSC_ERROR_INIT;
  char *out = NULL;

  (void)state;
  /* Azure's nextLink with the raw $filter (docs/api-notes.md §1). */
  check_fix("https://management.azure.com/subscriptions/x/providers/"
            "Microsoft.Compute/virtualMachines?api-version=2024-11-01"
            "&$skiptoken=abc%2Fdef"
            "&$filter='virtualMachineScaleSet/id' eq '/subscriptions/x'",
            "https://management.azure.com/subscriptions/x/providers/"
            "Microsoft.Compute/virtualMachines?api-version=2024-11-01"
            "&$skiptoken=abc%2Fdef"
            "&$filter=%27virtualMachineScaleSet/id%27%20eq%20%27/"
            "subscriptions/x%27");
  check_fix("/api/Spaces-1/machines?skip=30&take=30&roles=a,b",
            "/api/Spaces-1/machines?skip=30&take=30&roles=a,b");
  check_fix("http://[::1]:8080/a b?x=\"y\"&p=1+2;z=@:$",
            "http://[::1]:8080/a%20b?x=%22y%22&p=1+2;z=@:$");
  check_fix("https://h/p?q=100%&r=%zz&s=%4", "https://h/p?q=100%25&r=%25zz"
                                             "&s=%254");
  check_fix("https://h/caf\xc3\xa9\t<>{}|\\^`[]",
            "https://h/caf%C3%A9%09%3C%3E%7B%7D%7C%5C%5E%60%5B%5D");

  assert_int_equal(osc_http_escape("a b&c=d/\xc3\xa9~-._'", &out, &e), 0);
  assert_string_equal(out, "a%20b%26c%3Dd%2F%C3%A9~-._%27");
  free(out);
  assert_int_equal(osc_http_escape("", &out, &e), 0);
  assert_string_equal(out, "");
  free(out);
}

static void test_http__submit_rejects_bad_requests(void **state) {
  struct osc_http_options o = OSC_HTTP_OPTIONS_INIT;
  struct osc_http *h = fast_client(&o);
  struct osc_http_request req = {0};
  struct osc_http_header bad[] = {{"X-A", "v\r\nX-Injected: 1", false}};
  struct osc_error e = OSC_ERROR_INIT;
  struct counter c = {0, 0};

  (void)state;
  req.method = "GET";
  req.what = "list";
  req.url = "ftp://example.com/x";
  assert_true(osc_http_submit(h, &req, count_done, &c, &e) < 0);
  assert_string_equal(e.msg,
                      "list: invalid URL (only http and https are allowed)");
  req.url = "not a url";
  assert_true(osc_http_submit(h, &req, count_done, &c, &e) < 0);
  assert_non_null(strstr(e.msg, "list: invalid URL"));
  req.url = "http://127.0.0.1/x";
  req.headers = bad;
  req.n_headers = 1;
  assert_true(osc_http_submit(h, &req, count_done, &c, &e) < 0);
  assert_string_equal(e.msg, "list: invalid request header #1");
  assert_int_equal(osc_http_run(h, &e), 0); /* nothing queued */
  assert_int_equal(c.ok + c.failed, 0);
  osc_http_free(h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(name)                                                                \
  cmocka_unit_test_setup_teardown(name, server_setup, server_teardown)
      T(test_http__get_200),
      T(test_http__retry_503_then_200),
      T(test_http__retry_after_seconds),
      T(test_http__retry_after_http_date),
      T(test_http__404_not_retried),
      T(test_http__post_not_retried_unless_unsafe_ok),
      T(test_http__post_retried_on_connect_refused),
      T(test_http__reset_mid_body_retried),
      T(test_http__timeout_retried),
      T(test_http__body_over_max),
      T(test_http__max_attempts_exhausted),
      T(test_http__max_retry_budget),
      T(test_http__concurrency_per_host),
      T(test_http__token_bucket),
      T(test_http__bucket_times),
      T(test_http__throttle_pauses_host),
      T(test_http__throttled_host_fails_fast),
      T(test_http__paging_callbacks_in_order),
      T(test_http__verbose_redacts_secrets),
      T(test_http__fix_url_and_escape),
      T(test_http__injected_transport),
      T(test_http__retry_decision),
      T(test_http__retry_backoff_caps),
      T(test_http__parse_retry_after),
      T(test_http__submit_rejects_bad_requests),
#undef T
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
