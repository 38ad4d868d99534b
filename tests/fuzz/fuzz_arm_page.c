/* The ARM body parsers (core/osc_parse.h) over an arbitrary answer: as a
 * VMSS GET body, and its value[] as a VM list page and a NIC list page. */
#include "tests/fuzz/fuzz.h"

#include "core/osc_model.h"
#include "core/osc_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct osc_json_doc *doc = fuzz_decode(data, size);
  const struct osc_json_value *value;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_collection c;

  if (doc == NULL)
    return 0;
  osc_collection_init(&c, "fuzz");
  (void)osc_parse_vmss(osc_json_root(doc), &c, &err);
  value = osc_json_get(osc_json_root(doc), "value");
  if (osc_json_is_container(value)) {
    (void)osc_parse_vms(value, &c, &err);
    (void)osc_parse_nics(value, &c, &err);
  }
  osc_collection_free(&c);
  osc_json_doc_free(doc);
  return 0;
}
