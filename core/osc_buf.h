/* A growable byte buffer with a hard maximum (curl's dynbuf shape): every
 * buffer fed from a file or the network is bounded at init. The content is
 * always NUL-terminated. */
#ifndef OSC_BUF_H
#define OSC_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "core/osc_error.h"

struct osc_buf {
  char *data; /* NULL until the first append */
  size_t len;
  size_t cap;
  size_t max; /* appends past this fail with OSC_E_RUNTIME */
};

void osc_buf_init(struct osc_buf *b, size_t max);
int osc_buf_append(struct osc_buf *b, const void *data, size_t len,
                   struct osc_error *err);
int osc_buf_puts(struct osc_buf *b, const char *s, struct osc_error *err);
int osc_buf_printf(struct osc_buf *b, struct osc_error *err, const char *fmt,
                   ...) __attribute__((format(printf, 3, 4)));
int osc_buf_vprintf(struct osc_buf *b, struct osc_error *err, const char *fmt,
                    va_list ap);
/* Returns the content ("" when empty); valid until the next append. */
const char *osc_buf_str(const struct osc_buf *b);
/* Hands the heap string to the caller (may be NULL when empty) and resets. */
char *osc_buf_detach(struct osc_buf *b);
void osc_buf_reset(struct osc_buf *b);
void osc_buf_free(struct osc_buf *b);

/* Reads a whole regular file into b (bounded by b->max). Anything else (a
 * FIFO, a directory, a device) is refused without blocking: config, policy
 * and state files are files. */
int osc_buf_read_file(struct osc_buf *b, const char *path,
                      struct osc_error *err);

/* The same for any readable path, pipes included (a snapshot from process
 * substitution, a token file): may block while the writer writes. */
int osc_buf_read_any_file(struct osc_buf *b, const char *path,
                          struct osc_error *err);

#endif
