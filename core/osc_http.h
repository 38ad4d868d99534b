/* HTTP over the libcurl multi interface: many requests in flight, per-host
 * concurrency limits and token buckets, retries with exponential backoff and
 * full jitter on 429/500/502/503/504 and connect/reset errors, Retry-After
 * (seconds or HTTP-date), bounded bodies, redacted verbose logging. No JSON,
 * no Azure, no Octopus here.
 *
 * Two ways to use it:
 *  - osc_http_perform(): one request, blocking, with retries;
 *  - osc_http_submit() + osc_http_run(): many requests; completion callbacks
 *    run on the calling thread inside osc_http_run() and may submit more
 *    (the next page), so lists of several scale sets proceed concurrently. */
#ifndef OSC_HTTP_H
#define OSC_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/osc_buf.h"
#include "core/osc_error.h"

struct osc_http;

struct osc_http_options {
  int64_t connect_timeout_ms; /* default 10 s */
  int64_t timeout_ms;         /* per attempt; default 60 s */
  int max_attempts;           /* default 6 (1 = no retry) */
  int64_t max_retry_ms;       /* total budget across attempts; default 2 min */
  int64_t max_backoff_ms;     /* cap of one backoff sleep; default 30 s */
  int64_t base_backoff_ms;    /* first backoff; default 500 ms */
  int concurrency_per_host;   /* default 8 */
  size_t max_body;            /* default 64 MiB */
  const char *ca_file;        /* NULL: system store; TLS always verified */
  const char *user_agent;     /* default "octoscale/VERSION" */
  uint64_t jitter_seed;       /* 0: seeded from time and pid */
};

#define OSC_HTTP_OPTIONS_INIT                                                  \
  { 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL, 0 }

struct osc_http_header {
  const char *name;
  const char *value;
  bool secret; /* redacted in logs (Authorization, X-Octopus-ApiKey) */
};

struct osc_http_request {
  const char *method; /* GET, PUT, POST, PATCH, DELETE */
  const char *url;
  const struct osc_http_header *headers;
  size_t n_headers;
  const char *body; /* may be NULL */
  size_t body_len;
  bool body_secret; /* e.g. a token request with a client secret */
  /* GET, PUT and DELETE are retried; POST/PATCH only when this is set
   * (the caller knows the request is safe to repeat) or the answer was
   * 429, which the server did not process. A 429 does not count towards
   * max_attempts: max_retry_ms bounds it. */
  bool retry_unsafe;
  const char *what; /* for messages: "Azure VM list page 2" */
  size_t max_body;  /* 0: options.max_body */
};

#define OSC_HTTP_HEADERS_MAX 8192

/* ARM long-running-operation URLs can exceed 4 KB (docs/api-notes.md §2). */
#define OSC_HTTP_LOCATION_MAX 8192

struct osc_http_response {
  long status;          /* 0 when no HTTP response was obtained */
  struct osc_buf body;  /* bounded by options.max_body */
  char request_id[128]; /* x-ms-request-id, else x-request-id / Request-Id */
  /* Azure-AsyncOperation when present, else Location (docs/api-notes.md §2);
   * "" when absent or longer than the buffer (then location_too_long). */
  char location[OSC_HTTP_LOCATION_MAX];
  bool location_too_long;
  int64_t retry_after_ms; /* Retry-After of the last response, -1: none */
  /* The last response's "x-ms-*" and "ETag" headers as "name: value\n"
   * lines (names lowercased), for Azure Storage's metadata, lease state and
   * error code; read them with osc_http_response_header. Bounded: lines
   * beyond the buffer are dropped (headers_truncated). */
  char headers[OSC_HTTP_HEADERS_MAX];
  bool headers_truncated;
  int attempts;
  int64_t elapsed_ms; /* from the first attempt's start to completion */
};

/* Completion: err is set when no usable response was obtained (transport
 * failure, body over the limit, or a retryable status that persisted after
 * the attempts or budget, or was not retried because the method is not
 * idempotent: then resp->status and resp->body hold the last response). The
 * callback owns nothing: resp is freed after it returns unless it calls
 * osc_http_response_move(). */
typedef void (*osc_http_done_fn)(void *ud, const struct osc_http_request *req,
                                 struct osc_http_response *resp,
                                 const struct osc_error *err);

int osc_http_new(const struct osc_http_options *options, struct osc_http **out,
                 struct osc_error *err);
void osc_http_free(struct osc_http *http);

/* A token bucket for a host ("127.0.0.1:8080" or "octopus.example.com"; a
 * default port, ":443" or ":80", is ignored): requests wait for a token
 * instead of provoking 429s. Every attempt takes a token; the bucket starts
 * full. One token of the burst is held back as headroom so that latency
 * jitter between our start and the server's count cannot make the server's
 * identical bucket run dry. per_minute <= 0 removes the limit. */
int osc_http_set_rate_limit(struct osc_http *http, const char *host,
                            double per_minute, double burst,
                            struct osc_error *err);

/* Adaptive pacing of a host (core/osc_pace.h has the controller): unpaced
 * until the host answers 429, then paced by a token bucket whose rate
 * starts at start_per_minute (<= 0: 200), or the rate the server
 * advertises, and follows the server's answers for the rest of the run.
 * Logs once, at info, when pacing switches on. Replaces a fixed limit. */
int osc_http_set_auto_rate(struct osc_http *http, const char *host,
                           double start_per_minute, struct osc_error *err);

/* Whether requests to host (as for osc_http_set_rate_limit) are paced now,
 * fixed or adaptively after a 429, with the rate in *per_minute (0 when
 * not paced); per_minute may be NULL. For progress reporting. */
bool osc_http_pacing(const struct osc_http *http, const char *host,
                     double *per_minute);

/* Verbose logging of requests and responses (method, URL, status, time) to
 * the debug log, with secret headers, bodies and token-like query values
 * redacted. */
void osc_http_set_verbose(struct osc_http *http, bool verbose);

/* An answer from an injected transport (below). */
struct osc_http_answer {
  long status;         /* 0: no connection (a refused connect: retried) */
  const char *headers; /* "Name: value" lines, '\n'-separated; NULL: none */
  const char *body;    /* NULL: empty */
  size_t body_len;     /* 0: strlen(body) */
};

/* Answers one attempt of req; what *answer points to must stay valid until
 * the function is called again. It must not call into the client. */
typedef void (*osc_http_answer_fn)(void *ud, const struct osc_http_request *req,
                                   struct osc_http_answer *answer);

/* Lets `answer` answer every later attempt instead of the network, at once
 * (tests of the layers above, without sockets); NULL restores the network.
 * Everything else is the same: the capture of headers (request id,
 * Retry-After, Location, x-ms-*) and body (bounded), retries, pacing,
 * messages and callbacks. */
void osc_http_set_transport(struct osc_http *http, osc_http_answer_fn answer,
                            void *ud);

/* Blocking, with retries. Returns 0 when a response was obtained (any
 * status: the caller interprets 4xx; a retryable status that persisted after
 * all attempts is an error, and so is one that was not retried because the
 * method is not idempotent). resp must be initialised: its body.max is the
 * limit unless req->max_body is set (0 in both: options.max_body), and any
 * previous content is freed. resp is filled, error or not: free it in both
 * cases. Other submitted requests progress meanwhile; may be called from a
 * completion callback (e.g. a token refresh before the next page). */
int osc_http_perform(struct osc_http *http, const struct osc_http_request *req,
                     struct osc_http_response *resp, struct osc_error *err);

/* Queues a request; the request and everything it points to are copied. */
int osc_http_submit(struct osc_http *http, const struct osc_http_request *req,
                    osc_http_done_fn done, void *ud, struct osc_error *err);

/* Runs until every submitted request (including those submitted from
 * callbacks) has completed. Fails only when libcurl's multi interface does;
 * per-request failures go to the callbacks. */
int osc_http_run(struct osc_http *http, struct osc_error *err);

/* max_body 0: the client's options.max_body when used with perform. */
void osc_http_response_init(struct osc_http_response *resp, size_t max_body);
/* Moves src into dst (dst must be initialised or freed). */
void osc_http_response_move(struct osc_http_response *dst,
                            struct osc_http_response *src);
void osc_http_response_free(struct osc_http_response *resp);
/* Copies the value of a captured header (see `headers`; name in any case)
 * into out; false when absent. */
bool osc_http_response_header(const struct osc_http_response *resp,
                              const char *name, char *out, size_t cap);

/* Retry-After (delta-seconds or an HTTP-date) as milliseconds from now_ms
 * (Unix time, ms); -1 when empty or malformed, 0 for a past date. Uses
 * libcurl's date parser: call it after osc_http_new. */
int64_t osc_http_parse_retry_after(const char *value, int64_t now_ms);

/* Counters for tests and benchmarks. */
struct osc_http_stats {
  uint64_t requests; /* attempts sent */
  uint64_t retries;
  uint64_t throttled;      /* 429 responses seen */
  uint64_t completed;      /* callbacks run without error */
  uint64_t failed;         /* callbacks run with an error */
  uint64_t rate_waits;     /* requests that had to wait for a token */
  uint64_t peak_in_flight; /* most attempts in flight at once, all hosts */
};
void osc_http_get_stats(const struct osc_http *http,
                        struct osc_http_stats *out);

/* Percent-encodes what a URL must not carry raw (spaces, quotes, ...) while
 * keeping an already encoded URL as it is (Azure's nextLink bug,
 * docs/api-notes.md §1). The result is malloc'ed. */
int osc_http_fix_url(const char *url, char **out, struct osc_error *err);

/* Percent-encodes a query component (RFC 3986 unreserved kept). malloc'ed. */
int osc_http_escape(const char *s, char **out, struct osc_error *err);
/* Appends osc_http_escape(s) to b. */
int osc_http_put_escaped(struct osc_buf *b, const char *s,
                         struct osc_error *err);
/* Appends base without its trailing slashes, then path (which starts with
 * '/'). */
int osc_http_put_url(struct osc_buf *b, const char *base, const char *path,
                     struct osc_error *err);

#endif
