/* The `reconcile` Lua namespace (docs/design.md §7).
 *
 * Offline form, here: reconcile.plan{instances = {...}, targets = {...},
 * policy = <table | path | nil>, now = <unix seconds>, state =
 * {orphaned_since = {[target_id] = t}}, scope = {environment_id =, roles =,
 * tenant_id =}, scale_set = <config entry table | name>, settings = {...},
 * capacity = n, complete = bool, incomplete_reason = s, force = bool}
 * builds a struct osc_collection from the tables, runs osc_engine_plan and
 * returns an "octoscale.Plan" userdata with :actions(), :summary(),
 * :outputs(), :status(), :exit_code(), :orphans(), :message(), :close().
 *
 * Live form, later: reconcile.plan{scale_set = NAME} (no `instances`) and
 * Plan:apply() are served by whoever registers a struct osc_reconcile_live
 * (the online binding); without one they raise "... is not available".
 *
 * Misuse raises "file:LINE: bad argument #1 to 'reconcile.plan' (...)" at
 * the first caller outside the embedded octoscale library (so t.plan blames
 * the test's line). C memory is owned by the Plan userdata before anything
 * can raise. */
#ifndef OSC_BIND_RECONCILE_H
#define OSC_BIND_RECONCILE_H

#include <stdbool.h>
#include <stdint.h>

#include <lua.h>

#include "core/osc_engine.h"
#include "core/osc_error.h"

struct osc_sandbox;

#define OSC_PLAN_METATABLE "octoscale.Plan"

/* lua_CFunction: pushes the namespace table (for struct osc_sandbox_lib). */
int osc_bind_reconcile_open(lua_State *L);

/* The seam for the live binding. Both callbacks run as Lua C functions
 * (they may raise) and return their number of results, like a
 * lua_CFunction:
 *   plan:  the argument table is at index 1; push a Plan made with
 *          osc_bind_reconcile_new_plan (or nil, err for an operational
 *          failure).
 *   apply: the Plan userdata is at index 1 (remaining arguments follow). */
struct osc_reconcile_live {
  void *payload;
  int (*plan)(lua_State *L, void *payload);
  int (*apply)(lua_State *L, void *payload);
};

/* Registers live (copied) in sb's state; call after the reconcile library
 * was added. */
int osc_bind_reconcile_set_live(struct osc_sandbox *sb,
                                const struct osc_reconcile_live *live,
                                struct osc_error *err);

/* Pushes an empty Plan userdata and returns its slot: store the plan there
 * at once (the userdata frees it). Raises on memory errors, so create it
 * before allocating the plan. */
struct osc_plan **osc_bind_reconcile_new_plan(lua_State *L);

/* Keeps tables of col's VMs and of its targets in scope in the Plan
 * userdata at idx, for plan:vms() and plan:targets(). Builds them in
 * protected mode: returns the lua_pcall status (on failure the error is on
 * the stack: free C memory, then lua_error). */
struct osc_collection;
struct osc_scope;
int osc_bind_reconcile_set_inventory(lua_State *L, int idx,
                                     const struct osc_collection *col,
                                     const struct osc_scope *scope);

/* A what-if plan (a live plan made with a script's policy) is never
 * applied: plan:apply() raises. */
void osc_bind_reconcile_set_what_if(lua_State *L, int idx);
bool osc_bind_reconcile_is_what_if(lua_State *L, int idx);

/* [..] -> [..]: loads args.policy (a table, a path resolved beside the
 * caller, or nil for the defaults) with args.scale_set (a table, else none)
 * and args.settings as ctx.scale_set and ctx.settings, for the table at
 * args. Raises at the caller's line when it does not load (hold no C memory
 * when calling). */
struct osc_policy;
int osc_bind_reconcile_load_policy(lua_State *L, int args, int64_t now,
                                   struct osc_policy **out);

/* The plan of the Plan userdata at idx; raises when idx is not an open
 * Plan. */
struct osc_plan *osc_bind_reconcile_check_plan(lua_State *L, int idx);

/* Replaces the plan of the open Plan userdata at idx with plan (which it
 * then owns), freeing the old one: plan:apply() shows the applied plan. */
void osc_bind_reconcile_replace_plan(lua_State *L, int idx,
                                     struct osc_plan *plan);

#endif
