/* The Octopus machine parser (core/osc_parse.h) over an arbitrary
 * collection answer's Items[] (or a bare array). */
#include "tests/fuzz/fuzz.h"

#include "core/osc_model.h"
#include "core/osc_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct osc_json_doc *doc = fuzz_decode(data, size);
  const struct osc_json_value *root = osc_json_root(doc);
  const struct osc_json_value *items = osc_json_get(root, "Items");
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_collection c;

  if (doc == NULL)
    return 0;
  if (osc_json_is_container(root)) {
    osc_collection_init(&c, "fuzz");
    (void)osc_parse_targets(osc_json_is_container(items) ? items : root, &c,
                            &err);
    osc_collection_free(&c);
  }
  osc_json_doc_free(doc);
  return 0;
}
