#include "core/osc_buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void osc_buf_init(struct osc_buf *b, size_t max) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  b->max = max;
}

static int grow(struct osc_buf *b, size_t need, struct osc_error *err) {
  size_t cap;
  char *p;

  if (need > b->max)
    return osc_error_set(err, OSC_E_RUNTIME,
                         "data exceeds the limit of %zu bytes", b->max);
  if (need + 1 <= b->cap)
    return OSC_OK;
  cap = b->cap ? b->cap : 256;
  while (cap < need + 1)
    cap *= 2;
  p = realloc(b->data, cap);
  if (p == NULL)
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  b->data = p;
  b->cap = cap;
  return OSC_OK;
}

int osc_buf_append(struct osc_buf *b, const void *data, size_t len,
                   struct osc_error *err) {
  int rc = grow(b, b->len + len, err);

  if (rc < 0)
    return rc;
  if (len > 0)
    memcpy(b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = '\0';
  return OSC_OK;
}

int osc_buf_puts(struct osc_buf *b, const char *s, struct osc_error *err) {
  return osc_buf_append(b, s, strlen(s), err);
}

int osc_buf_vprintf(struct osc_buf *b, struct osc_error *err, const char *fmt,
                    va_list ap) {
  va_list copy;
  int n;
  int rc;

  va_copy(copy, ap);
  n = vsnprintf(NULL, 0, fmt, copy);
  va_end(copy);
  if (n < 0)
    return osc_error_set(err, OSC_E_RUNTIME, "format error");
  rc = grow(b, b->len + (size_t)n, err);
  if (rc < 0)
    return rc;
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
  return OSC_OK;
}

int osc_buf_printf(struct osc_buf *b, struct osc_error *err, const char *fmt,
                   ...) {
  va_list ap;
  int rc;

  va_start(ap, fmt);
  rc = osc_buf_vprintf(b, err, fmt, ap);
  va_end(ap);
  return rc;
}

const char *osc_buf_str(const struct osc_buf *b) {
  return b->data ? b->data : "";
}

char *osc_buf_detach(struct osc_buf *b) {
  char *p = b->data;

  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  return p;
}

void osc_buf_reset(struct osc_buf *b) {
  b->len = 0;
  if (b->data)
    b->data[0] = '\0';
}

void osc_buf_free(struct osc_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}

static const char *file_kind(mode_t mode) {
  if (S_ISDIR(mode))
    return "a directory";
  if (S_ISFIFO(mode))
    return "a FIFO";
  if (S_ISSOCK(mode))
    return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode))
    return "a device";
  return "not a regular file";
}

/* Opens without blocking (a FIFO with no writer would block open itself),
 * checks the kind with fstat, then reads in blocking mode. */
static FILE *open_regular(const char *path, struct osc_error *err) {
  struct stat st;
  FILE *f;
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

  if (fd < 0) {
    osc_error_set(err, OSC_E_RUNTIME, "%s: %s", path, strerror(errno));
    return NULL;
  }
  if (fstat(fd, &st) != 0) {
    osc_error_set(err, OSC_E_RUNTIME, "%s: %s", path, strerror(errno));
    close(fd);
    return NULL;
  }
  if (!S_ISREG(st.st_mode)) {
    osc_error_set(err, OSC_E_RUNTIME, "%s: %s (expected a regular file)", path,
                  file_kind(st.st_mode));
    close(fd);
    return NULL;
  }
  if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0 ||
      (f = fdopen(fd, "rb")) == NULL) {
    osc_error_set(err, OSC_E_RUNTIME, "%s: %s", path, strerror(errno));
    close(fd);
    return NULL;
  }
  return f;
}

static int read_stream(struct osc_buf *b, FILE *f, const char *path,
                       struct osc_error *err) {
  char chunk[65536];
  int rc = OSC_OK;
  size_t n;

  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
    rc = osc_buf_append(b, chunk, n, err);
    if (rc < 0) {
      osc_error_prefix(err, "%s", path);
      goto done;
    }
  }
  if (ferror(f))
    rc = osc_error_set(err, OSC_E_RUNTIME, "%s: read error", path);
  if (b->data == NULL)
    rc = rc < 0 ? rc : osc_buf_append(b, "", 0, err);
done:
  fclose(f);
  return rc;
}

int osc_buf_read_file(struct osc_buf *b, const char *path,
                      struct osc_error *err) {
  FILE *f = open_regular(path, err);

  if (f == NULL)
    return OSC_E_RUNTIME;
  return read_stream(b, f, path, err);
}

int osc_buf_read_any_file(struct osc_buf *b, const char *path,
                          struct osc_error *err) {
  FILE *f = fopen(path, "rb");

  if (f == NULL)
    return osc_error_set(err, OSC_E_RUNTIME, "%s: %s", path, strerror(errno));
  return read_stream(b, f, path, err);
}
