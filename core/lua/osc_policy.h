/* Policies: a Lua file returning a table of hooks (docs/design.md §7), loaded
 * into its own sandbox (core/lua/osc_sandbox.h) and exposed to the engine as
 * struct osc_policy_ops. Hook failures come back as OSC_E_POLICY with one
 * line: "policies/x.lua:LINE: on_scale_in returned 'delet' (expected
 * delete, disable or keep)". */
#ifndef OSC_POLICY_H
#define OSC_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/osc_config.h"
#include "core/osc_engine.h"
#include "core/osc_error.h"

struct osc_policy;
struct lua_State;

/* The hooks a policy may define, with the answers each accepts. */
enum osc_policy_hook {
  OSC_HOOK_TARGET_NAME = 0,
  OSC_HOOK_ON_SCALE_IN,     /* delete | disable | keep */
  OSC_HOOK_ON_FAILED_VM,    /* delete | disable | keep */
  OSC_HOOK_ON_UNREGISTERED, /* report | ignore */
  OSC_HOOK_ON_IN_SYNC,      /* keep | enable (team extension) */
  OSC_HOOK_OWNS,            /* true | false: is the target the scale set's */
  OSC_HOOK_COUNT,
};

/* Runtime limits of a policy sandbox (core/lua/osc_sandbox.h defaults): 64 MiB,
 * 100 million instructions or 1 s per hook call. */
#define OSC_POLICY_MEMORY_LIMIT ((size_t)64 << 20)

/* Loads and validates the policy at path for one scale set entry (entry may
 * be NULL: `check` and tests). `now` becomes ctx.now. Syntax errors, a
 * runtime error at load, unknown fields, bad durations and budget overruns
 * (instructions, memory) fail with OSC_E_POLICY naming file and line. */
int osc_policy_load(const char *path, const struct osc_config_scale_set *entry,
                    int64_t now, struct osc_policy **out,
                    struct osc_error *err);

/* plan --explain: log every hook call (hook, its arguments in brief, the
 * answer and reason, the policy file:line) at info level; -v logs them at
 * debug level without it. */
void osc_policy_set_explain(struct osc_policy *policy, bool explain);

/* The engine's view of the policy; valid while the policy lives. */
const struct osc_policy_ops *osc_policy_get_ops(struct osc_policy *policy);

/* The provisioning grace for `apply --wait` without a duration. */
int osc_policy_provisioning_grace(struct osc_policy *policy, int64_t *out,
                                  struct osc_error *err);

void osc_policy_free(struct osc_policy *policy);

/* True when the policy defines hook h. */
bool osc_policy_has_hook(const struct osc_policy *policy,
                         enum osc_policy_hook h);

/* The policy's display name ("policies/x.lua", or "policy" for a table). */
const char *osc_policy_name(const struct osc_policy *policy);

/* For core/lua/osc_bind_reconcile.c: a policy over a Lua value inside a running
 * sandbox (L is a sandbox state, called from Lua). The stack holds
 * [..., policy, scale_set, settings]: policy is a table, a path string
 * (loaded into the same sandbox with a fresh environment) or nil (the
 * defaults); scale_set and settings are tables or nil and become
 * ctx.scale_set and ctx.settings. The three values are popped. Never raises:
 * the Lua steps run protected. Hook calls nest inside the caller's budget. */
int osc_policy_from_lua(struct lua_State *L, int64_t now,
                        struct osc_policy **out, struct osc_error *err);

/* For the octoscale.policy library (core/lua/osc_bind_policy.h): the
 * contract's own checks, so scripts and tests see the core's answers. */

/* Validates the value on top of L's stack (popped) as a policy table the
 * way loading a policy file does, under the name "policy": 0, or
 * OSC_E_POLICY with the core's message ("policy: on_scale_in is 'delet'
 * (expected a function, or delete, disable or keep)"). Never raises. */
int osc_policy_check(struct lua_State *L, struct osc_error *err);

/* Is the value at idx an answer the engine takes from the hook called
 * `hook`? 0, or -1 with the core's message in msg ("on_scale_in returned
 * 'delet' (expected delete, disable or keep)", or "unknown hook 'x'"). */
int osc_policy_answer(struct lua_State *L, int idx, const char *hook, char *msg,
                      size_t cap);

/* max_delete at idx as the policy table and the max_delete hook take it:
 * "N%" (0 <= N <= 100), a count, or a count as a string. 0, or -1. */
int osc_policy_max_delete(struct lua_State *L, int idx, struct osc_budget *out);

/* Sets table.hooks ({on_scale_in = {"delete", "disable", "keep"}, ...;
 * false for target_name and owns, whose answers are not words}) and
 * table.graces ({"provisioning", "registration", "orphan"}). */
void osc_policy_set_contract(struct lua_State *L, int table);

#endif
