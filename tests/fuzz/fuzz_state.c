/* The state reader (core/osc_state.h) over an arbitrary state file. */
#include "tests/fuzz/fuzz.h"

#include "core/osc_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_state *state = NULL;
  const char *path = fuzz_write_file("state.json", data, size);

  if (path == NULL)
    return 0;
  if (osc_state_load(path, &state, &err) == 0 && state->n_sets > 0)
    (void)osc_state_find(state, state->sets[0].name);
  osc_state_free(state);
  return 0;
}
