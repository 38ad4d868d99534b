/* The config loader (core/osc_config.h) over arbitrary YAML. */
#include "tests/fuzz/fuzz.h"

#include "core/osc_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_config *cfg = NULL;

  if (osc_config_load_string("fuzz.yaml", (const char *)data, size, &cfg,
                             &err) == 0 &&
      cfg->n_scale_sets > 0)
    (void)osc_config_find(cfg, cfg->scale_sets[0].name);
  osc_config_free(cfg);
  return 0;
}
