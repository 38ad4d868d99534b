/* The snapshot reader (core/osc_snapshot.h): load an arbitrary document,
 * then collect two config entries from it (scope by environment name, and
 * by ids with a tenant), which parses the raw VMSS, VM and machine bodies. */
#include "tests/fuzz/fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/osc_config.h"
#include "core/osc_snapshot.h"

static const char CONFIG[] = "octopus:\n"
                             "  url: https://octopus.example.com\n"
                             "azure:\n"
                             "  subscription: sub\n"
                             "scale_sets:\n"
                             "  - name: web-prod\n"
                             "    resource_group: rg-web\n"
                             "    vmss: vmss-web\n"
                             "    environment: Production\n"
                             "    roles: [web-server]\n"
                             "  - name: api-prod\n"
                             "    resource_group: rg-api\n"
                             "    vmss: vmss-api\n"
                             "    environment: Environments-1\n"
                             "    tenant: Tenants-1\n"
                             "    roles: [api-server]\n";

static const struct osc_config *config(void) {
  static struct osc_config *cfg;
  struct osc_error err = OSC_ERROR_INIT;

  if (cfg == NULL && osc_config_load_string("fuzz.yaml", CONFIG, strlen(CONFIG),
                                            &cfg, &err) < 0) {
    fprintf(stderr, "fuzz: %s\n", err.msg);
    abort();
  }
  return cfg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const struct osc_config *cfg = config();
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_snapshot *snap = NULL;
  const char *path = fuzz_write_file("snapshot.json", data, size);
  size_t i;

  if (path == NULL || osc_snapshot_load(path, &snap, &err) < 0)
    return 0;
  for (i = 0; i < cfg->n_scale_sets; i++) {
    struct osc_collection c;
    struct osc_scope scope;

    osc_collection_init(&c, cfg->scale_sets[i].name);
    (void)osc_snapshot_collect(snap, &cfg->scale_sets[i], &c, &scope, &err);
    osc_collection_free(&c);
  }
  osc_snapshot_free(snap);
  return 0;
}
