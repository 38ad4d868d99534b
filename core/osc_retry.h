/* The retry decision of the HTTP layer (core/osc_http.c) as a pure
 * function: given how an attempt ended, how many were made, the time spent
 * and the limits, it says whether the request is done, is tried again
 * after a wait, or fails, and with which one-line message. No clock, no
 * sleeping and no randomness of its own: the caller passes the elapsed time
 * and a random draw for the jitter, so every rule can be tested from a
 * table.
 *
 * The rules:
 *  - A response body over the limit, and running out of memory, fail at
 *    once. So does a transport failure that is not transient (a TLS
 *    verification error, a malformed URL, ...).
 *  - 429, 500, 502, 503 and 504, and transient transport failures (connect
 *    refused, reset, timeout, empty reply, cut body), are retried; any other
 *    status is the answer, for the caller to interpret.
 *  - Only a request that is safe to repeat is retried: GET, HEAD, PUT,
 *    DELETE, OPTIONS, one the caller marked retry_unsafe, one the server
 *    answered 429 (it did not process it), and one of which no byte was
 *    sent (the connection failed).
 *  - max_attempts bounds the attempts, not counting 429s; max_retry_ms
 *    bounds the time from the first attempt's start, 429s included.
 *  - The wait is exponential backoff with full jitter (a draw in
 *    [0, min(base * 2^(attempts-1), max_backoff)]), at least the server's
 *    Retry-After, at most what is left of the budget. A Retry-After beyond
 *    the budget fails at once, saying so: waiting would end in the same
 *    failure later.
 *  - After a 429 the whole host waits: for the wait of the retry, or for
 *    the Retry-After when the request gives up. */
#ifndef OSC_RETRY_H
#define OSC_RETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/osc_error.h"

/* How an attempt ended. */
enum osc_retry_ending {
  OSC_RETRY_HTTP,           /* a complete HTTP response: status */
  OSC_RETRY_TRANSIENT,      /* a transport failure worth retrying */
  OSC_RETRY_TRANSPORT,      /* any other transport failure */
  OSC_RETRY_BODY_TOO_LARGE, /* the body exceeded max_body */
  OSC_RETRY_NOMEM,          /* out of memory while receiving */
};

struct osc_retry_limits {
  int max_attempts;        /* >= 1 */
  int64_t max_retry_ms;    /* budget from the first attempt's start */
  int64_t base_backoff_ms; /* the first backoff's upper bound */
  int64_t max_backoff_ms;  /* cap of one backoff */
};

struct osc_retry_input {
  enum osc_retry_ending ending;
  long status;            /* OSC_RETRY_HTTP */
  const char *transport;  /* the failure's text, for the message */
  bool nothing_sent;      /* transport failures: no byte went out */
  const char *method;     /* "GET", ... */
  bool idempotent;        /* GET, HEAD, PUT, DELETE, OPTIONS */
  bool retry_unsafe;      /* the caller allows repeating it anyway */
  int attempts;           /* made so far, this one included (>= 1) */
  int throttled;          /* of those, answered 429 (this one included) */
  int64_t retry_after_ms; /* this answer's Retry-After; -1: none */
  int64_t elapsed_ms;     /* from the first attempt's start to now */
  uint64_t jitter;        /* a uniform random draw */
  const char *what;       /* "Azure VM list page 2" */
  const char *request_id; /* the answer's request id, "" when none */
  size_t max_body;        /* OSC_RETRY_BODY_TOO_LARGE: the limit */
  struct osc_retry_limits limits;
};

enum osc_retry_action {
  OSC_RETRY_DONE,  /* the answer stands (any non-retryable status) */
  OSC_RETRY_AGAIN, /* another attempt after wait_ms */
  OSC_RETRY_FAIL,  /* give up: err says why */
};

/* Why, for the log and for tests. */
enum osc_retry_reason {
  OSC_RETRY_ANSWERED,       /* DONE */
  OSC_RETRY_RETRYABLE,      /* AGAIN */
  OSC_RETRY_FATAL,          /* not retryable: body, memory, transport */
  OSC_RETRY_UNSAFE,         /* retryable, but not safe to repeat */
  OSC_RETRY_ATTEMPTS_SPENT, /* max_attempts reached */
  OSC_RETRY_BUDGET_SPENT,   /* max_retry_ms reached */
  OSC_RETRY_AFTER_TOO_LONG, /* Retry-After beyond the remaining budget */
};

struct osc_retry_decision {
  enum osc_retry_action action;
  enum osc_retry_reason reason;
  int64_t wait_ms;       /* AGAIN: the wait before the next attempt */
  int64_t pause_host_ms; /* >= 0: no attempt to this host for that long */
  struct osc_error err;  /* FAIL: the request's one-line error */
};

void osc_retry_decide(const struct osc_retry_input *in,
                      struct osc_retry_decision *out);

/* Whether an HTTP status is worth another attempt. */
bool osc_retry_status_retryable(long status);

#endif
