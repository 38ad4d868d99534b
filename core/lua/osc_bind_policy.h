/* octoscale.policy: the policy contract (docs/design.md §7) for scripts and
 * tests, answered by the same C code that loads policies
 * (core/lua/osc_policy.h), so every message is the core's:
 *   check(tbl) -> true | nil, "policy: on_scale_in is 'delet' (expected a
 *     function, or delete, disable or keep)"
 *   decision(hook, value) -> value | nil, "on_scale_in returned 'delet'
 *     (expected delete, disable or keep)"
 *   parse_max_delete("10%") -> {percent = true, value = 10} | nil
 *   hooks: {on_scale_in = {"delete", "disable", "keep"}, ...; false for
 *     target_name and owns}; graces: {"provisioning", "registration",
 *     "orphan"} */
#ifndef OSC_BIND_POLICY_H
#define OSC_BIND_POLICY_H

struct lua_State;

/* require "octoscale.policy": pushes the module table. */
int osc_bind_policy_open(struct lua_State *L);

#endif
