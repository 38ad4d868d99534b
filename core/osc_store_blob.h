/* The blob backend of core/osc_store.h: the state is a block blob, the lock
 * a lease on it (as Terraform's azurerm backend does).
 *
 * lock: Lease Blob acquire (state.lease seconds, a random lease id); a
 * missing blob is created first (an empty version-2 state, If-None-Match: *
 * so two first runs cannot overwrite each other) and then leased; a leased
 * blob fails at once naming the holder, which each holder records in the
 * blob's metadata (pid, host, start time, OCTOPUS_TASK_ID) right after it
 * acquires. While held, a thread renews the lease every third of its
 * duration with its own HTTP client (so renewals go on while the run waits
 * or retries). A holder killed with SIGKILL stops renewing: others are
 * blocked only until the lease expires.
 * save: Put Blob with x-ms-lease-id: only the lease holder can write. A lost
 * lease (broken, or expired and taken) makes the write fail: the run exits 1
 * saying so, and the blob keeps what the other writer put there.
 * check: renews the lease now, so a lease broken mid-run stops the run
 * before its first destructive action. */
#ifndef OSC_STORE_BLOB_H
#define OSC_STORE_BLOB_H

#include <stdbool.h>
#include <stddef.h>

#include "core/osc_config.h"
#include "core/osc_error.h"
#include "core/osc_state.h"

struct osc_store_blob;

int osc_store_blob_open(const struct osc_config *cfg,
                        struct osc_store_blob **out, struct osc_error *err);
void osc_store_blob_free(struct osc_store_blob *sb); /* releases a lease */
const char *osc_store_blob_url(const struct osc_store_blob *sb);

int osc_store_blob_lock(struct osc_store_blob *sb, struct osc_error *err);
int osc_store_blob_load(struct osc_store_blob *sb, struct osc_state **out,
                        struct osc_error *err);
int osc_store_blob_check(struct osc_store_blob *sb, struct osc_error *err);
int osc_store_blob_save(struct osc_store_blob *sb,
                        const struct osc_state *state, struct osc_error *err);
void osc_store_blob_unlock(struct osc_store_blob *sb);
int osc_store_blob_holder(struct osc_store_blob *sb, bool *locked, char *text,
                          size_t cap, struct osc_error *err);
int osc_store_blob_break(struct osc_store_blob *sb, bool *was_locked,
                         struct osc_error *err);

#endif
