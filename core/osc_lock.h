/* One writer per state file (docs/design.md §6, safety rule 4): `apply` holds
 * an exclusive flock(2) on "<state path>.lock" for its whole run (the path with
 * symbolic links followed, so every link to one state file shares its
 * lock). A second `apply` on the same state fails at once (never waits) with
 * a message that names the holder, read from the lock file:
 *   pid=1234
 *   started=2026-11-27T10:00:00Z
 *   host=build-agent-3
 * (written by the holder right after it locks; `started` follows
 * OCTOSCALE_NOW like every other clock reading).
 *
 * No stale locks: the kernel drops a flock when the last descriptor of its
 * open file description is closed, which includes the holder's death by any
 * signal (kill -9 too). The file itself stays behind on purpose: unlinking a
 * lock file races with a process that has just opened it. Its old content
 * means nothing until a new holder overwrites it.
 *
 * flock belongs to the open file description, not the process: a second
 * open + flock in the same process conflicts like another process would, and
 * a child forked while the lock is held shares it (the descriptor is
 * close-on-exec, so programs the holder executes do not). Keep state files on
 * a local file system; flock over NFS is emulated with byte-range locks. */
#ifndef OSC_LOCK_H
#define OSC_LOCK_H

#include <stdbool.h>
#include <stddef.h>

#include "core/osc_error.h"

struct osc_lock;

/* Creates the lock file (0600, parent directories 0700) beside the state
 * file's real file (symbolic links followed: core/osc_fs.h) and takes the
 * lock without blocking. When another holder has it: OSC_E_RUNTIME with
 * "state <path> is locked by pid N (started T on host H); another apply is
 * running". */
int osc_lock_acquire(const char *state_path, struct osc_lock **out,
                     struct osc_error *err);

/* Clears the holder details and unlocks. NULL is ignored. */
void osc_lock_release(struct osc_lock *lock);

/* Whether another open file description holds the lock; when held, holder
 * gets "pid N (started T on host H)". Creates nothing. */
int osc_lock_probe(const char *state_path, bool *held, char *holder, size_t cap,
                   struct osc_error *err);

/* Removes "<state path>.lock" (`state unlock`, after osc_lock_probe found
 * it free: a lock file nobody holds is only a leftover). */
int osc_lock_remove_stale(const char *state_path, bool *removed,
                          struct osc_error *err);

#endif
