/* Line coverage of policy files for `octoscale test --coverage`: the lines
 * a sandbox runs, against the lines the policy's functions have (the chunk,
 * its hooks and the functions they reach through upvalues). Library and
 * *_test.lua files are left out. */
#ifndef OSC_COVERAGE_H
#define OSC_COVERAGE_H

#include <stdbool.h>
#include <stdio.h>

#include "core/osc_error.h"

struct osc_sandbox;
struct lua_State;

/* Starts recording in sb (protected; may fail for memory). */
int osc_coverage_enable(struct osc_sandbox *sb, struct osc_error *err);

/* True when sb's state records coverage. */
bool osc_coverage_on(struct lua_State *L);

/* Marks the lines of the function at idx, and of the Lua functions it
 * reaches through upvalues or holds in a table at idx, as lines to run.
 * Raises only on memory errors. */
void osc_coverage_add(struct lua_State *L, int idx);

/* Prints one line per policy file: "coverage: FILE: N/M lines (P%);
 * not run: 12, 15-17". */
int osc_coverage_print(struct osc_sandbox *sb, FILE *f, struct osc_error *err);

#endif
