/* Policies (core/lua/osc_policy.c): loading and validation, the hooks as
 * struct osc_policy_ops with their arguments, and the error messages that
 * name file, line, hook and value. Policy files are written to a scratch
 * directory below the working directory so their names are stable. */
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

#include "core/lua/osc_policy.h"
#include "core/lua/osc_testrun.h"
#include "core/osc_time.h"

/* Limits are wall-clock bounded, but a loaded CI machine may not schedule
 * us: assert on our CPU time (< 2 s) and a generous wall bound. */
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

#define NOW 1795773600 /* 2026-11-27T10:00:00Z */

static char dir[64];

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof(dir), "/tmp/osc-policy-test-%ld", (long)getpid());
  return mkdir(dir, 0700);
}

static int teardown(void **state) {
  char cmd[128];

  (void)state;
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  return system(cmd) == 0 ? 0 : -1;
}

/* Writes src to <dir>/<name> and returns the path (static buffer). */
static const char *write_policy(const char *name, const char *src) {
  static char path[256];
  FILE *f;

  snprintf(path, sizeof(path), "%s/%s", dir, name);
  f = fopen(path, "w");
  assert_non_null(f);
  fputs(src, f);
  fclose(f);
  return path;
}

static struct osc_policy *load_ok(const char *name, const char *src) {
  struct osc_policy *p = NULL;
  struct osc_error err = OSC_ERROR_INIT;
  int rc = osc_policy_load(write_policy(name, src), NULL, NOW, &p, &err);

  if (rc != OSC_OK)
    fail_msg("load failed: %s", err.msg);
  return p;
}

static void load_fails(const char *name, const char *src, const char *msg) {
  struct osc_policy *p = NULL;
  struct osc_error err = OSC_ERROR_INIT;
  char want[1024];

  assert_int_equal(
      osc_policy_load(write_policy(name, src), NULL, NOW, &p, &err),
      OSC_E_POLICY);
  assert_null(p);
  snprintf(want, sizeof(want), "%s/%s%s", dir, name, msg);
  assert_string_equal(err.msg, want);
}

static struct osc_vm make_vm(void) {
  static const char *ips[] = {"10.0.0.4", "10.0.0.5"};
  static struct osc_tag tags[] = {{"team", "web"}, {"env", "prod"}};
  struct osc_vm vm;

  memset(&vm, 0, sizeof(vm));
  vm.id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/"
          "virtualMachineScaleSets/vmss-web/virtualMachines/3";
  vm.name = "vmss-web_3";
  vm.instance_id = "3";
  vm.computer_name = "web000003";
  vm.provisioning_state = "Succeeded";
  vm.state = OSC_VM_SUCCEEDED;
  vm.power_state = "running";
  vm.private_ips.items = ips;
  vm.private_ips.n = 2;
  vm.created_at = NOW - 3600;
  vm.zone = "2";
  vm.tags = tags;
  vm.n_tags = 2;
  vm.scale_set = "vmss-web";
  return vm;
}

static struct osc_target make_target(void) {
  static const char *roles[] = {"web-server"};
  static const char *envs[] = {"Environments-1"};
  struct osc_target t;

  memset(&t, 0, sizeof(t));
  t.id = "Machines-3";
  t.name = "web000003";
  t.roles.items = roles;
  t.roles.n = 1;
  t.environment_ids.items = envs;
  t.environment_ids.n = 1;
  t.health = "Healthy";
  t.comm_style = OSC_COMM_LISTENING;
  t.uri = "https://web000003:10933/";
  t.thumbprint = "ABCD";
  return t;
}

static void test_policy__empty_policy_uses_defaults(void **state) {
  struct osc_policy *p = load_ok("empty.lua", "return {}\n");
  const struct osc_policy_ops *ops = osc_policy_get_ops(p);
  struct osc_error err = OSC_ERROR_INIT;
  int64_t g = 0;

  (void)state;
  assert_null(ops->target_name);
  assert_null(ops->grace);
  assert_null(ops->on_scale_in);
  assert_null(ops->on_failed_vm);
  assert_null(ops->on_unregistered);
  assert_null(ops->on_in_sync);
  assert_true(ops->max_delete.percent);
  assert_true(ops->max_delete.value == 50.0);
  assert_int_equal(osc_policy_provisioning_grace(p, &g, &err), OSC_OK);
  assert_int_equal(g, 30 * 60);
  osc_policy_free(p);
}

static void test_policy__bad_hook_value_names_everything(void **state) {
  struct osc_policy *p =
      load_ok("delet.lua", "return {\n"
                           "  on_scale_in = function(t, ctx)\n"
                           "    return 'delet'\n"
                           "  end,\n"
                           "}\n");
  const struct osc_policy_ops *ops = osc_policy_get_ops(p);
  struct osc_target t = make_target();
  struct osc_error err = OSC_ERROR_INIT;
  enum osc_decision d = OSC_DECIDE_KEEP;
  char want[512];

  (void)state;
  assert_non_null(ops->on_scale_in);
  assert_int_equal(ops->on_scale_in(ops->ud, &t, NOW - 60, &d, &err),
                   OSC_E_POLICY);
  snprintf(want, sizeof(want),
           "%s/delet.lua:2: on_scale_in returned 'delet' (expected delete, "
           "disable or keep)",
           dir);
  assert_string_equal(err.msg, want);
  osc_policy_free(p);
}

static void test_policy__decisions(void **state) {
  struct osc_policy *p = load_ok(
      "decide.lua", "return {\n"
                    "  on_scale_in = function(t) return t.disabled and 'keep' "
                    "or 'disable' end,\n"
                    "  on_failed_vm = function(vm, t) return 'keep' end,\n"
                    "  on_unregistered = 'ignore',\n"
                    "  on_in_sync = function(vm, t) return 'enable' end,\n"
                    "}\n");
  const struct osc_policy_ops *ops = osc_policy_get_ops(p);
  struct osc_vm vm = make_vm();
  struct osc_target t = make_target();
  struct osc_error err = OSC_ERROR_INIT;
  enum osc_decision d;

  (void)state;
  assert_int_equal(ops->on_scale_in(ops->ud, &t, 0, &d, &err), OSC_OK);
  assert_int_equal(d, OSC_DECIDE_DISABLE);
  t.disabled = true;
  assert_int_equal(ops->on_scale_in(ops->ud, &t, 0, &d, &err), OSC_OK);
  assert_int_equal(d, OSC_DECIDE_KEEP);
  assert_int_equal(ops->on_failed_vm(ops->ud, &vm, &t, &d, &err), OSC_OK);
  assert_int_equal(d, OSC_DECIDE_KEEP);
  assert_int_equal(ops->on_unregistered(ops->ud, &vm, &d, &err), OSC_OK);
  assert_int_equal(d, OSC_DECIDE_IGNORE);
  assert_int_equal(ops->on_in_sync(ops->ud, &vm, &t, &d, &err), OSC_OK);
  assert_int_equal(d, OSC_DECIDE_ENABLE);
  osc_policy_free(p);
}

static void test_policy__max_delete(void **state) {
  static const struct {
    const char *src;
    bool ok;
    bool percent;
    double value;
  } cases[] = {
      {"return { max_delete = '10%' }", true, true, 10},
      {"return { max_delete = '12.5%' }", true, true, 12.5},
      {"return { max_delete = '100%' }", true, true, 100},
      {"return { max_delete = 3 }", true, false, 3},
      {"return { max_delete = '3' }", true, false, 3},
      {"return { max_delete = 0 }", true, false, 0},
      {"return { max_delete = '0%' }", true, true, 0},
      {"return { max_delete = '101%' }", false, false, 0},
      {"return { max_delete = -1 }", false, false, 0},
      {"return { max_delete = 1.5 }", false, false, 0},
      {"return { max_delete = 'half' }", false, false, 0},
      {"return { max_delete = '%' }", false, false, 0},
      {"return { max_delete = true }", false, false, 0},
      {"return { max_delete = '-1%' }", false, false, 0},
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct osc_policy *p = NULL;
    struct osc_error err = OSC_ERROR_INIT;
    int rc = osc_policy_load(write_policy("max.lua", cases[i].src), NULL, NOW,
                             &p, &err);

    if (!cases[i].ok) {
      assert_int_equal(rc, OSC_E_POLICY);
      assert_non_null(strstr(err.msg, ": max_delete is "));
      assert_non_null(strstr(err.msg, "(expected a percentage"));
      continue;
    }
    assert_int_equal(rc, OSC_OK);
    assert_int_equal(osc_policy_get_ops(p)->max_delete.percent,
                     cases[i].percent);
    assert_true(osc_policy_get_ops(p)->max_delete.value == cases[i].value);
    osc_policy_free(p);
  }
}

static void test_policy__graces(void **state) {
  struct osc_policy *p =
      load_ok("grace.lua", "return { grace = {\n"
                           "  provisioning = '1h30m',\n"
                           "  registration = function(vm, ctx)\n"
                           "    return vm.zone == '2' and '5m' or '15m' end,\n"
                           "  orphan = function(t, ctx) return 120 end,\n"
                           "} }\n");
  const struct osc_policy_ops *ops = osc_policy_get_ops(p);
  struct osc_vm vm = make_vm();
  struct osc_target t = make_target();
  struct osc_error err = OSC_ERROR_INIT;
  int64_t g = 0;

  (void)state;
  assert_non_null(ops->grace);
  assert_int_equal(
      ops->grace(ops->ud, OSC_GRACE_PROVISIONING, &vm, NULL, &g, &err), OSC_OK);
  assert_int_equal(g, 5400);
  assert_int_equal(
      ops->grace(ops->ud, OSC_GRACE_REGISTRATION, &vm, NULL, &g, &err), OSC_OK);
  assert_int_equal(g, 300);
  vm.zone = NULL;
  assert_int_equal(
      ops->grace(ops->ud, OSC_GRACE_REGISTRATION, &vm, NULL, &g, &err), OSC_OK);
  assert_int_equal(g, 900);
  assert_int_equal(ops->grace(ops->ud, OSC_GRACE_ORPHAN, NULL, &t, &g, &err),
                   OSC_OK);
  assert_int_equal(g, 120);
  assert_int_equal(osc_policy_provisioning_grace(p, &g, &err), OSC_OK);
  assert_int_equal(g, 5400);
  osc_policy_free(p);
}

static void test_policy__partial_grace_keeps_defaults(void **state) {
  struct osc_policy *p =
      load_ok("partial.lua", "return { grace = { orphan = '1h' } }\n");
  const struct osc_policy_ops *ops = osc_policy_get_ops(p);
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_vm vm = make_vm();
  int64_t g = 0;

  (void)state;
  assert_int_equal(
      ops->grace(ops->ud, OSC_GRACE_REGISTRATION, &vm, NULL, &g, &err), OSC_OK);
  assert_int_equal(g, 600);
  assert_int_equal(
      ops->grace(ops->ud, OSC_GRACE_PROVISIONING, &vm, NULL, &g, &err), OSC_OK);
  assert_int_equal(g, 1800);
  osc_policy_free(p);
}

static void test_policy__grace_function_bad_answer(void **state) {
  struct osc_policy *p =
      load_ok("gbad.lua", "return { grace = {\n  orphan = function() return "
                          "'ten minutes' end } }\n");
  const struct osc_policy_ops *ops = osc_policy_get_ops(p);
  struct osc_target t = make_target();
  struct osc_error err = OSC_ERROR_INIT;
  char want[512];
  int64_t g;

  (void)state;
  assert_int_equal(ops->grace(ops->ud, OSC_GRACE_ORPHAN, NULL, &t, &g, &err),
                   OSC_E_POLICY);
  snprintf(want, sizeof(want),
           "%s/gbad.lua:2: grace.orphan returned 'ten minutes' (expected a "
           "duration such as 10m or 1h30m, or a number of seconds)",
           dir);
  assert_string_equal(err.msg, want);
  osc_policy_free(p);
}

/* Each field a hook receives, checked in Lua: a mismatch raises naming it. */
static const char hook_args_src[] =
    "local function eq(a, b, what)\n"
    "  if a ~= b then error(what .. ': ' .. tostring(a)) end\n"
    "end\n"
    "return {\n"
    "  on_failed_vm = function(vm, t, ctx)\n"
    "    eq(vm.id:match('virtualMachines/(%d+)$'), '3', 'vm.id')\n"
    "    eq(vm.name, 'vmss-web_3', 'vm.name')\n"
    "    eq(vm.instance_id, '3', 'vm.instance_id')\n"
    "    eq(vm.computer_name, 'web000003', 'vm.computer_name')\n"
    "    eq(vm.provisioning_state, 'Succeeded', 'vm.provisioning_state')\n"
    "    eq(vm.power_state, 'running', 'vm.power_state')\n"
    "    eq(#vm.private_ips, 2, '#vm.private_ips')\n"
    "    eq(vm.private_ips[2], '10.0.0.5', 'vm.private_ips[2]')\n"
    "    eq(vm.created_at, ctx.now - 3600, 'vm.created_at')\n"
    "    eq(vm.zone, '2', 'vm.zone')\n"
    "    eq(vm.tags.team, 'web', 'vm.tags.team')\n"
    "    eq(vm.tags.env, 'prod', 'vm.tags.env')\n"
    "    eq(vm.scale_set, 'vmss-web', 'vm.scale_set')\n"
    "    eq(t.id, 'Machines-3', 't.id')\n"
    "    eq(t.name, 'web000003', 't.name')\n"
    "    eq(t.roles[1], 'web-server', 't.roles')\n"
    "    eq(t.environment_ids[1], 'Environments-1', 't.environment_ids')\n"
    "    eq(#t.tenant_ids, 0, 't.tenant_ids')\n"
    "    eq(t.health, 'Healthy', 't.health')\n"
    "    eq(t.disabled, false, 't.disabled')\n"
    "    eq(t.comm_style, 'listening', 't.comm_style')\n"
    "    eq(t.uri, 'https://web000003:10933/', 't.uri')\n"
    "    eq(t.thumbprint, 'ABCD', 't.thumbprint')\n"
    "    eq(ctx.now, 1795773600, 'ctx.now')\n"
    "    eq(ctx.scale_set.name, 'web-prod', 'ctx.scale_set.name')\n"
    "    eq(ctx.scale_set.vmss, 'vmss-web', 'ctx.scale_set.vmss')\n"
    "    eq(ctx.scale_set.roles[2], 'vmss-web', 'ctx.scale_set.roles')\n"
    "    eq(ctx.scale_set.tenant, nil, 'ctx.scale_set.tenant')\n"
    "    eq(ctx.settings.team, 'payments', 'ctx.settings.team')\n"
    "    eq(ctx.settings.limit, 5, 'ctx.settings.limit')\n"
    "    eq(ctx.settings.flags[2], true, 'ctx.settings.flags')\n"
    "    eq(ctx.scale_set.settings.team, 'payments', 'settings')\n"
    "    eq(type(ctx.log), 'function', 'ctx.log')\n"
    "    ctx.log('checked', vm.name)\n"
    "    return 'disable'\n"
    "  end,\n"
    "}\n";

/* web-prod with settings {team = "payments", limit = 5, flags = {false,
 * true}}; the arrays are static so the entry outlives the call. */
static struct osc_config_scale_set entry_with_settings(void) {
  static const char *roles[] = {"web-server", "vmss-web"};
  static const char *keys[] = {"team", "limit", "flags"};
  static struct osc_value flags[2];
  static struct osc_value items[3];
  struct osc_config_scale_set entry;

  memset(flags, 0, sizeof(flags));
  flags[0].type = OSC_VALUE_BOOL;
  flags[1].type = OSC_VALUE_BOOL;
  flags[1].b = true;
  memset(items, 0, sizeof(items));
  items[0].type = OSC_VALUE_STRING;
  items[0].s = "payments";
  items[1].type = OSC_VALUE_INT;
  items[1].i = 5;
  items[2].type = OSC_VALUE_LIST;
  items[2].items = flags;
  items[2].n = 2;
  memset(&entry, 0, sizeof(entry));
  entry.name = "web-prod";
  entry.resource_group = "rg-web";
  entry.vmss = "vmss-web";
  entry.environment = "Production";
  entry.roles.items = roles;
  entry.roles.n = 2;
  entry.settings.type = OSC_VALUE_MAP;
  entry.settings.keys = keys;
  entry.settings.items = items;
  entry.settings.n = 3;
  return entry;
}

static void test_policy__hook_arguments_and_ctx(void **state) {
  struct osc_config_scale_set entry = entry_with_settings();
  struct osc_policy *p = NULL;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_vm vm = make_vm();
  struct osc_target t = make_target();
  enum osc_decision d = OSC_DECIDE_KEEP;
  const struct osc_policy_ops *ops;
  int rc;

  (void)state;
  rc = osc_policy_load(write_policy("args.lua", hook_args_src), &entry, NOW, &p,
                       &err);
  assert_int_equal(rc, OSC_OK);
  ops = osc_policy_get_ops(p);
  rc = ops->on_failed_vm(ops->ud, &vm, &t, &d, &err);
  if (rc != OSC_OK)
    fail_msg("%s", err.msg);
  assert_int_equal(d, OSC_DECIDE_DISABLE);
  /* ctx is built once and reused. */
  assert_int_equal(ops->on_failed_vm(ops->ud, &vm, &t, &d, &err), OSC_OK);
  osc_policy_free(p);
}

static void test_policy__target_name(void **state) {
  struct osc_policy *p =
      load_ok("name.lua", "return {\n"
                          "  target_name = function(vm, ctx)\n"
                          "    if vm.zone == 'x' then return '' end\n"
                          "    if vm.zone == 'y' then return string.rep('a', "
                          "600) end\n"
                          "    return 'prod-' .. vm.computer_name:upper()\n"
                          "  end,\n"
                          "}\n");
  const struct osc_policy_ops *ops = osc_policy_get_ops(p);
  struct osc_vm vm = make_vm();
  struct osc_error err = OSC_ERROR_INIT;
  char out[512];
  char want[512];

  (void)state;
  assert_int_equal(ops->target_name(ops->ud, &vm, out, sizeof(out), &err),
                   OSC_OK);
  assert_string_equal(out, "prod-WEB000003");
  vm.zone = "x";
  assert_int_equal(ops->target_name(ops->ud, &vm, out, sizeof(out), &err),
                   OSC_E_POLICY);
  snprintf(want, sizeof(want),
           "%s/name.lua:2: target_name returned '' (expected a non-empty "
           "string)",
           dir);
  assert_string_equal(err.msg, want);
  vm.zone = "y";
  assert_int_equal(ops->target_name(ops->ud, &vm, out, sizeof(out), &err),
                   OSC_E_POLICY);
  assert_non_null(strstr(err.msg, "target_name returned a name of 600 bytes"));
  osc_policy_free(p);
}

static void test_policy__raising_hook_names_hook(void **state) {
  struct osc_policy *p =
      load_ok("raise.lua", "return {\n"
                           "  on_unregistered = function(vm, ctx)\n"
                           "    return vm.nope.x\n"
                           "  end,\n"
                           "  on_scale_in = function() return "
                           "undeclared end,\n"
                           "}\n");
  const struct osc_policy_ops *ops = osc_policy_get_ops(p);
  struct osc_vm vm = make_vm();
  struct osc_target t = make_target();
  struct osc_error err = OSC_ERROR_INIT;
  enum osc_decision d;
  char want[512];

  (void)state;
  assert_int_equal(ops->on_unregistered(ops->ud, &vm, &d, &err), OSC_E_POLICY);
  snprintf(want, sizeof(want),
           "%s/raise.lua:3: on_unregistered: attempt to index a nil value "
           "(field 'nope')",
           dir);
  assert_string_equal(err.msg, want);
  assert_int_equal(ops->on_scale_in(ops->ud, &t, 0, &d, &err), OSC_E_POLICY);
  snprintf(want, sizeof(want),
           "%s/raise.lua:5: on_scale_in: undeclared global 'undeclared'", dir);
  assert_string_equal(err.msg, want);
  osc_policy_free(p);
}

static void test_policy__runaway_hook_stops(void **state) {
  struct osc_policy *p =
      load_ok("runaway.lua", "return {\n"
                             "  on_scale_in = function()\n"
                             "    while true do pcall(function() while "
                             "true do end end) end\n"
                             "  end,\n"
                             "}\n");
  const struct osc_policy_ops *ops = osc_policy_get_ops(p);
  struct osc_target t = make_target();
  struct osc_error err = OSC_ERROR_INIT;
  enum osc_decision d;
  int64_t t0 = osc_time_monotonic_ms();
  int64_t c0 = cpu_ms();
  char want[256];

  (void)state;
  assert_int_equal(ops->on_scale_in(ops->ud, &t, 0, &d, &err), OSC_E_POLICY);
  ASSERT_STOPPED_FAST(t0, c0);
  snprintf(want, sizeof(want), "%s/runaway.lua:3: on_scale_in: ", dir);
  assert_true(strncmp(err.msg, want, strlen(want)) == 0);
  assert_non_null(strstr(err.msg, "exceeded"));
  /* The next call gets a fresh budget (and fails the same way). */
  assert_int_equal(ops->on_scale_in(ops->ud, &t, 0, &d, &err), OSC_E_POLICY);
  osc_policy_free(p);
}

static void test_policy__load_errors(void **state) {
  (void)state;
  load_fails("syntax.lua", "return {\n  max_delete = 1\n  grace = {}\n}\n",
             ":3: '}' expected (to close '{' at line 1) near 'grace'");
  load_fails("runtime.lua", "local s = nil\nlocal p = s.prefix\nreturn {}\n",
             ":2: attempt to index a nil value (local 's')");
  load_fails("global.lua", "local a = 1\nreturn { target_name = helper }\n",
             ":2: undeclared global 'helper'");
  load_fails("assign.lua", "helper = 1\nreturn {}\n",
             ":1: assignment to undeclared global 'helper'");
  load_fails("loop.lua", "local n = 0\nwhile true do n = n + 1 end\n",
             ":2: execution budget exceeded (limit 100000000 "
             "instructions or 1000 ms)");
  load_fails("nil.lua", "local x = 1\n",
             ": the policy returned nil (expected a table of hooks)");
  load_fails("unknown.lua", "return { on_scalein = 'delete' }\n",
             ": unknown field 'on_scalein' in the policy table (did you mean "
             "'on_scale_in'?)");
  load_fails("unknown2.lua", "return { whatever = 1 }\n",
             ": unknown field 'whatever' in the policy table");
  load_fails("const.lua", "return { on_unregistered = 'delete' }\n",
             ": on_unregistered is 'delete' (expected a function, or report "
             "or ignore)");
  load_fails("tn.lua", "return { target_name = 'x' }\n",
             ": target_name is 'x' (expected a function)");
  load_fails("grace.lua", "return { grace = { orphan = '10 min' } }\n",
             ": grace.orphan is '10 min' (expected a duration such as 10m "
             "or 1h30m, a number of seconds, or a function)");
  load_fails("grace2.lua", "return { grace = { orphans = '10m' } }\n",
             ": unknown grace 'orphans' (did you mean 'orphan'?) (expected "
             "provisioning, registration or orphan)");
}

static void test_policy__runaway_memory_at_load(void **state) {
  struct osc_policy *p = NULL;
  struct osc_error err = OSC_ERROR_INIT;
  int64_t t0 = osc_time_monotonic_ms();
  int64_t c0 = cpu_ms();
  char want[256];

  (void)state;
  assert_int_equal(
      osc_policy_load(write_policy("mem.lua",
                                   "local t = {}\n"
                                   "while true do\n"
                                   "  t[#t + 1] = string.rep('x', 8 << 20) .. "
                                   "#t\n"
                                   "end\n"),
                      NULL, NOW, &p, &err),
      OSC_E_POLICY);
  ASSERT_STOPPED_FAST(t0, c0);
  snprintf(want, sizeof(want),
           "%s/mem.lua:3: memory limit exceeded (limit 64 MiB)", dir);
  assert_string_equal(err.msg, want);
}

static void test_policy__missing_file(void **state) {
  struct osc_policy *p = NULL;
  struct osc_error err = OSC_ERROR_INIT;

  (void)state;
  assert_int_equal(osc_policy_load("/nonexistent/p.lua", NULL, NOW, &p, &err),
                   OSC_E_POLICY);
  assert_non_null(strstr(err.msg, "/nonexistent/p.lua"));
}

static void test_policy__run_tests_counts(void **state) {
  const char *files[2];
  struct osc_error err = OSC_ERROR_INIT;
  int failed = -1;
  char p1[256];

  (void)state;
  snprintf(
      p1, sizeof(p1), "%s",
      write_policy(
          "a_test.lua",
          "local t = require 'octoscale.testing'\n"
          "t.test('passes', function() t.eq(1, 1) end)\n"
          "t.test('fails', function() t.eq(1, 2) end)\n"
          "t.test('plans', function()\n"
          "  local p = t.plan { vms = { t.vm { instance_id = 1, age = '1m' } } "
          "}\n"
          "  t.expect_action(p, 'wait', 'web000001')\n"
          "end)\n"));
  files[0] = p1;
  files[1] = write_policy("broken_test.lua", "this is not lua\n");
  assert_int_equal(osc_test_run(files, 2, &failed, &err), OSC_OK);
  assert_int_equal(failed, 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_policy__empty_policy_uses_defaults),
      cmocka_unit_test(test_policy__bad_hook_value_names_everything),
      cmocka_unit_test(test_policy__decisions),
      cmocka_unit_test(test_policy__max_delete),
      cmocka_unit_test(test_policy__graces),
      cmocka_unit_test(test_policy__partial_grace_keeps_defaults),
      cmocka_unit_test(test_policy__grace_function_bad_answer),
      cmocka_unit_test(test_policy__hook_arguments_and_ctx),
      cmocka_unit_test(test_policy__target_name),
      cmocka_unit_test(test_policy__raising_hook_names_hook),
      cmocka_unit_test(test_policy__runaway_hook_stops),
      cmocka_unit_test(test_policy__load_errors),
      cmocka_unit_test(test_policy__runaway_memory_at_load),
      cmocka_unit_test(test_policy__missing_file),
      cmocka_unit_test(test_policy__run_tests_counts),
  };

  return cmocka_run_group_tests(tests, setup, teardown);
}
