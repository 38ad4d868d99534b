#include "core/osc_cli.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/osc_apply.h"
#include "core/osc_collect.h"
#include "core/osc_commands.h"
#include "core/osc_config.h"
#include "core/osc_error.h"
#include "core/osc_html.h"
#include "core/osc_http.h"
#include "core/osc_log.h"
#include "core/osc_octout.h"
#include "core/lua/osc_policy.h"
#include "core/lua/osc_testrun.h"
#include "core/osc_progress.h"
#include "core/osc_reconcile.h"
#include "core/osc_report.h"
#include "core/osc_state.h"
#include "core/osc_store.h"
#include "core/osc_text.h"
#include "core/osc_time.h"
#include "core/osc_version.h"

#define MAX_SCALE_SET_ARGS 256

static const char usage_text[] =
    "usage: octoscale [-c FILE] [-s NAME]... [--format text|json] [-v|-q] "
    "COMMAND [ARGS]\n"
    "\n"
    "Keeps Octopus Deploy deployment targets in step with Azure VM Scale "
    "Sets.\n"
    "\n"
    "commands:\n"
    "  plan       show what would change; writes nothing (state included)\n"
    "  apply      reconcile: optionally wait for provisioning, then act per "
    "policy\n"
    "  run FILE [ARGS...]  run a Lua automation script with the full API\n"
    "  check      validate config, every policy and the state file offline\n"
    "  snapshot -o FILE    capture Azure + Octopus state as JSON\n"
    "  test [FILE...]      run Lua policy tests offline\n"
    "  state show|unlock|copy SRC DST  inspect the state, break a stale "
    "lock, migrate\n"
    "  version    print the version\n"
    "\n"
    "options:\n"
    "  -c, --config FILE     config file (default ./octoscale.yaml, else "
    "$OCTOSCALE_CONFIG)\n"
    "  -s, --scale-set NAME  limit the run to this entry (repeatable)\n"
    "      --format FORMAT   text (default) or json\n"
    "  -v, --verbose         log requests and decisions to stderr\n"
    "  -q, --quiet           only warnings and errors on stderr\n"
    "  -h, --help            this help; `octoscale COMMAND --help` for a "
    "command\n"
    "      --version         print the version, git commit and library "
    "versions\n"
    "\n"
    "exit codes: 0 ok, 1 runtime failure, 2 plan: changes pending, 3 "
    "usage/config/policy error,\n"
    "4 safety stop (incomplete or implausible data, deletion budget), 5 "
    "provisioning did not settle\n";

struct command_help {
  const char *name;
  const char *text;
};

static const struct command_help command_help[] = {
    {"plan",
     "usage: octoscale plan [--snapshot FILE] [--force] [--explain] [common "
     "options]\n"
     "\n"
     "Shows what apply would change, per scale set, with a reason for every\n"
     "action. Writes nothing: not to Azure, not to Octopus, not to the state\n"
     "file.\n"
     "\n"
     "  --snapshot FILE  plan from a snapshot (see `octoscale snapshot`)\n"
     "                   instead of the network\n"
     "  --force          plan as apply --force would (deletion budget "
     "lifted)\n"
     "  --explain        log every policy hook call to stderr: the VM or "
     "target,\n"
     "                   the answer, its reason and the policy file:line\n"
     "\n"
     "exit: 0 nothing to change, 2 changes pending, 4 safety stop, 3 "
     "config or\n"
     "policy error, 1 runtime failure\n"},
    {"apply",
     "usage: octoscale apply [--wait[=DURATION]] [--poll-interval DURATION]\n"
     "                       [--on-timeout proceed|fail] "
     "[--only-new[=NAME]] [--health-check]\n"
     "                       [--octopus-output] [--report FILE.html] "
     "[--force]\n"
     "\n"
     "Reconciles: optionally waits for provisioning to settle, then deletes,\n"
     "disables or enables targets as each scale set's policy decides, within\n"
     "the safety rules. One apply at a time per state file.\n"
     "\n"
     "  --wait[=DURATION]       wait until no VM is Creating and new VMs'\n"
     "                          targets have registered (bounded by the\n"
     "                          policy's provisioning grace without DURATION)\n"
     "  --poll-interval DURATION  between polls while waiting (default 10s)\n"
     "  --on-timeout proceed|fail  when waiting times out (default proceed;\n"
     "                          fail exits 5)\n"
     "  --only-new[=NAME]       outputs list only targets absent from the "
     "previous\n"
     "                          successful --only-new run with the same NAME\n"
     "                          (default `default`; one baseline per "
     "consumer,\n"
     "                          e.g. per Octopus project)\n"
     "  --health-check          run an Octopus health check on new targets\n"
     "  --octopus-output        print Octopus service messages (output "
     "variables)\n"
     "  --report FILE.html      write a self-contained HTML report\n"
     "  --force                 override the deletion budget (never the\n"
     "                          incomplete-data rule)\n"},
    {"run",
     "usage: octoscale run [--octopus-output] FILE [ARGS...]\n"
     "\n"
     "Runs a Lua automation script with the azure, octopus and reconcile\n"
     "namespaces; ARGS are in the global table `arg`. The exit code is the\n"
     "integer the script returns (0 when it returns nothing).\n"
     "\n"
     "  --octopus-output  octopus.set_output() prints Octopus service "
     "messages\n"
     "                    (else the outputs are printed as name=value at "
     "the end)\n"},
    {"check", "usage: octoscale check [-c FILE] [-s NAME]...\n"
              "\n"
              "Validates the config, loads every policy it names and reads the "
              "state file,\n"
              "offline.\n"},
    {"snapshot",
     "usage: octoscale snapshot -o FILE\n"
     "\n"
     "Captures the raw Azure and Octopus responses of every selected scale "
     "set\n"
     "into FILE; `octoscale plan --snapshot FILE` plans from it offline.\n"
     "\n"
     "  -o, --output FILE  the snapshot file to write\n"},
    {"test",
     "usage: octoscale test [--filter TEXT] [--junit FILE] [--coverage] "
     "[--format json]\n"
     "                      [PATH...]\n"
     "\n"
     "Runs Lua policy tests (files using require \"octoscale.testing\") in "
     "the\n"
     "sandbox. A directory PATH runs every *_test.lua under it. Without "
     "PATH,\n"
     "runs tests/policies/*.lua under the current directory. Exit 0 when "
     "every\n"
     "test passes, 1 otherwise.\n"
     "\n"
     "  --filter TEXT   run only the tests whose name contains TEXT\n"
     "  --junit FILE    also write the results as JUnit XML\n"
     "  --coverage      print the line coverage of the policy files\n"
     "  --format json   print one JSON document instead of the lines\n"},
    {"state",
     "usage: octoscale state show [--format json]\n"
     "       octoscale state unlock --yes\n"
     "       octoscale state copy SRC DST\n"
     "\n"
     "The state the config's `state:` names (a file, or a blob with a "
     "lease as\n"
     "its lock).\n"
     "\n"
     "  show    scale sets, orphans with since-times, --only-new "
     "baselines and\n"
     "          the lock holder; reads without locking\n"
     "  unlock  prints the holder, then breaks the blob's lease (or removes "
     "a\n"
     "          lock file no process holds); needs --yes. A held file lock "
     "ends\n"
     "          with its process: stop that instead\n"
     "  copy    copies a state between a local file and a blob, either "
     "way:\n"
     "          SRC and DST are paths or http(s) blob URLs (authorized as "
     "the\n"
     "          config's state: says, else with the azure credential); DST "
     "is\n"
     "          written under its lock\n"
     "\n"
     "exit: 0 ok, 1 runtime failure (unreadable state, lock held, "
     "refused), 3\n"
     "usage or config error\n"},
    {"version", "usage: octoscale version\n"},
};

static int usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints "octoscale: error: <message> (see 'octoscale CMD --help')" and
 * returns the usage exit code. */
static int usage_error(const char *cmd, const char *fmt, ...) {
  va_list ap;

  fprintf(stderr, "octoscale: error: ");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  if (cmd != NULL)
    fprintf(stderr, " (see 'octoscale %s --help')\n", cmd);
  else
    fprintf(stderr, " (see 'octoscale --help')\n");
  return 3;
}

static const char *find_help(const char *cmd) {
  size_t i;

  for (i = 0; i < sizeof(command_help) / sizeof(command_help[0]); i++) {
    if (strcmp(command_help[i].name, cmd) == 0)
      return command_help[i].text;
  }
  return NULL;
}

/* Matches "--name" and "--name=value". */
static bool long_opt(const char *arg, const char *name, const char **value) {
  size_t n = strlen(name);

  if (strncmp(arg, name, n) != 0)
    return false;
  if (arg[n] == '\0') {
    *value = NULL;
    return true;
  }
  if (arg[n] == '=') {
    *value = arg + n + 1;
    return true;
  }
  return false;
}

static int parse_duration_arg(const char *opt, const char *text, int64_t *out) {
  struct osc_error err = OSC_ERROR_INIT;

  if (osc_duration_parse(text, out, &err) < 0) {
    fprintf(stderr, "octoscale: error: %s: %s\n", opt, err.msg);
    return 3;
  }
  return 0;
}

/* Options that take a value: returns the value (from "--x=v" or the next
 * argument) or NULL after printing a usage error. */
static const char *need_value(int argc, char **argv, int *i, const char *opt,
                              const char *inline_value) {
  if (inline_value != NULL)
    return inline_value;
  if (*i + 1 >= argc) {
    fprintf(stderr,
            "octoscale: error: option '%s' needs a value (see 'octoscale "
            "--help')\n",
            opt);
    return NULL;
  }
  (*i)++;
  return argv[*i];
}

/* Baseline names land in the state's keys and in messages: keep them
 * plain (Octopus project ids such as Projects-42 fit). */
static bool baseline_name_ok(const char *name) {
  size_t n = strlen(name);
  size_t i;

  if (n == 0 || n > 128)
    return false;
  for (i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)name[i];

    if (!isalnum(ch) && ch != '.' && ch != '_' && ch != '-')
      return false;
  }
  return true;
}

static bool command_takes(const char *cmd, const char *what) {
  return cmd != NULL && strcmp(cmd, what) == 0;
}

/* Returns 0 to go on, or an exit code (help printed: 0 via *done). */
static int parse_args(int argc, char **argv, struct osc_cli_options *o,
                      bool *done) {
  static const char *const commands[] = {"plan",    "apply",    "run",
                                         "check",   "snapshot", "test",
                                         "version", "help",     "state"};
  int i;

  *done = false;
  o->wait_seconds = -1;
  o->poll_interval_seconds = 10;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = NULL;

    /* After `run FILE`, everything belongs to the script. */
    if (command_takes(o->command, "run") && o->n_args > 0) {
      o->args = &argv[i - 1];
      o->n_args = argc - i + 1;
      break;
    }
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      const char *help = o->command ? find_help(o->command) : NULL;

      fputs(help ? help : usage_text, stdout);
      *done = true;
      return 0;
    } else if (o->command == NULL && strcmp(a, "--version") == 0) {
      osc_version_print(stdout);
      *done = true;
      return 0;
    } else if (strcmp(a, "-c") == 0 || long_opt(a, "--config", &v)) {
      if ((o->config_path = need_value(argc, argv, &i, "--config", v)) == NULL)
        return 3;
    } else if (strcmp(a, "-s") == 0 || long_opt(a, "--scale-set", &v)) {
      const char *name = need_value(argc, argv, &i, "--scale-set", v);

      if (name == NULL)
        return 3;
      if (o->n_scale_sets >= MAX_SCALE_SET_ARGS)
        return usage_error(NULL, "too many %s options", "--scale-set");
      o->scale_sets[o->n_scale_sets++] = name;
    } else if (long_opt(a, "--format", &v)) {
      const char *f = need_value(argc, argv, &i, "--format", v);

      if (f == NULL)
        return 3;
      if (strcmp(f, "text") == 0)
        o->format = OSC_FORMAT_TEXT;
      else if (strcmp(f, "json") == 0)
        o->format = OSC_FORMAT_JSON;
      else
        return usage_error(o->command,
                           "--format must be text or json, not '%s'", f);
    } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
      o->verbosity = 1;
    } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
      o->verbosity = -1;
    } else if (command_takes(o->command, "plan") &&
               long_opt(a, "--snapshot", &v)) {
      if ((o->snapshot = need_value(argc, argv, &i, "--snapshot", v)) == NULL)
        return 3;
    } else if ((command_takes(o->command, "plan") ||
                command_takes(o->command, "apply")) &&
               strcmp(a, "--force") == 0) {
      o->force = true;
    } else if (command_takes(o->command, "plan") &&
               strcmp(a, "--explain") == 0) {
      o->explain = true;
    } else if (command_takes(o->command, "apply") &&
               long_opt(a, "--wait", &v)) {
      o->wait = true;
      if (v != NULL && parse_duration_arg("--wait", v, &o->wait_seconds))
        return 3;
    } else if (command_takes(o->command, "apply") &&
               long_opt(a, "--poll-interval", &v)) {
      const char *d = need_value(argc, argv, &i, "--poll-interval", v);

      if (d == NULL ||
          parse_duration_arg("--poll-interval", d, &o->poll_interval_seconds))
        return 3;
      if (o->poll_interval_seconds <= 0)
        return usage_error(o->command,
                           "--poll-interval must be positive, not '%s'", d);
    } else if (command_takes(o->command, "apply") &&
               long_opt(a, "--on-timeout", &v)) {
      const char *t = need_value(argc, argv, &i, "--on-timeout", v);

      if (t == NULL)
        return 3;
      if (strcmp(t, "proceed") == 0)
        o->on_timeout = OSC_ON_TIMEOUT_PROCEED;
      else if (strcmp(t, "fail") == 0)
        o->on_timeout = OSC_ON_TIMEOUT_FAIL;
      else
        return usage_error(o->command,
                           "--on-timeout must be proceed or fail, not '%s'", t);
    } else if (command_takes(o->command, "apply") &&
               long_opt(a, "--only-new", &v)) {
      o->only_new = v ? v : OSC_STATE_DEFAULT_BASELINE;
      if (!baseline_name_ok(o->only_new))
        return usage_error(o->command,
                           "--only-new=NAME: NAME must be 1 to 128 letters, "
                           "digits or . _ - (not '%.64s')",
                           o->only_new);
    } else if (command_takes(o->command, "apply") &&
               strcmp(a, "--health-check") == 0) {
      o->health_check = true;
    } else if ((command_takes(o->command, "apply") ||
                command_takes(o->command, "run")) &&
               strcmp(a, "--octopus-output") == 0) {
      o->octopus_output = true;
    } else if (command_takes(o->command, "apply") &&
               long_opt(a, "--report", &v)) {
      if ((o->report_path = need_value(argc, argv, &i, "--report", v)) == NULL)
        return 3;
    } else if (command_takes(o->command, "test") &&
               long_opt(a, "--filter", &v)) {
      if ((o->test_filter = need_value(argc, argv, &i, "--filter", v)) == NULL)
        return 3;
    } else if (command_takes(o->command, "test") &&
               strcmp(a, "--coverage") == 0) {
      o->coverage = true;
    } else if (command_takes(o->command, "test") &&
               long_opt(a, "--junit", &v)) {
      if ((o->junit_path = need_value(argc, argv, &i, "--junit", v)) == NULL)
        return 3;
    } else if (command_takes(o->command, "snapshot") &&
               (strcmp(a, "-o") == 0 || long_opt(a, "--output", &v))) {
      if ((o->output_path = need_value(argc, argv, &i, "--output", v)) == NULL)
        return 3;
    } else if (command_takes(o->command, "state") && strcmp(a, "--yes") == 0) {
      o->yes = true;
    } else if (a[0] == '-' && a[1] != '\0') {
      return usage_error(o->command, "unknown option '%s'", a);
    } else if (o->command == NULL) {
      size_t k;

      for (k = 0; k < sizeof(commands) / sizeof(commands[0]); k++) {
        if (strcmp(a, commands[k]) == 0)
          o->command = commands[k];
      }
      if (o->command == NULL)
        return usage_error(NULL, "unknown command '%s'", a);
    } else if (command_takes(o->command, "run") ||
               command_takes(o->command, "test") ||
               command_takes(o->command, "state")) {
      if (o->n_args == 0)
        o->args = &argv[i];
      o->n_args++;
      if ((command_takes(o->command, "test") ||
           command_takes(o->command, "state")) &&
          &argv[i] != &o->args[o->n_args - 1])
        return usage_error(
            o->command, "options must not separate %s ('%s')",
            command_takes(o->command, "test") ? "test files" : "arguments", a);
    } else {
      return usage_error(o->command, "unexpected argument '%s'", a);
    }
  }
  return 0;
}

static const char *config_path(const struct osc_cli_options *o) {
  struct stat st;
  const char *env;

  if (o->config_path != NULL)
    return o->config_path;
  if (stat("octoscale.yaml", &st) == 0)
    return "octoscale.yaml";
  env = getenv("OCTOSCALE_CONFIG");
  if (env != NULL && *env != '\0')
    return env;
  return "octoscale.yaml";
}

static int load_config(const struct osc_cli_options *o,
                       struct osc_config **cfg) {
  struct osc_error err = OSC_ERROR_INIT;
  const char *path = config_path(o);
  struct stat st;
  int rc;

  if (o->config_path == NULL && stat(path, &st) != 0) {
    fprintf(stderr,
            "octoscale: error: no config: ./octoscale.yaml does not exist "
            "and OCTOSCALE_CONFIG is not set (use -c FILE)\n");
    return 3;
  }
  rc = osc_config_load(path, cfg, &err);

  if (rc < 0) {
    fprintf(stderr, "octoscale: error: %s\n", err.msg);
    return osc_error_exit_code(rc);
  }
  return 0;
}

static int cmd_version(void) {
  osc_version_print(stdout);
  return 0;
}

/* A policy whose target_name renames targets cannot rely on the
 * computerNamePrefix ownership rule (README "Safety"): without owns, its
 * targets that no VM claims are all foreign. target_name is probed with a
 * VM named like a scale set's; a name it changes beyond case (or a probe
 * that fails) earns the warning. */
static void warn_ownership(const struct osc_config_scale_set *e,
                           struct osc_policy *policy) {
  const struct osc_policy_ops *ops = osc_policy_get_ops(policy);
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_vm vm;
  char name[512];

  if (ops->target_name == NULL || ops->owns != NULL)
    return;
  memset(&vm, 0, sizeof(vm));
  vm.id = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Compute/"
          "virtualMachineScaleSets/vmss/virtualMachines/10";
  vm.name = "vmss_10";
  vm.instance_id = "10";
  vm.computer_name = "probe00000A";
  vm.provisioning_state = "Succeeded";
  vm.state = OSC_VM_SUCCEEDED;
  vm.power_state = "running";
  vm.scale_set = e->vmss;
  if (ops->target_name(ops->ud, &vm, name, sizeof(name), &err) == OSC_OK &&
      strcasecmp(name, vm.computer_name) == 0)
    return;
  osc_log_warn("%s: %s renames targets (target_name) but defines no owns: "
               "targets no VM claims whose names do not follow the scale "
               "set's computerNamePrefix are foreign and never deleted; "
               "define owns(target, ctx)",
               e->name, osc_policy_name(policy));
}

/* The state file must be readable as it is (a corrupt one, a FIFO or a
 * directory stops every run later): an exit code, 0 when it is fine. A
 * state blob is not read (check needs no network). */
static int check_state(const struct osc_config *cfg) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_state *state = NULL;

  if (cfg->state == NULL)
    return 0; /* a state blob: check stays offline */
  if (osc_state_load(cfg->state, &state, &err) < 0) {
    fprintf(stderr, "octoscale: error: %s\n", err.msg);
    return osc_error_exit_code(err.code);
  }
  osc_state_free(state);
  return 0;
}

static int cmd_check(const struct osc_cli_options *o) {
  struct osc_config *cfg = NULL;
  size_t i;
  size_t j;
  size_t checked = 0;
  int64_t now = 0;
  int code;

  code = load_config(o, &cfg);
  if (code != 0)
    return code;
  for (i = 0; i < o->n_scale_sets; i++) {
    if (osc_config_find(cfg, o->scale_sets[i]) == NULL) {
      fprintf(stderr, "octoscale: error: no scale set named '%s' in %s\n",
              o->scale_sets[i], cfg->path);
      code = 3;
      goto done;
    }
  }
  code = check_state(cfg);
  if (code != 0)
    goto done;
  osc_time_now(&now, NULL);
  for (i = 0; i < cfg->n_scale_sets; i++) {
    const struct osc_config_scale_set *e = &cfg->scale_sets[i];
    struct osc_error err = OSC_ERROR_INIT;
    struct osc_policy *policy = NULL;
    bool wanted = o->n_scale_sets == 0;

    for (j = 0; j < o->n_scale_sets && !wanted; j++)
      wanted = strcasecmp(o->scale_sets[j], e->name) == 0;
    if (!wanted)
      continue;
    if (osc_policy_load(e->policy, e, now, &policy, &err) < 0) {
      fprintf(stderr, "octoscale: error: %s\n", err.msg);
      code = osc_error_exit_code(err.code);
      goto done;
    }
    warn_ownership(e, policy);
    osc_policy_free(policy);
    checked++;
  }
  if (o->verbosity >= 0)
    printf("%s: ok (%zu scale set%s, policies loaded)\n", cfg->path, checked,
           checked == 1 ? "" : "s");
done:
  osc_config_free(cfg);
  return code;
}

static void log_plan_problems(const struct osc_reconcile *r) {
  size_t i;

  for (i = 0; i < r->n_entries; i++) {
    const struct osc_plan *p = r->plans[i];

    if (p->status == OSC_PLAN_ERROR || p->status == OSC_PLAN_SAFETY_STOP)
      osc_text_line(stderr, "octoscale: error: %s: %s", p->scale_set,
                    p->message);
  }
}

/* What plan and apply share: the selection, the clock, --force. */
static int reconcile_options(const struct osc_cli_options *o,
                             struct osc_reconcile_options *ro,
                             struct osc_error *err) {
  memset(ro, 0, sizeof(*ro));
  ro->only = o->scale_sets;
  ro->n_only = o->n_scale_sets;
  ro->snapshot = o->snapshot;
  ro->force = o->force;
  ro->explain = o->explain;
  ro->verbose = o->verbosity > 0;
  return osc_time_now(&ro->now, err);
}

static int cmd_plan(const struct osc_cli_options *o) {
  struct osc_reconcile_options ro;
  struct osc_reconcile *r = NULL;
  struct osc_config *cfg = NULL;
  struct osc_outputs outputs;
  struct osc_error err = OSC_ERROR_INIT;
  int code;
  int rc;

  memset(&outputs, 0, sizeof(outputs));
  code = load_config(o, &cfg);
  if (code != 0)
    return code;
  rc = reconcile_options(o, &ro, &err);
  if (rc < 0)
    goto failed;
  rc = osc_reconcile_plan(cfg, &ro, &r, &err);
  if (rc < 0)
    goto failed;
  rc =
      osc_outputs_build(r->plans, r->n_entries, r->state, NULL, &outputs, &err);
  if (rc < 0)
    goto failed;
  log_plan_problems(r);
  if (o->format == OSC_FORMAT_JSON) {
    rc = osc_report_json(stdout, "plan", r->plans, r->n_entries, &outputs, NULL,
                         &err);
    if (rc < 0)
      goto failed;
  } else {
    osc_report_text(stdout, r->plans, r->n_entries, o->verbosity > 0, NULL);
  }
  code = osc_reconcile_exit_code(r, false);
  goto done;
failed:
  fprintf(stderr, "octoscale: error: %s\n", err.msg);
  code = osc_error_exit_code(rc);
done:
  fflush(stdout);
  osc_outputs_free(&outputs);
  osc_reconcile_free(r);
  osc_config_free(cfg);
  return code;
}

/* The summary and outputs as Octopus service messages (--octopus-output):
 * the summary highlighted, every output a setVariable, the report an
 * artifact. */
static int octopus_messages(const struct osc_cli_options *o,
                            const struct osc_apply_result *res,
                            const struct osc_run_summary *run,
                            struct osc_error *err) {
  char line[512];
  struct stat st;
  int rc;

  rc = osc_octout_highlight_begin(stdout, err);
  if (rc < 0)
    return rc;
  osc_run_summary_format(run, line, sizeof(line));
  printf("octoscale apply: %s; VMSSHasServersToDeployTo=%s\n", line,
         osc_outputs_get(&res->outputs, "VMSSHasServersToDeployTo"));
  rc = osc_octout_highlight_end(stdout, err);
  if (rc == 0)
    rc = osc_octout_outputs(stdout, &res->outputs, err);
  if (rc == 0 && o->report_path != NULL && stat(o->report_path, &st) == 0)
    rc = osc_octout_create_artifact(stdout, o->report_path, NULL,
                                    (int64_t)st.st_size, err);
  return rc;
}

/* The run's counts: what the actions did, how long, how many requests. */
static void run_summary(struct osc_reconcile *r, int64_t started_ms,
                        struct osc_run_summary *run) {
  struct osc_http_stats stats;

  memset(run, 0, sizeof(*run));
  osc_run_summary_count(r->plans, r->n_entries, run);
  run->duration_ms = osc_time_monotonic_ms() - started_ms;
  if (r->session != NULL) {
    osc_http_get_stats(osc_session_http(r->session), &stats);
    run->requests = stats.requests;
    run->retries = stats.retries;
    run->throttled = stats.throttled;
  }
}

/* Reports an apply: the HTML report, then the text or JSON on stdout, and
 * the service messages. */
static int report_apply(const struct osc_cli_options *o,
                        struct osc_reconcile *r,
                        const struct osc_reconcile_options *ro,
                        const struct osc_apply_result *res,
                        const struct osc_run_summary *run,
                        struct osc_error *err) {
  int rc;

  if (o->report_path != NULL) {
    rc = osc_html_report_write(o->report_path, "apply", r->plans, r->n_entries,
                               &res->outputs, ro->now, err);
    if (rc < 0)
      return rc;
  }
  if (o->format == OSC_FORMAT_JSON) {
    rc = osc_report_json(stdout, "apply", r->plans, r->n_entries, &res->outputs,
                         run, err);
    if (rc < 0)
      return rc;
  } else {
    osc_report_text(stdout, r->plans, r->n_entries, o->verbosity > 0, run);
    osc_text_line(
        stdout,
        "outputs: VMSSHasServersToDeployTo=%s VMSSDeploymentTargetNames=%s",
        osc_outputs_get(&res->outputs, "VMSSHasServersToDeployTo"),
        osc_outputs_get(&res->outputs, "VMSSDeploymentTargetNames"));
  }
  if (o->octopus_output)
    return octopus_messages(o, res, run, err);
  return OSC_OK;
}

static int cmd_apply(const struct osc_cli_options *o) {
  struct osc_reconcile_options ro;
  struct osc_apply_options ao;
  struct osc_apply_result res;
  struct osc_run_summary run;
  struct osc_reconcile *r = NULL;
  struct osc_config *cfg = NULL;
  struct osc_store *store = NULL;
  struct osc_error err = OSC_ERROR_INIT;
  int64_t started_ms = osc_time_monotonic_ms();
  struct osc_error unsaved;
  int code;
  int rc;

  memset(&res, 0, sizeof(res));
  code = load_config(o, &cfg);
  if (code != 0)
    return code;
  rc = reconcile_options(o, &ro, &err);
  if (rc < 0)
    goto failed;
  /* One writer per state, held from before the state is read until after
   * it is written (safety rule 4). */
  rc = osc_store_open(cfg, &store, &err);
  if (rc == OSC_OK)
    rc = osc_store_lock(store, &err);
  if (rc < 0)
    goto failed;
  ro.store = store;
  rc = osc_reconcile_plan(cfg, &ro, &r, &err);
  if (rc < 0)
    goto failed;
  memset(&ao, 0, sizeof(ao));
  ao.wait = o->wait;
  ao.wait_seconds = o->wait_seconds;
  ao.poll_interval_seconds = o->poll_interval_seconds;
  ao.fail_on_timeout = o->on_timeout == OSC_ON_TIMEOUT_FAIL;
  ao.only_new = o->only_new;
  ao.health_check = o->health_check;
  ao.health_timeout_seconds = 300;
  rc = osc_apply_run(r, &ro, &ao, &res, &err);
  if (rc < 0 && !res.state_unsaved)
    goto failed;
  /* Even when only the state could not be saved, what was done is reported
   * (and the outputs given) before the error. */
  unsaved = err;
  log_plan_problems(r);
  run_summary(r, started_ms, &run);
  rc = report_apply(o, r, &ro, &res, &run, &err);
  if (rc < 0)
    goto failed;
  if (res.state_unsaved) {
    err = unsaved;
    rc = err.code;
    goto failed;
  }
  code = osc_reconcile_exit_code(r, true);
  goto done;
failed:
  fprintf(stderr, "octoscale: error: %s\n", err.msg);
  code = osc_error_exit_code(rc);
done:
  fflush(stdout);
  osc_apply_result_free(&res);
  osc_reconcile_free(r);
  osc_store_free(store);
  osc_config_free(cfg);
  return code;
}

/* A list of paths that grows (test discovery). */
struct path_list {
  char **items;
  size_t n;
  size_t cap;
};

static int path_add(struct path_list *l, const char *path) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    char **items = realloc(l->items, cap * sizeof(*items));

    if (items == NULL)
      return -1;
    l->items = items;
    l->cap = cap;
  }
  l->items[l->n] = strdup(path);
  return l->items[l->n] == NULL ? -1 : (int)++l->n;
}

static void path_free(struct path_list *l) {
  size_t i;

  for (i = 0; i < l->n; i++)
    free(l->items[i]);
  free(l->items);
}

static int cmp_path(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s);
  size_t k = strlen(suffix);

  return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Every *_test.lua under dir (hidden directories skipped), unsorted. */
static int discover(const char *dir, struct path_list *out, int depth) {
  DIR *d;
  struct dirent *e;
  int rc = 0;

  if (depth > 32 || (d = opendir(dir)) == NULL)
    return depth > 32 ? 0 : -1;
  while (rc >= 0 && (e = readdir(d)) != NULL) {
    char path[4096];
    struct stat st;

    if (e->d_name[0] == '.')
      continue;
    if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >=
            (int)sizeof(path) ||
        stat(path, &st) != 0)
      continue;
    if (S_ISDIR(st.st_mode))
      rc = discover(path, out, depth + 1) < 0 ? -1 : 0;
    else if (S_ISREG(st.st_mode) && ends_with(e->d_name, "_test.lua"))
      rc = path_add(out, path);
  }
  closedir(d);
  return rc < 0 ? -1 : 0;
}

/* FILE... as given; a directory stands for its _test.lua files (sorted);
 * none: the .lua files of tests/policies. */
static int test_files(const struct osc_cli_options *o, struct path_list *l) {
  glob_t found;
  size_t i;
  int k;

  for (k = 0; k < o->n_args; k++) {
    struct stat st;
    size_t first = l->n;

    if (stat(o->args[k], &st) == 0 && S_ISDIR(st.st_mode)) {
      if (discover(o->args[k], l, 0) < 0) {
        fprintf(stderr, "octoscale: error: cannot read %s: %s\n", o->args[k],
                strerror(errno));
        return 3;
      }
      qsort(l->items + first, l->n - first, sizeof(*l->items), cmp_path);
    } else if (path_add(l, o->args[k]) < 0) {
      return 1;
    }
  }
  if (o->n_args > 0)
    return 0;
  /* Teams can just run `octoscale test` in their policy repository. */
  if (glob("tests/policies/*.lua", 0, NULL, &found) != 0 ||
      found.gl_pathc == 0) {
    globfree(&found);
    fprintf(stderr, "octoscale: error: no test files given and none in "
                    "tests/policies/\n");
    return 3;
  }
  for (i = 0; i < found.gl_pathc; i++) {
    if (path_add(l, found.gl_pathv[i]) < 0) {
      globfree(&found);
      return 1;
    }
  }
  globfree(&found);
  return 0;
}

static int cmd_test(const struct osc_cli_options *o) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_test_options to;
  struct path_list files = {NULL, 0, 0};
  int failed = 0;
  int code;

  code = test_files(o, &files);
  if (code == 0 && files.n == 0) {
    fprintf(stderr, "octoscale: error: no *_test.lua files found\n");
    code = 3;
  }
  if (code != 0) {
    path_free(&files);
    return code;
  }
  to.filter = o->test_filter;
  to.json = o->format == OSC_FORMAT_JSON;
  to.junit_path = o->junit_path;
  to.coverage = o->coverage;
  if (osc_test_run_with((const char *const *)files.items, files.n, &to, &failed,
                        &err) < 0) {
    fprintf(stderr, "octoscale: error: %s\n", err.msg);
    code = osc_error_exit_code(err.code);
  } else {
    code = failed > 0 ? 1 : 0;
  }
  path_free(&files);
  return code;
}

static int cmd_snapshot(const struct osc_cli_options *o) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_config *cfg = NULL;
  int code;

  if (o->output_path == NULL)
    return usage_error("snapshot", "snapshot needs -o FILE");
  code = load_config(o, &cfg);
  if (code != 0)
    return code;
  if (osc_cmd_snapshot(cfg, o->scale_sets, o->n_scale_sets, o->output_path,
                       &err) < 0) {
    fprintf(stderr, "octoscale: error: %s\n", err.msg);
    code = osc_error_exit_code(err.code);
  }
  osc_config_free(cfg);
  return code;
}

/* `run` works without a config file (the clients then read OCTOPUS_* and
 * AZURE_* from the environment), but a named or present one must load. */
static int cmd_run(const struct osc_cli_options *o) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_config *cfg = NULL;
  const char *path = config_path(o);
  struct stat st;
  int exit_code = 0;
  int code;

  if (o->n_args == 0)
    return usage_error("run", "run needs a script FILE");
  /* octopus.set_output() prints service messages under this switch */
  if (o->octopus_output)
    setenv("OCTOSCALE_OCTOPUS_OUTPUT", "1", 1);
  if (o->config_path != NULL || stat(path, &st) == 0) {
    code = load_config(o, &cfg);
    if (code != 0)
      return code;
  }
  if (osc_cmd_run(cfg, o->args[0], o->n_args, o->args, &exit_code, &err) < 0) {
    fprintf(stderr, "octoscale: error: %s\n", err.msg);
    exit_code = osc_error_exit_code(err.code);
  }
  osc_config_free(cfg);
  return exit_code;
}

/* Progress of long reads and changes (core/osc_progress.h): plan, apply
 * and snapshot; never with -q; never on stdout except as Octopus service
 * messages, so --format json stays one document. */
static void progress_setup(const struct osc_cli_options *o) {
  bool wanted = o->command != NULL && (strcmp(o->command, "plan") == 0 ||
                                       strcmp(o->command, "apply") == 0 ||
                                       strcmp(o->command, "snapshot") == 0);

  if (!wanted || o->verbosity < 0)
    osc_progress_init(OSC_PROGRESS_OFF, NULL);
  else if (o->octopus_output && strcmp(o->command, "apply") == 0)
    osc_progress_init(OSC_PROGRESS_OCTOPUS, stdout);
  else if (isatty(STDERR_FILENO))
    osc_progress_init(OSC_PROGRESS_TERMINAL, stderr);
  else
    osc_progress_init(OSC_PROGRESS_LOG, stderr);
}

static int cmd_state(const struct osc_cli_options *o) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_config *cfg = NULL;
  const char *sub = o->n_args > 0 ? o->args[0] : NULL;
  int want = 1;
  int code;
  int rc;

  if (sub != NULL && strcmp(sub, "copy") == 0)
    want = 3;
  if (sub == NULL || (strcmp(sub, "show") != 0 && strcmp(sub, "unlock") != 0 &&
                      strcmp(sub, "copy") != 0))
    return usage_error("state", "state needs show, unlock or copy");
  if (o->n_args != want)
    return usage_error("state", "state %s takes %s", sub,
                       want == 3 ? "SRC and DST" : "no arguments");
  if (o->yes && strcmp(sub, "unlock") != 0)
    return usage_error("state", "--yes is for state unlock");
  code = load_config(o, &cfg);
  if (code != 0)
    return code;
  if (strcmp(sub, "show") == 0)
    rc = osc_cmd_state_show(cfg, o->format == OSC_FORMAT_JSON, stdout, &err);
  else if (strcmp(sub, "unlock") == 0)
    rc = osc_cmd_state_unlock(cfg, o->yes, stdout, &err);
  else
    rc = osc_cmd_state_copy(cfg, o->args[1], o->args[2], stdout, &err);
  fflush(stdout);
  if (rc < 0) {
    fprintf(stderr, "octoscale: error: %s\n", err.msg);
    code = osc_error_exit_code(rc);
  }
  osc_config_free(cfg);
  return code;
}

int osc_cli_main(int argc, char **argv) {
  const char *scale_sets[MAX_SCALE_SET_ARGS];
  struct osc_cli_options o;
  bool done = false;
  int code;

  memset(&o, 0, sizeof(o));
  o.scale_sets = scale_sets;
  code = parse_args(argc, argv, &o, &done);
  if (code != 0 || done)
    return code;
  if (o.verbosity > 0)
    osc_log_set_level(OSC_LOG_DEBUG);
  else if (o.verbosity < 0)
    osc_log_set_level(OSC_LOG_WARN);
  progress_setup(&o);
  if (o.command == NULL || strcmp(o.command, "help") == 0) {
    fputs(usage_text, o.command ? stdout : stderr);
    return o.command ? 0 : 3;
  }
  if (strcmp(o.command, "version") == 0)
    return cmd_version();
  if (strcmp(o.command, "check") == 0)
    return cmd_check(&o);
  if (strcmp(o.command, "plan") == 0)
    return cmd_plan(&o);
  if (strcmp(o.command, "test") == 0)
    return cmd_test(&o);
  if (strcmp(o.command, "apply") == 0) {
    /* Both claim stdout: one JSON document, or the lines Octopus parses. */
    if (o.octopus_output && o.format == OSC_FORMAT_JSON)
      return usage_error("apply", "--octopus-output and --format json both "
                                  "write to stdout; use one");
    return cmd_apply(&o);
  }
  if (strcmp(o.command, "snapshot") == 0)
    return cmd_snapshot(&o);
  if (strcmp(o.command, "run") == 0)
    return cmd_run(&o);
  if (strcmp(o.command, "state") == 0)
    return cmd_state(&o);
  fprintf(stderr, "octoscale: error: '%s' is not available in this build\n",
          o.command);
  return 1;
}
