/* The retry decision (see core/osc_retry.h for the rules). */
#include "core/osc_retry.h"

#include <stdio.h>
#include <string.h>

bool osc_retry_status_retryable(long status) {
  return status == 429 || status == 500 || status == 502 || status == 503 ||
         status == 504;
}

/* Full jitter: a draw in [0, base * 2^(attempts-1)], capped. */
static int64_t backoff_ms(const struct osc_retry_limits *l, int attempts,
                          uint64_t jitter) {
  int64_t cap = l->base_backoff_ms;
  int i;

  for (i = 1; i < attempts && cap < l->max_backoff_ms; i++)
    cap *= 2;
  if (cap > l->max_backoff_ms)
    cap = l->max_backoff_ms;
  if (cap <= 0)
    return 0;
  return (int64_t)(jitter % (uint64_t)(cap + 1));
}

static void fmt_seconds(int64_t ms, char *out, size_t cap) {
  if (ms < 10000)
    snprintf(out, cap, "%.1fs", (double)ms / 1000.0);
  else
    snprintf(out, cap, "%llds", (long long)(ms / 1000));
}

static void give_up(struct osc_retry_decision *d, enum osc_retry_reason why) {
  d->action = OSC_RETRY_FAIL;
  d->reason = why;
}

/* The request failed at once, whatever the count (body, memory, a
 * permanent transport error); false when the ending is retryable. */
static bool fatal_ending(const struct osc_retry_input *in, const char *rid,
                         struct osc_retry_decision *d) {
  switch (in->ending) {
  case OSC_RETRY_BODY_TOO_LARGE:
    osc_error_set(&d->err, OSC_E_RUNTIME,
                  "%s: response body exceeds the limit of %zu bytes%s",
                  in->what, in->max_body, rid);
    break;
  case OSC_RETRY_NOMEM:
    osc_error_set(&d->err, OSC_E_NOMEM, "%s: out of memory", in->what);
    break;
  case OSC_RETRY_TRANSPORT:
    osc_error_set(&d->err, OSC_E_RUNTIME, "%s: %s", in->what, in->transport);
    break;
  default:
    return false;
  }
  give_up(d, OSC_RETRY_FATAL);
  return true;
}

static bool safe_to_repeat(const struct osc_retry_input *in) {
  if (in->idempotent || in->retry_unsafe)
    return true;
  /* A 429 was not processed (Octopus and ARM both say so), and a failed
   * connect sent nothing: repeating cannot do anything twice. */
  if (in->ending == OSC_RETRY_HTTP)
    return in->status == 429;
  return in->nothing_sent;
}

static void not_safe(const struct osc_retry_input *in, const char *rid,
                     struct osc_retry_decision *d) {
  if (in->ending == OSC_RETRY_HTTP)
    osc_error_set(&d->err, OSC_E_RUNTIME,
                  "%s: HTTP %ld after 1 attempt (%s is not retried)%s",
                  in->what, in->status, in->method, rid);
  else
    osc_error_set(&d->err, OSC_E_RUNTIME, "%s: %s (%s is not retried)",
                  in->what, in->transport, in->method);
  give_up(d, OSC_RETRY_UNSAFE);
}

static void exhausted(const struct osc_retry_input *in, const char *rid,
                      enum osc_retry_reason why, struct osc_retry_decision *d) {
  const char *plural = in->attempts == 1 ? "" : "s";
  char over[32];

  if (in->ending == OSC_RETRY_HTTP) {
    osc_error_set(&d->err, OSC_E_RUNTIME, "%s: HTTP %ld after %d attempt%s%s",
                  in->what, in->status, in->attempts, plural, rid);
  } else if (in->attempts > 1) {
    fmt_seconds(in->elapsed_ms, over, sizeof(over));
    osc_error_set(&d->err, OSC_E_RUNTIME, "%s: %s (after %d attempts over %s)",
                  in->what, in->transport, in->attempts, over);
  } else {
    osc_error_set(&d->err, OSC_E_RUNTIME, "%s: %s", in->what, in->transport);
  }
  give_up(d, why);
}

static void retry_after_too_long(const struct osc_retry_input *in,
                                 const char *rid, int64_t remaining,
                                 struct osc_retry_decision *d) {
  int64_t ra = in->retry_after_ms;

  osc_error_set(&d->err, OSC_E_RUNTIME,
                "%s: HTTP %ld after %d attempt%s; Retry-After of %lld s "
                "exceeds the remaining retry budget of %lld s%s",
                in->what, in->status, in->attempts,
                in->attempts == 1 ? "" : "s", (long long)((ra + 999) / 1000),
                (long long)(remaining > 0 ? remaining / 1000 : 0), rid);
  give_up(d, OSC_RETRY_AFTER_TOO_LONG);
}

/* A retryable ending that is safe to repeat: again, or out of attempts or
 * time. */
static void retry_or_stop(const struct osc_retry_input *in, const char *rid,
                          struct osc_retry_decision *d) {
  const struct osc_retry_limits *l = &in->limits;
  int64_t ra = in->retry_after_ms;
  int64_t remaining = l->max_retry_ms - in->elapsed_ms;
  int64_t wait;

  /* A 429 counts as nothing done: only the retry budget bounds those. */
  if (in->attempts - in->throttled >= l->max_attempts) {
    exhausted(in, rid, OSC_RETRY_ATTEMPTS_SPENT, d);
    return;
  }
  if (ra >= 0 && ra > remaining) {
    retry_after_too_long(in, rid, remaining, d);
    return;
  }
  if (remaining <= 0) {
    exhausted(in, rid, OSC_RETRY_BUDGET_SPENT, d);
    return;
  }
  wait = backoff_ms(l, in->attempts, in->jitter);
  if (ra > wait)
    wait = ra; /* the server's wish is a minimum */
  if (wait > remaining)
    wait = remaining;
  d->action = OSC_RETRY_AGAIN;
  d->reason = OSC_RETRY_RETRYABLE;
  d->wait_ms = wait;
}

void osc_retry_decide(const struct osc_retry_input *in,
                      struct osc_retry_decision *out) {
  bool is_429 = in->ending == OSC_RETRY_HTTP && in->status == 429;
  char rid[160] = "";

  memset(out, 0, sizeof(*out));
  out->pause_host_ms = -1;
  if (in->request_id != NULL && in->request_id[0] != '\0')
    snprintf(rid, sizeof(rid), " (request id %s)", in->request_id);
  if (fatal_ending(in, rid, out))
    return;
  if (in->ending == OSC_RETRY_HTTP && !osc_retry_status_retryable(in->status)) {
    out->action = OSC_RETRY_DONE;
    out->reason = OSC_RETRY_ANSWERED;
    return;
  }
  if (!safe_to_repeat(in))
    not_safe(in, rid, out);
  else
    retry_or_stop(in, rid, out);
  /* The server asked the whole host to wait, whatever this request does. */
  if (is_429 && out->action == OSC_RETRY_AGAIN)
    out->pause_host_ms = out->wait_ms;
  else if (is_429 && in->retry_after_ms >= 0)
    out->pause_host_ms = in->retry_after_ms;
}
