/* Where the state lives, and the one-writer lock around it (docs/design.md §6,
 * safety rule 4), behind one interface:
 *  - file (state: PATH): core/osc_state.h's atomic file and core/osc_lock.h's
 *    flock on "<path>.lock";
 *  - blob (state: {url: ...}): core/osc_store_blob.h, the state as a block
 *    blob and the lock as a lease on it, renewed while held.
 *
 * A run that writes: open, lock, load, check (before the first destructive
 * action: the lock is still ours and the state can be written), save,
 * unlock. `plan` and `state show` only open and load: reading needs no lock.
 * Every error is one line naming the state ("file PATH", "blob URL"). */
#ifndef OSC_STORE_H
#define OSC_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/osc_config.h"
#include "core/osc_error.h"
#include "core/osc_state.h"

struct osc_store;

/* The backend cfg's `state:` selects; nothing is read or locked yet. */
int osc_store_open(const struct osc_config *cfg, struct osc_store **out,
                   struct osc_error *err);
/* Unlocks when locked. NULL is ignored. */
void osc_store_free(struct osc_store *store);

/* "file PATH" or "blob URL": for messages. */
const char *osc_store_label(const struct osc_store *store);
bool osc_store_is_blob(const struct osc_store *store);

/* Takes the lock without waiting: when another run holds it, OSC_E_RUNTIME
 * naming the holder ("... is locked by pid N (started T on host H); another
 * apply is running"). */
int osc_store_lock(struct osc_store *store, struct osc_error *err);

/* Reads the state (missing: empty; corrupt: an error, never reset). */
int osc_store_load(struct osc_store *store, struct osc_state **out,
                   struct osc_error *err);

/* Before the first destructive action: proves that `state` can be saved
 * (blob: the lease is still ours, renewed now; a broken or expired lease
 * fails), so nothing is deleted by a run that could not record it. */
int osc_store_check(struct osc_store *store, const struct osc_state *state,
                    struct osc_error *err);

/* Writes the state under the lock; the caller holds it. A lost lease is an
 * error and nothing is written: never a silent lost update. */
int osc_store_save(struct osc_store *store, const struct osc_state *state,
                   struct osc_error *err);

void osc_store_unlock(struct osc_store *store);

/* The current holder, for `state show` and `state unlock`: *locked, and a
 * text like "pid 12 (started T on host H)" (or "" when not locked). */
int osc_store_holder(struct osc_store *store, bool *locked, char *text,
                     size_t cap, struct osc_error *err);

/* `state unlock`: breaks the lease (blob), or removes a lock file no live
 * process holds (file; a held flock cannot be broken: that is an error
 * naming the holder). *was_locked says whether there was anything to do. */
int osc_store_break(struct osc_store *store, bool *was_locked,
                    struct osc_error *err);

#endif
