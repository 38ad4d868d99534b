/* lua-cjson for the Lua layer: the bindings decode API bodies into the
 * script's own state and encode request bodies from its tables. The
 * implementation is in core/osc_json.c, the one file that knows lua-cjson;
 * C modules read JSON through core/osc_json.h instead. */
#ifndef OSC_JSON_LUA_H
#define OSC_JSON_LUA_H

#include <lua.h>

/* Pushes L's cjson module (its encode and decode), opened on first use and
 * kept in the registry. Raises only on memory errors. */
void osc_json_lua_module(lua_State *L);

#endif
