#include "core/osc_progress.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "core/osc_log.h"
#include "core/osc_octout.h"
#include "core/osc_time.h"

/* A phase shorter than this shows nothing: most runs take well under it. */
#define QUIET_MS 1500
#define TERMINAL_EVERY_MS 250
#define OCTOPUS_EVERY_MS 5000
/* Plain lines: a log reader wants a sign of life, not a flood. */
#define LOG_EVERY_MS 10000
#define LINE_MAX 512

/* Rate and ETA come from the last ~5 s, not the whole phase: paced
 * requests run at a fraction of the burst's speed. */
#define SAMPLES 6

struct sample {
  int64_t ms;
  uint64_t n;
};

struct phase {
  struct sample samples[SAMPLES]; /* one a second, oldest first when full */
  size_t n_samples;
  char what[96];
  char unit[32];
  char detail[160];
  size_t done;
  size_t total;
  int64_t started_ms;
  struct osc_progress_counts base; /* the counters when it began */
};

static struct {
  enum osc_progress_mode mode;
  FILE *f;
  osc_progress_counts_fn counts;
  void *counts_ud;
  int depth; /* phases begun and not ended; only the outermost shows */
  struct phase phase;
  int64_t last_shown_ms; /* the last line of any phase (log, Octopus) */
  int64_t last_drawn_ms; /* the terminal's last redraw */
  int shown;             /* this phase has shown something */
  uint64_t lines;        /* lines shown in the run */
  int line_on_screen;    /* a live line is on the terminal, unterminated */
} st;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* The live line goes before a log line (another thread may log). */
static void erase_live_line(void) {
  pthread_mutex_lock(&lock);
  if (st.line_on_screen) {
    fputs("\r\033[K", st.f);
    st.line_on_screen = 0;
  }
  pthread_mutex_unlock(&lock);
}

void osc_progress_init(enum osc_progress_mode mode, FILE *f) {
  pthread_mutex_lock(&lock);
  memset(&st, 0, sizeof(st));
  st.mode = f != NULL ? mode : OSC_PROGRESS_OFF;
  st.f = f;
  st.last_shown_ms = osc_time_monotonic_ms();
  pthread_mutex_unlock(&lock);
  osc_log_set_before_write(mode == OSC_PROGRESS_TERMINAL ? erase_live_line
                                                         : NULL);
}

enum osc_progress_mode osc_progress_mode(void) {
  return st.mode;
}

void osc_progress_set_counts(osc_progress_counts_fn fn, void *ud) {
  pthread_mutex_lock(&lock);
  st.counts = fn;
  st.counts_ud = ud;
  pthread_mutex_unlock(&lock);
}

void osc_progress_unset_counts(void *ud) {
  pthread_mutex_lock(&lock);
  if (st.counts_ud == ud) {
    st.counts = NULL;
    st.counts_ud = NULL;
  }
  pthread_mutex_unlock(&lock);
}

static void read_counts(struct osc_progress_counts *out) {
  memset(out, 0, sizeof(*out));
  if (st.counts != NULL)
    st.counts(st.counts_ud, out);
}

/* Control characters (from names a server or config supplied) would move
 * the cursor or forge lines: each becomes '?'. */
static void copy_printable(char *dst, size_t cap, const char *src) {
  size_t i = 0;

  for (; src != NULL && *src != '\0' && i + 1 < cap; src++) {
    unsigned char c = (unsigned char)*src;

    dst[i++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
  }
  if (cap > 0)
    dst[i] = '\0';
}

static void fmt_seconds(int64_t s, char *out, size_t cap) {
  osc_duration_format(s > 0 ? s : 0, out, cap);
}

/* What the phase counts: its units, or the requests done since it began. */
static uint64_t phase_count(const struct phase *p,
                            const struct osc_progress_counts *c) {
  return p->unit[0] == '\0' ? c->requests - p->base.requests
                            : (uint64_t)p->done;
}

/* At most one sample a second; the window drops the oldest. */
static void take_sample(struct phase *p, int64_t now) {
  struct osc_progress_counts c;

  if (p->n_samples > 0 && now - p->samples[p->n_samples - 1].ms < 1000)
    return;
  read_counts(&c);
  if (p->n_samples == SAMPLES) {
    memmove(p->samples, p->samples + 1, (SAMPLES - 1) * sizeof(p->samples[0]));
    p->n_samples--;
  }
  p->samples[p->n_samples].ms = now;
  p->samples[p->n_samples].n = phase_count(p, &c);
  p->n_samples++;
}

/* Units per second over the samples' window, with `n` done now. */
static double recent_rate(const struct phase *p, int64_t now, uint64_t n) {
  const struct sample *first = &p->samples[0];

  if (p->n_samples == 0 || now - first->ms < 500 || n < first->n)
    return 0.0;
  return (double)(n - first->n) * 1000.0 / (double)(now - first->ms);
}

/* "rate, ETA, paced" for a phase with a count; "N requests, rate" without. */
static void format_line(int64_t now, char *out, size_t cap) {
  const struct phase *p = &st.phase;
  struct osc_progress_counts c;
  uint64_t reqs;
  size_t used;
  char eta[32];

  read_counts(&c);
  reqs = c.requests - p->base.requests;
  if (p->unit[0] == '\0')
    used = (size_t)snprintf(out, cap, "%s: %llu requests", p->what,
                            (unsigned long long)reqs);
  else if (p->total > 0 && p->detail[0] == '\0')
    used =
        (size_t)snprintf(out, cap, "%s: %zu/%zu %s (%zu%%)", p->what, p->done,
                         p->total, p->unit, p->done * 100 / p->total);
  else if (p->total > 0)
    used = (size_t)snprintf(out, cap, "%s: %zu/%zu %s", p->what, p->done,
                            p->total, p->unit);
  else
    used = (size_t)snprintf(out, cap, "%s: %zu %s", p->what, p->done, p->unit);
  if (used >= cap)
    return;
  if (p->detail[0] != '\0') {
    used += (size_t)snprintf(out + used, cap - used, " %s", p->detail);
  } else {
    double rate = recent_rate(p, now, phase_count(p, &c));

    used += (size_t)snprintf(out + used, cap - used, ", %.1f/s", rate);
    if (used < cap && p->total > 0 && p->done < p->total && rate > 0.01) {
      fmt_seconds((int64_t)((double)(p->total - p->done) / rate + 0.5), eta,
                  sizeof(eta));
      used += (size_t)snprintf(out + used, cap - used, ", ETA %s", eta);
    }
  }
  if (used < cap && c.throttled > p->base.throttled)
    used += (size_t)snprintf(out + used, cap - used,
                             ", throttled by the server (HTTP 429)");
  else if (used < cap && c.rate_waits > p->base.rate_waits)
    used += (size_t)snprintf(out + used, cap - used,
                             ", paced to the request rate limit");
  (void)used;
}

static int percentage(void) {
  const struct phase *p = &st.phase;

  return p->total > 0 ? (int)(p->done * 100 / p->total) : 0;
}

static int terminal_width(void) {
  struct winsize ws;

  if (ioctl(fileno(st.f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
    return ws.ws_col;
  return 80;
}

static void draw(int64_t now, bool final) {
  char line[LINE_MAX];
  int width;

  format_line(now, line, sizeof(line));
  switch (st.mode) {
  case OSC_PROGRESS_TERMINAL:
    width = terminal_width() - 1;
    if ((int)strlen(line) > width)
      line[width] = '\0';
    fprintf(st.f, "\r\033[K%s%s", line, final ? "\n" : "");
    fflush(st.f);
    st.line_on_screen = !final;
    st.last_drawn_ms = now;
    break;
  case OSC_PROGRESS_LOG:
    fprintf(st.f, "octoscale: %s\n", line);
    fflush(st.f);
    break;
  case OSC_PROGRESS_OCTOPUS:
    osc_octout_progress(st.f, percentage(), line, NULL);
    break;
  default:
    return;
  }
  st.last_shown_ms = now;
  st.shown = 1;
  st.lines++;
}

static bool due(int64_t now) {
  int64_t age = now - st.phase.started_ms;

  switch (st.mode) {
  case OSC_PROGRESS_TERMINAL:
    return age >= QUIET_MS && now - st.last_drawn_ms >= TERMINAL_EVERY_MS;
  case OSC_PROGRESS_OCTOPUS:
    return age >= QUIET_MS &&
           (!st.shown || now - st.last_shown_ms >= OCTOPUS_EVERY_MS);
  case OSC_PROGRESS_LOG:
    /* The run's first line as soon as work proves long; then one every
     * 10 s, measured across phases, so two phases never make two lines
     * within 10 s and a long run shows one at least every 10 s. */
    return st.lines == 0 ? age >= QUIET_MS
                         : now - st.last_shown_ms >= LOG_EVERY_MS;
  default:
    return false;
  }
}

void osc_progress_begin(const char *what, const char *unit, size_t total) {
  if (st.mode == OSC_PROGRESS_OFF)
    return;
  pthread_mutex_lock(&lock);
  if (st.depth++ == 0) {
    memset(&st.phase, 0, sizeof(st.phase));
    copy_printable(st.phase.what, sizeof(st.phase.what), what);
    copy_printable(st.phase.unit, sizeof(st.phase.unit), unit);
    st.phase.total = total;
    st.phase.started_ms = osc_time_monotonic_ms();
    read_counts(&st.phase.base);
    take_sample(&st.phase, st.phase.started_ms);
    st.shown = 0;
  }
  pthread_mutex_unlock(&lock);
}

void osc_progress_set(size_t done, size_t total) {
  if (st.mode == OSC_PROGRESS_OFF)
    return;
  pthread_mutex_lock(&lock);
  if (st.depth > 0) {
    st.phase.done = done;
    st.phase.total = total;
  }
  pthread_mutex_unlock(&lock);
  osc_progress_tick();
}

void osc_progress_add(size_t n) {
  if (st.mode == OSC_PROGRESS_OFF)
    return;
  pthread_mutex_lock(&lock);
  if (st.depth > 0)
    st.phase.done += n;
  pthread_mutex_unlock(&lock);
  osc_progress_tick();
}

void osc_progress_detail(const char *text) {
  if (st.mode == OSC_PROGRESS_OFF)
    return;
  pthread_mutex_lock(&lock);
  if (st.depth > 0)
    copy_printable(st.phase.detail, sizeof(st.phase.detail), text);
  pthread_mutex_unlock(&lock);
}

void osc_progress_show_now(void) {
  if (st.mode == OSC_PROGRESS_OFF)
    return;
  pthread_mutex_lock(&lock);
  if (st.depth > 0)
    draw(osc_time_monotonic_ms(), false);
  pthread_mutex_unlock(&lock);
}

void osc_progress_tick(void) {
  int64_t now;

  if (st.mode == OSC_PROGRESS_OFF)
    return;
  pthread_mutex_lock(&lock);
  now = osc_time_monotonic_ms();
  if (st.depth > 0)
    take_sample(&st.phase, now);
  if (st.depth > 0 && due(now))
    draw(now, false);
  pthread_mutex_unlock(&lock);
}

/* A phase that showed progress ends with its final state (a terminal line
 * is terminated, Octopus sees 100 %); plain logs keep their 10 s pace. */
void osc_progress_end(void) {
  if (st.mode == OSC_PROGRESS_OFF)
    return;
  pthread_mutex_lock(&lock);
  if (st.depth > 0 && --st.depth == 0 && st.shown &&
      st.mode != OSC_PROGRESS_LOG)
    draw(osc_time_monotonic_ms(), true);
  pthread_mutex_unlock(&lock);
}

void osc_progress_sleep_ms(int64_t ms) {
  int64_t end = osc_time_monotonic_ms() + ms;

  for (;;) {
    int64_t left = end - osc_time_monotonic_ms();
    struct timespec ts;

    if (left <= 0)
      return;
    if (left > 1000)
      left = 1000;
    ts.tv_sec = (time_t)(left / 1000);
    ts.tv_nsec = (long)(left % 1000) * 1000000L;
    nanosleep(&ts, NULL);
    osc_progress_tick();
  }
}

void osc_progress_format(char *out, size_t cap) {
  pthread_mutex_lock(&lock);
  if (st.depth > 0)
    format_line(osc_time_monotonic_ms(), out, cap);
  else if (cap > 0)
    out[0] = '\0';
  pthread_mutex_unlock(&lock);
}
