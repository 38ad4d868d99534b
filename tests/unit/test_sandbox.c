/* The Lua sandbox (core/lua/osc_sandbox.c): limits that stop runaway scripts
 * within 2 s even when the script tries to swallow them with pcall, the
 * error shape "file:LINE: message", strict globals and the library. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "core/lua/osc_sandbox.h"
#include "core/osc_time.h"

/* The time limit counts the thread's CPU time, and a loaded CI machine may
 * not schedule us: assert on our CPU time (< 2 s) and a generous wall
 * bound. */
static int64_t cpu_ms(void) {
  struct timespec ts;

  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define ASSERT_STOPPED_FAST(wall0, cpu0)                                       \
  do {                                                                         \
    assert_true(cpu_ms() - (cpu0) < 2000);                                     \
    assert_true(osc_time_monotonic_ms() - (wall0) < 10000);                    \
  } while (0)

#define CHUNK "@policies/x.lua"

static struct osc_sandbox *new_sandbox(size_t mem, uint64_t instr, int64_t ms) {
  struct osc_sandbox_options opts = {"test", OSC_SANDBOX_LIMITS_DEFAULT};
  struct osc_sandbox *sb = NULL;
  struct osc_error err = OSC_ERROR_INIT;

  if (mem > 0)
    opts.limits.memory_bytes = mem;
  if (instr > 0)
    opts.limits.instructions = instr;
  if (ms > 0)
    opts.limits.time_ms = ms;
  assert_int_equal(osc_sandbox_new(&opts, &sb, &err), OSC_OK);
  assert_non_null(sb);
  return sb;
}

/* Loads and runs src; returns the code, err gets the message. */
static int run(struct osc_sandbox *sb, const char *src, struct osc_error *err) {
  lua_State *L = osc_sandbox_state(sb);
  int top = lua_gettop(L);
  int rc;

  osc_error_clear(err);
  rc = osc_sandbox_load_buffer(sb, src, strlen(src), CHUNK, err);
  if (rc == OSC_OK)
    rc = osc_sandbox_pcall(sb, 0, 0, err);
  assert_int_equal(lua_gettop(L), top); /* balanced on success and error */
  return rc;
}

static void expect_error(const char *src, const char *msg) {
  struct osc_sandbox *sb = new_sandbox(0, 0, 0);
  struct osc_error err = OSC_ERROR_INIT;

  assert_int_equal(run(sb, src, &err), OSC_E_POLICY);
  assert_string_equal(err.msg, msg);
  osc_sandbox_free(sb);
}

static void test_sandbox__budget_stops_endless_loop(void **state) {
  struct osc_sandbox *sb = new_sandbox(0, 0, 0);
  struct osc_error err = OSC_ERROR_INIT;
  int64_t t0 = osc_time_monotonic_ms();
  int64_t c0 = cpu_ms();

  (void)state;
  assert_int_equal(run(sb, "local n = 0\nwhile true do end\n", &err),
                   OSC_E_POLICY);
  ASSERT_STOPPED_FAST(t0, c0);
  assert_true(strncmp(err.msg, "policies/x.lua:2: ", 18) == 0);
  assert_non_null(strstr(err.msg, "exceeded"));
  /* The sandbox is usable afterwards. */
  assert_int_equal(run(sb, "local x = 1 + 1", &err), OSC_OK);
  osc_sandbox_free(sb);
}

static void test_sandbox__instruction_budget_message(void **state) {
  struct osc_sandbox *sb = new_sandbox(0, 100000, 60000);
  struct osc_error err = OSC_ERROR_INIT;

  (void)state;
  assert_int_equal(run(sb, "while true do end", &err), OSC_E_POLICY);
  assert_string_equal(err.msg, "policies/x.lua:1: execution budget "
                               "exceeded (limit 100000 instructions or "
                               "60000 ms)");
  osc_sandbox_free(sb);
}

static void test_sandbox__deadline_message(void **state) {
  struct osc_sandbox *sb = new_sandbox(0, UINT64_MAX, 100);
  struct osc_error err = OSC_ERROR_INIT;
  int64_t t0 = osc_time_monotonic_ms();
  int64_t c0 = cpu_ms();

  (void)state;
  assert_int_equal(run(sb, "\n\nwhile true do end", &err), OSC_E_POLICY);
  assert_string_equal(err.msg, "policies/x.lua:3: execution budget exceeded "
                               "(limit 18446744073709551615 instructions or "
                               "100 ms)");
  ASSERT_STOPPED_FAST(t0, c0);
  osc_sandbox_free(sb);
}

static int host_sleep_ms(lua_State *L) {
  lua_Integer ms = luaL_checkinteger(L, 1);
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

  nanosleep(&ts, NULL);
  return 0;
}

static int open_host(lua_State *L) {
  lua_newtable(L);
  lua_pushcfunction(L, host_sleep_ms);
  lua_setfield(L, -2, "sleep_ms");
  return 1;
}

/* The time limit is CPU time: a call that waits (here a host function that
 * sleeps, as a loaded machine's scheduler would make it wait) spends 400 ms
 * of wall time against a 100 ms limit and still finishes. */
static void test_sandbox__deadline_counts_cpu_not_waiting(void **state) {
  static const struct osc_sandbox_lib host = {"host", open_host};
  struct osc_sandbox *sb = new_sandbox(0, UINT64_MAX, 100);
  struct osc_error err = OSC_ERROR_INIT;
  int64_t t0 = osc_time_monotonic_ms();
  int rc;

  (void)state;
  assert_int_equal(osc_sandbox_add_lib(sb, &host, &err), OSC_OK);
  rc = run(sb,
           "for i = 1, 8 do\n"
           "  host.sleep_ms(50)\n"
           "  for j = 1, 5000 do end\n"
           "end\n",
           &err);
  assert_string_equal(err.msg, "");
  assert_int_equal(rc, OSC_OK);
  assert_true(osc_time_monotonic_ms() - t0 >= 400);
  osc_sandbox_free(sb);
}

/* Found by fuzz_policy: string.rep works inside one instruction, so a loop
 * of large reps (memory freed each turn) ran 28 s against a 1 s budget. The
 * count is charged (a byte made, an instruction) and checked in rep itself,
 * also as a method: 100 million instructions stop the loop in 12 reps. */
static void test_sandbox__string_rep_is_budgeted(void **state) {
  static const char *const loops[] = {
      "local t = {}\nwhile true do\n  t[2] = string.rep('x', 8 << 20)\nend",
      "local t = {}\nwhile true do\n  t[2] = ('x'):rep(8 << 20, ',')\nend",
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(loops) / sizeof(loops[0]); i++) {
    struct osc_sandbox *sb = new_sandbox(0, 100000000, 600000);
    struct osc_error err = OSC_ERROR_INIT;

    assert_int_equal(run(sb, loops[i], &err), OSC_E_POLICY);
    assert_non_null(strstr(err.msg, "policies/x.lua:3: execution budget"));
    osc_sandbox_free(sb);
  }
  {
    struct osc_sandbox *sb = new_sandbox(0, 100000, 60000);
    struct osc_error err = OSC_ERROR_INIT;

    /* 100,000 instructions are 100 kB of rep */
    assert_int_equal(run(sb, "local s = string.rep('ab', 4 << 20)", &err),
                     OSC_E_POLICY);
    assert_non_null(strstr(err.msg, "execution budget exceeded"));
    osc_sandbox_free(sb);
  }
}

static void test_sandbox__pcall_cannot_swallow_budget(void **state) {
  struct osc_sandbox *sb = new_sandbox(0, 1000000, 0);
  struct osc_error err = OSC_ERROR_INIT;
  int64_t t0 = osc_time_monotonic_ms();
  int64_t c0 = cpu_ms();

  (void)state;
  assert_int_equal(run(sb,
                       "local caught = 0\n"
                       "while true do\n"
                       "  local ok = pcall(function() while true do end end)\n"
                       "  caught = caught + 1\n"
                       "  xpcall(function() while true do end end,\n"
                       "         function(m) while true do end end)\n"
                       "end\n",
                       &err),
                   OSC_E_POLICY);
  ASSERT_STOPPED_FAST(t0, c0);
  /* The first trip's position is reported. */
  assert_string_equal(err.msg, "policies/x.lua:3: execution budget "
                               "exceeded (limit 1000000 instructions or "
                               "1000 ms)");
  osc_sandbox_free(sb);
}

static void test_sandbox__memory_cap(void **state) {
  /* A generous time limit: on a loaded machine the memory cap must still be
   * the limit that trips. */
  struct osc_sandbox *sb = new_sandbox((size_t)16 << 20, 0, 30000);
  struct osc_error err = OSC_ERROR_INIT;
  int64_t t0 = osc_time_monotonic_ms();
  int64_t c0 = cpu_ms();

  (void)state;
  assert_int_equal(run(sb,
                       "local t = {}\n"
                       "while true do\n"
                       "  t[#t + 1] = string.rep('x', 1 << 20) .. #t\n"
                       "end\n",
                       &err),
                   OSC_E_POLICY);
  ASSERT_STOPPED_FAST(t0, c0);
  assert_string_equal(err.msg,
                      "policies/x.lua:3: memory limit exceeded (limit 16 MiB)");
  assert_true(osc_sandbox_memory(sb) <= ((size_t)17 << 20));
  assert_int_equal(run(sb, "local x = {}", &err), OSC_OK);
  osc_sandbox_free(sb);
}

static void test_sandbox__memory_cap_single_allocation(void **state) {
  /* A generous time limit: on a loaded machine the memory cap must still be
   * the limit that trips. */
  struct osc_sandbox *sb = new_sandbox((size_t)16 << 20, 0, 30000);
  struct osc_error err = OSC_ERROR_INIT;

  (void)state;
  assert_int_equal(
      run(sb, "local x = 1\nlocal s = string.rep('x', 1 << 30)", &err),
      OSC_E_POLICY);
  assert_string_equal(err.msg,
                      "policies/x.lua:2: memory limit exceeded (limit 16 MiB)");
  osc_sandbox_free(sb);
}

static void test_sandbox__memory_cap_pcall_swallow(void **state) {
  /* A generous time limit: on a loaded machine the memory cap must still be
   * the limit that trips. */
  struct osc_sandbox *sb = new_sandbox((size_t)16 << 20, 0, 30000);
  struct osc_error err = OSC_ERROR_INIT;

  (void)state;
  assert_int_equal(run(sb,
                       "while true do\n"
                       "  pcall(function()\n"
                       "    local t = {}\n"
                       "    while true do t[#t + 1] = {} end\n"
                       "  end)\n"
                       "end\n",
                       &err),
                   OSC_E_POLICY);
  assert_non_null(strstr(err.msg, "memory limit exceeded (limit 16 MiB)"));
  assert_true(strncmp(err.msg, "policies/x.lua:4: ", 18) == 0);
  osc_sandbox_free(sb);
}

static void test_sandbox__syntax_error_has_file_line(void **state) {
  (void)state;
  expect_error("local x = = 1", "policies/x.lua:1: unexpected symbol near '='");
}

static void test_sandbox__runtime_error_has_file_line(void **state) {
  (void)state;
  expect_error("local t\n\nlocal y = t.x",
               "policies/x.lua:3: attempt to index a nil value (local 't')");
}

static void test_sandbox__undeclared_globals(void **state) {
  (void)state;
  expect_error("local a = 1\nlocal b = nope",
               "policies/x.lua:2: undeclared global 'nope'");
  expect_error("x = 1", "policies/x.lua:1: assignment to undeclared global "
                        "'x'");
  expect_error("return io.open", "policies/x.lua:1: undeclared global 'io'");
  expect_error("return os.exit", "policies/x.lua:1: undeclared global 'os'");
  expect_error("return debug", "policies/x.lua:1: undeclared global 'debug'");
  expect_error("return package",
               "policies/x.lua:1: undeclared global 'package'");
  expect_error("return dofile", "policies/x.lua:1: undeclared global 'dofile'");
  expect_error("return collectgarbage",
               "policies/x.lua:1: undeclared global 'collectgarbage'");
}

static void test_sandbox__error_objects(void **state) {
  (void)state;
  expect_error("error({})",
               "policies/x.lua:1: (error object is a table value)");
  expect_error("\nerror({message = 'structured'})",
               "policies/x.lua:2: structured");
  expect_error("error(setmetatable({}, {__tostring = function() "
               "return 'custom' end}))",
               "policies/x.lua:1: custom");
  expect_error("error('no position', 0)", "policies/x.lua:1: no position");
  expect_error("error()", "policies/x.lua:1: (error object is a nil value)");
}

static void test_sandbox__no_bytecode(void **state) {
  struct osc_sandbox *sb = new_sandbox(0, 0, 0);
  struct osc_error err = OSC_ERROR_INIT;
  static const char bin[] = "\x1bLua\x54\x00\x19\x93\r\n";

  (void)state;
  assert_int_equal(
      osc_sandbox_load_buffer(sb, bin, sizeof(bin) - 1, CHUNK, &err),
      OSC_E_POLICY);
  assert_non_null(strstr(err.msg, "attempt to load a binary chunk"));
  assert_int_equal(run(sb,
                       "assert(string.dump == nil)\n"
                       "assert(load('\\27Lua') == nil)\n"
                       "assert(getmetatable('') == false)\n",
                       &err),
                   OSC_OK);
  osc_sandbox_free(sb);
}

static void test_sandbox__finalizer_cannot_hang_close(void **state) {
  struct osc_sandbox *sb = new_sandbox(0, 0, 0);
  struct osc_error err = OSC_ERROR_INIT;
  int64_t t0 = osc_time_monotonic_ms();
  int64_t c0 = cpu_ms();

  (void)state;
  /* Lua runs finalizers with hooks off: they are refused outright. */
  assert_int_equal(run(sb,
                       "local keep = setmetatable({}, {__gc = function() "
                       "while true do end end})\n",
                       &err),
                   OSC_E_POLICY);
  assert_string_equal(err.msg, "policies/x.lua:1: __gc metamethods are not "
                               "allowed in policies");
  /* Adding __gc later does not mark the object. */
  assert_int_equal(run(sb,
                       "local mt = {}\n"
                       "rawset(_G, 'keep', setmetatable({}, mt))\n"
                       "mt.__gc = function() while true do end end\n",
                       &err),
                   OSC_OK);
  osc_sandbox_free(sb);
  ASSERT_STOPPED_FAST(t0, c0);
}

static void test_sandbox__print_and_require(void **state) {
  struct osc_sandbox *sb = new_sandbox(0, 0, 0);
  struct osc_error err = OSC_ERROR_INIT;

  (void)state;
  assert_int_equal(run(sb,
                       "print('hello from', 'the sandbox', 1, nil)\n"
                       "local d = require 'octoscale.duration'\n"
                       "assert(d.parse('1h30m') == 5400)\n"
                       "assert(require 'octoscale.duration' == d)\n"
                       "assert(not pcall(require, 'io'))\n",
                       &err),
                   OSC_OK);
  osc_sandbox_free(sb);
}

/* The bounded matcher (core/lua/osc_lpattern.c) gives the stock library's
 * results and errors: the same script runs in a plain Lua state and in the
 * sandbox, and prints every result into one string. */
static const char pattern_cases[] =
    "local out = {}\n"
    "local function put(...)\n"
    "  local n = select('#', ...)\n"
    "  for i = 1, n do out[#out + 1] = tostring((select(i, ...))) end\n"
    "  out[#out + 1] = '|'\n"
    "end\n"
    "local subjects = { '', 'a', 'hello world', 'key = value; k2=v2',\n"
    "  'f(a(b)c)d [x] %d', 'THE (quick) fox', 'aaa\\0bbb', 'x^y$z',\n"
    "  ('ab'):rep(40) }\n"
    "local patterns = { '', 'o', 'o w', '(o)(r)', '^h', 'd$', '.-', '.*',\n"
    "  '(%w+)%s*=%s*(%w+)', '%b()', '%f[%a]%a+', '()b()', '[^%s]+',\n"
    "  '[%a_][%w_]*', 'a-b', 'a?b', '(a)(b)%2', '%d+', '%x', '[]]', '\\0',\n"
    "  '^(.-)%s*$', '%^', 'x^', '[a-c]+', '%u%l*', '%%' }\n"
    "for _, s in ipairs(subjects) do\n"
    "  for _, p in ipairs(patterns) do\n"
    "    for _, init in ipairs({ 1, 2, -3, 100 }) do\n"
    "      put(pcall(string.find, s, p, init))\n"
    "      put(pcall(string.find, s, p, init, true))\n"
    "      put(pcall(string.match, s, p, init))\n"
    "    end\n"
    "    put(pcall(string.gsub, s, p, '<%0>'))\n"
    "    put(pcall(string.gsub, s, p, '%1', 2))\n"
    "    put(pcall(string.gsub, s, p, { a = 'A', o = false }))\n"
    "    put(pcall(string.gsub, s, p, function(c) return #c > 1 and c:upper() "
    "end))\n"
    "    local ok, it = pcall(string.gmatch, s, p)\n"
    "    if ok then\n"
    "      for _ = 1, 50 do\n"
    "        local r = table.pack(pcall(it))\n"
    "        put(table.unpack(r, 1, r.n))\n"
    "        if not r[1] or r[2] == nil then break end\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "for _, p in ipairs({ '%', '[a', '(()', '%g(', '%1', '(a%)', '%bx', '%f' "
    "}) "
    "do\n"
    "  put(pcall(string.find, 'abc', p))\n"
    "  put(pcall(string.gsub, 'abc', p, 'x'))\n"
    "end\n"
    "return table.concat(out, ',')\n";

static void test_sandbox__patterns_match_stock_lua(void **state) {
  struct osc_sandbox *sb = new_sandbox(0, 0, 0);
  struct osc_error err = OSC_ERROR_INIT;
  lua_State *stock = luaL_newstate();
  lua_State *L = osc_sandbox_state(sb);

  (void)state;
  assert_non_null(stock);
  luaL_openlibs(stock);
  assert_int_equal(luaL_loadbufferx(stock, pattern_cases,
                                    sizeof(pattern_cases) - 1, "=cases", "t"),
                   LUA_OK);
  assert_int_equal(lua_pcall(stock, 0, 1, 0), LUA_OK);
  assert_int_equal(osc_sandbox_load_buffer(sb, pattern_cases,
                                           sizeof(pattern_cases) - 1, "=cases",
                                           &err),
                   OSC_OK);
  assert_int_equal(osc_sandbox_pcall(sb, 0, 1, &err), OSC_OK);
  assert_true(lua_rawlen(stock, -1) > 10000);
  assert_string_equal(lua_tostring(L, -1), lua_tostring(stock, -1));
  lua_pop(L, 1);
  lua_close(stock);
  osc_sandbox_free(sb);
}

/* The matcher runs inside one VM instruction: it charges its own steps, so
 * a backtracking pattern stops at the budget, naming the calling line, and
 * pcall cannot swallow it. */
static void test_sandbox__pattern_bomb_stops(void **state) {
  static const char *const bombs[] = {
      "local s = string.rep('a', 30000)\n"
      "while true do pcall(function() return s:find('.-.-.-.-.-.-b') end) "
      "end\n",
      "local s = string.rep('a', 30000)\n"
      "while true do pcall(string.gsub, s, '.-.-.-.-.-b', 'x') end\n",
      "local s = string.rep('a', 30000)\n"
      "while true do\n"
      "  pcall(function() for w in s:gmatch('.-.-.-.-.-b') do end end) "
      "end\n",
      "local s = string.rep('a', 30000)\n"
      "while true do pcall(string.match, s, '(.-)(.-)(.-)(.-)(.-)b') end\n",
      "local s = string.rep('a', 4000000)\n"
      "local n = string.rep('a', 100000) .. 'b'\n"
      "while true do pcall(string.find, s, n, 1, true) end\n",
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(bombs) / sizeof(bombs[0]); i++) {
    struct osc_sandbox *sb = new_sandbox(0, 0, 0);
    struct osc_error err = OSC_ERROR_INIT;
    int64_t t0 = osc_time_monotonic_ms();
    int64_t c0 = cpu_ms();

    assert_int_equal(run(sb, bombs[i], &err), OSC_E_POLICY);
    ASSERT_STOPPED_FAST(t0, c0);
    assert_non_null(strstr(err.msg, "policies/x.lua:"));
    assert_non_null(strstr(err.msg, ": execution budget exceeded"));
    osc_sandbox_free(sb);
  }
}

/* print and ctx.log: capped at 1 MiB per sandbox, said once. */
static void test_sandbox__print_is_capped(void **state) {
  struct osc_sandbox *sb = new_sandbox(0, 0, 0);
  struct osc_error err = OSC_ERROR_INIT;
  char path[] = "/tmp/osc-print-XXXXXX";
  int saved = dup(STDERR_FILENO);
  int fd = mkstemp(path);
  struct stat st;
  FILE *f;
  char line[8192];
  int notices = 0;

  (void)state;
  assert_true(fd >= 0 && saved >= 0);
  fflush(stderr);
  assert_true(dup2(fd, STDERR_FILENO) >= 0);
  assert_int_equal(run(sb,
                       "local line = string.rep('x', 1000)\n"
                       "for i = 1, 3000 do print(line) end\n",
                       &err),
                   OSC_OK);
  fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  assert_int_equal(fstat(fd, &st), 0);
  assert_true(st.st_size > 1000 * 1000);
  assert_true(st.st_size < (1 << 20) + 64 * 1024);
  f = fdopen(fd, "r");
  assert_non_null(f);
  rewind(f);
  while (fgets(line, sizeof(line), f) != NULL)
    notices += strstr(line, "output reached 1 MiB") != NULL;
  assert_int_equal(notices, 1);
  fclose(f);
  unlink(path);
  osc_sandbox_free(sb);
}

static void test_sandbox__dev_lua_path(void **state) {
  char dir[] = "/tmp/osc-luapath-XXXXXX";
  char path[256];
  struct osc_sandbox *sb;
  struct osc_error err = OSC_ERROR_INIT;
  FILE *f;

  (void)state;
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof(path), "%s/octoscale", dir);
  assert_int_equal(mkdir(path, 0700), 0);
  snprintf(path, sizeof(path), "%s/octoscale/devonly.lua", dir);
  f = fopen(path, "w");
  assert_non_null(f);
  fputs("return { answer = 42 }\n", f);
  fclose(f);
  setenv("OCTOSCALE_LUA_PATH", dir, 1);
  sb = new_sandbox(0, 0, 0);
  unsetenv("OCTOSCALE_LUA_PATH");
  assert_int_equal(
      run(sb, "assert(require('octoscale.devonly').answer == 42)", &err),
      OSC_OK);
  osc_sandbox_free(sb);
  unlink(path);
  snprintf(path, sizeof(path), "%s/octoscale", dir);
  rmdir(path);
  rmdir(dir);
}

static void test_sandbox__tag_message(void **state) {
  char out[256];

  (void)state;
  osc_sandbox_tag_message("p.lua:3: boom", "on_scale_in", out, sizeof(out));
  assert_string_equal(out, "p.lua:3: on_scale_in: boom");
  osc_sandbox_tag_message("boom: x", "hook", out, sizeof(out));
  assert_string_equal(out, "hook: boom: x");
  osc_sandbox_tag_message("[string \"a:1: b\"]:1: m", "h", out, sizeof(out));
  assert_string_equal(out, "[string \"a:1: b\"]:1: h: m");
}

static void test_sandbox__display_name(void **state) {
  char cwd[1024];
  char path[1200];
  char out[256];

  (void)state;
  assert_non_null(getcwd(cwd, sizeof(cwd)));
  snprintf(path, sizeof(path), "%s/policies/x.lua", cwd);
  osc_sandbox_display_name(path, out, sizeof(out));
  assert_string_equal(out, "policies/x.lua");
  osc_sandbox_display_name("./policies/x.lua", out, sizeof(out));
  assert_string_equal(out, "policies/x.lua");
  osc_sandbox_display_name("/elsewhere/x.lua", out, sizeof(out));
  assert_string_equal(out, "/elsewhere/x.lua");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sandbox__budget_stops_endless_loop),
      cmocka_unit_test(test_sandbox__instruction_budget_message),
      cmocka_unit_test(test_sandbox__deadline_message),
      cmocka_unit_test(test_sandbox__deadline_counts_cpu_not_waiting),
      cmocka_unit_test(test_sandbox__string_rep_is_budgeted),
      cmocka_unit_test(test_sandbox__pcall_cannot_swallow_budget),
      cmocka_unit_test(test_sandbox__memory_cap),
      cmocka_unit_test(test_sandbox__memory_cap_single_allocation),
      cmocka_unit_test(test_sandbox__memory_cap_pcall_swallow),
      cmocka_unit_test(test_sandbox__syntax_error_has_file_line),
      cmocka_unit_test(test_sandbox__runtime_error_has_file_line),
      cmocka_unit_test(test_sandbox__undeclared_globals),
      cmocka_unit_test(test_sandbox__error_objects),
      cmocka_unit_test(test_sandbox__no_bytecode),
      cmocka_unit_test(test_sandbox__finalizer_cannot_hang_close),
      cmocka_unit_test(test_sandbox__print_and_require),
      cmocka_unit_test(test_sandbox__patterns_match_stock_lua),
      cmocka_unit_test(test_sandbox__pattern_bomb_stops),
      cmocka_unit_test(test_sandbox__print_is_capped),
      cmocka_unit_test(test_sandbox__dev_lua_path),
      cmocka_unit_test(test_sandbox__tag_message),
      cmocka_unit_test(test_sandbox__display_name),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
