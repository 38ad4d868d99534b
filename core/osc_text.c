#include "core/osc_text.h"

#include <stdarg.h>

#define LINE_MAX_BYTES 4096

size_t osc_text_escape(const char *in, char *out, size_t cap) {
  static const char hex[] = "0123456789abcdef";
  size_t used = 0;

  if (cap == 0)
    return 0;
  for (; *in != '\0'; in++) {
    unsigned char c = (unsigned char)*in;
    char esc[4];
    size_t n = 0;

    if (c == '\n' || c == '\r') {
      esc[n++] = '\\';
      esc[n++] = c == '\n' ? 'n' : 'r';
    } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
      esc[n++] = '\\';
      esc[n++] = 'x';
      esc[n++] = hex[c >> 4];
      esc[n++] = hex[c & 15];
    } else {
      esc[n++] = (char)c;
    }
    if (used + n >= cap)
      break;
    for (size_t k = 0; k < n; k++)
      out[used++] = esc[k];
  }
  out[used] = '\0';
  return used;
}

void osc_text_line(FILE *f, const char *fmt, ...) {
  char line[LINE_MAX_BYTES];
  char safe[4 * LINE_MAX_BYTES];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  osc_text_escape(line, safe, sizeof(safe));
  fputs(safe, f);
  fputc('\n', f);
}
