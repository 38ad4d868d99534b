#include "core/osc_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

/* Copies path's directory part into out ("." when there is none). */
static int parent_dir(const char *path, char *out, size_t cap,
                      struct osc_error *err) {
  const char *slash = strrchr(path, '/');
  size_t n;

  if (slash == NULL) {
    snprintf(out, cap, ".");
    return OSC_OK;
  }
  n = (size_t)(slash - path);
  if (n == 0)
    n = 1; /* "/file": the root */
  if (n >= cap)
    return osc_error_set(err, OSC_E_RUNTIME, "path too long: %.200s...", path);
  memcpy(out, path, n);
  out[n] = '\0';
  return OSC_OK;
}

static int make_dir(const char *dir, mode_t mode, struct osc_error *err) {
  struct stat st;

  if (mkdir(dir, mode) == 0)
    return OSC_OK;
  if (errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
    return OSC_OK;
  if (errno == EEXIST)
    return osc_error_set(err, OSC_E_RUNTIME,
                         "cannot create directory %s: exists and is not a "
                         "directory",
                         dir);
  return osc_error_set(err, OSC_E_RUNTIME, "cannot create directory %s: %s",
                       dir, strerror(errno));
}

int osc_fs_mkdir_parents(const char *path, mode_t dir_mode,
                         struct osc_error *err) {
  char dir[PATH_MAX];
  struct stat st;
  char *p;
  int rc;

  rc = parent_dir(path, dir, sizeof(dir), err);
  if (rc < 0)
    return rc;
  if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
    return OSC_OK; /* the common case */
  for (p = dir + 1; *p != '\0'; p++) {
    if (*p != '/' || p[-1] == '/')
      continue;
    *p = '\0';
    rc = make_dir(dir, dir_mode, err);
    *p = '/';
    if (rc < 0)
      return rc;
  }
  return make_dir(dir, dir_mode, err);
}

static int write_all(int fd, const void *data, size_t len) {
  const char *p = data;

  while (len > 0) {
    ssize_t n = write(fd, p, len);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static int open_tmp(const char *tmp, mode_t mode) {
  const int flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW;
  int fd = open(tmp, flags, mode);

  if (fd < 0 && errno == EEXIST) {
    /* Left behind by a crash between write and rename. */
    if (unlink(tmp) != 0 && errno != ENOENT)
      return -1;
    fd = open(tmp, flags, mode);
  }
  return fd;
}

#define MAX_LINKS 40 /* the kernel's own limit (ELOOP) */

int osc_fs_real_path(const char *path, char *out, size_t cap,
                     struct osc_error *err) {
  char cur[PATH_MAX];
  char target[PATH_MAX];
  char dir[PATH_MAX];
  struct stat st;
  int hops;
  int n;

  n = snprintf(cur, sizeof(cur), "%s", path);
  if (n < 0 || (size_t)n >= sizeof(cur))
    return osc_error_set(err, OSC_E_RUNTIME, "path too long: %.200s...", path);
  for (hops = 0; lstat(cur, &st) == 0 && S_ISLNK(st.st_mode); hops++) {
    ssize_t len;

    if (hops == MAX_LINKS)
      return osc_error_set(err, OSC_E_RUNTIME,
                           "%s: too many levels of symbolic links", path);
    len = readlink(cur, target, sizeof(target) - 1);
    if (len < 0)
      return osc_error_set(err, OSC_E_RUNTIME, "cannot read link %s: %s", cur,
                           strerror(errno));
    target[len] = '\0';
    if (target[0] == '/' || strchr(cur, '/') == NULL) {
      n = snprintf(cur, sizeof(cur), "%s", target);
    } else {
      if (parent_dir(cur, dir, sizeof(dir), err) < 0)
        return OSC_E_RUNTIME;
      n = snprintf(cur, sizeof(cur), "%s/%s", dir, target);
    }
    if (n < 0 || (size_t)n >= sizeof(cur))
      return osc_error_set(err, OSC_E_RUNTIME, "path too long: %.200s...",
                           path);
  }
  n = snprintf(out, cap, "%s", cur);
  if (n < 0 || (size_t)n >= cap)
    return osc_error_set(err, OSC_E_RUNTIME, "path too long: %.200s...", path);
  return OSC_OK;
}

/* Writes data to a new "<real>.tmp" (tmp receives its name), fsynced and
 * closed. On failure the temporary file is gone again. */
static int write_tmp(const char *real, char *tmp, size_t tmp_cap,
                     const void *data, size_t len, mode_t mode, mode_t dir_mode,
                     struct osc_error *err) {
  int fd;
  int n;

  n = snprintf(tmp, tmp_cap, "%s.tmp", real);
  if (n < 0 || (size_t)n >= tmp_cap)
    return osc_error_set(err, OSC_E_RUNTIME, "path too long: %.200s...", real);
  if (osc_fs_mkdir_parents(real, dir_mode, err) < 0)
    return OSC_E_RUNTIME;
  fd = open_tmp(tmp, mode);
  if (fd < 0)
    return osc_error_set(err, OSC_E_RUNTIME, "cannot create %s: %s", tmp,
                         strerror(errno));
  if (write_all(fd, data, len) != 0 || fsync(fd) != 0) {
    osc_error_set(err, OSC_E_RUNTIME, "cannot write %s: %s", tmp,
                  strerror(errno));
    close(fd);
    unlink(tmp);
    return OSC_E_RUNTIME;
  }
  if (close(fd) != 0) {
    osc_error_set(err, OSC_E_RUNTIME, "cannot write %s: %s", tmp,
                  strerror(errno));
    unlink(tmp);
    return OSC_E_RUNTIME;
  }
  return OSC_OK;
}

int osc_fs_check_writable(const char *path, const void *data, size_t len,
                          mode_t mode, mode_t dir_mode, struct osc_error *err) {
  char real[PATH_MAX];
  char tmp[PATH_MAX];
  int rc;

  rc = osc_fs_real_path(path, real, sizeof(real), err);
  if (rc < 0)
    return rc;
  rc = write_tmp(real, tmp, sizeof(tmp), data, len, mode, dir_mode, err);
  if (rc < 0)
    return rc;
  if (unlink(tmp) != 0)
    return osc_error_set(err, OSC_E_RUNTIME, "cannot remove %s: %s", tmp,
                         strerror(errno));
  return OSC_OK;
}

int osc_fs_write_atomic(const char *path, const void *data, size_t len,
                        mode_t mode, mode_t dir_mode, struct osc_error *err) {
  char real[PATH_MAX];
  char tmp[PATH_MAX];
  char dir[PATH_MAX];
  int dfd = -1;
  int rc;

  rc = osc_fs_real_path(path, real, sizeof(real), err);
  if (rc < 0)
    return rc;
  rc = parent_dir(real, dir, sizeof(dir), err);
  if (rc < 0)
    return rc;
  rc = write_tmp(real, tmp, sizeof(tmp), data, len, mode, dir_mode, err);
  if (rc < 0)
    return rc;
  if (rename(tmp, real) != 0) {
    rc = osc_error_set(err, OSC_E_RUNTIME, "cannot rename %s to %s: %s", tmp,
                       real, strerror(errno));
    unlink(tmp);
    return rc;
  }
  /* Make the rename itself durable. Some file systems cannot fsync a
   * directory (EINVAL); the rename is done either way. */
  dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || (fsync(dfd) != 0 && errno != EINVAL))
    rc = osc_error_set(err, OSC_E_RUNTIME, "cannot sync directory %s: %s", dir,
                       strerror(errno));
  if (dfd >= 0)
    close(dfd);
  return rc;
}
