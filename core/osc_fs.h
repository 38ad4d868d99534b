/* Files that must never be seen half-written (the state file, the HTML
 * report): write a temporary file beside the target, fsync it, rename it over
 * the target, fsync the directory. A crash at any point leaves either the old
 * file or the new one, plus at worst a stale "<path>.tmp" that the next write
 * replaces and that readers never look at. */
#ifndef OSC_FS_H
#define OSC_FS_H

#include <stddef.h>
#include <sys/types.h>

#include "core/osc_error.h"

/* Creates the missing directories above path's last component (mkdir -p of
 * its parent) with dir_mode. An existing directory is left as it is. */
int osc_fs_mkdir_parents(const char *path, mode_t dir_mode,
                         struct osc_error *err);

/* Replaces path (its real file: symbolic links are followed, see
 * osc_fs_real_path) with data atomically: creates the parent directories
 * (dir_mode), writes "<path>.tmp" (created anew with `mode`; a stale one from
 * a crash is removed first), fsyncs it, renames it over path and fsyncs the
 * directory. The temporary name is fixed, so concurrent writers of one path
 * must be serialized by the caller (octoscale holds core/osc_lock.h's lock).
 * On failure the temporary file is removed and path is untouched. */
int osc_fs_write_atomic(const char *path, const void *data, size_t len,
                        mode_t mode, mode_t dir_mode, struct osc_error *err);

/* Follows the symbolic links of path's last component (at most 40) and
 * writes the file they lead to into out (a dangling link leads to the file
 * it names, which need not exist yet). osc_fs_write_atomic and the state
 * lock work on this path, so a link is updated through, not replaced, and
 * two links to one file share one lock. */
int osc_fs_real_path(const char *path, char *out, size_t cap,
                     struct osc_error *err);

/* Proves that osc_fs_write_atomic(path, data, len, ...) can succeed now:
 * creates the parent directories and "<real path>.tmp", writes data,
 * fsyncs it, and removes it again. path itself is not touched. */
int osc_fs_check_writable(const char *path, const void *data, size_t len,
                          mode_t mode, mode_t dir_mode, struct osc_error *err);

#endif
