/* What the script bindings (core/lua/osc_bind_azure.c, osc_bind_octopus.c,
 * osc_bind_script.c) share: the run's session, the error table, VM and
 * target tables (the fields policies see, docs/design.md §7), JSON through the
 * sandbox's lua-cjson, and a protected push so no Lua error unwinds past
 * C-owned memory. */
#ifndef OSC_BIND_COMMON_H
#define OSC_BIND_COMMON_H

#include <stdbool.h>
#include <stddef.h>

#include <lua.h>

#include "core/osc_apierr.h"
#include "core/osc_model.h"

struct osc_session;

/* The session behind azure.client() and octopus.client() (borrowed; must
 * outlive L). NULL means clients are unavailable; `why` (copied, may be
 * NULL) says why, for the nil, err they return. */
void osc_bind_set_session(lua_State *L, struct osc_session *s, const char *why);
/* The session, or NULL; *why (may be NULL) then says why (the string is
 * kept alive by the registry). */
struct osc_session *osc_bind_get_session(lua_State *L, const char **why);

/* Pushes nil and an error table {status=, code=, message=, request_id=}
 * whose __tostring is `line` (one line); returns 2. Raises only on memory
 * errors, so call it with no C memory held. */
int osc_bind_push_fail(lua_State *L, const struct osc_apierr *detail,
                       const char *line);

struct osc_collect_result;

/* nil, err for a collection that failed (auth, names) or is incomplete
 * (code "Incomplete"); frees r first, so no C memory is held when it
 * pushes. Returns 2. */
int osc_bind_push_collect_fail(lua_State *L, struct osc_collect_result *r);

/* Calls fn(L) with ud (a light userdata) in protected mode, leaving
 * nresults values. Returns the lua_pcall status; on failure the error
 * object is on the stack: free C memory, then lua_error(L). */
int osc_bind_ppush(lua_State *L, lua_CFunction fn, void *ud, int nresults);

/* One casing for the states the API returns (docs/design.md §7): an ARM
 * provisioning state as ARM documents it ("Succeeded", whatever case the
 * response used: ARM writes "succeeded" on some scale sets); anything
 * else unchanged. */
const char *osc_bind_state_name(const char *state);

/* Tables for the model (same fields as the policy hooks get). */
void osc_bind_push_vm(lua_State *L, const struct osc_vm *vm);
void osc_bind_push_target(lua_State *L, const struct osc_target *t);
void osc_bind_push_strlist(lua_State *L, const struct osc_strlist *l);

/* A config value (settings) as Lua values; nil past 64 levels. */
struct osc_value;
void osc_bind_push_value(lua_State *L, const struct osc_value *v, int depth);

/* A config entry as ctx.scale_set and config.scale_sets() give it: name,
 * resource_group, vmss, subscription, environment, roles, tenant, policy,
 * settings. */
struct osc_config_scale_set;
void osc_bind_push_entry(lua_State *L, const struct osc_config_scale_set *e);

/* Decodes buf with cjson and pushes the value; pushes nil when buf is empty
 * or not JSON (returns 0 then, 1 when decoded). */
int osc_bind_push_json(lua_State *L, const char *buf, size_t len);

/* Body argument of request(): a string is sent as is, a table is encoded
 * with cjson (note: an empty table encodes as {}). Pushes the string (or
 * nothing and returns false when the argument is none/nil). */
bool osc_bind_body_arg(lua_State *L, int idx);

/* luaL_checkstring that also refuses a string holding a NUL byte: C would
 * read "Machines-1\0x" as "Machines-1". Raises (misuse). */
const char *osc_bind_check_text(lua_State *L, int arg);

/* The method argument of a raw request(): GET, PUT, POST, PATCH or DELETE in
 * any case; returns the upper-case name. Raises (misuse) otherwise. */
const char *osc_bind_check_method(lua_State *L, int arg);

/* Reads a duration argument: seconds (number) or "90s"/"5m"/"1h30m".
 * Raises (misuse) when malformed; returns def when absent. */
long long osc_bind_duration(lua_State *L, int idx, const char *field,
                            long long def);

/* "file:LINE: " of the innermost Lua caller outside the embedded library
 * (lua/octoscale/), else of the innermost Lua caller; "" when none. */
void osc_bind_user_where(lua_State *L, char *out, size_t cap);

/* Raises "file:LINE: message" at the innermost Lua caller outside the
 * embedded library (a script's or test's line): misuse of the API. */
int osc_bind_raise_at_user(lua_State *L, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Option tables: every key of the table at idx must be one of keys
 * (NULL-terminated); anything else raises at the caller's line:
 * "fn: unknown option 'scaleset' (did you mean 'scale_set'?)". Nothing
 * when idx is not a table. */
void osc_bind_check_keys(lua_State *L, int idx, const char *fn,
                         const char *const *keys);

#endif
