#include "core/lua/osc_lua_release.h"

#include <lua.h>

const char *osc_lua_release(void) {
  return LUA_RELEASE;
}
