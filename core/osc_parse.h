/* Raw Azure and Octopus bodies (decoded by core/osc_json.h onto a Lua
 * stack) -> the typed model. One place reads the real shapes, for live
 * collection and snapshots alike: missing orchestrationMode means Uniform,
 * provisioning states compare case-insensitively, power state comes from
 * instanceView statuses ("PowerState/running"). Each function runs its work
 * under lua_pcall, allocates only in the collection's arena, and leaves the
 * Lua stack as it found it. */
#ifndef OSC_PARSE_H
#define OSC_PARSE_H

#include <lua.h>

#include "core/osc_error.h"
#include "core/osc_model.h"

/* A VMSS GET body at idx -> c->vmss (sets c->have_vmss). */
int osc_parse_vmss(lua_State *L, int idx, struct osc_collection *c,
                   struct osc_error *err);

/* An array of VM bodies at idx (a list page's value[]: Uniform VMSS VMs or
 * Flexible standard VMs) -> appended to c->vms. Items without an id are an
 * error (the data would be implausible). */
int osc_parse_vms(lua_State *L, int idx, struct osc_collection *c,
                  struct osc_error *err);

/* An array of VMSS NIC bodies at idx -> private IPs attached to c->vms
 * (joined on properties.virtualMachine.id, case-insensitively; primary NIC
 * and primary IPv4 configuration first). */
int osc_parse_nics(lua_State *L, int idx, struct osc_collection *c,
                   struct osc_error *err);

/* An array of Octopus machine resources at idx -> appended to c->targets. */
int osc_parse_targets(lua_State *L, int idx, struct osc_collection *c,
                      struct osc_error *err);

#endif
