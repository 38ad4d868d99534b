/* Read-only views of Lua tables (ctx.settings inside policy hooks,
 * docs/design.md §7): a view reads through to its table, nested tables
 * come back as views too, and any write (assignment or rawset) raises
 * "policies/x.lua:LINE: attempt to modify read-only ctx.settings" at the
 * line that tried. Length, ipairs, pairs and next (the sandbox's, below)
 * work; rawget and rawlen see an empty table. */
#ifndef OSC_READONLY_H
#define OSC_READONLY_H

#include <lua.h>

/* [.., t] -> [.., view of t] named `what` in errors; other values stay. */
void osc_readonly_view(lua_State *L, const char *what);

/* Pushes the table behind the view at idx, or the value at idx itself
 * when it is no view (C validators iterate the real table). */
void osc_readonly_push_real(lua_State *L, int idx);

/* The sandbox's next(t, k): a view's fields (nested tables as views),
 * else the plain next. */
int osc_readonly_lua_next(lua_State *L);

/* rawset refuses the table at idx from now on ("attempt to modify
 * read-only <what>"): the sandbox's libraries and the views. The marks
 * live here so that the sandbox, which uses this module, is not used by
 * it. */
void osc_readonly_mark(lua_State *L, int idx, const char *what);

/* Pushes what the table at idx was marked as (a string), or nil; returns
 * its Lua type. */
int osc_readonly_push_mark(lua_State *L, int idx);

#endif
