#include "core/lua/osc_sandbox.h"

#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "core/osc_buf.h"
#include "core/lua/osc_embedded.h"
#include "core/osc_log.h"
#include "core/lua/osc_lpattern.h"
#include "core/lua/osc_readonly.h"
#include "core/osc_time.h"

/* The count hook fires every HOOK_EVERY VM instructions while armed; once a
 * limit trips it fires on every instruction. */
#define HOOK_EVERY 1000
/* The CPU clock is read every 8,000 instructions: some microseconds apart. */
#define CLOCK_EVERY 8000
/* Room for the error message and traceback once the memory cap tripped. */
#define MEM_SLACK ((size_t)1 << 20)
#define MAX_SCRIPT_BYTES ((size_t)4 << 20)
#define TRACEBACK_MAX 4096
/* print() and ctx.log output per sandbox (per run of a policy): a policy
 * that prints in a loop must not fill the disk of the worker. */
#define PRINT_MAX ((size_t)1 << 20)

struct osc_sandbox {
  lua_State *L;
  struct osc_sandbox_limits limits;
  char tag[256];
  char lua_path[1024]; /* OCTOSCALE_LUA_PATH: load the library from disk */
  size_t used;
  size_t printed; /* bytes of print() output so far, up to PRINT_MAX */

  /* Budget of the outermost call. */
  int depth;
  uint64_t count;
  int64_t cpu_deadline_ms; /* osc_time_thread_cpu_ms() limit */
  uint64_t clock_read_at;  /* count at the last read of the CPU clock */
  bool tripped;            /* a limit tripped: raise on every instruction */
  bool mem_tripped;        /* the memory cap tripped (slack allowed) */
  char trip_msg[OSC_ERROR_MAX]; /* "x.lua:3: execution budget ..." */

  /* A refused growth; the identical retry after Lua's emergency GC is the
   * definitive refusal. */
  bool refused;
  bool mem_refused;    /* any refusal during this outer call */
  char mem_where[512]; /* where the last refusal happened */
  void *refused_ptr;
  size_t refused_osize;
  size_t refused_nsize;

  char traceback[TRACEBACK_MAX];
  lua_Hook line_hook;    /* coverage: called on every line event */
  bool track_returns;    /* plan --explain: where the answer came from */
  char last_return[256]; /* "policies/x.lua:12" of the last Lua return */
};

static void sb_hook(lua_State *L, lua_Debug *ar);

static int hook_mask(const struct osc_sandbox *sb) {
  return LUA_MASKCOUNT | (sb->line_hook != NULL ? LUA_MASKLINE : 0) |
         (sb->track_returns ? LUA_MASKRET : 0);
}

void osc_sandbox_track_returns(struct osc_sandbox *sb, bool on) {
  sb->track_returns = on;
  sb->last_return[0] = '\0';
  if (!sb->tripped)
    lua_sethook(sb->L, sb_hook, hook_mask(sb), HOOK_EVERY);
}

const char *osc_sandbox_last_return(const struct osc_sandbox *sb) {
  return sb->last_return;
}

void osc_sandbox_set_line_hook(struct osc_sandbox *sb, lua_Hook hook) {
  sb->line_hook = hook;
  if (!sb->tripped)
    lua_sethook(sb->L, sb_hook, hook_mask(sb), HOOK_EVERY);
}

/* Registry keys (addresses, never strings). */
static const char base_key = 'b';
static const char envmt_key = 'e';
static const char loaded_key = 'l';
static const char loading_key = 'i';

static void sb_hook(lua_State *L, lua_Debug *ar);

/* --- allocator ----------------------------------------------------- */

/* Formats "source:LINE: " of the innermost Lua function from `level` up
 * (empty when there is none). Reads only; safe inside the allocator. */
static void where_from(lua_State *L, int level, char *out, size_t cap) {
  lua_Debug ar;

  out[0] = '\0';
  while (lua_getstack(L, level, &ar)) {
    if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
      snprintf(out, cap, "%s:%d: ", ar.short_src, ar.currentline);
      return;
    }
    level++;
  }
}

static void trip(struct osc_sandbox *sb, const char *where,
                 const char *reason) {
  if (sb->tripped)
    return;
  sb->tripped = true;
  snprintf(sb->trip_msg, sizeof(sb->trip_msg), "%s%s", where, reason);
  /* From now on every instruction raises again (Redis's trick), so a
   * pcall in the script cannot swallow the limit. */
  lua_sethook(sb->L, sb_hook, LUA_MASKCOUNT, 1);
}

static void mem_trip(struct osc_sandbox *sb) {
  char where[512];
  char reason[128];

  sb->mem_tripped = true;
  if (sb->L == NULL || sb->depth == 0 || sb->tripped)
    return;
  where_from(sb->L, 0, where, sizeof(where));
  snprintf(reason, sizeof(reason), "memory limit exceeded (limit %zu MiB)",
           sb->limits.memory_bytes >> 20);
  trip(sb, where, reason);
}

static void *sb_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  struct osc_sandbox *sb = ud;
  size_t old = ptr != NULL ? osize : 0;
  void *p;

  if (nsize == 0) {
    free(ptr);
    sb->used -= old;
    return NULL;
  }
  if (nsize > old) {
    size_t limit = sb->limits.memory_bytes + (sb->mem_tripped ? MEM_SLACK : 0);
    size_t grow = nsize - old;

    if (grow > limit || sb->used > limit - grow) {
      bool retry = sb->refused && sb->refused_ptr == ptr &&
                   sb->refused_osize == osize && sb->refused_nsize == nsize;

      if (sb->L != NULL && sb->depth > 0) {
        sb->mem_refused = true;
        where_from(sb->L, 0, sb->mem_where, sizeof(sb->mem_where));
      }
      if (!retry) {
        sb->refused = true;
        sb->refused_ptr = ptr;
        sb->refused_osize = osize;
        sb->refused_nsize = nsize;
        return NULL; /* Lua collects garbage and asks again */
      }
      sb->refused = false;
      mem_trip(sb);
      limit = sb->limits.memory_bytes + MEM_SLACK;
      if (grow > limit || sb->used > limit - grow)
        return NULL;
    }
  }
  p = realloc(ptr, nsize);
  if (p == NULL)
    return NULL;
  sb->used = sb->used - old + nsize;
  if (nsize > old)
    sb->refused = false;
  return p;
}

/* --- budget hook --------------------------------------------------- */

/* Adds steps to the outer call's count; true when a limit is passed. The
 * message is the same for both limits: which trips first depends on the
 * machine's speed, and the message must not. */
static bool over_budget(struct osc_sandbox *sb, uint64_t steps, char *reason,
                        size_t cap) {
  sb->count += steps;
  if (sb->count <= sb->limits.instructions) {
    /* Reading the CPU clock is a system call: once per CLOCK_EVERY steps. */
    if (sb->count - sb->clock_read_at < CLOCK_EVERY)
      return false;
    sb->clock_read_at = sb->count;
    if (osc_time_thread_cpu_ms() <= sb->cpu_deadline_ms)
      return false;
  }
  snprintf(reason, cap,
           "execution budget exceeded (limit %" PRIu64
           " instructions or %" PRId64 " ms)",
           sb->limits.instructions, sb->limits.time_ms);
  return true;
}

static void sb_hook(lua_State *L, lua_Debug *ar) {
  struct osc_sandbox *sb = osc_sandbox_from_state(L);
  char where[512];
  char reason[128];

  if (sb == NULL)
    return;
  if (ar->event == LUA_HOOKLINE) {
    if (sb->line_hook != NULL && !sb->tripped)
      sb->line_hook(L, ar);
    return;
  }
  if (ar->event == LUA_HOOKRET) {
    /* The outermost function of a call returns last: its line stays. */
    if (sb->track_returns && !sb->tripped && lua_getinfo(L, "Sl", ar) &&
        ar->currentline > 0)
      snprintf(sb->last_return, sizeof(sb->last_return), "%s:%d", ar->short_src,
               ar->currentline);
    return;
  }
  if (sb->depth == 0 && !sb->tripped) {
    /* Only a finalizer runs Lua outside a call: stop it. */
    luaL_error(L, "code ran outside a sandbox call (finalizer)");
    return;
  }
  if (!sb->tripped && ar->event == LUA_HOOKCOUNT) {
    where[0] = '\0';
    if (!over_budget(sb, HOOK_EVERY, reason, sizeof(reason)))
      return;
    if (lua_getinfo(L, "Sl", ar) && ar->currentline > 0)
      snprintf(where, sizeof(where), "%s:%d: ", ar->short_src, ar->currentline);
    trip(sb, where, reason);
  }
  if (sb->tripped) {
    lua_pushstring(L, sb->trip_msg);
    lua_error(L);
  }
}

void osc_sandbox_charge(lua_State *L, uint64_t steps) {
  struct osc_sandbox *sb = osc_sandbox_from_state(L);
  char where[512];
  char reason[128];

  if (sb == NULL || (sb->depth == 0 && !sb->tripped))
    return; /* not under a budget (setup, host code) */
  if (!sb->tripped && over_budget(sb, steps, reason, sizeof(reason))) {
    where_from(L, 0, where, sizeof(where)); /* the Lua caller's line */
    trip(sb, where, reason);
  }
  if (sb->tripped) {
    lua_pushstring(L, sb->trip_msg);
    lua_error(L);
  }
}

/* --- message handler and error shape ------------------------------- */

/* Length of the "source:LINE: " prefix of msg's first line, or 0. */
static size_t position_len(const char *msg) {
  size_t i = 0;

  if (strncmp(msg, "[string \"", 9) == 0) {
    const char *end = strstr(msg, "\"]");

    if (end == NULL)
      return 0;
    i = (size_t)(end - msg) + 2; /* a source's text may hold ":1: " */
  }
  for (; msg[i] != '\0' && msg[i] != '\n'; i++) {
    size_t j;

    if (msg[i] == ' ' && i > 0 && msg[i - 1] == ':')
      return 0; /* a ": " before any position: none */
    if (msg[i] != ':' || !isdigit((unsigned char)msg[i + 1]))
      continue;
    j = i + 1;
    while (isdigit((unsigned char)msg[j]))
      j++;
    if (msg[j] == ':' && msg[j + 1] == ' ')
      return j + 2;
  }
  return 0;
}

/* lua.c's msghandler, plus: table error objects use __tostring or their
 * `message` field, and a message without a position gets the one of the
 * innermost Lua function (Redis's handler skips C frames likewise). */
static int sb_msgh(lua_State *L) {
  const char *msg = NULL;

  if (lua_type(L, 1) == LUA_TSTRING || lua_type(L, 1) == LUA_TNUMBER) {
    msg = lua_tostring(L, 1);
  } else if (luaL_callmeta(L, 1, "__tostring") &&
             lua_type(L, -1) == LUA_TSTRING) {
    msg = lua_tostring(L, -1);
  } else if (lua_type(L, 1) == LUA_TTABLE &&
             lua_getfield(L, 1, "message") == LUA_TSTRING) {
    msg = lua_tostring(L, -1);
  } else {
    msg =
        lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  if (position_len(msg) == 0) {
    char where[512];

    where_from(L, 1, where, sizeof(where));
    if (where[0] != '\0')
      msg = lua_pushfstring(L, "%s%s", where, msg);
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

static int finish_error(struct osc_sandbox *sb, int status,
                        struct osc_error *err) {
  lua_State *L = sb->L;
  const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                                                   : "(error object lost)";
  const char *nl = strchr(msg, '\n');
  size_t first = nl != NULL ? (size_t)(nl - msg) : strlen(msg);
  int code = OSC_E_POLICY;

  sb->traceback[0] = '\0';
  if (nl != NULL)
    snprintf(sb->traceback, sizeof(sb->traceback), "%s", nl + 1);
  if (sb->tripped) {
    osc_error_set(err, code, "%s", sb->trip_msg);
  } else if (sb->mem_refused &&
             (status == LUA_ERRMEM || strstr(msg, "not enough memory"))) {
    /* A single allocation past the cap (string.rep, a buffer). */
    osc_error_set(err, code, "%smemory limit exceeded (limit %zu MiB)",
                  sb->mem_where, sb->limits.memory_bytes >> 20);
  } else if (status == LUA_ERRMEM) {
    code = OSC_E_NOMEM;
    osc_error_set(err, code, "out of memory");
  } else {
    osc_error_set(err, code, "%.*s", (int)first, msg);
  }
  if (sb->traceback[0] != '\0' && osc_log_enabled(OSC_LOG_DEBUG)) {
    const char *p = sb->traceback;

    while (*p) {
      const char *e = strchr(p, '\n');
      size_t n = e != NULL ? (size_t)(e - p) : strlen(p);

      osc_log(OSC_LOG_DEBUG, sb->tag, "%.*s", (int)n, p);
      p += n + (e != NULL);
    }
  }
  return code;
}

int osc_sandbox_pcall(struct osc_sandbox *sb, int nargs, int nresults,
                      struct osc_error *err) {
  lua_State *L = sb->L;
  int base = lua_gettop(L) - nargs; /* the function */
  bool outer = sb->depth == 0;
  int status;
  int rc = OSC_OK;

  if (!lua_checkstack(L, 4)) {
    lua_pop(L, nargs + 1);
    return osc_error_set(err, OSC_E_POLICY, "Lua stack overflow");
  }
  lua_pushcfunction(L, sb_msgh);
  lua_insert(L, base); /* [msgh, f, args...] */
  if (outer) {
    sb->count = 0;
    sb->cpu_deadline_ms = osc_time_thread_cpu_ms() + sb->limits.time_ms;
    sb->clock_read_at = 0;
    sb->tripped = false;
    sb->mem_tripped = false;
    sb->mem_refused = false;
    sb->refused = false;
  }
  sb->depth++;
  status = lua_pcall(L, nargs, nresults, base);
  sb->depth--;
  if (status != LUA_OK) {
    rc = finish_error(sb, status, err);
    lua_pop(L, 1);
  } else if (outer && sb->tripped) {
    /* A limit tripped in a nested call whose caller carried on in C. */
    lua_settop(L, base);
    rc = osc_error_set(err, OSC_E_POLICY, "%s", sb->trip_msg);
  }
  lua_remove(L, base); /* msgh */
  if (outer) {
    sb->tripped = false;
    sb->mem_tripped = false;
    lua_sethook(L, sb_hook, hook_mask(sb), HOOK_EVERY);
  }
  return rc;
}

int osc_sandbox_cpcall(struct osc_sandbox *sb, lua_CFunction fn, void *ud,
                       int nresults, struct osc_error *err) {
  lua_State *L = sb->L;

  if (!lua_checkstack(L, 4))
    return osc_error_set(err, OSC_E_POLICY, "Lua stack overflow");
  lua_pushcfunction(L, fn);
  lua_pushlightuserdata(L, ud);
  return osc_sandbox_pcall(sb, 1, nresults, err);
}

const char *osc_sandbox_traceback(const struct osc_sandbox *sb) {
  return sb->traceback;
}

size_t osc_sandbox_memory(const struct osc_sandbox *sb) {
  return sb->used;
}

void osc_sandbox_tag_message(const char *msg, const char *name, char *out,
                             size_t cap) {
  size_t pos = position_len(msg);

  snprintf(out, cap, "%.*s%s: %s", (int)pos, msg, name, msg + pos);
}

/* --- environments -------------------------------------------------- */

static int env_index(lua_State *L) {
  /* [env, key]; upvalue 1: the base table */
  if (lua_type(L, 2) == LUA_TSTRING &&
      lua_getfield(L, lua_upvalueindex(1), lua_tostring(L, 2)) != LUA_TNIL)
    return 1;
  if (lua_type(L, 2) == LUA_TSTRING)
    return luaL_error(L, "undeclared global '%s'", lua_tostring(L, 2));
  return luaL_error(L, "undeclared global (a %s key)", luaL_typename(L, 2));
}

static int env_newindex(lua_State *L) {
  if (lua_type(L, 2) == LUA_TSTRING)
    return luaL_error(L, "assignment to undeclared global '%s'",
                      lua_tostring(L, 2));
  return luaL_error(L, "assignment to undeclared global (a %s key)",
                    luaL_typename(L, 2));
}

void osc_sandbox_push_env(lua_State *L) {
  lua_createtable(L, 0, 1);
  lua_pushvalue(L, -1);
  lua_setfield(L, -2, "_G"); /* no metatable yet: a raw set */
  lua_rawgetp(L, LUA_REGISTRYINDEX, &envmt_key);
  lua_setmetatable(L, -2); /* [env] */
}

/* --- the library --------------------------------------------------- */

static int readonly_newindex(lua_State *L) {
  return luaL_error(L, "attempt to modify read-only library '%s'",
                    lua_tostring(L, lua_upvalueindex(1)));
}

static int readonly_next(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2);
  if (lua_next(L, 1))
    return 2;
  lua_pushnil(L);
  return 1;
}

static int readonly_pairs(lua_State *L) {
  lua_pushcfunction(L, readonly_next);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushnil(L);
  return 3;
}

/* Replaces the table at the top with a read-only proxy of it. */
static void make_readonly(lua_State *L, const char *name) {
  int real = lua_gettop(L);

  lua_newtable(L);          /* [real, proxy] */
  lua_createtable(L, 0, 4); /* [real, proxy, mt] */
  lua_pushvalue(L, real);
  lua_setfield(L, -2, "__index");
  lua_pushstring(L, name);
  lua_pushcclosure(L, readonly_newindex, 1);
  lua_setfield(L, -2, "__newindex");
  lua_pushvalue(L, real);
  lua_pushcclosure(L, readonly_pairs, 1);
  lua_setfield(L, -2, "__pairs");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2); /* [real, proxy] */
  lua_remove(L, real);     /* [proxy] */
  /* rawset would write into the proxy, past __newindex: it looks here. */
  lua_pushfstring(L, "library '%s'", name);
  osc_readonly_mark(L, -2, lua_tostring(L, -1));
  lua_pop(L, 1); /* [proxy] */
}

/* rawset(t, k, v), refused on a library: a raw field in the proxy would
 * shadow the library for every chunk of the state. */
static int sb_rawset(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 3);
  if (osc_readonly_push_mark(L, 1) == LUA_TSTRING)
    return luaL_error(L, "attempt to modify read-only %s", lua_tostring(L, -1));
  lua_settop(L, 3);
  lua_rawset(L, 1);
  lua_settop(L, 1);
  return 1;
}

/* print(...) -> the log, tagged with the caller's file:line (and with the
 * upvalue, when there is one: ctx.log adds the scale set's name). */
int osc_sandbox_lua_print(lua_State *L) {
  struct osc_sandbox *sb = osc_sandbox_from_state(L);
  int n = lua_gettop(L);
  char where[512];
  char tag[768];
  luaL_Buffer b;
  size_t len;
  int i;

  if (sb != NULL && sb->printed >= PRINT_MAX)
    return 0; /* capped: said so once already */
  luaL_buffinit(L, &b);
  for (i = 1; i <= n; i++) {
    if (i > 1)
      luaL_addchar(&b, '\t');
    luaL_tolstring(L, i, NULL);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  len = lua_rawlen(L, -1);
  where_from(L, 1, where, sizeof(where));
  if (where[0] != '\0')
    where[strlen(where) - 2] = '\0'; /* drop ": " */
  else if (sb != NULL)
    snprintf(where, sizeof(where), "%s", sb->tag);
  if (lua_type(L, lua_upvalueindex(1)) == LUA_TSTRING)
    snprintf(tag, sizeof(tag), "%s: %s", lua_tostring(L, lua_upvalueindex(1)),
             where);
  else
    snprintf(tag, sizeof(tag), "%s", where);
  if (sb != NULL && len >= PRINT_MAX - sb->printed) {
    sb->printed = PRINT_MAX;
    osc_log(OSC_LOG_WARN, tag,
            "print and ctx.log output reached %zu MiB; the rest of this "
            "run's output from %s is dropped",
            PRINT_MAX >> 20, sb->tag);
    return 0;
  }
  if (sb != NULL)
    sb->printed += len + 1;
  osc_log(OSC_LOG_INFO, tag, "%s", lua_tostring(L, -1));
  return 0;
}

/* setmetatable without finalizers: Lua runs __gc with hooks off (GCTM),
 * so a finalizer would escape the budget. An object is only marked for
 * finalization when its metatable has __gc at this call, so refusing it
 * here is enough. */
/* string.rep builds its result inside one VM instruction, where the count
 * hook cannot see it (a loop of 8 MiB reps ran 28 s against a 1 s budget):
 * each byte it made costs an instruction, checked after it returns (so a
 * single rep past the memory cap still fails as memory, and which limit
 * trips never depends on the machine's load). The original is upvalue 1. */
static int sb_rep(lua_State *L) {
  struct osc_sandbox *sb = osc_sandbox_from_state(L);
  size_t made = 0;

  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  lua_tolstring(L, -1, &made);
  if (sb != NULL && sb->depth > 0) {
    char where[512];
    char reason[128];

    sb->count += made;
    if (!sb->tripped && sb->count > sb->limits.instructions) {
      where_from(L, 1, where, sizeof(where));
      snprintf(reason, sizeof(reason),
               "execution budget exceeded (limit %" PRIu64
               " instructions or %" PRId64 " ms)",
               sb->limits.instructions, sb->limits.time_ms);
      trip(sb, where, reason);
    }
    if (sb->tripped) {
      lua_pushstring(L, sb->trip_msg);
      return lua_error(L);
    }
  }
  return 1;
}

static int sb_setmetatable(lua_State *L) {
  if (lua_type(L, 2) == LUA_TTABLE) {
    lua_pushliteral(L, "__gc");
    if (lua_rawget(L, 2) != LUA_TNIL)
      return luaL_error(L, "__gc metamethods are not allowed in policies");
    lua_pop(L, 1);
  }
  lua_settop(L, 2);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, 2, 1);
  return 1;
}

/* load(chunk [, chunkname [, mode [, env]]]): text only, and the default
 * environment is a fresh strict one, never the state's real globals. */
static int sb_load(lua_State *L) {
  int has_env = !lua_isnone(L, 4);

  lua_settop(L, 4);
  lua_pushvalue(L, lua_upvalueindex(1)); /* the original load */
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_pushliteral(L, "t");
  if (has_env)
    lua_pushvalue(L, 4);
  else
    osc_sandbox_push_env(L);
  lua_call(L, 4, LUA_MULTRET);
  return lua_gettop(L) - 4;
}

static const struct osc_embedded_module *find_embedded(const char *name) {
  const struct osc_embedded_module *m;

  for (m = osc_embedded_modules; m->module != NULL; m++) {
    if (strcmp(m->module, name) == 0)
      return m;
  }
  return NULL;
}

/* "octoscale.x" -> "<dir>/octoscale/x.lua" (names are identifiers). */
static int module_path(const char *dir, const char *name, char *out,
                       size_t cap) {
  size_t used;
  const char *p;

  used = (size_t)snprintf(out, cap, "%s/", dir);
  for (p = name; *p && used + 1 < cap; p++) {
    if (*p == '.')
      out[used++] = '/';
    else if (isalnum((unsigned char)*p) || *p == '_')
      out[used++] = *p;
    else
      return -1;
  }
  if (used + 5 >= cap)
    return -1;
  memcpy(out + used, ".lua", 5);
  return 0;
}

static lua_CFunction find_builtin(const char *name) {
  size_t i;

  for (i = 0; osc_sandbox_builtins[i].name != NULL; i++) {
    if (strcmp(osc_sandbox_builtins[i].name, name) == 0)
      return osc_sandbox_builtins[i].open;
  }
  return NULL;
}

/* require "team.helpers" from a policy: "<dir of the requiring file>/team/
 * helpers.lua", which must exist inside that directory's tree (symlinks
 * included). Raises otherwise. */
static void sibling_file(lua_State *L, const char *name, char *out,
                         size_t cap) {
  char dir[1024] = ".";
  char real_dir[PATH_MAX];
  char real_file[PATH_MAX];
  lua_Debug ar;
  int level;

  for (level = 1; lua_getstack(L, level, &ar); level++) {
    if (lua_getinfo(L, "S", &ar) && ar.source[0] == '@' &&
        strncmp(ar.source, "@lua/octoscale/", 15) != 0) {
      const char *slash = strrchr(ar.source + 1, '/');

      if (slash != NULL)
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - ar.source - 1),
                 ar.source + 1);
      break;
    }
  }
  if (module_path(dir, name, out, cap) < 0)
    luaL_error(L, "module '%s': a module name is dot-separated identifiers",
               name);
  if (realpath(dir, real_dir) == NULL || realpath(out, real_file) == NULL)
    luaL_error(L, "module '%s' not found (looked for %s)", name, out);
  if (strncmp(real_file, real_dir, strlen(real_dir)) != 0 ||
      real_file[strlen(real_dir)] != '/')
    luaL_error(L, "module '%s': %s is outside %s", name, out, dir);
  snprintf(out, cap, "%s", real_file);
}

/* Compiles the module into a function on the stack; raises on failure.
 * file: a sibling module's resolved path, else NULL (the library). */
static void load_module(lua_State *L, struct osc_sandbox *sb, const char *name,
                        const char *file) {
  const struct osc_embedded_module *m = NULL;
  lua_CFunction builtin = find_builtin(name);
  char path[1200];
  char chunk[1300];
  int status;

  if (file == NULL && builtin != NULL) {
    lua_pushcfunction(L, builtin);
    return;
  }
  if (file != NULL)
    snprintf(path, sizeof(path), "%s", file);

  if (file != NULL ||
      (sb->lua_path[0] != '\0' && strncmp(name, "octoscale.", 10) == 0 &&
       module_path(sb->lua_path, name, path, sizeof(path)) == 0 &&
       access(path, R_OK) == 0)) {
    struct osc_buf buf;
    struct osc_error err = OSC_ERROR_INIT;
    char display[1024];

    osc_buf_init(&buf, MAX_SCRIPT_BYTES);
    if (osc_buf_read_file(&buf, path, &err) < 0) {
      osc_buf_free(&buf);
      luaL_error(L, "cannot load module '%s': %s", name, err.msg);
      return;
    }
    osc_sandbox_display_name(path, display, sizeof(display));
    snprintf(chunk, sizeof(chunk), "@%s", display);
    /* lua_load is protected: it returns a status, never raises. */
    status = luaL_loadbufferx(L, osc_buf_str(&buf), buf.len, chunk, "t");
    osc_buf_free(&buf);
  } else {
    m = find_embedded(name);
    if (m == NULL) {
      luaL_error(L,
                 "module '%s' not found (only the octoscale library "
                 "can be required)",
                 name);
      return;
    }
    status = luaL_loadbufferx(L, m->source, m->length, m->chunk_name, "t");
  }
  if (status != LUA_OK)
    lua_error(L);
  osc_sandbox_push_env(L);
  lua_setupvalue(L, -2, 1); /* _ENV */
}

static int sb_require(lua_State *L) {
  struct osc_sandbox *sb = osc_sandbox_from_state(L);
  const char *name = luaL_checkstring(L, 1);
  char file[PATH_MAX] = "";
  const char *key = name;

  lua_settop(L, 1);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &loaded_key); /* [name, loaded] */
  /* Host libraries (reconcile, azure, ...) are in loaded by name. */
  if (strncmp(name, "octoscale.", 10) != 0 &&
      lua_getfield(L, 2, name) == LUA_TNIL) {
    lua_pop(L, 1);
    sibling_file(L, name, file, sizeof(file));
    key = file; /* one module per file, whatever name reached it */
  } else if (strncmp(name, "octoscale.", 10) != 0) {
    return 1;
  }
  if (lua_getfield(L, 2, key) != LUA_TNIL) { /* [name, loaded, m] */
    if (lua_touserdata(L, -1) == &loading_key)
      return luaL_error(L,
                        "module '%s' is being loaded (require loop?) or "
                        "failed to load earlier",
                        name);
    return 1;
  }
  lua_pop(L, 1);
  lua_pushlightuserdata(L, (void *)&loading_key);
  lua_setfield(L, 2, key);
  load_module(L, sb, name, file[0] ? file : NULL); /* [name, loaded, f] */
  lua_pushvalue(L, 1);
  lua_call(L, 1, 1); /* [name, loaded, m] */
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushboolean(L, 1);
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, 2, key);
  return 1;
}

void osc_sandbox_require(lua_State *L, const char *name) {
  lua_pushcfunction(L, sb_require);
  lua_pushstring(L, name);
  lua_call(L, 1, 1);
}

static void copy_global(lua_State *L, int base, const char *name) {
  lua_getglobal(L, name);
  lua_setfield(L, base, name);
}

/* [lib] -> [lib] with what a sandbox must not have removed or bounded. */
static void tailor_lib(lua_State *L, lua_CFunction open) {
  if (open == luaopen_string) {
    lua_pushnil(L);
    lua_setfield(L, -2, "dump"); /* also unreachable through ("").dump */
    lua_getfield(L, -1, "rep");  /* ("x"):rep too: the same table */
    lua_pushcclosure(L, sb_rep, 1);
    lua_setfield(L, -2, "rep");
    osc_lpattern_install(L, -1, osc_sandbox_charge); /* under the budget */
  } else if (open == luaopen_math) {
    /* Deterministic random numbers (plans must be reproducible). */
    lua_getfield(L, -1, "randomseed");
    lua_pushinteger(L, 0);
    lua_call(L, 1, 0);
    lua_pushnil(L);
    lua_setfield(L, -2, "randomseed");
  }
}

static int sb_setup(lua_State *L) {
  static const char *const allowed[] = {
      "assert",   "error",    "getmetatable", "ipairs",   "next",   "pairs",
      "pcall",    "rawequal", "rawget",       "rawlen",   "select", "tonumber",
      "tostring", "type",     "xpcall",       "_VERSION",
  };
  static const luaL_Reg libs[] = {
      {LUA_STRLIBNAME, luaopen_string},
      {LUA_TABLIBNAME, luaopen_table},
      {LUA_MATHLIBNAME, luaopen_math},
      {LUA_UTF8LIBNAME, luaopen_utf8},
  };
  int base;
  size_t i;

  luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
  lua_pop(L, 1);
  lua_createtable(L, 0, 32); /* [base] */
  base = lua_gettop(L);
  for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
    copy_global(L, base, allowed[i]);
  lua_getglobal(L, "setmetatable");
  lua_pushcclosure(L, sb_setmetatable, 1);
  lua_setfield(L, base, "setmetatable");
  lua_getglobal(L, "load");
  lua_pushcclosure(L, sb_load, 1);
  lua_setfield(L, base, "load");
  lua_pushcfunction(L, osc_sandbox_lua_print);
  lua_setfield(L, base, "print");
  lua_pushcfunction(L, sb_require);
  lua_setfield(L, base, "require");
  lua_pushcfunction(L, sb_rawset);
  lua_setfield(L, base, "rawset");
  lua_pushcfunction(L, osc_readonly_lua_next); /* sees read-only views */
  lua_setfield(L, base, "next");

  for (i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
    luaL_requiref(L, libs[i].name, libs[i].func, 0); /* [base, lib] */
    tailor_lib(L, libs[i].func);
    make_readonly(L, libs[i].name);
    lua_setfield(L, base, libs[i].name);
  }
  /* Scripts cannot reach or change the string metatable. */
  lua_pushliteral(L, "");
  if (lua_getmetatable(L, -1)) {
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
  }
  lua_pop(L, 1);

  lua_pushvalue(L, base);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &base_key);
  lua_createtable(L, 0, 3); /* [base, envmt] */
  lua_pushvalue(L, base);
  lua_pushcclosure(L, env_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, env_newindex);
  lua_setfield(L, -2, "__newindex");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_rawsetp(L, LUA_REGISTRYINDEX, &envmt_key);
  lua_newtable(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &loaded_key);
  lua_pop(L, 1);
  return 0;
}

static int sb_panic(lua_State *L) {
  const char *msg = lua_tostring(L, -1);

  osc_log_error("unprotected Lua error: %s", msg ? msg : "?");
  abort();
  return 0;
}

int osc_sandbox_new(const struct osc_sandbox_options *opts,
                    struct osc_sandbox **out, struct osc_error *err) {
  static const struct osc_sandbox_limits defaults = OSC_SANDBOX_LIMITS_DEFAULT;
  struct osc_sandbox *sb;
  const char *dev = getenv("OCTOSCALE_LUA_PATH");
  int rc;

  *out = NULL;
  sb = calloc(1, sizeof(*sb));
  if (sb == NULL)
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  sb->limits = defaults;
  if (opts != NULL && opts->limits.memory_bytes > 0)
    sb->limits = opts->limits;
  snprintf(sb->tag, sizeof(sb->tag), "%s",
           opts != NULL && opts->tag != NULL ? opts->tag : "lua");
  if (dev != NULL)
    snprintf(sb->lua_path, sizeof(sb->lua_path), "%s", dev);
  sb->L = lua_newstate(sb_alloc, sb);
  if (sb->L == NULL) {
    free(sb);
    return osc_error_set(err, OSC_E_NOMEM, "cannot create a Lua state");
  }
  lua_atpanic(sb->L, sb_panic);
  lua_sethook(sb->L, sb_hook, LUA_MASKCOUNT, HOOK_EVERY);
  rc = osc_sandbox_cpcall(sb, sb_setup, sb, 0, err);
  if (rc < 0) {
    osc_error_prefix(err, "cannot set up the Lua sandbox");
    osc_sandbox_free(sb);
    return rc;
  }
  *out = sb;
  return OSC_OK;
}

void osc_sandbox_free(struct osc_sandbox *sb) {
  if (sb == NULL)
    return;
  if (sb->L != NULL)
    lua_close(sb->L);
  free(sb);
}

lua_State *osc_sandbox_state(struct osc_sandbox *sb) {
  return sb->L;
}

struct osc_sandbox *osc_sandbox_from_state(lua_State *L) {
  void *ud = NULL;

  if (lua_getallocf(L, &ud) != sb_alloc)
    return NULL;
  return ud;
}

static int add_lib(lua_State *L) {
  const struct osc_sandbox_lib *lib = lua_touserdata(L, 1);

  lua_pushcfunction(L, lib->open);
  lua_pushstring(L, lib->name);
  lua_call(L, 1, 1); /* [lib, module] */
  if (lua_type(L, -1) == LUA_TTABLE)
    make_readonly(L, lib->name);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &base_key);
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, lib->name);
  lua_pop(L, 1);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &loaded_key);
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, lib->name);
  return 0;
}

int osc_sandbox_add_lib(struct osc_sandbox *sb,
                        const struct osc_sandbox_lib *lib,
                        struct osc_error *err) {
  return osc_sandbox_cpcall(sb, add_lib, (void *)lib, 0, err);
}

/* --- loading chunks ------------------------------------------------ */

struct load_args {
  const char *buf;
  size_t len;
  const char *chunk_name;
};

static int load_chunk(lua_State *L) {
  struct load_args *a = lua_touserdata(L, 1);

  if (luaL_loadbufferx(L, a->buf, a->len, a->chunk_name, "t") != LUA_OK)
    return lua_error(L);
  osc_sandbox_push_env(L);
  lua_setupvalue(L, -2, 1); /* _ENV */
  return 1;
}

int osc_sandbox_load_buffer(struct osc_sandbox *sb, const char *buf, size_t len,
                            const char *chunk_name, struct osc_error *err) {
  struct load_args a;

  a.buf = buf;
  a.len = len;
  a.chunk_name = chunk_name;
  /* A "#!" first line is skipped, keeping its newline (line numbers). */
  if (len > 0 && buf[0] == '#') {
    const char *nl = memchr(buf, '\n', len);

    a.buf = nl != NULL ? nl : buf + len;
    a.len = len - (size_t)(a.buf - buf);
  }
  return osc_sandbox_cpcall(sb, load_chunk, &a, 1, err);
}

void osc_sandbox_display_name(const char *path, char *out, size_t cap) {
  char cwd[1024];
  size_t n;

  if (path[0] == '/' && getcwd(cwd, sizeof(cwd)) != NULL) {
    n = strlen(cwd);
    if (n > 1 && strncmp(path, cwd, n) == 0 && path[n] == '/') {
      snprintf(out, cap, "%s", path + n + 1);
      return;
    }
  }
  while (path[0] == '.' && path[1] == '/')
    path += 2;
  snprintf(out, cap, "%s", path);
}

int osc_sandbox_load_file(struct osc_sandbox *sb, const char *path,
                          struct osc_error *err) {
  struct osc_buf buf;
  char display[1024];
  char chunk[1100];
  int rc;

  osc_sandbox_display_name(path, display, sizeof(display));
  osc_buf_init(&buf, MAX_SCRIPT_BYTES);
  rc = osc_buf_read_file(&buf, path, err);
  if (rc < 0) {
    err->code = OSC_E_POLICY;
    rc = OSC_E_POLICY;
    goto done;
  }
  snprintf(chunk, sizeof(chunk), "@%s", display);
  rc = osc_sandbox_load_buffer(sb, osc_buf_str(&buf), buf.len, chunk, err);
done:
  osc_buf_free(&buf);
  return rc;
}
