/* The `octopus` namespace for `octoscale run` scripts (docs/design.md §7):
 *
 *   local c <close> = octopus.client()
 *   c:targets{scale_set = "web-prod"}          -- in-scope targets
 *   c:targets{environment = "Production", roles = {"web"}, tenant = nil}
 *   c:delete_target(id)      -> true, was_gone | nil, err (404 = done)
 *   c:disable_target(id)     -> true, changed  | nil, err
 *   c:enable_target(id)      -> true, changed  | nil, err
 *   c:health_check{target_ids = {...}, timeout = "5m", environment = nil,
 *                  wait = true, poll = "4s"}  -> task table | nil, err
 *   c:events{regarding = "Machines-1", eventCategories = "Created", ...}
 *   c:request(method, path [, body]) -> status, decoded body
 *   c:space_id()             -> "Spaces-1" | nil, err
 *   octopus.set_output(name, value)
 *
 * set_output: with service messages on (osc_bind_octopus_service_messages:
 * run --octopus-output or OCTOSCALE_OCTOPUS_OUTPUT=1), prints
 * ##octopus[setVariable name='<b64>' value='<b64>'] at once; otherwise
 * records the value and `run` prints "name=value" lines after the script.
 * Stubs: lua/_meta/octopus.lua. */
#ifndef OSC_BIND_OCTOPUS_H
#define OSC_BIND_OCTOPUS_H

#include <stdbool.h>
#include <stdio.h>

#include <lua.h>

int luaopen_osc_octopus(lua_State *L);

/* Turns Octopus service messages on or off for set_output. */
void osc_bind_octopus_service_messages(lua_State *L, bool on);

/* Prints the recorded outputs as "name=value" lines (in first-set order)
 * to out. Runs in protected mode; returns the lua_pcall status. */
int osc_bind_octopus_print_outputs(lua_State *L, FILE *out);

#endif
