/* A policy's settings_schema: a declarative description of the settings a
 * scale set entry may pass it (README "Checked settings"), checked by
 * `check` and `plan` before any hook runs. The schema is a Lua table of
 * field specs; a spec is a type name ("string", "number", "integer",
 * "boolean", "duration", "time", "table", "any") or a table
 * { type =, required =, enum = {...}, list = spec, fields = {...},
 *   map = spec }. Unknown settings keys are rejected. */
#ifndef OSC_SCHEMA_H
#define OSC_SCHEMA_H

#include <stddef.h>

struct lua_State;

#define OSC_SCHEMA_DEPTH 16
#define OSC_SCHEMA_MSG 400

/* Where a value failed: the path from the settings root, as keys (strings)
 * and list indexes (key NULL). */
struct osc_schema_path {
  struct {
    const char *key; /* valid while the settings table lives */
    long long index; /* 1-based, when key is NULL */
  } seg[OSC_SCHEMA_DEPTH];
  size_t n;
};

struct osc_schema_failure {
  struct osc_schema_path path;
  char msg[OSC_SCHEMA_MSG]; /* "settings.freeze[1].from is '27/11' (...)" */
};

/* Checks the schema at index sidx itself (unknown type names or spec keys):
 * 0, or -1 with msg "settings_schema.freeze.list.from: unknown type
 * 'tiem'". Raises only on memory errors (call it protected). */
int osc_schema_check(struct lua_State *L, int sidx, char *msg, size_t cap);

/* Validates the settings table at vidx against the schema at sidx: 0, or -1
 * with *out filled. Raises only on memory errors (call it protected). */
int osc_schema_validate(struct lua_State *L, int sidx, int vidx,
                        struct osc_schema_failure *out);

/* "settings.freeze[1].from" */
void osc_schema_path_format(const struct osc_schema_path *p, char *out,
                            size_t cap);

#endif
