/* The pacing controller (see core/osc_pace.h for the rules). */
#include "core/osc_pace.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PACE_PROBE_MS 30000     /* quiet time before a rise */
#define PACE_MIN_SAMPLES 10     /* answers needed to measure a rate */
#define PACE_MIN_WINDOW_MS 1000 /* and time */
#define PACE_BELOW_CEILING 0.95 /* the margin kept under a measured rate */
#define PACE_DECREASE 0.7       /* without a measurement */
#define PACE_FLOOR 0.5          /* the deepest cut at one event */
#define PACE_SLOW_START 1.25    /* rise while no ceiling is known */
#define PACE_STEP 0.10          /* rise below a ceiling, of the ceiling */
#define PACE_MIN_PER_MINUTE 1.0 /* never slower */
#define PACE_BURST_SECONDS 2.0

void osc_pace_init(struct osc_pace *p, double start_per_minute) {
  memset(p, 0, sizeof(*p));
  p->start_per_minute =
      start_per_minute > 0 ? start_per_minute : OSC_PACE_DEFAULT_PER_MINUTE;
}

static double at_least_min(double v) {
  return v < PACE_MIN_PER_MINUTE ? PACE_MIN_PER_MINUTE : v;
}

/* One request per (n - 1) s for a Retry-After of n s (n >= 2). */
static double retry_after_cap(int64_t retry_after_ms) {
  if (retry_after_ms < 2000)
    return 0;
  return 60000.0 / (double)(retry_after_ms - 1000);
}

static void start(struct osc_pace *p, double cap, double advertised) {
  p->on = true;
  p->per_minute = advertised > 0 ? advertised : p->start_per_minute;
  if (cap > 0 && cap < p->per_minute)
    p->per_minute = cap;
  p->per_minute = at_least_min(p->per_minute);
}

/* The server's sustained rate since the last event, 0 when unknown. */
static double measured(const struct osc_pace *p, int64_t now_ms) {
  int64_t window = now_ms - p->event_ms;

  if (p->accepted < PACE_MIN_SAMPLES || window < PACE_MIN_WINDOW_MS)
    return 0;
  return (double)p->accepted * 60000.0 / (double)window;
}

static void lower(struct osc_pace *p, int64_t now_ms, double cap) {
  double rate = p->per_minute;
  double m = measured(p, now_ms);
  double next = rate * PACE_DECREASE;

  if (m > 0) {
    next = m * PACE_BELOW_CEILING;
    if (next > rate * PACE_BELOW_CEILING)
      next = rate * PACE_BELOW_CEILING;
    if (next < rate * PACE_FLOOR)
      next = rate * PACE_FLOOR;
    p->ceiling = m;
  } else if (p->ceiling <= 0 || rate < p->ceiling) {
    p->ceiling = rate; /* throttled at this rate: it is too high */
  }
  if (cap > 0 && cap < next)
    next = cap;
  p->per_minute = at_least_min(next);
}

enum osc_pace_change osc_pace_throttled(struct osc_pace *p, int64_t now_ms,
                                        int64_t sent_ms, int64_t retry_after_ms,
                                        double advertised_per_minute) {
  double cap = retry_after_cap(retry_after_ms);
  enum osc_pace_change change;

  if (p->on && sent_ms <= p->event_ms)
    return OSC_PACE_SAME; /* in flight when we last reacted */
  if (!p->on) {
    start(p, cap, advertised_per_minute);
    change = OSC_PACE_STARTED;
  } else {
    lower(p, now_ms, cap);
    change = OSC_PACE_LOWERED;
  }
  p->events++;
  p->event_ms = now_ms;
  p->raised_ms = now_ms;
  p->accepted = 0;
  return change;
}

enum osc_pace_change osc_pace_accepted(struct osc_pace *p, int64_t now_ms,
                                       int64_t sent_ms, bool queued) {
  double next;

  if (!p->on)
    return OSC_PACE_SAME;
  /* Decided by the server before its bucket ran dry: not in the window. */
  if (sent_ms > p->event_ms)
    p->accepted++;
  if (!queued || now_ms - p->raised_ms < PACE_PROBE_MS)
    return OSC_PACE_SAME;
  if (p->ceiling <= 0) {
    next = p->per_minute * PACE_SLOW_START;
  } else {
    double top = p->ceiling * PACE_BELOW_CEILING;

    if (p->per_minute >= top)
      return OSC_PACE_SAME;
    next = p->per_minute + p->ceiling * PACE_STEP;
    if (next > top)
      next = top;
  }
  p->per_minute = next;
  p->raised_ms = now_ms;
  return OSC_PACE_RAISED;
}

double osc_pace_burst(double per_minute) {
  double b = per_minute * PACE_BURST_SECONDS / 60.0;

  return b < 1.0 ? 1.0 : b;
}

double osc_pace_parse_policy(const char *value) {
  const char *p = value;

  while (p != NULL && *p != '\0') {
    while (*p == ' ' || *p == ';' || *p == ',')
      p++;
    if (strncasecmp(p, "rpm=", 4) == 0) {
      char *end = NULL;
      double v = strtod(p + 4, &end);

      if (end == p + 4 || !(v > 0) || v > 1e9 ||
          (*end != '\0' && *end != ';' && *end != ',' && *end != ' '))
        return 0;
      return v;
    }
    p = strpbrk(p, ";,");
  }
  return 0;
}

void osc_pace_bucket_refill(struct osc_pace_bucket *b, int64_t now_ms) {
  if (now_ms > b->refilled_at) {
    b->tokens += (double)(now_ms - b->refilled_at) * b->per_ms;
    if (b->tokens > b->burst)
      b->tokens = b->burst;
    b->refilled_at = now_ms;
  }
}

bool osc_pace_bucket_take(struct osc_pace_bucket *b, int64_t now_ms,
                          int64_t *ready_ms) {
  osc_pace_bucket_refill(b, now_ms);
  /* The epsilon absorbs rounding, so a wake-up at the computed time
   * starts the request instead of sleeping one more millisecond. */
  if (b->tokens < 1.0 - 1e-9) {
    *ready_ms = now_ms + (int64_t)ceil((1.0 - b->tokens) / b->per_ms);
    return false;
  }
  b->tokens -= 1.0;
  *ready_ms = now_ms;
  return true;
}
