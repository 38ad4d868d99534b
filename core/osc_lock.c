#include "core/osc_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "core/osc_fs.h"
#include "core/osc_log.h"
#include "core/osc_time.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif
#ifndef HOST_NAME_MAX
#define HOST_NAME_MAX 255
#endif

#define HOLDER_MAX 1024 /* bytes of the lock file read back */
#define FIELD_MAX 256

struct osc_lock {
  int fd;
};

struct holder {
  char pid[FIELD_MAX];
  char started[FIELD_MAX];
  char host[FIELD_MAX];
};

/* Copies a field value, keeping printable ASCII only: the file may be
 * half-written or written by something else, and this goes into a one-line
 * message. */
static void copy_field(char *out, const char *v, size_t n) {
  size_t k = 0;
  size_t i;

  for (i = 0; i < n && k + 1 < FIELD_MAX; i++) {
    if (v[i] >= 0x20 && v[i] < 0x7f)
      out[k++] = v[i];
  }
  out[k] = '\0';
}

static void parse_holder(const char *text, size_t len, struct holder *h) {
  const char *p = text;
  const char *end = text + len;

  memset(h, 0, sizeof(*h));
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *eol = nl ? nl : end;
    const char *eq = memchr(p, '=', (size_t)(eol - p));

    if (eq != NULL) {
      size_t klen = (size_t)(eq - p);
      size_t vlen = (size_t)(eol - eq - 1);

      if (klen == 3 && memcmp(p, "pid", 3) == 0)
        copy_field(h->pid, eq + 1, vlen);
      else if (klen == 7 && memcmp(p, "started", 7) == 0)
        copy_field(h->started, eq + 1, vlen);
      else if (klen == 4 && memcmp(p, "host", 4) == 0)
        copy_field(h->host, eq + 1, vlen);
    }
    p = eol + 1;
  }
}

static void read_holder(int fd, struct holder *h) {
  char text[HOLDER_MAX];
  ssize_t n = pread(fd, text, sizeof(text), 0);

  parse_holder(text, n > 0 ? (size_t)n : 0, h);
}

static int held_error(int fd, const char *state_path, struct osc_error *err) {
  struct holder h;

  read_holder(fd, &h);
  if (h.pid[0] == '\0')
    return osc_error_set(err, OSC_E_RUNTIME,
                         "state %s is locked by another process (it has not "
                         "written its pid yet); another apply is running",
                         state_path);
  return osc_error_set(err, OSC_E_RUNTIME,
                       "state %s is locked by pid %s (started %s on host %s); "
                       "another apply is running",
                       state_path, h.pid, h.started[0] ? h.started : "?",
                       h.host[0] ? h.host : "?");
}

/* Best effort: the lock protects the state whether or not this works. */
static void write_holder(int fd, const char *lock_path) {
  char host[HOST_NAME_MAX + 1];
  char started[64];
  char text[HOLDER_MAX];
  int64_t now;
  int n;

  if (gethostname(host, sizeof(host)) != 0)
    snprintf(host, sizeof(host), "?");
  host[sizeof(host) - 1] = '\0';
  if (osc_time_now(&now, NULL) < 0)
    now = (int64_t)time(NULL);
  osc_time_format_rfc3339(now, started, sizeof(started));
  n = snprintf(text, sizeof(text), "pid=%ld\nstarted=%s\nhost=%s\n",
               (long)getpid(), started, host);
  if (n < 0 || (size_t)n >= sizeof(text) || ftruncate(fd, 0) != 0 ||
      pwrite(fd, text, (size_t)n, 0) != (ssize_t)n)
    osc_log_warn("cannot record the lock holder in %s: %s", lock_path,
                 strerror(errno));
}

int osc_lock_acquire(const char *state_path, struct osc_lock **out,
                     struct osc_error *err) {
  char real[PATH_MAX];
  char path[PATH_MAX];
  struct osc_lock *lock = NULL;
  int fd = -1;
  int n;
  int rc;

  *out = NULL;
  /* Beside the real file: two links to one state file share one lock. */
  rc = osc_fs_real_path(state_path, real, sizeof(real), err);
  if (rc < 0)
    goto done;
  n = snprintf(path, sizeof(path), "%s.lock", real);
  if (n < 0 || (size_t)n >= sizeof(path)) {
    rc = osc_error_set(err, OSC_E_RUNTIME, "state path too long: %.200s...",
                       state_path);
    goto done;
  }
  rc = osc_fs_mkdir_parents(path, 0700, err);
  if (rc < 0)
    goto done;
  fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    rc = osc_error_set(err, OSC_E_RUNTIME, "cannot open lock file %s: %s", path,
                       strerror(errno));
    goto done;
  }
  do {
    n = flock(fd, LOCK_EX | LOCK_NB);
  } while (n != 0 && errno == EINTR);
  if (n != 0 && errno == EWOULDBLOCK) {
    rc = held_error(fd, state_path, err);
    goto done;
  }
  if (n != 0) {
    rc = osc_error_set(err, OSC_E_RUNTIME, "cannot lock %s: %s", path,
                       strerror(errno));
    goto done;
  }
  lock = malloc(sizeof(*lock));
  if (lock == NULL) {
    rc = osc_error_set(err, OSC_E_NOMEM, "out of memory");
    goto done;
  }
  write_holder(fd, path);
  lock->fd = fd;
  fd = -1;
  *out = lock;
  rc = OSC_OK;
done:
  if (fd >= 0)
    close(fd); /* also drops a lock taken before a later failure */
  return rc;
}

void osc_lock_release(struct osc_lock *lock) {
  if (lock == NULL)
    return;
  /* Still locked here, so no new holder's details are erased. */
  if (ftruncate(lock->fd, 0) != 0)
    osc_log_debug("cannot clear the lock file: %s", strerror(errno));
  flock(lock->fd, LOCK_UN);
  close(lock->fd);
  free(lock);
}

static int lock_path(const char *state_path, char *path, size_t cap,
                     struct osc_error *err) {
  int n = snprintf(path, cap, "%s.lock", state_path);

  if (n < 0 || (size_t)n >= cap)
    return osc_error_set(err, OSC_E_RUNTIME, "state path too long: %.200s...",
                         state_path);
  return OSC_OK;
}

int osc_lock_probe(const char *state_path, bool *held, char *holder, size_t cap,
                   struct osc_error *err) {
  char path[PATH_MAX];
  struct holder h;
  int fd;
  int rc;

  *held = false;
  if (cap > 0)
    holder[0] = '\0';
  rc = lock_path(state_path, path, sizeof(path), err);
  if (rc < 0)
    return rc;
  fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return errno == ENOENT ? OSC_OK
                           : osc_error_set(err, OSC_E_RUNTIME,
                                           "cannot open lock file %s: %s", path,
                                           strerror(errno));
  if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
    flock(fd, LOCK_UN);
  } else if (errno == EWOULDBLOCK) {
    *held = true;
    read_holder(fd, &h);
    snprintf(holder, cap, "pid %s (started %s on host %s)",
             h.pid[0] ? h.pid : "?", h.started[0] ? h.started : "?",
             h.host[0] ? h.host : "?");
  } else {
    rc = osc_error_set(err, OSC_E_RUNTIME, "cannot probe %s: %s", path,
                       strerror(errno));
  }
  close(fd);
  return rc;
}

int osc_lock_remove_stale(const char *state_path, bool *removed,
                          struct osc_error *err) {
  char path[PATH_MAX];
  int rc;

  *removed = false;
  rc = lock_path(state_path, path, sizeof(path), err);
  if (rc < 0)
    return rc;
  if (unlink(path) == 0)
    *removed = true;
  else if (errno != ENOENT)
    rc = osc_error_set(err, OSC_E_RUNTIME, "cannot remove %s: %s", path,
                       strerror(errno));
  return rc;
}
