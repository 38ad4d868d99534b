/* The Lua sandbox: one lua_State per policy (or per test file, or per
 * script) with a capped allocator, only base/string/table/math/utf8, strict
 * globals, an instruction + wall-clock budget, and a single protected entry
 * point. Only this module (with its pattern matcher, core/lua/osc_lpattern.c)
 * and core/osc_bind_*.c touch lua.h.
 *
 * Every chunk gets its own environment: reads fall through to a shared,
 * read-only base (the allowed library); reading or assigning any other name
 * raises "undeclared global 'x'" / "assignment to undeclared global 'x'".
 *
 * Limits (docs/design.md §7): the memory cap covers the whole state;
 * the instruction budget and the deadline are armed by the outermost
 * osc_sandbox_pcall and shared by everything nested inside it (a test
 * function and the policy hooks its plans call). Once a limit trips, the
 * hook fires on every instruction and raises again, so a pcall inside the
 * script cannot swallow it; the outermost call returns OSC_E_POLICY with
 * "policies/x.lua:LINE: execution budget exceeded (...)". */
#ifndef OSC_SANDBOX_H
#define OSC_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "core/osc_error.h"

struct osc_sandbox;

struct osc_sandbox_limits {
  size_t memory_bytes;   /* whole-state allocation cap */
  uint64_t instructions; /* per outermost call */
  int64_t time_ms;       /* per outermost call (the thread's CPU time) */
};

/* 64 MiB, 100 million VM instructions, 1 s of CPU time: `while true do end`
 * stops in about 0.25 s, and the CPU deadline bounds what the instruction
 * count does not see (a long pattern match, a huge string.rep) without
 * failing a sound policy on a loaded machine.
 * Whichever of the two trips, the message is the same:
 * "x.lua:LINE: execution budget exceeded (limit 100000000 instructions or
 * 1000 ms)". */
#define OSC_SANDBOX_LIMITS_DEFAULT                                             \
  { (size_t)64 << 20, UINT64_C(100000000), INT64_C(1000) }

struct osc_sandbox_options {
  /* Tag for print() when the caller cannot be located ("policies/x.lua"). */
  const char *tag;
  struct osc_sandbox_limits limits;
};

/* A library a host can publish in a sandbox: a global and a require()able
 * module of that name (`reconcile`, later `azure`, ...). */
struct osc_sandbox_lib {
  const char *name;
  lua_CFunction open; /* pushes the module table */
};

/* The library modules written in C (require "octoscale.time",
 * "octoscale.duration", "octoscale.policy"), listed in
 * core/lua/osc_builtins.c the way Lua's linit.c lists its libraries, so the
 * sandbox includes none of them. Ends with an entry whose name is NULL. */
extern const struct osc_sandbox_lib osc_sandbox_builtins[];

/* Creates a sandbox. Setup runs in protected mode; a memory error during it
 * is an error, never a panic. */
int osc_sandbox_new(const struct osc_sandbox_options *opts,
                    struct osc_sandbox **out, struct osc_error *err);

void osc_sandbox_free(struct osc_sandbox *sb);

lua_State *osc_sandbox_state(struct osc_sandbox *sb);

/* The sandbox that owns L (NULL when L was not made by osc_sandbox_new). */
struct osc_sandbox *osc_sandbox_from_state(lua_State *L);

/* Publishes lib->open()'s table as a global and as require(name). */
int osc_sandbox_add_lib(struct osc_sandbox *sb,
                        const struct osc_sandbox_lib *lib,
                        struct osc_error *err);

/* Reads a text chunk from path (bounded: 4 MiB), compiles it with chunk name
 * "@<display>" where display is path made relative to the working directory
 * when it lies below it, gives it a fresh strict environment and pushes the
 * function. Syntax errors come back as OSC_E_POLICY "x.lua:LINE: ...". An
 * unreadable file is OSC_E_POLICY too. Nothing is pushed on failure. */
int osc_sandbox_load_file(struct osc_sandbox *sb, const char *path,
                          struct osc_error *err);

/* Same from memory; chunk_name is used as given ("@lua/octoscale/x.lua",
 * "=(test)"). Binary chunks are refused. */
int osc_sandbox_load_buffer(struct osc_sandbox *sb, const char *buf, size_t len,
                            const char *chunk_name, struct osc_error *err);

/* Like lua_pcall(L, nargs, nresults, msgh) with the sandbox's message
 * handler and budget: the function and its nargs arguments are on the
 * stack. On success the results replace them; on failure nothing is left
 * and err gets OSC_E_POLICY with the first line of the handler's message
 * ("policies/x.lua:42: message"); the traceback is kept (see
 * osc_sandbox_traceback) and logged at debug level. Safe to nest (from C
 * functions called by Lua): only the outermost call arms the budget. */
int osc_sandbox_pcall(struct osc_sandbox *sb, int nargs, int nresults,
                      struct osc_error *err);

/* Runs fn(L) in protected mode with ud as its only argument (a light
 * userdata), for C steps that allocate in Lua (building tables, refs).
 * fn's results are left on the stack (nresults of them). Errors as for
 * osc_sandbox_pcall. */
int osc_sandbox_cpcall(struct osc_sandbox *sb, lua_CFunction fn, void *ud,
                       int nresults, struct osc_error *err);

/* Charges steps of work done inside one C function (the pattern matcher)
 * to the budget of the running outermost call, as if they were VM
 * instructions; raises the budget error when a limit is passed (or has
 * tripped already). Nothing outside a sandbox call. Lua context. */
void osc_sandbox_charge(lua_State *L, uint64_t steps);

/* The traceback of the last failed call ("" when none). */
const char *osc_sandbox_traceback(const struct osc_sandbox *sb);

/* Memory currently allocated by the state, in bytes. */
size_t osc_sandbox_memory(const struct osc_sandbox *sb);

/* The display name for a script path (relative to the working directory
 * when below it), as used in chunk names. */
void osc_sandbox_display_name(const char *path, char *out, size_t cap);

/* Pushes a fresh strict environment table (for load() and library code
 * that compiles chunks itself). Must run in Lua context (may raise). */
void osc_sandbox_push_env(lua_State *L);

/* require(name) from C, in Lua context (raises like require): pushes the
 * module. */
void osc_sandbox_require(lua_State *L, const char *name);

/* print(...) as a C function: joins its arguments with tabs and logs them
 * at info level tagged with the caller's "file:LINE" (prefixed with upvalue
 * 1 when it is a string). */
int osc_sandbox_lua_print(lua_State *L);

/* plan --explain: while on, the sandbox notes "file:LINE" of every Lua
 * function's return; after a call, osc_sandbox_last_return names the
 * `return` that produced its answer (the outermost function returns last).
 * Turning it on or off clears the note. */
void osc_sandbox_track_returns(struct osc_sandbox *sb, bool on);
const char *osc_sandbox_last_return(const struct osc_sandbox *sb);

/* Inserts "name: " after the "file:LINE: " position of msg (or at the start
 * when msg has none): "p.lua:3: boom" -> "p.lua:3: on_scale_in: boom". */
void osc_sandbox_tag_message(const char *msg, const char *name, char *out,
                             size_t cap);

/* Calls hook on every line the sandbox runs (NULL: off), for line
 * coverage (core/lua/osc_coverage.h). Slows execution; tests only. */
void osc_sandbox_set_line_hook(struct osc_sandbox *sb, lua_Hook hook);

#endif
