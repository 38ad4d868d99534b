/* The Octopus machine parser (core/osc_parse.h) over an arbitrary
 * collection answer's Items[] (or a bare array). */
#include "tests/fuzz/fuzz.h"

#include "core/osc_model.h"
#include "core/osc_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_State *L = fuzz_json_state();
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_collection c;

  if (fuzz_decode(L, data, size) < 0)
    return 0;
  if (lua_type(L, 1) == LUA_TTABLE) {
    lua_getfield(L, 1, "Items");
    osc_collection_init(&c, "fuzz");
    (void)osc_parse_targets(L, lua_type(L, 2) == LUA_TTABLE ? 2 : 1, &c, &err);
    osc_collection_free(&c);
  }
  lua_settop(L, 0);
  return 0;
}
