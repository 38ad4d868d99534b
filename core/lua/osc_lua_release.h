/* What the Lua layer tells the rest of the program about itself, without
 * making it include lua.h. */
#ifndef OSC_LUA_RELEASE_H
#define OSC_LUA_RELEASE_H

/* The Lua release the sandbox runs ("Lua 5.4.4"). */
const char *osc_lua_release(void);

#endif
