/* JSON decoding through lua-cjson (the project's only JSON library): a
 * private, non-sandboxed lua_State holds decoded documents while C code
 * reads them into typed structs. Encoding of ordered output is in
 * core/osc_jsonw.h. */
#ifndef OSC_JSON_H
#define OSC_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "core/osc_error.h"

/* A fresh state with cjson loaded (as the global-free registry entry used by
 * osc_json_decode). Close it with lua_close. */
int osc_json_state_new(lua_State **out, struct osc_error *err);
/* The same with the caller's allocator (see lua_newstate). */
int osc_json_state_new_alloc(lua_Alloc alloc, void *ud, lua_State **out,
                             struct osc_error *err);

/* Opens lua-cjson into an existing state and leaves the module table on the
 * stack (for the sandbox, which exposes it as `json`). */
int osc_json_open_module(lua_State *L);

/* Decodes buf and pushes the value (one slot) on success; on failure pushes
 * nothing and returns OSC_E_RUNTIME with cjson's message. `what` names the
 * document in the message ("snapshot.json", "VM list page 2"). */
int osc_json_decode(lua_State *L, const char *buf, size_t len, const char *what,
                    struct osc_error *err);

/* Table readers for decoded documents: no metamethods are involved, so these
 * do not raise except on memory errors (callers run under lua_pcall). A
 * missing or mistyped field yields NULL / the fallback. */
const char *osc_json_string(lua_State *L, int idx, const char *key);
/* Follows a dotted path of object keys ("properties.osProfile.computerName").
 */
const char *osc_json_path_string(lua_State *L, int idx, const char *path);
/* Pushes the value at a dotted path (nil when absent); returns its type. */
int osc_json_push_path(lua_State *L, int idx, const char *path);
/* Numbers, or numeric strings (IMDS writes "3599"); false unless the value
 * is an integer that fits in 64 bits (1.5, 1e30 and overflowing strings are
 * refused, never truncated or wrapped). */
bool osc_json_path_int(lua_State *L, int idx, const char *path, int64_t *out);
/* The same for JSON numbers only (a numeric string is refused). */
bool osc_json_path_number_int(lua_State *L, int idx, const char *path,
                              int64_t *out);
bool osc_json_path_bool(lua_State *L, int idx, const char *path, bool *out);

#endif
