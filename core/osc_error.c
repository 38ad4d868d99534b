#include "core/osc_error.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/osc_text.h"

/* Newlines become spaces; other control characters (from server or policy
 * text) are escaped, so a message is always one printable line. */
static void one_line(char *s) {
  char copy[OSC_ERROR_MAX];
  bool control = false;
  char *p;

  for (p = s; *p; p++) {
    if (*p == '\n' || *p == '\r')
      *p = ' ';
    else if ((unsigned char)*p < 0x20 || *p == 0x7f)
      control = true;
  }
  if (!control)
    return;
  snprintf(copy, sizeof(copy), "%s", s);
  osc_text_escape(copy, s, OSC_ERROR_MAX);
}

int osc_error_set(struct osc_error *err, int code, const char *fmt, ...) {
  va_list ap;

  if (err == NULL)
    return code;
  err->code = code;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
  va_end(ap);
  one_line(err->msg);
  return code;
}

int osc_error_prefix(struct osc_error *err, const char *fmt, ...) {
  char prefix[OSC_ERROR_MAX];
  char joined[2 * OSC_ERROR_MAX + 2];
  size_t n;
  va_list ap;

  if (err == NULL)
    return OSC_OK;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof(prefix), fmt, ap);
  va_end(ap);
  snprintf(joined, sizeof(joined), "%s: %s", prefix, err->msg);
  n = strlen(joined);
  if (n >= sizeof(err->msg))
    n = sizeof(err->msg) - 1; /* keep the start: it says where */
  memcpy(err->msg, joined, n);
  err->msg[n] = '\0';
  one_line(err->msg);
  return err->code;
}

void osc_error_clear(struct osc_error *err) {
  if (err == NULL)
    return;
  err->code = OSC_OK;
  err->msg[0] = '\0';
}

int osc_error_exit_code(int code) {
  switch (code) {
  case OSC_OK:
    return 0;
  case OSC_E_USAGE:
  case OSC_E_CONFIG:
  case OSC_E_POLICY:
    return 3;
  case OSC_E_SAFETY:
    return 4;
  case OSC_E_TIMEOUT:
    return 5;
  default:
    return 1;
  }
}
