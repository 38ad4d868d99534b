#include "core/osc_log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include "core/osc_text.h"

static enum osc_log_level current_level = OSC_LOG_INFO;
/* Concurrent collectors log from worker threads; keep lines whole. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static void (*before_write)(void);

void osc_log_set_before_write(void (*fn)(void)) {
  pthread_mutex_lock(&log_lock);
  before_write = fn;
  pthread_mutex_unlock(&log_lock);
}

void osc_log_set_level(enum osc_log_level level) {
  current_level = level;
}

enum osc_log_level osc_log_get_level(void) {
  return current_level;
}

int osc_log_enabled(enum osc_log_level level) {
  return level <= current_level;
}

void osc_log(enum osc_log_level level, const char *tag, const char *fmt, ...) {
  static const char *const prefix[] = {"error: ", "warning: ", "", ""};
  char line[4096];
  char safe[4 * sizeof(line)];
  va_list ap;

  if (!osc_log_enabled(level))
    return;
  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  /* Server names, policy print()s: one line, no control characters. */
  osc_text_escape(line, safe, sizeof(safe));
  pthread_mutex_lock(&log_lock);
  if (before_write != NULL)
    before_write();
  if (tag != NULL)
    fprintf(stderr, "octoscale: %s%s: %s\n", prefix[level], tag, safe);
  else
    fprintf(stderr, "octoscale: %s%s\n", prefix[level], safe);
  fflush(stderr);
  pthread_mutex_unlock(&log_lock);
}
