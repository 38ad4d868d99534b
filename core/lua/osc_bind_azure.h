/* The `azure` namespace for `octoscale run` scripts (docs/design.md §7):
 * clients as userdata ("octoscale.AzureClient", idempotent __gc/__close) over
 * the run's session (core/lua/osc_bind_common.h). Policies never get it: they
 * have no network access.
 *
 *   local c <close> = azure.client()          -- or azure.client{subscription=}
 *   c:scale_set{scale_set = "web-prod"}       -- or {resource_group=, vmss=,
 *                                             --     subscription=}
 *   c:instances{...}    -> array of vm tables (the fields policies see)
 *   c:set_capacity{..., capacity = N}
 *   c:request(method, path [, body]) -> status, decoded body
 *
 * Operational failures return nil, err (err = {status, code, message,
 * request_id, text} with __tostring); misuse raises at the caller's line.
 * Stubs: lua/_meta/azure.lua. */
#ifndef OSC_BIND_AZURE_H
#define OSC_BIND_AZURE_H

#include <lua.h>

/* Pushes the namespace table. */
int luaopen_osc_azure(lua_State *L);

#endif
