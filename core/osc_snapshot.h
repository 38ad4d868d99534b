/* `plan --snapshot FILE`: the contract's raw-body snapshot (docs/design.md §4):
 * {"format_version":1,"captured_at":"RFC 3339","scale_sets":[{"name",
 * "vmss":<VMSS GET body>,"instances":[<VM bodies>],"targets":[<machines>]}]}.
 * Optional extensions written by `octoscale snapshot`: "environment_id" and
 * "tenant_id" (the resolved scope), "nics" (NIC bodies for private IPs) and
 * "incomplete" (the reason a read failed: planning it is a safety stop). */
#ifndef OSC_SNAPSHOT_H
#define OSC_SNAPSHOT_H

#include "core/osc_config.h"
#include "core/osc_engine.h"
#include "core/osc_error.h"
#include "core/osc_model.h"

struct osc_snapshot;

/* Reads and checks the document (OSC_E_USAGE for a malformed one,
 * OSC_E_RUNTIME when it cannot be read). */
int osc_snapshot_load(const char *path, struct osc_snapshot **out,
                      struct osc_error *err);

/* Fills c (initialised by the caller) and scope for one config entry; scope
 * strings live in c's arena. An entry missing from the snapshot, or a tenant
 * name that cannot be resolved offline, is OSC_E_RUNTIME. */
int osc_snapshot_collect(struct osc_snapshot *snap,
                         const struct osc_config_scale_set *entry,
                         struct osc_collection *c, struct osc_scope *scope,
                         struct osc_error *err);

void osc_snapshot_free(struct osc_snapshot *snap);

#endif
