/* Scenario files are YAML; this turns one document into Lua tables so the
 * scenario model (lua/sim/scenario.lua) can validate it with positions. */
#ifndef SIM_YAML_H
#define SIM_YAML_H

#include <lua.h>

/* Lua: simc.yaml_load(path) -> root, positions | nil, "path:line:col: msg".
 * Mappings become tables with string keys, sequences become arrays. Plain
 * scalars become integers, floats, booleans (true/false only: YAML 1.1's
 * yes/no/on/off stay strings) or nil (null, ~, empty); quoted scalars stay
 * strings. Anchors and aliases are supported; merge keys are not.
 * positions[t][key] is "line:col" of each key (or index) of table t. */
int sim_yaml_lua_load(lua_State *L);

#endif
