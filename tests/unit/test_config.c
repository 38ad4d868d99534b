/* The configuration loader (docs/design.md §5): defaults, paths, ${VAR},
 * unknown and duplicate keys, types, enums, URLs, durations, settings
 * typing, exact file:line:col messages, and that secrets are never echoed.
 * Each tests/fixtures/config/broken/NAME.yaml starts with "# expect: L:C: msg"
 * and are checked one by one. Run from the repository root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/osc_config.h"
#include "core/osc_log.h"

#define BASE_OCTOPUS                                                           \
  "octopus:\n"                                                                 \
  "  url: https://octopus.example.com\n"
#define BASE_AZURE                                                             \
  "azure:\n"                                                                   \
  "  subscription: sub-1\n"
#define BASE_ENTRY                                                             \
  "scale_sets:\n"                                                              \
  "  - name: web\n"                                                            \
  "    resource_group: rg\n"                                                   \
  "    vmss: vmss\n"                                                           \
  "    environment: Production\n"                                              \
  "    roles: [web]\n"
/* 10 lines; an extra key of the entry lands on line 11, column 5 */
#define BASE BASE_OCTOPUS BASE_AZURE BASE_ENTRY

static struct osc_config *load_ok_named(const char *name, const char *text) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_config *cfg = NULL;
  int rc = osc_config_load_string(name, text, strlen(text), &cfg, &err);

  if (rc != 0)
    fail_msg("unexpected error: %s", err.msg);
  assert_non_null(cfg);
  return cfg;
}

static struct osc_config *load_ok(const char *text) {
  return load_ok_named("t.yaml", text);
}

/* Loads `text` as "t.yaml" and expects exactly "t.yaml:" `msg`. */
static void expect_error(const char *text, const char *msg) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_config *cfg = (struct osc_config *)1;
  char want[OSC_ERROR_MAX];
  int rc = osc_config_load_string("t.yaml", text, strlen(text), &cfg, &err);

  snprintf(want, sizeof(want), "t.yaml:%s", msg);
  if (rc == 0)
    osc_config_free(cfg);
  assert_int_equal(rc, OSC_E_CONFIG);
  assert_int_equal(err.code, OSC_E_CONFIG);
  assert_null(cfg);
  assert_string_equal(err.msg, want);
}

/* Loads and returns the message (for checks other than equality). */
static void load_error(const char *text, struct osc_error *err) {
  struct osc_config *cfg = NULL;
  int rc = osc_config_load_string("t.yaml", text, strlen(text), &cfg, err);

  if (rc == 0)
    osc_config_free(cfg);
  assert_int_equal(rc, OSC_E_CONFIG);
  assert_null(cfg);
  assert_null(strchr(err->msg, '\n'));
}

/* Runs a load with stderr redirected, returning what was logged. */
static int load_capturing(const char *text, struct osc_config **cfg, char *log,
                          size_t cap) {
  struct osc_error err = OSC_ERROR_INIT;
  FILE *tmp = tmpfile();
  int saved;
  size_t n;
  int rc;

  assert_non_null(tmp);
  fflush(stderr);
  saved = dup(2);
  assert_true(saved >= 0);
  assert_true(dup2(fileno(tmp), 2) >= 0);
  rc = osc_config_load_string("t.yaml", text, strlen(text), cfg, &err);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  rewind(tmp);
  n = fread(log, 1, cap - 1, tmp);
  log[n] = '\0';
  fclose(tmp);
  return rc;
}

/* --- defaults and a complete file --- */

static void test_config__octopus_pacing(void **state) {
  struct osc_config *cfg;

  (void)state;
  cfg =
      load_ok(BASE_OCTOPUS "  requests_per_minute: 0\n" BASE_AZURE BASE_ENTRY);
  assert_int_equal(cfg->octopus.requests_per_minute, 0);
  osc_config_free(cfg);
  cfg = load_ok(BASE_OCTOPUS
                "  requests_per_minute: 1000\n" BASE_AZURE BASE_ENTRY);
  assert_int_equal(cfg->octopus.requests_per_minute, 1000);
  osc_config_free(cfg);
  cfg = load_ok(BASE_OCTOPUS
                "  requests_per_minute: auto\n" BASE_AZURE BASE_ENTRY);
  assert_int_equal(cfg->octopus.requests_per_minute, OSC_RATE_AUTO);
  osc_config_free(cfg);
  expect_error(BASE_OCTOPUS "  requests_per_minute: -5\n" BASE_AZURE BASE_ENTRY,
               "3:24: octopus.requests_per_minute must be auto or a whole "
               "number from 0 to 1000000, not '-5'");
  expect_error(BASE_OCTOPUS
               "  requests_per_minute: 2e3\n" BASE_AZURE BASE_ENTRY,
               "3:24: octopus.requests_per_minute must be a whole number "
               "from 0 to 1000000, not '2e3'");
}

static void test_config__defaults(void **state) {
  struct osc_config *cfg = load_ok(BASE);
  const struct osc_config_scale_set *ss;

  (void)state;
  assert_string_equal(cfg->path, "t.yaml");
  assert_string_equal(cfg->dir, ".");
  assert_string_equal(cfg->octopus.url, "https://octopus.example.com");
  assert_null(cfg->octopus.api_key);
  assert_string_equal(cfg->octopus.space, "Default");
  assert_int_equal(cfg->octopus.requests_per_minute, OSC_RATE_AUTO);
  assert_string_equal(cfg->azure.subscription, "sub-1");
  assert_null(cfg->azure.tenant);
  assert_int_equal(cfg->azure.auth, OSC_AUTH_AUTO);
  assert_null(cfg->azure.client_id);
  assert_null(cfg->azure.client_secret);
  assert_string_equal(cfg->azure.cloud, "public");
  assert_string_equal(cfg->azure.login_endpoint,
                      "https://login.microsoftonline.com");
  assert_string_equal(cfg->azure.management_endpoint,
                      "https://management.azure.com");
  assert_string_equal(cfg->azure.imds_endpoint, "http://169.254.169.254");
  assert_string_equal(cfg->azure.api_version, "2024-11-01");
  assert_string_equal(cfg->azure.network_api_version, "2017-03-30");
  assert_int_equal(cfg->http.connect_timeout_ms, 10000);
  assert_int_equal(cfg->http.timeout_ms, 60000);
  assert_int_equal(cfg->http.max_attempts, 6);
  assert_int_equal(cfg->http.max_retry_ms, 120000);
  assert_int_equal(cfg->http.concurrency, 8);
  assert_null(cfg->http.ca_file);
  assert_string_equal(cfg->state, ".octoscale/state.json");
  assert_string_equal(cfg->policy, "policies/default.lua");
  assert_int_equal(cfg->n_scale_sets, 1);
  ss = &cfg->scale_sets[0];
  assert_string_equal(ss->name, "web");
  assert_string_equal(ss->resource_group, "rg");
  assert_string_equal(ss->vmss, "vmss");
  assert_string_equal(ss->subscription, "sub-1");
  assert_string_equal(ss->environment, "Production");
  assert_int_equal(ss->roles.n, 1);
  assert_string_equal(ss->roles.items[0], "web");
  assert_null(ss->tenant);
  assert_string_equal(ss->policy, "policies/default.lua");
  assert_int_equal(ss->settings.type, OSC_VALUE_MAP);
  assert_int_equal(ss->settings.n, 0);
  assert_int_equal(ss->line, 6);
  osc_config_free(cfg);
}

static void test_config__valid_fixture(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_config *cfg = NULL;
  const struct osc_config_scale_set *ss;
  const struct osc_value *s;

  (void)state;
  assert_int_equal(
      osc_config_load("tests/fixtures/config/valid.yaml", &cfg, &err), 0);
  assert_string_equal(cfg->dir, "tests/fixtures/config");
  assert_string_equal(cfg->octopus.url, "https://octopus.example.com");
  assert_string_equal(cfg->octopus.api_key, "API-TESTKEY");
  assert_string_equal(cfg->octopus.space, "Spaces-2");
  assert_int_equal(cfg->azure.auth, OSC_AUTH_CLIENT_SECRET);
  assert_string_equal(cfg->azure.client_secret, "not-a-real-secret");
  assert_string_equal(cfg->azure.cloud, "usgovernment");
  assert_string_equal(cfg->azure.login_endpoint,
                      "https://login.microsoftonline.us");
  assert_string_equal(cfg->azure.management_endpoint,
                      "https://management.usgovcloudapi.net");
  assert_string_equal(cfg->azure.api_version, "2025-04-01");
  assert_string_equal(cfg->azure.network_api_version, "2018-10-01");
  assert_int_equal(cfg->http.connect_timeout_ms, 5000);
  assert_int_equal(cfg->http.timeout_ms, 90000);
  assert_int_equal(cfg->http.max_attempts, 3);
  assert_int_equal(cfg->http.max_retry_ms, 300000);
  assert_int_equal(cfg->http.concurrency, 16);
  assert_string_equal(cfg->http.ca_file, "tests/fixtures/config/valid.yaml");
  assert_string_equal(cfg->state, "tests/fixtures/config/state/octoscale.json");
  assert_string_equal(cfg->policy, "policies/default.lua");
  assert_int_equal(cfg->n_scale_sets, 2);

  ss = &cfg->scale_sets[0];
  assert_int_equal(ss->roles.n, 2);
  assert_string_equal(ss->roles.items[1], "vmss-web");
  assert_string_equal(ss->policy, "policies/default.lua");
  s = &ss->settings;
  assert_int_equal(s->n, 7);
  assert_string_equal(s->keys[0], "team");
  assert_string_equal(s->keys[6], "nested");
  assert_int_equal(s->items[6].type, OSC_VALUE_MAP);
  assert_int_equal(s->items[6].items[0].type, OSC_VALUE_NULL);

  ss = &cfg->scale_sets[1];
  assert_string_equal(ss->subscription, "33333333-3333-3333-3333-333333333333");
  assert_string_equal(ss->environment, "Environments-7");
  assert_string_equal(ss->tenant, "Tenants-1");
  assert_string_equal(ss->policy, "/etc/octoscale/api.lua");
  assert_int_equal(ss->roles.n, 1);
  osc_config_free(cfg);
}

static void test_config__example_is_valid(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_config *cfg = NULL;

  (void)state;
  if (osc_config_load("examples/octoscale.yaml", &cfg, &err) != 0)
    fail_msg("examples/octoscale.yaml: %s", err.msg);
  assert_string_equal(cfg->policy, "policies/default.lua");
  assert_string_equal(cfg->state, ".octoscale/state.json");
  assert_int_equal(cfg->n_scale_sets, 2);
  assert_string_equal(cfg->scale_sets[1].policy, "policies/conservative.lua");
  osc_config_free(cfg);
}

static void test_config__minimal_fixture(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_config *cfg = NULL;

  (void)state;
  assert_int_equal(
      osc_config_load("tests/fixtures/config/minimal.yaml", &cfg, &err), 0);
  assert_string_equal(cfg->state,
                      "tests/fixtures/config/.octoscale/state.json");
  assert_string_equal(cfg->policy,
                      "tests/fixtures/config/policies/default.lua");
  osc_config_free(cfg);
}

/* Every broken fixture fails with the message its first line announces. */
static void test_config__broken_fixtures(void **state) {
  const char *dir = "tests/fixtures/config/broken";
  DIR *d = opendir(dir);
  struct dirent *e;
  size_t count = 0;

  (void)state;
  assert_non_null(d);
  unsetenv("OCTOSCALE_TEST_UNSET_VAR");
  while ((e = readdir(d)) != NULL) {
    struct osc_error err = OSC_ERROR_INIT;
    struct osc_config *cfg = NULL;
    char path[512];
    char line[512];
    char want[OSC_ERROR_MAX];
    size_t len = strlen(e->d_name);
    FILE *f;

    if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0)
      continue;
    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
    f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    line[strcspn(line, "\n")] = '\0';
    assert_int_equal(strncmp(line, "# expect: ", 10), 0);
    snprintf(want, sizeof(want), "%s:%s", path, line + 10);
    if (osc_config_load(path, &cfg, &err) == 0) {
      osc_config_free(cfg);
      fail_msg("%s: loaded without error", path);
    }
    assert_int_equal(err.code, OSC_E_CONFIG);
    assert_null(cfg);
    if (strcmp(err.msg, want) != 0)
      fail_msg("%s:\n  want: %s\n  got:  %s", path, want, err.msg);
    count++;
  }
  closedir(d);
  assert_true(count >= 25);
}

static void test_config__missing_file(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_config *cfg = NULL;

  (void)state;
  assert_int_equal(
      osc_config_load("tests/fixtures/config/nope.yaml", &cfg, &err),
      OSC_E_CONFIG);
  assert_null(cfg);
  assert_string_equal(err.msg, "tests/fixtures/config/nope.yaml: No such file "
                               "or directory");
}

/* --- paths --- */

static void test_config__relative_paths(void **state) {
  struct osc_config *cfg;

  (void)state;
  /* config in a subdirectory: paths join its directory, and "dir/.."
   * collapses when dir is a real directory */
  cfg = load_ok_named(
      "tests/fixtures/config/c.yaml",
      "state: st.json\n"
      "policy: ../../../policies/x.lua\n" BASE_OCTOPUS BASE_AZURE BASE_ENTRY
      "    policy: ./own.lua\n");
  assert_string_equal(cfg->dir, "tests/fixtures/config");
  assert_string_equal(cfg->state, "tests/fixtures/config/st.json");
  assert_string_equal(cfg->policy, "policies/x.lua");
  assert_string_equal(cfg->scale_sets[0].policy,
                      "tests/fixtures/config/own.lua");
  osc_config_free(cfg);

  /* absolute paths stay as they are */
  cfg = load_ok_named(
      "tests/fixtures/config/c.yaml",
      "state: /var/lib/octoscale/state.json\n" BASE_OCTOPUS BASE_AZURE
          BASE_ENTRY "    policy: /etc/octoscale/p.lua\n");
  assert_string_equal(cfg->state, "/var/lib/octoscale/state.json");
  assert_string_equal(cfg->scale_sets[0].policy, "/etc/octoscale/p.lua");
  osc_config_free(cfg);

  /* config given with an absolute path */
  cfg = load_ok_named("/etc/octoscale/octoscale.yaml", BASE);
  assert_string_equal(cfg->dir, "/etc/octoscale");
  assert_string_equal(cfg->state, "/etc/octoscale/.octoscale/state.json");
  assert_string_equal(cfg->policy, "/etc/octoscale/policies/default.lua");
  osc_config_free(cfg);

  /* a directory that does not exist is not collapsed */
  cfg = load_ok_named("/nonexistent-octoscale/conf/c.yaml",
                      "policy: ../p.lua\n" BASE);
  assert_string_equal(cfg->policy, "/nonexistent-octoscale/conf/../p.lua");
  osc_config_free(cfg);

  /* config at the root */
  cfg = load_ok_named("/c.yaml", "policy: p.lua\n" BASE);
  assert_string_equal(cfg->dir, "/");
  assert_string_equal(cfg->policy, "/p.lua");
  osc_config_free(cfg);
}

/* "link/.." is not collapsed: the kernel resolves it through the link. */
static void test_config__relative_paths_symlink(void **state) {
  char root[] = "/tmp/osc-config-XXXXXX";
  char real[128];
  char link[128];
  char name[160];
  char want[200];
  struct osc_config *cfg;

  (void)state;
  assert_non_null(mkdtemp(root));
  snprintf(real, sizeof(real), "%s/real", root);
  snprintf(link, sizeof(link), "%s/link", root);
  assert_int_equal(mkdir(real, 0700), 0);
  assert_int_equal(symlink(real, link), 0);
  snprintf(name, sizeof(name), "%s/c.yaml", link);
  cfg = load_ok_named(name, "policy: ../p.lua\n" BASE);
  snprintf(want, sizeof(want), "%s/link/../p.lua", root);
  assert_string_equal(cfg->policy, want);
  osc_config_free(cfg);
  snprintf(name, sizeof(name), "%s/real/c.yaml", root);
  cfg = load_ok_named(name, "policy: ../p.lua\n" BASE);
  snprintf(want, sizeof(want), "%s/p.lua", root);
  assert_string_equal(cfg->policy, want);
  osc_config_free(cfg);
  unlink(link);
  rmdir(real);
  rmdir(root);
}

/* --- ${VAR} --- */

static void test_config__env_expansion(void **state) {
  struct osc_config *cfg;
  const struct osc_value *s;

  (void)state;
  setenv("OSC_T_HOST", "octopus.example.com", 1);
  setenv("OSC_T_KEY", "API-123", 1);
  setenv("OSC_T_EMPTY", "", 1);
  setenv("OSC_T_NUM", "42", 1);
  setenv("OSC_T_ROLE", "web-server", 1);
  setenv("OSC_T_NESTED", "${OSC_T_KEY}", 1);
  cfg = load_ok("octopus:\n"
                "  url: https://${OSC_T_HOST}/\n"
                "  api_key: ${OSC_T_KEY}\n"
                "azure:\n"
                "  subscription: sub-1\n"
                "  tenant: ${OSC_T_EMPTY}\n"
                "scale_sets:\n"
                "  - name: ${OSC_T_HOST}-$${OSC_T_KEY}-$x-a$-${OSC_T_NUM}\n"
                "    resource_group: rg\n"
                "    vmss: vmss\n"
                "    environment: Production\n"
                "    roles: [\"${OSC_T_ROLE}\", \"x${OSC_T_NUM}\"]\n"
                "    settings:\n"
                "      n: ${OSC_T_NUM}\n"
                "      q: '${OSC_T_NUM}'\n"
                "      e: ${OSC_T_EMPTY}\n"
                "      nested: ${OSC_T_NESTED}\n");
  assert_string_equal(cfg->octopus.url, "https://octopus.example.com");
  assert_string_equal(cfg->octopus.api_key, "API-123");
  /* set but empty: allowed, and an optional key then counts as unset */
  assert_null(cfg->azure.tenant);
  assert_string_equal(cfg->scale_sets[0].name,
                      "octopus.example.com-${OSC_T_KEY}-$x-a$-42");
  assert_string_equal(cfg->scale_sets[0].roles.items[0], "web-server");
  assert_string_equal(cfg->scale_sets[0].roles.items[1], "x42");
  s = &cfg->scale_sets[0].settings;
  /* plain scalars are typed after expansion; quoted ones stay strings */
  assert_int_equal(s->items[0].type, OSC_VALUE_INT);
  assert_int_equal(s->items[0].i, 42);
  assert_int_equal(s->items[1].type, OSC_VALUE_STRING);
  assert_string_equal(s->items[1].s, "42");
  assert_int_equal(s->items[2].type, OSC_VALUE_STRING);
  assert_string_equal(s->items[2].s, "");
  /* one pass: a value from the environment is not expanded again */
  assert_string_equal(s->items[3].s, "${OSC_T_KEY}");
  osc_config_free(cfg);
  unsetenv("OSC_T_HOST");
  unsetenv("OSC_T_KEY");
  unsetenv("OSC_T_EMPTY");
  unsetenv("OSC_T_NUM");
  unsetenv("OSC_T_ROLE");
  unsetenv("OSC_T_NESTED");
}

static void test_config__env_unset(void **state) {
  (void)state;
  unsetenv("OSC_T_UNSET");
  setenv("OSC_T_SET", "x", 1);
  /* the column is the $ of the reference when the source spells the value
   * verbatim, else the value's start */
  expect_error("octopus:\n"
               "  url: ${OSC_T_UNSET}\n",
               "2:8: environment variable 'OSC_T_UNSET' is not set");
  expect_error("octopus:\n"
               "  url: https://${OSC_T_SET}/${OSC_T_UNSET}\n",
               "2:29: environment variable 'OSC_T_UNSET' is not set");
  expect_error("octopus:\n"
               "  url: \"https://${OSC_T_UNSET}\"\n",
               "2:17: environment variable 'OSC_T_UNSET' is not set");
  expect_error("octopus:\n"
               "  url: \"\\x41${OSC_T_UNSET}\"\n",
               "2:8: environment variable 'OSC_T_UNSET' is not set");
  /* inside settings and lists too */
  expect_error(BASE "    settings: {a: [1, '${OSC_T_UNSET}']}\n",
               "11:24: environment variable 'OSC_T_UNSET' is not set");
  unsetenv("OSC_T_SET");
}

static void test_config__env_bad_reference(void **state) {
  (void)state;
  expect_error("octopus:\n"
               "  url: ${OSC_T_URL:-https://x}\n",
               "2:8: octopus.url: defaults such as ${NAME:-value} are not "
               "supported (set the variable, or write $$ for a literal $)");
  expect_error("octopus:\n"
               "  url: https://${OSC T}\n",
               "2:16: octopus.url: invalid ${...} reference (a variable name "
               "is letters, digits and _; write $$ for a literal $)");
  expect_error("octopus:\n"
               "  url: https://${OSC_T\n",
               "2:16: octopus.url: invalid ${...} reference (a variable name "
               "is letters, digits and _; write $$ for a literal $)");
  expect_error("octopus:\n"
               "  url: https://${}\n",
               "2:16: octopus.url: invalid ${...} reference (a variable name "
               "is letters, digits and _; write $$ for a literal $)");
  expect_error("octopus:\n"
               "  url: https://${1X}\n",
               "2:16: octopus.url: invalid ${...} reference (a variable name "
               "is letters, digits and _; write $$ for a literal $)");
}

/* --- keys --- */

static void test_config__unknown_keys(void **state) {
  (void)state;
  expect_error(BASE "scale_set: []\n",
               "11:1: unknown key 'scale_set' at top level (did you mean "
               "'scale_sets'?)");
  expect_error(BASE "Octopus: {}\n",
               "11:1: unknown key 'Octopus' at top level (did you mean "
               "'octopus'?)");
  expect_error(BASE "version: 1\n",
               "11:1: unknown key 'version' at top level (expected one of: "
               "octopus, azure, http, state, policy, scale_sets)");
  expect_error(BASE "    rolse: [x]\n",
               "11:5: unknown key 'rolse' in scale_sets[0] (did you mean "
               "'roles'?)");
  expect_error(BASE "    environment_id: x\n",
               "11:5: unknown key 'environment_id' in scale_sets[0] (expected "
               "one of: name, resource_group, vmss, subscription, "
               "environment, roles, tenant, policy, settings)");
  expect_error("octopus:\n  url: https://o\n  apikey: x\n",
               "3:3: unknown key 'apikey' in octopus (did you mean "
               "'api_key'?)");
  expect_error("octopus: {url: https://o}\nazure: {tenat: x}\n",
               "2:9: unknown key 'tenat' in azure (did you mean 'tenant'?)");
  expect_error(BASE "http: {retries: 3}\n",
               "11:8: unknown key 'retries' in http (expected one of: "
               "connect_timeout, timeout, max_attempts, max_retry_time, "
               "concurrency, ca_file)");
  /* settings are free-form */
  {
    struct osc_config *cfg =
        load_ok(BASE "    settings: {anything: 1, Roles: [a]}\n");

    assert_int_equal(cfg->scale_sets[0].settings.n, 2);
    osc_config_free(cfg);
  }
}

static void test_config__duplicate_keys(void **state) {
  (void)state;
  expect_error("octopus:\n  url: https://a\n  url: https://b\n",
               "3:3: duplicate key 'url' in octopus (first at line 2)");
  expect_error(BASE "octopus: {url: https://c}\n",
               "11:1: duplicate key 'octopus' at top level (first at line 1)");
  expect_error(BASE "    name: again\n",
               "11:5: duplicate key 'name' in scale_sets[0] (first at line "
               "6)");
  expect_error(BASE "    settings: {a: {b: 1, b: 2}}\n",
               "11:26: duplicate key 'b' in scale_sets[0].settings.a (first "
               "at line 11)");
  expect_error("octopus: {url: https://o}\n[a]: 1\n",
               "2:1: keys must be strings, not a list at top level");
}

/* Two entries on one scale set whose scopes overlap would delete the same
 * targets twice over: an error naming both lines. Disjoint ones load. */
static void test_config__overlapping_entries(void **state) {
  static const char *const overlapping[] = {
      "    roles: [web]\n",                /* the same scope */
      "    roles: [WEB, api]\n",           /* a superset, case-insensitive */
      "    roles: [web]\n    tenant: T\n", /* one untenanted */
  };
  static const char *const disjoint[] = {
      "    roles: [api]\n",                          /* neither within */
      "    roles: [web]\n    subscription: sub-2\n", /* other subscription */
  };
  char text[1024];
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(overlapping) / sizeof(overlapping[0]); i++) {
    snprintf(text, sizeof(text),
             BASE "  - name: web2\n"
                  "    resource_group: RG\n"
                  "    vmss: vmss\n"
                  "    environment: production\n"
                  "%s",
             overlapping[i]);
    expect_error(text, "11:11: scale set 'web2' overlaps 'web' (t.yaml:6): "
                       "both cover RG/vmss in environment production with "
                       "roles one within the other's and compatible tenants, "
                       "so both would delete the same targets; merge them or "
                       "make their scopes disjoint");
  }
  for (i = 0; i < sizeof(disjoint) / sizeof(disjoint[0]); i++) {
    snprintf(text, sizeof(text),
             BASE "  - name: web2\n"
                  "    resource_group: rg\n"
                  "    vmss: vmss\n"
                  "    environment: Production\n"
                  "%s",
             disjoint[i]);
    osc_config_free(load_ok(text));
  }
  snprintf(text, sizeof(text),
           BASE_OCTOPUS BASE_AZURE BASE_ENTRY "    tenant: A\n"
                                              "  - name: web2\n"
                                              "    resource_group: rg\n"
                                              "    vmss: vmss\n"
                                              "    environment: Production\n"
                                              "    roles: [web]\n"
                                              "    tenant: B\n");
  osc_config_free(load_ok(text)); /* two tenants never meet */
}

static void test_config__duplicate_scale_set_names(void **state) {
  (void)state;
  expect_error(BASE "  - name: WEB\n"
                    "    resource_group: rg2\n"
                    "    vmss: vmss2\n"
                    "    environment: Production\n"
                    "    roles: [web]\n",
               "11:11: duplicate scale set name 'WEB' (first at line 6; names "
               "compare case-insensitively)");
}

static void test_config__required_keys(void **state) {
  (void)state;
  expect_error(BASE_AZURE BASE_ENTRY,
               "1:1: missing required key 'octopus' at top level");
  expect_error("octopus:\n  space: x\n" BASE_AZURE BASE_ENTRY,
               "2:3: missing required key 'url' in octopus");
  expect_error("octopus:\n" BASE_AZURE BASE_ENTRY,
               "1:9: missing required key 'url' in octopus");
  expect_error("octopus:\n  url:\n" BASE_AZURE BASE_ENTRY,
               "2:7: octopus.url must not be empty");
  expect_error(BASE_OCTOPUS BASE_AZURE,
               "1:1: missing required key 'scale_sets' at top level");
  expect_error(BASE_OCTOPUS BASE_AZURE "scale_sets:\n"
                                       "  - resource_group: rg\n"
                                       "    vmss: v\n"
                                       "    environment: e\n"
                                       "    roles: [r]\n",
               "6:5: missing required key 'name' in scale_sets[0]");
  expect_error(BASE_OCTOPUS BASE_AZURE "scale_sets:\n"
                                       "  - name: n\n"
                                       "    vmss: v\n"
                                       "    environment: e\n"
                                       "    roles: [r]\n",
               "6:5: missing required key 'resource_group' in scale_sets[0]");
  expect_error(BASE_OCTOPUS BASE_AZURE "scale_sets:\n"
                                       "  - name: n\n"
                                       "    resource_group: rg\n"
                                       "    environment: e\n"
                                       "    roles: [r]\n",
               "6:5: missing required key 'vmss' in scale_sets[0]");
  expect_error(BASE_OCTOPUS BASE_AZURE "scale_sets:\n"
                                       "  - name: n\n"
                                       "    resource_group: rg\n"
                                       "    vmss: v\n"
                                       "    roles: [r]\n",
               "6:5: missing required key 'environment' in scale_sets[0]");
  expect_error(BASE_OCTOPUS BASE_AZURE "scale_sets:\n"
                                       "  - name: n\n"
                                       "    resource_group: rg\n"
                                       "    vmss: v\n"
                                       "    environment: e\n",
               "6:5: missing required key 'roles' in scale_sets[0]");
  expect_error(BASE_OCTOPUS BASE_AZURE "scale_sets:\n"
                                       "  - name: ''\n"
                                       "    resource_group: rg\n"
                                       "    vmss: v\n"
                                       "    environment: e\n"
                                       "    roles: [r]\n",
               "6:11: scale_sets[0].name must not be empty");
}

/* --- types --- */

static void test_config__roles(void **state) {
  struct osc_config *cfg;

  (void)state;
  /* a single string is refused, with the fix in the message */
  expect_error(BASE_OCTOPUS BASE_AZURE "scale_sets:\n"
                                       "  - name: n\n"
                                       "    resource_group: rg\n"
                                       "    vmss: v\n"
                                       "    environment: e\n"
                                       "    roles: web\n",
               "10:12: scale_sets[0].roles must be a list of strings, not a "
               "string (write roles: [web])");
  expect_error(BASE_OCTOPUS BASE_AZURE "scale_sets:\n"
                                       "  - name: n\n"
                                       "    resource_group: rg\n"
                                       "    vmss: v\n"
                                       "    environment: e\n"
                                       "    roles: {web: 1}\n",
               "10:12: scale_sets[0].roles must be a list of strings, not a "
               "mapping");
  expect_error(BASE_OCTOPUS BASE_AZURE "scale_sets:\n"
                                       "  - name: n\n"
                                       "    resource_group: rg\n"
                                       "    vmss: v\n"
                                       "    environment: e\n"
                                       "    roles: []\n",
               "10:12: scale_sets[0].roles must list at least one role (with "
               "none, every target of the environment would be in scope)");
  expect_error(BASE_OCTOPUS BASE_AZURE "scale_sets:\n"
                                       "  - name: n\n"
                                       "    resource_group: rg\n"
                                       "    vmss: v\n"
                                       "    environment: e\n"
                                       "    roles:\n",
               "10:11: scale_sets[0].roles must list at least one role (with "
               "none, every target of the environment would be in scope)");
  expect_error(BASE_OCTOPUS BASE_AZURE "scale_sets:\n"
                                       "  - name: n\n"
                                       "    resource_group: rg\n"
                                       "    vmss: v\n"
                                       "    environment: e\n"
                                       "    roles: [a, [b]]\n",
               "10:16: scale_sets[0].roles[1] must be a string, not a list");
  expect_error(BASE_OCTOPUS BASE_AZURE "scale_sets:\n"
                                       "  - name: n\n"
                                       "    resource_group: rg\n"
                                       "    vmss: v\n"
                                       "    environment: e\n"
                                       "    roles: [a, '']\n",
               "10:16: scale_sets[0].roles[1] must not be empty");
  expect_error(BASE_OCTOPUS BASE_AZURE "scale_sets:\n"
                                       "  - name: n\n"
                                       "    resource_group: rg\n"
                                       "    vmss: v\n"
                                       "    environment: e\n"
                                       "    roles: [a, ~]\n",
               "10:16: scale_sets[0].roles[1] must not be empty");
  /* numbers read as role names */
  cfg = load_ok(BASE_OCTOPUS BASE_AZURE "scale_sets:\n"
                                        "  - name: n\n"
                                        "    resource_group: rg\n"
                                        "    vmss: v\n"
                                        "    environment: e\n"
                                        "    roles: [a, 42]\n");
  assert_string_equal(cfg->scale_sets[0].roles.items[1], "42");
  osc_config_free(cfg);
}

static void test_config__wrong_types(void **state) {
  (void)state;
  expect_error("octopus: [a]\n", "1:10: octopus must be a mapping, not a list");
  expect_error("octopus:\n  url: {a: b}\n",
               "2:8: octopus.url must be a string, not a mapping");
  expect_error(BASE_OCTOPUS "azure: x\n",
               "3:8: azure must be a mapping, not a string");
  expect_error(BASE_OCTOPUS BASE_AZURE "scale_sets: {name: web}\n",
               "5:13: scale_sets must be a list of scale sets (each item "
               "starting with '- name:'), not a mapping");
  expect_error(BASE_OCTOPUS BASE_AZURE "scale_sets: web\n",
               "5:13: scale_sets must be a list of scale sets (each item "
               "starting with '- name:'), not a string");
  expect_error(BASE_OCTOPUS BASE_AZURE "scale_sets: []\n",
               "5:13: scale_sets must list at least one scale set");
  expect_error(BASE_OCTOPUS BASE_AZURE "scale_sets:\n",
               "5:12: scale_sets must list at least one scale set");
  expect_error(BASE_OCTOPUS BASE_AZURE "scale_sets: [web]\n",
               "5:14: scale_sets[0] must be a mapping, not a string");
  expect_error(BASE "    settings: 5\n",
               "11:15: scale_sets[0].settings must be a mapping, not a "
               "string");
  expect_error(BASE "    environment: [a]\n",
               "11:5: duplicate key 'environment' in scale_sets[0] (first at "
               "line 9)");
  expect_error(BASE "policy: [a]\n",
               "11:9: policy must be a string, not a list");
  expect_error(BASE "state: ''\n", "11:8: state must not be empty");
  expect_error("octopus:\n  url: \"https://a\\0b\"\n",
               "2:8: octopus.url contains a NUL character");
}

static void test_config__azure_names(void **state) {
  (void)state;
  expect_error(BASE_OCTOPUS "azure:\n  subscription: a/b\n" BASE_ENTRY,
               "4:17: azure.subscription: 'a/b' is not a valid Azure name (no "
               "spaces or any of / \\ ? # % &)");
  expect_error(BASE_OCTOPUS BASE_AZURE "scale_sets:\n"
                                       "  - name: n\n"
                                       "    resource_group: 'rg web'\n"
                                       "    vmss: v\n"
                                       "    environment: e\n"
                                       "    roles: [r]\n",
               "7:21: scale_sets[0].resource_group: 'rg web' is not a valid "
               "Azure name (no spaces or any of / \\ ? # % &)");
  expect_error(BASE_OCTOPUS BASE_AZURE "scale_sets:\n"
                                       "  - name: n\n"
                                       "    resource_group: rg\n"
                                       "    vmss: ..\n"
                                       "    environment: e\n"
                                       "    roles: [r]\n",
               "8:11: scale_sets[0].vmss: '..' is not a valid Azure name (no "
               "spaces or any of / \\ ? # % &)");
  expect_error(BASE_OCTOPUS "azure:\n  tenant: 'a b'\n",
               "4:11: azure.tenant: invalid tenant 'a b' (a tenant ID or "
               "domain: letters, digits, '-' and '.')");
  expect_error(BASE_OCTOPUS "azure:\n  api_version: latest\n",
               "4:16: azure.api_version: invalid api-version 'latest' "
               "(expected YYYY-MM-DD, optionally with -preview)");
  {
    struct osc_config *cfg =
        load_ok(BASE_OCTOPUS "azure:\n  subscription: s\n"
                             "  api_version: 2025-11-01-preview\n" BASE_ENTRY);

    assert_string_equal(cfg->azure.api_version, "2025-11-01-preview");
    osc_config_free(cfg);
  }
}

/* --- azure: auth, cloud, endpoints, subscription --- */

static void test_config__auth(void **state) {
  static const struct {
    const char *value;
    enum osc_auth auth;
  } ok[] = {{"auto", OSC_AUTH_AUTO},
            {"managed_identity", OSC_AUTH_MANAGED_IDENTITY},
            {"Managed_Identity", OSC_AUTH_MANAGED_IDENTITY}};
  char text[512];
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    struct osc_config *cfg;

    snprintf(text, sizeof(text),
             BASE_OCTOPUS "azure:\n  subscription: s\n  auth: %s\n" BASE_ENTRY,
             ok[i].value);
    cfg = load_ok(text);
    assert_int_equal(cfg->azure.auth, ok[i].auth);
    osc_config_free(cfg);
  }
  expect_error(BASE_OCTOPUS "azure:\n  auth: msi\n",
               "4:9: azure.auth: invalid value 'msi' (expected auto, "
               "client_secret, managed_identity or workload_identity)");
  expect_error(BASE_OCTOPUS "azure:\n  auth: workload-identity\n",
               "4:9: azure.auth: invalid value 'workload-identity' (did you "
               "mean 'workload_identity'?)");
  expect_error(BASE_OCTOPUS "azure:\n  auth: [auto]\n",
               "4:9: azure.auth must be a string, not a list");
  /* what each method needs, as far as it is knowable offline */
  expect_error(BASE_OCTOPUS "azure:\n  auth: client_secret\n",
               "4:9: azure.auth is client_secret but azure.tenant is not set");
  expect_error(BASE_OCTOPUS "azure:\n  auth: client_secret\n  tenant: t\n",
               "4:9: azure.auth is client_secret but azure.client_id is not "
               "set");
  expect_error(BASE_OCTOPUS "azure:\n"
                            "  auth: client_secret\n"
                            "  tenant: t\n"
                            "  client_id: c\n"
                            "  client_secret: ''\n",
               "4:9: azure.auth is client_secret but azure.client_secret is "
               "not set");
  expect_error(BASE_OCTOPUS "azure:\n  auth: workload_identity\n",
               "4:9: azure.auth is workload_identity but azure.tenant is not "
               "set");
  expect_error(BASE_OCTOPUS "azure:\n  tenant: t\n  auth: workload_identity\n",
               "5:9: azure.auth is workload_identity but azure.client_id is "
               "not set");
  {
    struct osc_config *cfg = load_ok(BASE_OCTOPUS "azure:\n"
                                                  "  subscription: s\n"
                                                  "  tenant: t\n"
                                                  "  client_id: c\n"
                                                  "  auth: workload_identity\n"
                                                  "" BASE_ENTRY);

    assert_int_equal(cfg->azure.auth, OSC_AUTH_WORKLOAD_IDENTITY);
    osc_config_free(cfg);
  }
}

static void test_config__clouds(void **state) {
  static const struct {
    const char *value;
    const char *cloud;
    const char *login;
    const char *management;
  } ok[] = {
      {"public", "public", "https://login.microsoftonline.com",
       "https://management.azure.com"},
      {"usgovernment", "usgovernment", "https://login.microsoftonline.us",
       "https://management.usgovcloudapi.net"},
      {"china", "china", "https://login.chinacloudapi.cn",
       "https://management.chinacloudapi.cn"},
      {"AzureUSGovernment", "usgovernment", "https://login.microsoftonline.us",
       "https://management.usgovcloudapi.net"},
      {"AzureChinaCloud", "china", "https://login.chinacloudapi.cn",
       "https://management.chinacloudapi.cn"},
      {"China", "china", "https://login.chinacloudapi.cn",
       "https://management.chinacloudapi.cn"},
  };
  char text[512];
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    struct osc_config *cfg;

    snprintf(text, sizeof(text),
             BASE_OCTOPUS "azure:\n  subscription: s\n  cloud: %s\n" BASE_ENTRY,
             ok[i].value);
    cfg = load_ok(text);
    assert_string_equal(cfg->azure.cloud, ok[i].cloud);
    assert_string_equal(cfg->azure.login_endpoint, ok[i].login);
    assert_string_equal(cfg->azure.management_endpoint, ok[i].management);
    assert_string_equal(cfg->azure.imds_endpoint, "http://169.254.169.254");
    osc_config_free(cfg);
  }
  expect_error(BASE_OCTOPUS "azure:\n  cloud: germany\n",
               "4:10: azure.cloud: invalid value 'germany' (expected public, "
               "usgovernment or china)");
  expect_error(BASE_OCTOPUS "azure:\n  cloud: pubilc\n",
               "4:10: azure.cloud: invalid value 'pubilc' (did you mean "
               "'public'?)");
}

static void test_config__endpoints(void **state) {
  struct osc_config *cfg;
  char log[2048];

  (void)state;
  /* each endpoint overrides its cloud default alone; slashes trimmed; IMDS
   * is plain http by design and not warned about */
  assert_int_equal(
      load_capturing(BASE_OCTOPUS
                     "azure:\n"
                     "  subscription: s\n"
                     "  cloud: china\n"
                     "  endpoints:\n"
                     "    management: http://127.0.0.1:8443//\n"
                     "    imds: http://169.254.169.254/\n" BASE_ENTRY,
                     &cfg, log, sizeof(log)),
      0);
  assert_string_equal(cfg->azure.login_endpoint,
                      "https://login.chinacloudapi.cn");
  assert_string_equal(cfg->azure.management_endpoint, "http://127.0.0.1:8443");
  assert_string_equal(cfg->azure.imds_endpoint, "http://169.254.169.254");
  assert_string_equal(log, "");
  osc_config_free(cfg);
  expect_error(BASE_OCTOPUS "azure:\n  endpoints:\n    login: ftp://x\n",
               "5:12: azure.endpoints.login must be an http:// or https:// "
               "URL, not 'ftp://x'");
  expect_error(BASE_OCTOPUS "azure:\n  endpoints: [a]\n",
               "4:14: azure.endpoints must be a mapping, not a list");
}

static void test_config__subscription(void **state) {
  struct osc_config *cfg;

  (void)state;
  /* azure.subscription is needed only by entries without their own */
  cfg = load_ok(BASE_OCTOPUS "scale_sets:\n"
                             "  - name: n\n"
                             "    resource_group: rg\n"
                             "    vmss: v\n"
                             "    subscription: own\n"
                             "    environment: e\n"
                             "    roles: [r]\n");
  assert_null(cfg->azure.subscription);
  assert_string_equal(cfg->scale_sets[0].subscription, "own");
  osc_config_free(cfg);
  cfg = load_ok(BASE "  - name: api\n"
                     "    resource_group: rg\n"
                     "    vmss: v\n"
                     "    subscription: own\n"
                     "    environment: e\n"
                     "    roles: [r]\n");
  assert_string_equal(cfg->scale_sets[0].subscription, "sub-1");
  assert_string_equal(cfg->scale_sets[1].subscription, "own");
  osc_config_free(cfg);
  expect_error(BASE_OCTOPUS "scale_sets:\n"
                            "  - name: n\n"
                            "    resource_group: rg\n"
                            "    vmss: v\n"
                            "    subscription: own\n"
                            "    environment: e\n"
                            "    roles: [r]\n"
                            "  - name: m\n"
                            "    resource_group: rg\n"
                            "    vmss: v\n"
                            "    environment: e\n"
                            "    roles: [r]\n",
               "10:5: scale_sets[1] has no subscription and "
               "azure.subscription is not set");
}

/* --- URLs --- */

static void test_config__urls(void **state) {
  static const struct {
    const char *url;
    const char *want;
    bool warns;
  } ok[] = {
      {"https://octopus.example.com/", "https://octopus.example.com", false},
      {"https://octopus.example.com/octopus//",
       "https://octopus.example.com/"
       "octopus",
       false},
      {"HTTPS://Octopus.Example.com:8443", "HTTPS://Octopus.Example.com:8443",
       false},
      {"http://localhost:8080/", "http://localhost:8080", false},
      {"http://LOCALHOST", "http://LOCALHOST", false},
      {"http://sim.localhost:81", "http://sim.localhost:81", false},
      {"http://127.0.0.1:8065", "http://127.0.0.1:8065", false},
      {"http://127.1.2.3", "http://127.1.2.3", false},
      {"http://[::1]:8080/", "http://[::1]:8080", false},
      {"http://octopus.corp:80/", "http://octopus.corp:80", true},
      {"http://127.0.0.1.example.com", "http://127.0.0.1.example.com", true},
  };
  char text[512];
  char log[2048];
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    struct osc_config *cfg = NULL;

    snprintf(text, sizeof(text), "octopus:\n  url: %s\n" BASE_AZURE BASE_ENTRY,
             ok[i].url);
    assert_int_equal(load_capturing(text, &cfg, log, sizeof(log)), 0);
    assert_string_equal(cfg->octopus.url, ok[i].want);
    if (ok[i].warns)
      assert_non_null(strstr(log, "octoscale: warning: t.yaml:2:8: "
                                  "octopus.url uses http:// to '"));
    else
      assert_string_equal(log, "");
    osc_config_free(cfg);
  }
  expect_error("octopus:\n  url: octopus.example.com\n",
               "2:8: octopus.url must be an http:// or https:// URL, not "
               "'octopus.example.com'");
  expect_error("octopus:\n  url: https://\n",
               "2:8: octopus.url has no host: 'https://'");
  expect_error("octopus:\n  url: https://:8080/x\n",
               "2:8: octopus.url has no host: 'https://:8080/x'");
  expect_error("octopus:\n  url: https://o.example.com/?a=b\n",
               "2:8: octopus.url must not have a query or fragment ('?' or "
               "'#')");
  expect_error("octopus:\n  url: 'https://o.example.com/a b'\n",
               "2:8: octopus.url must not contain spaces or control "
               "characters");
}

/* --- http --- */

static void test_config__http(void **state) {
  struct osc_config *cfg;

  (void)state;
  cfg = load_ok(BASE "http:\n"
                     "  connect_timeout: 2s\n"
                     "  timeout: 1h30m\n"
                     "  max_attempts: 1\n"
                     "  max_retry_time: 0h10m\n"
                     "  concurrency: 256\n");
  assert_int_equal(cfg->http.connect_timeout_ms, 2000);
  assert_int_equal(cfg->http.timeout_ms, 5400000);
  assert_int_equal(cfg->http.max_attempts, 1);
  assert_int_equal(cfg->http.max_retry_ms, 600000);
  assert_int_equal(cfg->http.concurrency, 256);
  osc_config_free(cfg);
  /* an empty section keeps every default */
  cfg = load_ok(BASE "http:\n");
  assert_int_equal(cfg->http.timeout_ms, 60000);
  osc_config_free(cfg);

  expect_error(BASE "http:\n  timeout: 30\n",
               "12:12: http.timeout: invalid duration '30' (expected e.g. 90s, "
               "10m, 2h, 1d or 1h30m)");
  expect_error(BASE "http:\n  connect_timeout: 1.5s\n",
               "12:20: http.connect_timeout: invalid duration '1.5s' "
               "(expected e.g. 90s, 10m, 2h, 1d or 1h30m)");
  expect_error(BASE "http:\n  max_retry_time: 30m1h\n",
               "12:19: http.max_retry_time: invalid duration '30m1h' "
               "(expected e.g. 90s, 10m, 2h, 1d or 1h30m)");
  expect_error(BASE "http:\n  timeout: 0s\n",
               "12:12: http.timeout must be more than 0s and at most 7d");
  expect_error(BASE "http:\n  timeout: 8d\n",
               "12:12: http.timeout must be more than 0s and at most 7d");
  expect_error(BASE "http:\n  max_attempts: 0\n",
               "12:17: http.max_attempts must be a whole number from 1 to 20, "
               "not '0'");
  expect_error(BASE "http:\n  max_attempts: 99999999999999999999\n",
               "12:17: http.max_attempts must be a whole number from 1 to 20, "
               "not '99999999999999999999'");
  expect_error(BASE "http:\n  concurrency: eight\n",
               "12:16: http.concurrency must be a whole number from 1 to 256, "
               "not 'eight'");
  expect_error(BASE "http:\n  ca_file: no-such-ca.pem\n",
               "12:12: http.ca_file: cannot read 'no-such-ca.pem': No such "
               "file or directory");
}

/* --- YAML itself --- */

static void test_config__yaml_errors(void **state) {
  static const char bad_utf8[] = "octopus:\n  url: \"\xff\"\n";
  struct osc_error err = OSC_ERROR_INIT;

  (void)state;
  expect_error("octopus:\n  url: https://o\n scale_sets: []\n",
               "3:2: YAML syntax error: did not find expected key (while "
               "parsing a block mapping at line 1, column 1)");
  expect_error("octopus: url: x\n",
               "1:13: YAML syntax error: mapping values are not allowed in "
               "this context");
  expect_error("octopus: {url: x\n",
               "2:1: YAML syntax error: did not find expected ',' or '}' "
               "(while parsing a flow mapping at line 1, column 10)");
  expect_error("octopus:\n  url: \"abc\n",
               "3:1: YAML syntax error: found unexpected end of stream (while "
               "scanning a quoted scalar at line 2, column 8)");
  expect_error("octopus: *nope\n",
               "1:10: YAML syntax error: found undefined alias");
  expect_error(bad_utf8, "2:9: invalid text: invalid leading UTF-8 octet "
                         "(byte 0xFF)");
  /* an error in a second document is still a syntax error */
  expect_error(BASE "---\na: [\n",
               "13:1: YAML syntax error: did not find expected node content "
               "(while parsing a flow node at line 13, column 1)");
  expect_error(BASE "---\nb: 1\n",
               "11:1: more than one YAML document (the configuration is one "
               "mapping)");
  expect_error("", "1:1: empty configuration (expected a mapping with octopus "
                   "and scale_sets)");
  expect_error("# nothing\n\n", "1:1: empty configuration (expected a mapping "
                                "with octopus and scale_sets)");
  expect_error("---\n", "1:1: empty configuration (expected a mapping with "
                        "octopus and scale_sets)");
  expect_error("just text\n",
               "1:1: the configuration must be a mapping (octopus:, azure:, "
               "scale_sets: ...), not a string");
  /* a NULL text with length 0 is an empty file */
  {
    struct osc_config *cfg = NULL;

    assert_int_equal(osc_config_load_string(NULL, NULL, 0, &cfg, &err),
                     OSC_E_CONFIG);
    assert_string_equal(err.msg, "<string>:1:1: empty configuration (expected "
                                 "a mapping with octopus and scale_sets)");
  }
}

/* --- settings --- */

static void test_config__settings_typing(void **state) {
  struct osc_config *cfg;
  const struct osc_value *s;
  const struct osc_value *l;

  (void)state;
  cfg = load_ok(BASE "    settings:\n"
                     "      z: last-key-first\n"
                     "      b1: true\n"
                     "      b2: False\n"
                     "      i1: 42\n"
                     "      i2: -7\n"
                     "      i3: 0x1F\n"
                     "      i4: 0o17\n"
                     "      n1: 3.5\n"
                     "      n2: 1e3\n"
                     "      n3: .5\n"
                     "      s1: yes\n"
                     "      s2: \"true\"\n"
                     "      s3: '42'\n"
                     "      s4: 12:30\n"
                     "      s5: 99999999999999999999\n"
                     "      s6: 10m\n"
                     "      null1: ~\n"
                     "      null2:\n"
                     "      list: [1, two, [3]]\n"
                     "      map: {k: v, n: {deep: true}}\n"
                     "      empty_list: []\n"
                     "      empty_map: {}\n");
  s = &cfg->scale_sets[0].settings;
  assert_int_equal(s->type, OSC_VALUE_MAP);
  assert_int_equal(s->n, 22);
  assert_string_equal(s->keys[0], "z"); /* file order */
  assert_int_equal(s->items[1].type, OSC_VALUE_BOOL);
  assert_true(s->items[1].b);
  assert_int_equal(s->items[2].type, OSC_VALUE_BOOL);
  assert_false(s->items[2].b);
  assert_int_equal(s->items[3].type, OSC_VALUE_INT);
  assert_int_equal(s->items[3].i, 42);
  assert_int_equal(s->items[4].i, -7);
  assert_int_equal(s->items[5].type, OSC_VALUE_INT);
  assert_int_equal(s->items[5].i, 31);
  assert_int_equal(s->items[6].i, 15);
  assert_int_equal(s->items[7].type, OSC_VALUE_NUMBER);
  assert_true(s->items[7].d == 3.5);
  assert_true(s->items[8].d == 1000.0);
  assert_true(s->items[9].d == 0.5);
  assert_int_equal(s->items[10].type, OSC_VALUE_STRING); /* YAML 1.2 */
  assert_string_equal(s->items[10].s, "yes");
  assert_int_equal(s->items[11].type, OSC_VALUE_STRING);
  assert_int_equal(s->items[12].type, OSC_VALUE_STRING);
  assert_string_equal(s->items[12].s, "42");
  assert_int_equal(s->items[13].type, OSC_VALUE_STRING);
  assert_int_equal(s->items[14].type, OSC_VALUE_STRING); /* no digits lost */
  assert_string_equal(s->items[14].s, "99999999999999999999");
  assert_string_equal(s->items[15].s, "10m");
  assert_int_equal(s->items[16].type, OSC_VALUE_NULL);
  assert_int_equal(s->items[17].type, OSC_VALUE_NULL);
  l = &s->items[18];
  assert_int_equal(l->type, OSC_VALUE_LIST);
  assert_int_equal(l->n, 3);
  assert_int_equal(l->items[0].type, OSC_VALUE_INT);
  assert_string_equal(l->items[1].s, "two");
  assert_int_equal(l->items[2].type, OSC_VALUE_LIST);
  assert_int_equal(l->items[2].items[0].i, 3);
  l = &s->items[19];
  assert_int_equal(l->type, OSC_VALUE_MAP);
  assert_string_equal(l->keys[1], "n");
  assert_true(l->items[1].items[0].b);
  assert_int_equal(s->items[20].type, OSC_VALUE_LIST);
  assert_int_equal(s->items[20].n, 0);
  assert_int_equal(s->items[21].type, OSC_VALUE_MAP);
  assert_int_equal(s->items[21].n, 0);
  osc_config_free(cfg);
}

/* Anchors, aliases and `<<` merges work everywhere; loops and bombs stop. */
static void test_config__aliases_and_merges(void **state) {
  struct osc_config *cfg;
  const struct osc_config_scale_set *ss;
  const struct osc_value *s;
  struct osc_error err = OSC_ERROR_INIT;

  (void)state;
  cfg = load_ok(BASE_OCTOPUS BASE_AZURE "scale_sets:\n"
                                        "  - &web\n"
                                        "    name: web\n"
                                        "    resource_group: rg\n"
                                        "    vmss: vmss\n"
                                        "    environment: Production\n"
                                        "    roles: &roles [web]\n"
                                        "    settings: &s {a: 1, b: 2}\n"
                                        "  - <<: *web\n"
                                        "    name: web-2\n"
                                        "    vmss: vmss-2\n"
                                        "    settings: {<<: *s, b: 3, c: 4}\n"
                                        "  - <<: [*web]\n"
                                        "    name: web-3\n"
                                        "    environment: Staging\n"
                                        "    roles: *roles\n");
  assert_int_equal(cfg->n_scale_sets, 3);
  ss = &cfg->scale_sets[1];
  assert_string_equal(ss->name, "web-2");
  assert_string_equal(ss->resource_group, "rg");
  assert_string_equal(ss->vmss, "vmss-2");
  assert_string_equal(ss->roles.items[0], "web");
  s = &ss->settings;
  assert_int_equal(s->n, 3);
  assert_string_equal(s->keys[0], "a");
  assert_int_equal(s->items[0].i, 1);
  assert_string_equal(s->keys[1], "b");
  assert_int_equal(s->items[1].i, 3); /* its own key wins */
  assert_int_equal(s->items[2].i, 4);
  assert_string_equal(cfg->scale_sets[2].vmss, "vmss");
  osc_config_free(cfg);

  /* a merge brings no unknown keys past the schema */
  expect_error("x: &x {urll: https://o}\n", "1:1: unknown key 'x' at top "
                                            "level (expected one of: octopus, "
                                            "azure, http, state, policy, "
                                            "scale_sets)");
  expect_error(BASE "    <<: 5\n", "11:9: the merge key '<<' in scale_sets[0] "
                                   "takes a mapping or a list of mappings, "
                                   "not a string");
  /* an alias that contains itself stops at the depth limit */
  expect_error(BASE "    settings: &l {self: *l}\n",
               "11:15: settings nest deeper than 64 levels (an alias that "
               "contains itself?)");
  expect_error(BASE "    settings: &l {<<: *l}\n",
               "11:15: mappings nest deeper than 64 levels in "
               "scale_sets[0].settings");
  /* a billion laughs stops at the value budget */
  load_error(BASE "    settings:\n"
                  "      a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                  "      b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                  "      c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                  "      d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                  "      e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                  "      f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                  "      g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
                  "      h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n",
             &err);
  assert_non_null(strstr(err.msg, "an alias expanding without bound?"));
}

/* --- secrets --- */

/* No error message ever quotes the value of api_key or client_secret. */
static void test_config__no_secret_echo(void **state) {
  static const char *const cases[] = {
      "octopus:\n  url: https://o\n  api_key: [s3cr3t-XYZ]\n",
      "octopus:\n  url: https://o\n  api_key: {s3cr3t-XYZ: 1}\n",
      "octopus:\n  url: https://o\n  api_key: s3cr3t-XYZ\n  api_key: "
      "s3cr3t-XYZ\n",
      "octopus:\n  url: https://o\n  api_key: s3cr3t-XYZ${S3CR3T BAD}\n",
      "octopus:\n  url: https://o\n  api_key: s3cr3t-XYZ${:-s3cr3t}\n",
      "octopus:\n  url: https://o\n  api_key: \"s3cr3t-XYZ\\0\"\n",
      "octopus:\n  url: https://o\n  api_key: \"s3cr3t-XYZ\n",
      "octopus:\n  url: https://o\n  api_key: s3cr3t-XYZ: x\n",
      "octopus:\n  url: https://user:s3cr3t-XYZ@o.example.com\n",
      "octopus:\n  url: https://o.example.com/?token=s3cr3t-XYZ\n",
      "octopus: {url: https://o}\nazure:\n  client_secret: [s3cr3t-XYZ]\n",
      "octopus: {url: https://o}\nazure:\n  client_secret: s3cr3t-XYZ\n"
      "  auth: client_secret\n",
      "octopus: {url: https://o}\nazure:\n  client_secret: s3cr3t-XYZ\n"
      "  client_secret: s3cr3t-XYZ\n",
      "octopus: {url: https://o}\nazure:\n  client_secret: s3cr3t-XYZ${X\n",
      "octopus: {url: https://o}\nazure:\n  client_secret: s3cr3t-XYZ\n"
      "  endpoints: {login: ftp://x}\n",
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct osc_error err = OSC_ERROR_INIT;

    load_error(cases[i], &err);
    if (strstr(err.msg, "s3cr3t") != NULL || strstr(err.msg, "S3CR3T") != NULL)
      fail_msg("case %zu echoes the secret: %s", i, err.msg);
  }
  /* with a valid config, the secret is loaded as written */
  {
    struct osc_config *cfg = load_ok(
        "octopus:\n  url: https://o\n  api_key: 'p$$w$${x$'\n" BASE_AZURE
            BASE_ENTRY);

    assert_string_equal(cfg->octopus.api_key, "p$w${x$");
    osc_config_free(cfg);
  }
}

/* --- lookups --- */

static void test_config__find(void **state) {
  struct osc_config *cfg = load_ok(BASE "  - name: Api-Prod\n"
                                        "    resource_group: rg\n"
                                        "    vmss: v\n"
                                        "    environment: e\n"
                                        "    roles: [r]\n");

  (void)state;
  assert_ptr_equal(osc_config_find(cfg, "web"), &cfg->scale_sets[0]);
  assert_ptr_equal(osc_config_find(cfg, "WEB"), &cfg->scale_sets[0]);
  assert_ptr_equal(osc_config_find(cfg, "api-prod"), &cfg->scale_sets[1]);
  assert_null(osc_config_find(cfg, "api"));
  assert_null(osc_config_find(cfg, NULL));
  assert_null(osc_config_find(NULL, "web"));
  assert_int_equal(cfg->scale_sets[1].line, 11);
  osc_config_free(cfg);
  osc_config_free(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_config__defaults),
      cmocka_unit_test(test_config__octopus_pacing),
      cmocka_unit_test(test_config__valid_fixture),
      cmocka_unit_test(test_config__example_is_valid),
      cmocka_unit_test(test_config__minimal_fixture),
      cmocka_unit_test(test_config__broken_fixtures),
      cmocka_unit_test(test_config__missing_file),
      cmocka_unit_test(test_config__relative_paths),
      cmocka_unit_test(test_config__relative_paths_symlink),
      cmocka_unit_test(test_config__env_expansion),
      cmocka_unit_test(test_config__env_unset),
      cmocka_unit_test(test_config__env_bad_reference),
      cmocka_unit_test(test_config__unknown_keys),
      cmocka_unit_test(test_config__duplicate_keys),
      cmocka_unit_test(test_config__duplicate_scale_set_names),
      cmocka_unit_test(test_config__overlapping_entries),
      cmocka_unit_test(test_config__required_keys),
      cmocka_unit_test(test_config__roles),
      cmocka_unit_test(test_config__wrong_types),
      cmocka_unit_test(test_config__azure_names),
      cmocka_unit_test(test_config__auth),
      cmocka_unit_test(test_config__clouds),
      cmocka_unit_test(test_config__endpoints),
      cmocka_unit_test(test_config__subscription),
      cmocka_unit_test(test_config__urls),
      cmocka_unit_test(test_config__http),
      cmocka_unit_test(test_config__yaml_errors),
      cmocka_unit_test(test_config__settings_typing),
      cmocka_unit_test(test_config__aliases_and_merges),
      cmocka_unit_test(test_config__no_secret_echo),
      cmocka_unit_test(test_config__find),
  };

  osc_log_set_level(OSC_LOG_INFO);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
