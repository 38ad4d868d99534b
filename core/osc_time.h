/* Durations ("90s", "1h30m"), RFC 3339 timestamps and the clock, which
 * OCTOSCALE_NOW replaces for tests and replays. Times are Unix seconds. */
#ifndef OSC_TIME_H
#define OSC_TIME_H

#include <stddef.h>
#include <stdint.h>

#include "core/osc_error.h"

/* Parses "90s", "10m", "2h", "1d" and combinations such as "1h30m" (units in
 * descending order, each at most once). A bare "0" is zero. */
int osc_duration_parse(const char *text, int64_t *out, struct osc_error *err);

/* Formats seconds compactly: 0 -> "0s", 5400 -> "1h30m", 90061 -> "1d1h1m1s".
 */
void osc_duration_format(int64_t seconds, char *out, size_t cap);

/* Parses RFC 3339 ("2026-11-27T10:00:00Z", fractions and offsets allowed). */
int osc_time_parse_rfc3339(const char *text, int64_t *out,
                           struct osc_error *err);

/* Formats as "2026-11-27T10:00:00Z" (UTC). */
void osc_time_format_rfc3339(int64_t t, char *out, size_t cap);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t osc_days_from_civil(int64_t y, int64_t m, int64_t d);
void osc_civil_from_days(int64_t days, int64_t *y, int64_t *m, int64_t *d);

/* The current time: OCTOSCALE_NOW when set (an invalid value is an error),
 * else the system clock. */
int osc_time_now(int64_t *out, struct osc_error *err);

/* Monotonic milliseconds, for timeouts and measurements. */
int64_t osc_time_monotonic_ms(void);

/* CPU time the calling thread has used, in milliseconds: for budgets that
 * must not depend on how loaded the machine is (the Lua sandbox). */
int64_t osc_time_thread_cpu_ms(void);

#endif
