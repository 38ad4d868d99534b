/* Lua pattern matching under the sandbox's budget: string.find, match,
 * gmatch and gsub (and so the string methods, which index the same table)
 * replaced by a copy of Lua 5.4's matcher that charges its steps to a
 * budget (the sandbox's: core/lua/osc_sandbox.h osc_sandbox_charge). Same
 * results, same errors as the stock library. The charge function is given,
 * not called by name, so the matcher does not depend on the sandbox that
 * installs it. */
#ifndef OSC_LPATTERN_H
#define OSC_LPATTERN_H

#include <stdint.h>

#include <lua.h>

/* Charges steps of work to the running script's budget; raises a Lua error
 * once the budget is spent. */
typedef void (*osc_lpattern_charge_fn)(lua_State *L, uint64_t steps);

/* Replaces the four functions in the string library table at index lib with
 * ones that charge their steps through charge.
 * Lua context: may raise a memory error. */
void osc_lpattern_install(lua_State *L, int lib, osc_lpattern_charge_fn charge);

#endif
