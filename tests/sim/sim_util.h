/* Small helpers shared by the simulator's C files: the monotonic clock,
 * sleeps that give way to shutdown, and atomic file writes. */
#ifndef SIM_UTIL_H
#define SIM_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Every error out-parameter in the simulator is one line of at most this. */
#define SIM_ERR_MAX 512

/* Milliseconds on CLOCK_MONOTONIC: latency, rate limits and --speed must not
 * jump when the wall clock is adjusted. */
int64_t sim_monotonic_ms(void);

/* Marks the process as shutting down. Injected latency and slow bodies sleep
 * in short slices and stop early once this is set, so a 60 s latency fault
 * cannot hold up SIGTERM. */
void sim_request_stop(void);
int sim_stopping(void);

/* Sleeps for ms milliseconds; returns -1 when cut short by shutdown. */
int sim_sleep_ms(int64_t ms);

/* Writes text to path through a temporary file in the same directory and
 * rename(2), so a reader polling for path never sees a partial file. */
int sim_write_file_atomic(const char *path, const char *text, char *err,
                          size_t errlen);

#endif
