/* Text from servers and policies on stdout/stderr: control characters are
 * escaped, so a name such as "x\n##octopus[setVariable ...]" prints as one
 * line with a visible "\n" and can never start an Octopus service message
 * (or move a terminal's cursor). Printable bytes, UTF-8 included, pass
 * unchanged. */
#ifndef OSC_TEXT_H
#define OSC_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* Copies in to out (always terminated, cut at cap), writing a control byte
 * as \n, \r or \xHH (a tab stays a tab). Returns the length written. */
size_t osc_text_escape(const char *in, char *out, size_t cap);

/* Formats one line (bounded: 4 KiB before escaping), escapes it and writes
 * it to f followed by a newline. */
void osc_text_line(FILE *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
