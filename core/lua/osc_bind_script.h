/* What `octoscale run` adds to a sandbox besides `azure` and `octopus`:
 *
 *  - the `script` namespace: script.sleep(seconds), script.time() (Unix
 *    seconds; OCTOSCALE_NOW when set), script.clock() (monotonic seconds,
 *    for timeouts) and script.getenv(name);
 *  - the live form of the reconcile binding (core/lua/osc_bind_reconcile.h):
 *    reconcile.plan{scale_set = NAME [, force = bool] [, now = t]} collects
 *    that entry through the run's session (token and names cached) and
 *    plans it with the entry's configured policy and the state file's
 *    orphan times, exactly like `octoscale plan -s NAME`; with
 *    policy = P it plans with P instead (a what-if: read-only, and
 *    plan:apply() refuses it);
 *  - running the script: `arg`, varargs, exit code, error line. */
#ifndef OSC_BIND_SCRIPT_H
#define OSC_BIND_SCRIPT_H

#include <lua.h>

#include "core/osc_error.h"

struct osc_sandbox;
struct osc_session;

int luaopen_osc_script(lua_State *L);

/* The `config` namespace: config.scale_sets() lists the configured entries
 * (each like a policy's ctx.scale_set). set_config gives it the run's
 * configuration (borrowed; must outlive L). */
struct osc_config;
int luaopen_osc_config(lua_State *L);
void osc_bind_script_set_config(lua_State *L, const struct osc_config *cfg);

/* Pushes a print() that writes to stdout (scripts report there; policies'
 * print logs). Published as the "print" library of a run sandbox, which
 * replaces the base print. */
int osc_bind_script_open_print(lua_State *L);

/* Registers the live reconcile.plan for session s (which must outlive the
 * sandbox). The reconcile library must have been added. */
int osc_bind_script_set_live(struct osc_sandbox *sb, struct osc_session *s,
                             struct osc_error *err);

/* Loads script (text only) into sb, sets `arg` (arg[0] = script), calls it
 * with args as `...` and converts its result to *out_exit (integer: as is;
 * nil, none or true: 0; false: 1). A load failure is OSC_E_USAGE, a Lua
 * error OSC_E_RUNTIME with "script.lua:LINE: message". */
int osc_bind_script_run(struct osc_sandbox *sb, const char *script, int argc,
                        char **argv, int *out_exit, struct osc_error *err);

#endif
