/* The command line (docs/design.md §4), in the manner of curl's aliases[]:
 * a table of commands and a table of options (name, short form, whether it
 * takes a value, the commands that accept it, where it is stored) read by
 * one small parser; each command is in its own core/osc_cmd_<name>.c. */
#include "core/osc_cli.h"

#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/osc_commands.h"
#include "core/osc_error.h"
#include "core/osc_log.h"
#include "core/osc_progress.h"
#include "core/osc_state.h"
#include "core/osc_time.h"
#include "core/osc_version.h"

#define MAX_SCALE_SET_ARGS 256

/* A parser step's result besides 0 (go on) and an exit code: help or the
 * version was printed, exit 0. */
#define STOP (-1)

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

static const char help_plan[] =
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
    "policy error, 1 runtime failure\n";

static const char help_apply[] =
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
    "                          incomplete-data rule)\n";

static const char help_run[] =
    "usage: octoscale run [--octopus-output] FILE [ARGS...]\n"
    "\n"
    "Runs a Lua automation script with the azure, octopus and reconcile\n"
    "namespaces; ARGS are in the global table `arg`. The exit code is the\n"
    "integer the script returns (0 when it returns nothing).\n"
    "\n"
    "  --octopus-output  octopus.set_output() prints Octopus service "
    "messages\n"
    "                    (else the outputs are printed as name=value at "
    "the end)\n";

static const char help_check[] =
    "usage: octoscale check [-c FILE] [-s NAME]...\n"
    "\n"
    "Validates the config, loads every policy it names and reads the "
    "state file,\n"
    "offline.\n";

static const char help_snapshot[] =
    "usage: octoscale snapshot -o FILE\n"
    "\n"
    "Captures the raw Azure and Octopus responses of every selected scale "
    "set\n"
    "into FILE; `octoscale plan --snapshot FILE` plans from it offline.\n"
    "\n"
    "  -o, --output FILE  the snapshot file to write\n";

static const char help_test[] =
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
    "  --format json   print one JSON document instead of the lines\n";

static const char help_state[] =
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
    "usage or config error\n";

static const char help_version[] = "usage: octoscale version\n";

/* --- the commands ------------------------------------------------------ */

/* The bits of the commands in cli_option.commands. */
enum {
  CMD_PLAN = 1u << 0,
  CMD_APPLY = 1u << 1,
  CMD_RUN = 1u << 2,
  CMD_CHECK = 1u << 3,
  CMD_SNAPSHOT = 1u << 4,
  CMD_TEST = 1u << 5,
  CMD_STATE = 1u << 6,
  CMD_VERSION = 1u << 7,
  CMD_HELP = 1u << 8,
  CMD_ALL = (1u << 9) - 1,
  BEFORE_COMMAND = 1u << 9, /* also before the command's name */
  GLOBAL = CMD_ALL | BEFORE_COMMAND,
};

/* What may follow a command's name besides options. */
enum command_args {
  ARGS_NONE,   /* nothing: a word is an unexpected argument */
  ARGS_LIST,   /* words, in one run (options must not separate them) */
  ARGS_SCRIPT, /* a script, then everything belongs to the script */
};

struct command {
  const char *name;
  unsigned bit;
  enum command_args args;
  const char *args_name; /* ARGS_LIST: what the words are, for errors */
  bool progress;         /* shows the progress of long reads and changes */
  int (*main)(const struct osc_cmd_options *o);
  const char *help; /* `octoscale COMMAND --help`; NULL: the usage */
};

static int cmd_help(const struct osc_cmd_options *o) {
  fputs(usage_text, stdout);
  return 0;
}

static const struct command commands[] = {
    {"plan", CMD_PLAN, ARGS_NONE, NULL, true, osc_cmd_plan_main, help_plan},
    {"apply", CMD_APPLY, ARGS_NONE, NULL, true, osc_cmd_apply_main, help_apply},
    {"run", CMD_RUN, ARGS_SCRIPT, NULL, false, osc_cmd_run_main, help_run},
    {"check", CMD_CHECK, ARGS_NONE, NULL, false, osc_cmd_check_main,
     help_check},
    {"snapshot", CMD_SNAPSHOT, ARGS_NONE, NULL, true, osc_cmd_snapshot_main,
     help_snapshot},
    {"test", CMD_TEST, ARGS_LIST, "test files", false, osc_cmd_test_main,
     help_test},
    {"version", CMD_VERSION, ARGS_NONE, NULL, false, osc_cmd_version_main,
     help_version},
    {"help", CMD_HELP, ARGS_NONE, NULL, false, cmd_help, NULL},
    {"state", CMD_STATE, ARGS_LIST, "arguments", false, osc_cmd_state_main,
     help_state},
};

static const struct command *find_command(const char *name) {
  size_t i;

  for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
    if (strcmp(commands[i].name, name) == 0)
      return &commands[i];
  }
  return NULL;
}

/* --- storing option values ----------------------------------------------
 * Each returns 0, STOP, or an exit code with the error printed; field is
 * the option's field in o (cli_option.field). */

static int store_true(struct osc_cmd_options *o, void *field, const char *v) {
  *(bool *)field = true;
  return 0;
}

static int store_text(struct osc_cmd_options *o, void *field, const char *v) {
  *(const char **)field = v;
  return 0;
}

static int store_verbose(struct osc_cmd_options *o, void *field,
                         const char *v) {
  *(int *)field = 1;
  return 0;
}

static int store_quiet(struct osc_cmd_options *o, void *field, const char *v) {
  *(int *)field = -1;
  return 0;
}

static int store_help(struct osc_cmd_options *o, void *field, const char *v) {
  const struct command *cmd = o->command ? find_command(o->command) : NULL;

  fputs(cmd != NULL && cmd->help != NULL ? cmd->help : usage_text, stdout);
  return STOP;
}

static int store_version(struct osc_cmd_options *o, void *field,
                         const char *v) {
  osc_version_print(stdout);
  return STOP;
}

static int store_scale_set(struct osc_cmd_options *o, void *field,
                           const char *v) {
  if (o->n_scale_sets >= MAX_SCALE_SET_ARGS)
    return osc_cmd_usage_error(NULL, "too many %s options", "--scale-set");
  o->scale_sets[o->n_scale_sets++] = v;
  return 0;
}

static int store_format(struct osc_cmd_options *o, void *field, const char *v) {
  if (strcmp(v, "text") == 0)
    *(enum osc_format *)field = OSC_FORMAT_TEXT;
  else if (strcmp(v, "json") == 0)
    *(enum osc_format *)field = OSC_FORMAT_JSON;
  else
    return osc_cmd_usage_error(o->command,
                               "--format must be text or json, not '%s'", v);
  return 0;
}

static int parse_duration_arg(const char *opt, const char *text, int64_t *out) {
  struct osc_error err = OSC_ERROR_INIT;

  if (osc_duration_parse(text, out, &err) < 0) {
    fprintf(stderr, "octoscale: error: %s: %s\n", opt, err.msg);
    return 3;
  }
  return 0;
}

/* --wait sets wait; --wait=DURATION also its bound. */
static int store_wait(struct osc_cmd_options *o, void *field, const char *v) {
  *(bool *)field = true;
  if (v != NULL && parse_duration_arg("--wait", v, &o->wait_seconds))
    return 3;
  return 0;
}

static int store_poll_interval(struct osc_cmd_options *o, void *field,
                               const char *v) {
  if (parse_duration_arg("--poll-interval", v, field))
    return 3;
  if (*(int64_t *)field <= 0)
    return osc_cmd_usage_error(o->command,
                               "--poll-interval must be positive, not '%s'", v);
  return 0;
}

static int store_on_timeout(struct osc_cmd_options *o, void *field,
                            const char *v) {
  if (strcmp(v, "proceed") == 0)
    *(enum osc_on_timeout *)field = OSC_ON_TIMEOUT_PROCEED;
  else if (strcmp(v, "fail") == 0)
    *(enum osc_on_timeout *)field = OSC_ON_TIMEOUT_FAIL;
  else
    return osc_cmd_usage_error(
        o->command, "--on-timeout must be proceed or fail, not '%s'", v);
  return 0;
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

static int store_only_new(struct osc_cmd_options *o, void *field,
                          const char *v) {
  const char *name = v ? v : OSC_STATE_DEFAULT_BASELINE;

  *(const char **)field = name;
  if (!baseline_name_ok(name))
    return osc_cmd_usage_error(o->command,
                               "--only-new=NAME: NAME must be 1 to 128 "
                               "letters, digits or . _ - (not '%.64s')",
                               name);
  return 0;
}

/* --- the options ------------------------------------------------------- */

/* How an option takes its value. */
enum option_value {
  VALUE_NONE,     /* a switch: "--name" (or "-x") alone */
  VALUE_REQUIRED, /* "--name VALUE", "--name=VALUE" or "-x VALUE" */
  VALUE_INLINE,   /* optional, and only as "--name=VALUE" */
};

struct cli_option {
  const char *name;       /* "--config" */
  const char *short_name; /* "-c", or NULL */
  enum option_value value;
  unsigned commands; /* CMD_* of the commands that accept it */
  size_t field;      /* where it is stored in struct osc_cmd_options */
  int (*store)(struct osc_cmd_options *o, void *field, const char *value);
};

#define FIELD(name) offsetof(struct osc_cmd_options, name)

static const struct cli_option options[] = {
    {"--help", "-h", VALUE_NONE, GLOBAL, 0, store_help},
    {"--version", NULL, VALUE_NONE, BEFORE_COMMAND, 0, store_version},
    {"--config", "-c", VALUE_REQUIRED, GLOBAL, FIELD(config_path), store_text},
    {"--scale-set", "-s", VALUE_REQUIRED, GLOBAL, FIELD(scale_sets),
     store_scale_set},
    {"--format", NULL, VALUE_REQUIRED, GLOBAL, FIELD(format), store_format},
    {"--verbose", "-v", VALUE_NONE, GLOBAL, FIELD(verbosity), store_verbose},
    {"--quiet", "-q", VALUE_NONE, GLOBAL, FIELD(verbosity), store_quiet},
    {"--snapshot", NULL, VALUE_REQUIRED, CMD_PLAN, FIELD(snapshot), store_text},
    {"--force", NULL, VALUE_NONE, CMD_PLAN | CMD_APPLY, FIELD(force),
     store_true},
    {"--explain", NULL, VALUE_NONE, CMD_PLAN, FIELD(explain), store_true},
    {"--wait", NULL, VALUE_INLINE, CMD_APPLY, FIELD(wait), store_wait},
    {"--poll-interval", NULL, VALUE_REQUIRED, CMD_APPLY,
     FIELD(poll_interval_seconds), store_poll_interval},
    {"--on-timeout", NULL, VALUE_REQUIRED, CMD_APPLY, FIELD(on_timeout),
     store_on_timeout},
    {"--only-new", NULL, VALUE_INLINE, CMD_APPLY, FIELD(only_new),
     store_only_new},
    {"--health-check", NULL, VALUE_NONE, CMD_APPLY, FIELD(health_check),
     store_true},
    {"--octopus-output", NULL, VALUE_NONE, CMD_APPLY | CMD_RUN,
     FIELD(octopus_output), store_true},
    {"--report", NULL, VALUE_REQUIRED, CMD_APPLY, FIELD(report_path),
     store_text},
    {"--filter", NULL, VALUE_REQUIRED, CMD_TEST, FIELD(test_filter),
     store_text},
    {"--coverage", NULL, VALUE_NONE, CMD_TEST, FIELD(coverage), store_true},
    {"--junit", NULL, VALUE_REQUIRED, CMD_TEST, FIELD(junit_path), store_text},
    {"--output", "-o", VALUE_REQUIRED, CMD_SNAPSHOT, FIELD(output_path),
     store_text},
    {"--yes", NULL, VALUE_NONE, CMD_STATE, FIELD(yes), store_true},
};

/* The option arg names ("--name", "--name=VALUE" or "-x" exactly), or
 * NULL; *inline_value is what follows '=' (NULL without one). */
static const struct cli_option *find_option(const char *arg,
                                            const char **inline_value) {
  size_t len = strcspn(arg, "=");
  size_t i;

  *inline_value = NULL;
  for (i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
    const struct cli_option *opt = &options[i];

    if (arg[1] != '-') {
      if (opt->short_name != NULL && strcmp(arg, opt->short_name) == 0)
        return opt;
    } else if (strlen(opt->name) == len && strncmp(arg, opt->name, len) == 0) {
      if (arg[len] == '=')
        *inline_value = arg + len + 1;
      return opt;
    }
  }
  return NULL;
}

/* --- the parser -------------------------------------------------------- */

struct parser {
  int argc;
  char **argv;
  int i; /* the argument being parsed */
  struct osc_cmd_options *o;
  const struct command *cmd; /* NULL until the command's name */
};

/* The option at argv[p->i] (its value may take the next argument). An
 * option another command takes is as unknown as a misspelt one. */
static int parse_option(struct parser *p, const char *arg) {
  const char *value = NULL;
  const struct cli_option *opt = find_option(arg, &value);
  unsigned here = p->cmd != NULL ? p->cmd->bit : BEFORE_COMMAND;

  if (opt == NULL || (opt->commands & here) == 0 ||
      (opt->value == VALUE_NONE && value != NULL))
    return osc_cmd_usage_error(p->o->command, "unknown option '%s'", arg);
  if (opt->value == VALUE_REQUIRED && value == NULL) {
    if (p->i + 1 >= p->argc) {
      fprintf(stderr,
              "octoscale: error: option '%s' needs a value (see 'octoscale "
              "--help')\n",
              opt->name);
      return 3;
    }
    value = p->argv[++p->i];
  }
  return opt->store(p->o, (char *)p->o + opt->field, value);
}

/* A word: the command's name, or one of its arguments. */
static int parse_word(struct parser *p, const char *arg) {
  struct osc_cmd_options *o = p->o;

  if (p->cmd == NULL) {
    p->cmd = find_command(arg);
    if (p->cmd == NULL)
      return osc_cmd_usage_error(NULL, "unknown command '%s'", arg);
    o->command = p->cmd->name;
    return 0;
  }
  if (p->cmd->args == ARGS_NONE)
    return osc_cmd_usage_error(o->command, "unexpected argument '%s'", arg);
  if (o->n_args == 0)
    o->args = &p->argv[p->i];
  o->n_args++;
  if (p->cmd->args == ARGS_LIST && &p->argv[p->i] != &o->args[o->n_args - 1])
    return osc_cmd_usage_error(o->command,
                               "options must not separate %s ('%s')",
                               p->cmd->args_name, arg);
  return 0;
}

/* 0 with *cmd set (NULL: no command given), STOP, or an exit code. */
static int parse_args(int argc, char **argv, struct osc_cmd_options *o,
                      const struct command **cmd) {
  struct parser p = {argc, argv, 1, o, NULL};
  int rc = 0;

  o->wait_seconds = -1;
  o->poll_interval_seconds = 10;
  for (; p.i < argc && rc == 0; p.i++) {
    const char *arg = argv[p.i];

    /* After `run FILE`, everything belongs to the script. */
    if (p.cmd != NULL && p.cmd->args == ARGS_SCRIPT && o->n_args > 0) {
      o->args = &argv[p.i - 1];
      o->n_args = argc - p.i + 1;
      break;
    }
    if (arg[0] == '-' && arg[1] != '\0')
      rc = parse_option(&p, arg);
    else
      rc = parse_word(&p, arg);
  }
  *cmd = p.cmd;
  return rc;
}

/* Progress of long reads and changes (core/osc_progress.h): plan, apply
 * and snapshot; never with -q; never on stdout except as Octopus service
 * messages, so --format json stays one document. */
static void progress_setup(const struct osc_cmd_options *o,
                           const struct command *cmd) {
  if (cmd == NULL || !cmd->progress || o->verbosity < 0)
    osc_progress_init(OSC_PROGRESS_OFF, NULL);
  else if (o->octopus_output && cmd->bit == CMD_APPLY)
    osc_progress_init(OSC_PROGRESS_OCTOPUS, stdout);
  else if (isatty(STDERR_FILENO))
    osc_progress_init(OSC_PROGRESS_TERMINAL, stderr);
  else
    osc_progress_init(OSC_PROGRESS_LOG, stderr);
}

int osc_cli_main(int argc, char **argv) {
  const char *scale_sets[MAX_SCALE_SET_ARGS];
  struct osc_cmd_options o;
  const struct command *cmd = NULL;
  int code;

  memset(&o, 0, sizeof(o));
  o.scale_sets = scale_sets;
  code = parse_args(argc, argv, &o, &cmd);
  if (code != 0)
    return code == STOP ? 0 : code;
  if (o.verbosity > 0)
    osc_log_set_level(OSC_LOG_DEBUG);
  else if (o.verbosity < 0)
    osc_log_set_level(OSC_LOG_WARN);
  progress_setup(&o, cmd);
  if (cmd == NULL) {
    fputs(usage_text, stderr);
    return 3;
  }
  return cmd->main(&o);
}
