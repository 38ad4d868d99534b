/* Cheap polling for `apply --wait`: a fingerprint of a scale set's
 * provisioning read from the scale set itself, so the poll loop lists
 * every VM (with $expand=instanceView, ARM's high-cost read) only when the
 * fingerprint changes or the wait ends.
 *
 *  - Uniform: the VMSS GET (provisioningState, sku.capacity) and the scale
 *    set's instance view (`GET .../instanceView`: its statuses and
 *    virtualMachine.statusesSummary, the VM count per status code): two
 *    ARM requests whatever the size of the scale set.
 *  - Flexible has no scale set instance view: the VMSS GET and the VM list
 *    without $expand (provisioningState of each VM), one request per 100
 *    VMs but not the high-cost expanded read. */
#ifndef OSC_WATCH_H
#define OSC_WATCH_H

#include "core/osc_buf.h"
#include "core/osc_collect.h"
#include "core/osc_config.h"
#include "core/osc_error.h"
#include "core/osc_model.h"

/* Writes the fingerprint of entry e (mode from its last collection) to out
 * (reset first) and adds the ARM requests made to *requests. Fails when a
 * read fails: the caller then collects in full, whose errors are the ones
 * to report. */
int osc_watch_fingerprint(struct osc_session *s,
                          const struct osc_config_scale_set *e,
                          enum osc_orchestration mode, struct osc_buf *out,
                          unsigned *requests, struct osc_error *err);

#endif
