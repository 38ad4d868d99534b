/* The ARM body parsers (core/osc_parse.h) over an arbitrary answer: as a
 * VMSS GET body, and its value[] as a VM list page and a NIC list page. */
#include "tests/fuzz/fuzz.h"

#include "core/osc_model.h"
#include "core/osc_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_State *L = fuzz_json_state();
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_collection c;

  if (fuzz_decode(L, data, size) < 0)
    return 0;
  osc_collection_init(&c, "fuzz");
  (void)osc_parse_vmss(L, 1, &c, &err);
  if (lua_type(L, 1) == LUA_TTABLE) {
    lua_getfield(L, 1, "value");
    if (lua_type(L, 2) == LUA_TTABLE) {
      (void)osc_parse_vms(L, 2, &c, &err);
      (void)osc_parse_nics(L, 2, &c, &err);
    }
  }
  osc_collection_free(&c);
  lua_settop(L, 0);
  return 0;
}
