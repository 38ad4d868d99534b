/* Adaptive pacing of one host (`octopus.requests_per_minute: auto`): a pure
 * controller, fed with what the server answers and the time, that says
 * whether the host is paced and at what rate. The HTTP layer
 * (core/osc_http.c) turns the rate into a token bucket; nothing here
 * sleeps or reads a clock.
 *
 * The controller is AIMD with a measured ceiling:
 *
 *  - Off until the server answers 429: servers without a limit (Octopus
 *    before 2026.3, or with the policy disabled) are never slowed down;
 *    only http.concurrency bounds the requests in flight.
 *  - The first 429 switches pacing on for the rest of the run, at the rate
 *    the server advertises (Octopus-RateLimit-Policy `rpm=`) when it does,
 *    else at the configured start (200 a minute, Octopus 2026.3's default
 *    policy). The bucket starts empty: so is the server's.
 *  - A 429 is one "event" per reaction: answers to requests sent before the
 *    last event were already on their way and count for nothing.
 *  - Multiplicative decrease: at a later event the rate drops to 95 % of
 *    the accepted rate measured since the previous event (both events are
 *    moments when the server's bucket was empty, so what it accepted in
 *    between is exactly what it refilled: its sustained rate), within
 *    [0.5, 0.95] x the current rate; with too few answers to measure, to
 *    0.7 x. The measurement becomes the ceiling.
 *  - Additive increase: after 30 s without an event while requests queued
 *    for tokens (the pace, not the work, was the limit), the rate rises:
 *    by 25 % while no ceiling is known (an HA cluster of three nodes
 *    accepts three times its policy: the rate finds it in a few steps),
 *    else by 10 % of the ceiling, up to 95 % of it. It never probes above a
 *    measured ceiling: a server's policy does not change within a run, and
 *    each probe costs a 429.
 *  - Retry-After: the whole host waits that long (core/osc_http.c). A value
 *    of n >= 2 s also caps the rate at one request per n - 1 s: a bucket
 *    that needs that long for its next token refills no faster (one second
 *    is allowed for the rounding up to whole seconds). */
#ifndef OSC_PACE_H
#define OSC_PACE_H

#include <stdbool.h>
#include <stdint.h>

#define OSC_PACE_DEFAULT_PER_MINUTE 200.0

struct osc_pace {
  double start_per_minute; /* the rate the first 429 switches on */
  bool on;
  double per_minute; /* current rate while on */
  double ceiling;    /* measured sustained rate; 0 = not known */
  int64_t event_ms;  /* the last event (429 reacted to) */
  int64_t raised_ms; /* the last change of rate */
  uint64_t accepted; /* answers other than 429 since the last event */
  unsigned events;
};

enum osc_pace_change {
  OSC_PACE_SAME = 0,
  OSC_PACE_STARTED, /* pacing switched on */
  OSC_PACE_LOWERED,
  OSC_PACE_RAISED,
};

/* start_per_minute <= 0: OSC_PACE_DEFAULT_PER_MINUTE. */
void osc_pace_init(struct osc_pace *p, double start_per_minute);

/* A 429 received at now_ms for an attempt sent at sent_ms;
 * retry_after_ms < 0 when absent; advertised_per_minute: the server's
 * Octopus-RateLimit-Policy rpm, 0 when absent. */
enum osc_pace_change osc_pace_throttled(struct osc_pace *p, int64_t now_ms,
                                        int64_t sent_ms, int64_t retry_after_ms,
                                        double advertised_per_minute);

/* Any other answer at now_ms for an attempt sent at sent_ms; queued: the
 * request had waited for a token of this host's bucket. */
enum osc_pace_change osc_pace_accepted(struct osc_pace *p, int64_t now_ms,
                                       int64_t sent_ms, bool queued);

/* The bucket size for a rate: two seconds of it, at least one token. */
double osc_pace_burst(double per_minute);

/* rpm= of an Octopus-RateLimit-Policy value ("l=200;rpm=600"); 0 when
 * absent or malformed. */
double osc_pace_parse_policy(const char *value);

/* The token bucket that paces a host (a fixed rate limit, or the rate
 * above): every attempt takes a token. Pure too: times are passed in. */
struct osc_pace_bucket {
  double per_ms; /* refill per millisecond */
  double burst;  /* capacity */
  double tokens;
  int64_t refilled_at;
};

/* Adds what refilled between refilled_at and now_ms, up to burst. */
void osc_pace_bucket_refill(struct osc_pace_bucket *b, int64_t now_ms);

/* Takes a token at now_ms when there is one (true); else false with
 * *ready_ms the time the next one will be there. */
bool osc_pace_bucket_take(struct osc_pace_bucket *b, int64_t now_ms,
                          int64_t *ready_ms);

#endif
