#include "tests/sim/sim_util.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int g_stopping;

int64_t sim_monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sim_request_stop(void) {
  atomic_store(&g_stopping, 1);
}

int sim_stopping(void) {
  return atomic_load(&g_stopping);
}

static int64_t monotonic_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int sim_sleep_ms(int64_t ms) {
  /* 10 ms slices: short enough for a prompt shutdown, long enough to cost
   * nothing measurable. Nanoseconds, so a latency is never cut short. */
  int64_t end = monotonic_ns() + ms * 1000000;
  for (;;) {
    if (sim_stopping())
      return -1;
    int64_t left = end - monotonic_ns();
    if (left <= 0)
      return 0;
    if (left > 10000000)
      left = 10000000;
    struct timespec ts = {0, (long)left};
    nanosleep(&ts, NULL);
  }
}

int sim_write_file_atomic(const char *path, const char *text, char *err,
                          size_t errlen) {
  int rc = -1;
  char tmp[4096];
  FILE *f = NULL;
  int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  if (n < 0 || (size_t)n >= sizeof tmp) {
    snprintf(err, errlen, "%s: path too long", path);
    goto done;
  }
  f = fopen(tmp, "w");
  if (f == NULL) {
    snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
    goto done;
  }
  if (fputs(text, f) == EOF || fflush(f) != 0) {
    snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
    goto done;
  }
  if (fclose(f) != 0) {
    f = NULL;
    snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
    goto done;
  }
  f = NULL;
  if (rename(tmp, path) != 0) {
    snprintf(err, errlen, "rename to %s: %s", path, strerror(errno));
    goto done;
  }
  rc = 0;
done:
  if (f != NULL)
    fclose(f);
  if (rc != 0)
    unlink(tmp);
  return rc;
}
