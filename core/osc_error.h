/* One-line errors carried out of every function that can fail.
 *
 * A failing function returns a negative OSC_E* code and fills the caller's
 * struct osc_error with one line (no trailing newline, no secrets). The kind
 * decides the process exit code (docs/design.md §4). */
#ifndef OSC_ERROR_H
#define OSC_ERROR_H

#include <stddef.h>

enum osc_error_code {
  OSC_OK = 0,
  OSC_E_USAGE = -1,   /* bad command line: exit 3 */
  OSC_E_CONFIG = -2,  /* config invalid: exit 3 */
  OSC_E_POLICY = -3,  /* policy failed to load or a hook misbehaved: exit 3 */
  OSC_E_RUNTIME = -4, /* auth refused, missing name, lock held, IO: exit 1 */
  OSC_E_SAFETY = -5,  /* incomplete/implausible data, budget: exit 4 */
  OSC_E_TIMEOUT = -6, /* provisioning did not settle: exit 5 */
  OSC_E_NOMEM = -7,   /* out of memory: exit 1 */
};

#define OSC_ERROR_MAX 1024

struct osc_error {
  int code; /* enum osc_error_code */
  char msg[OSC_ERROR_MAX];
};

#define OSC_ERROR_INIT                                                         \
  {                                                                            \
    0, {                                                                       \
      0                                                                        \
    }                                                                          \
  }

/* Sets err (when not NULL) and returns code, so callers can write
 * `return osc_error_set(err, OSC_E_CONFIG, "...");`. Newlines in the
 * formatted text are replaced by spaces to keep the message one line. */
int osc_error_set(struct osc_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to an existing message. */
int osc_error_prefix(struct osc_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void osc_error_clear(struct osc_error *err);

/* The documented exit code for an error code (0 for OSC_OK). */
int osc_error_exit_code(int code);

#endif
