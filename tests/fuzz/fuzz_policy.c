/* Policy loading (core/lua/osc_policy.h): an arbitrary Lua file loaded and
 * validated in the sandbox, with its instruction and memory budgets. */
#include "tests/fuzz/fuzz.h"

#include "core/lua/osc_policy.h"

#define FUZZ_NOW 1795773600 /* 2026-11-27T10:00:00Z */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_policy *policy = NULL;
  const char *path = fuzz_write_file("policy.lua", data, size);
  int64_t grace = 0;

  if (path == NULL)
    return 0;
  if (osc_policy_load(path, NULL, FUZZ_NOW, &policy, &err) == 0)
    (void)osc_policy_provisioning_grace(policy, &grace, &err);
  osc_policy_free(policy);
  return 0;
}
