/* Policies: a Lua file returning a table of hooks (DESIGN section 7), loaded
 * into its own sandbox (core/osc_sandbox.h) and exposed to the engine as
 * struct osc_policy_ops. Hook failures come back as OSC_E_POLICY with one
 * line: "policies/x.lua:LINE: on_scale_in returned 'delet' (expected
 * delete, disable or keep)". */
#ifndef OSC_POLICY_H
#define OSC_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "core/osc_config.h"
#include "core/osc_engine.h"
#include "core/osc_error.h"

struct osc_policy;

/* Loads and validates the policy at path for one scale set entry (entry may
 * be NULL: `check` and tests). `now` becomes ctx.now. Syntax errors, a
 * runtime error at load, unknown fields, bad durations and budget overruns
 * (instructions, memory) fail with OSC_E_POLICY naming file and line. */
int osc_policy_load(const char *path, const struct osc_config_scale_set *entry,
                    int64_t now, struct osc_policy **out,
                    struct osc_error *err);

/* The engine's view of the policy; valid while the policy lives. */
const struct osc_policy_ops *osc_policy_get_ops(struct osc_policy *policy);

/* The provisioning grace for `apply --wait` without a duration. */
int osc_policy_provisioning_grace(struct osc_policy *policy, int64_t *out,
                                  struct osc_error *err);

void osc_policy_free(struct osc_policy *policy);

/* `octoscale test [FILE...]`: runs Lua policy tests (files that use
 * require "octoscale.testing") in the sandbox, printing one line per test
 * and a closing "N passed, N failed" line to stdout. *out_failed receives
 * the number of failed tests (a file that fails to load counts as one). */
int osc_policy_run_tests(const char *const *files, size_t n_files,
                         int *out_failed, struct osc_error *err);

#endif
