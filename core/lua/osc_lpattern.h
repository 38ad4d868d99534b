/* Lua pattern matching under the sandbox's budget: string.find, match,
 * gmatch and gsub (and so the string methods, which index the same table)
 * replaced by a copy of Lua 5.4's matcher that charges its steps to the
 * budget (core/lua/osc_sandbox.h osc_sandbox_charge). Same results, same errors
 * as the stock library. */
#ifndef OSC_LPATTERN_H
#define OSC_LPATTERN_H

#include <lua.h>

/* Replaces the four functions in the string library table at index lib.
 * Lua context: may raise a memory error. */
void osc_lpattern_install(lua_State *L, int lib);

#endif
