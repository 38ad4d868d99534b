/* Progress of long work (reads of many pages, deletions and disables,
 * health checks, --wait, paced requests) for the operator, on one of three
 * sinks chosen once per run (README "Progress"):
 *  - a terminal: one live line on stderr (done/total, rate, ETA, paced);
 *  - Octopus (--octopus-output): ##octopus[progress ...] service messages on
 *    stdout, at most one every few seconds;
 *  - anything else (CI logs, files): a plain line on stderr once work has
 *    lasted a moment, then one every 10 s (never more often).
 * Nothing is shown for work that ends within a second or two. The state is
 * process-wide (like the log level): phases begin and end on the thread
 * that runs the HTTP loop; a phase begun inside another (the reads of a
 * --wait poll) only keeps the outer one alive. */
#ifndef OSC_PROGRESS_H
#define OSC_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum osc_progress_mode {
  OSC_PROGRESS_OFF = 0, /* -q, or commands that report nothing */
  OSC_PROGRESS_TERMINAL,
  OSC_PROGRESS_LOG,
  OSC_PROGRESS_OCTOPUS,
};

/* HTTP counters the lines show: requests done, and whether they are paced
 * (waited for a rate-limit token) or throttled (429). */
struct osc_progress_counts {
  uint64_t requests;
  uint64_t rate_waits;
  uint64_t throttled;
};
typedef void (*osc_progress_counts_fn)(void *ud,
                                       struct osc_progress_counts *out);

/* Selects the sink; f is where it writes (stderr, or stdout for Octopus).
 * Resets every phase. OSC_PROGRESS_OFF (the default) makes every other call
 * a no-op. */
void osc_progress_init(enum osc_progress_mode mode, FILE *f);
enum osc_progress_mode osc_progress_mode(void);

/* Where the counters come from (NULL: none); the HTTP client of the run. */
void osc_progress_set_counts(osc_progress_counts_fn fn, void *ud);
/* Forgets the counters when they come from ud (freed next). */
void osc_progress_unset_counts(void *ud);

/* Starts a phase: "deleting targets" with total units (a count of
 * "targets", "VMs"); unit NULL counts the requests done in the phase
 * instead, with no total. */
void osc_progress_begin(const char *what, const char *unit, size_t total);
/* The phase's position: done of total units. */
void osc_progress_set(size_t done, size_t total);
void osc_progress_add(size_t n);
/* Replaces the rate and ETA with this text (NULL: back to rate and ETA),
 * e.g. "(scale set updating), 40s of 30m". */
void osc_progress_detail(const char *text);
/* Shows the line now, whatever the pace (the first line of a wait the
 * operator asked for). */
void osc_progress_show_now(void);
/* Shows what is due now; called from loops that may wait (the HTTP loop,
 * polling sleeps) so a line appears even when nothing completes. */
void osc_progress_tick(void);
void osc_progress_end(void);

/* Sleeps ms milliseconds, ticking every second. */
void osc_progress_sleep_ms(int64_t ms);

/* Formats the current line (for tests): what the sinks print. */
void osc_progress_format(char *out, size_t cap);

#endif
