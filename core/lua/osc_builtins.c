/* The octoscale library modules written in C, served by the sandbox's
 * require (core/lua/osc_sandbox.h). They sit here rather than in the
 * sandbox because octoscale.policy is built on policy loading, which is
 * built on the sandbox. */
#include "core/lua/osc_bind_policy.h"
#include "core/lua/osc_bind_time.h"
#include "core/lua/osc_sandbox.h"

const struct osc_sandbox_lib osc_sandbox_builtins[] = {
    {"octoscale.time", osc_bind_time_open},
    {"octoscale.duration", osc_bind_duration_open},
    {"octoscale.policy", osc_bind_policy_open},
    {NULL, NULL},
};
