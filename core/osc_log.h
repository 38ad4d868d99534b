/* Logging to stderr. stdout belongs to the command's output (plan text, JSON
 * document, Octopus service messages). Callers must never pass secrets. */
#ifndef OSC_LOG_H
#define OSC_LOG_H

enum osc_log_level {
  OSC_LOG_ERROR = 0,
  OSC_LOG_WARN,
  OSC_LOG_INFO,
  OSC_LOG_DEBUG, /* -v */
};

/* -q sets OSC_LOG_WARN, -v sets OSC_LOG_DEBUG; default OSC_LOG_INFO. */
void osc_log_set_level(enum osc_log_level level);
enum osc_log_level osc_log_get_level(void);
int osc_log_enabled(enum osc_log_level level);

/* Writes "octoscale: <tag>: message\n" (tag may be NULL) when enabled. */
void osc_log(enum osc_log_level level, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Called (under the log's lock) before each line is written: a live
 * progress line on the same terminal erases itself (core/osc_progress.h).
 * NULL: none. */
void osc_log_set_before_write(void (*fn)(void));

#define osc_log_error(...) osc_log(OSC_LOG_ERROR, NULL, __VA_ARGS__)
#define osc_log_warn(...) osc_log(OSC_LOG_WARN, NULL, __VA_ARGS__)
#define osc_log_info(...) osc_log(OSC_LOG_INFO, NULL, __VA_ARGS__)
#define osc_log_debug(...) osc_log(OSC_LOG_DEBUG, NULL, __VA_ARGS__)

#endif
