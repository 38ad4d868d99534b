/* The commands (docs/design.md §4). Each is in its own file,
 * core/osc_cmd_<name>.c (`run`: core/lua/osc_cmd_run.c); core/osc_cli.c
 * parses the command line from its option and command tables into a struct
 * osc_cmd_options and calls the command's osc_cmd_<name>_main, which
 * returns the process exit code. Below them, the snapshot, run and state
 * commands' work takes a loaded config and returns 0 or a negative OSC_E_*
 * whose osc_error_exit_code() is the exit code. */
#ifndef OSC_COMMANDS_H
#define OSC_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/osc_config.h"
#include "core/osc_error.h"

enum osc_format {
  OSC_FORMAT_TEXT = 0,
  OSC_FORMAT_JSON,
};

enum osc_on_timeout {
  OSC_ON_TIMEOUT_PROCEED = 0,
  OSC_ON_TIMEOUT_FAIL,
};

/* Everything the command line can say, parsed: what each command reads. */
struct osc_cmd_options {
  const char *config_path; /* NULL: ./octoscale.yaml, else OCTOSCALE_CONFIG */
  const char **scale_sets; /* -s NAME... */
  size_t n_scale_sets;
  enum osc_format format;
  int verbosity; /* -1 quiet, 0 normal, 1 verbose */
  const char *command;
  /* plan / apply */
  const char *snapshot; /* plan --snapshot FILE */
  bool force;
  bool explain; /* plan --explain */
  bool wait;
  int64_t wait_seconds; /* -1: the policy's provisioning grace */
  int64_t poll_interval_seconds;
  enum osc_on_timeout on_timeout;
  const char *only_new; /* --only-new[=NAME] baseline, or NULL */
  bool yes;             /* state unlock --yes */
  bool health_check;
  bool octopus_output; /* apply, run: Octopus service messages on stdout */
  const char *report_path;
  /* snapshot */
  const char *output_path;
  /* test */
  const char *test_filter; /* --filter TEXT */
  const char *junit_path;  /* --junit FILE */
  bool coverage;           /* --coverage */
  /* run / test / state: the arguments after the command */
  char **args;
  int n_args;
};

/* The commands: each returns the exit code, its errors printed. */
int osc_cmd_plan_main(const struct osc_cmd_options *o);
int osc_cmd_apply_main(const struct osc_cmd_options *o);
int osc_cmd_run_main(const struct osc_cmd_options *o);
int osc_cmd_check_main(const struct osc_cmd_options *o);
int osc_cmd_snapshot_main(const struct osc_cmd_options *o);
int osc_cmd_test_main(const struct osc_cmd_options *o);
int osc_cmd_state_main(const struct osc_cmd_options *o);
int osc_cmd_version_main(const struct osc_cmd_options *o);

/* --- what the commands share (core/osc_commands.c) --- */

/* Prints "octoscale: error: <message> (see 'octoscale CMD --help')" (cmd
 * NULL: 'octoscale --help') and returns the usage exit code, 3. */
int osc_cmd_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* -c FILE, else ./octoscale.yaml when it exists, else $OCTOSCALE_CONFIG,
 * else "octoscale.yaml". */
const char *osc_cmd_config_path(const struct osc_cmd_options *o);

/* Loads the config osc_cmd_config_path names: 0, or the exit code with the
 * error printed (no config at all is a usage error). */
int osc_cmd_load_config(const struct osc_cmd_options *o,
                        struct osc_config **cfg);
/* What plan and apply share: the selection, the clock, --snapshot, --force,
 * --explain and -v as reconcile options. */
struct osc_reconcile;
struct osc_reconcile_options;
int osc_cmd_reconcile_options(const struct osc_cmd_options *o,
                              struct osc_reconcile_options *ro,
                              struct osc_error *err);

/* Prints every scale set's plan error or safety stop to stderr. */
void osc_cmd_log_plan_problems(const struct osc_reconcile *r);

/* `octoscale snapshot -o FILE`: collects the selected entries live (only[]
 * names them; n_only 0 means all; an unknown name is OSC_E_USAGE) and
 * writes the contract document (docs/design.md §4) atomically to out_path, raw
 * API bodies spliced as received, plus per entry the extension keys
 * "environment_id", "tenant_id", "nics" and, when a read failed,
 * "incomplete" (core/osc_snapshot.h reads them). An entry with a runtime
 * error (auth refused, unknown name) is left out and logged. The file is
 * written even when some entries failed; the return value then says so:
 * OSC_E_RUNTIME (exit 1) before OSC_E_SAFETY (exit 4). */
int osc_cmd_snapshot(const struct osc_config *cfg, const char *const *only,
                     size_t n_only, const char *out_path,
                     struct osc_error *err);

/* `octoscale run SCRIPT.lua [ARGS...]`: runs the script in a sandbox with
 * the `azure`, `octopus` and `reconcile` namespaces, `arg` (arg[0] is the
 * script, arg[1..] the arguments; they are also the chunk's `...`) and
 * `octopus.set_output`. cfg may be NULL: the clients then read
 * OCTOPUS_URL, OCTOPUS_API_KEY, OCTOPUS_SPACE and AZURE_* from the
 * environment. *out_exit is the script's returned integer (0 when it
 * returns nothing or true, 1 for false). A Lua error returns OSC_E_RUNTIME
 * with "script.lua:LINE: message" (exit 1); a script that cannot be loaded
 * is OSC_E_USAGE (exit 3). */
/* argv/argc are the script's arguments; main-style (argv[0] == script, the
 * same pointer) is accepted too and argv[0] skipped. With octopus_output
 * (run --octopus-output, or OCTOSCALE_OCTOPUS_OUTPUT=1 in the environment)
 * octopus.set_output() prints Octopus service messages. */
int osc_cmd_run(const struct osc_config *cfg, const char *script, int argc,
                char **argv, bool octopus_output, int *out_exit,
                struct osc_error *err);

/* `octoscale state show`: the state's location, lock holder, and per scale
 * set its orphans (with since-times) and --only-new baselines; text, or one
 * JSON document with `json`. Reads without locking. */
int osc_cmd_state_show(const struct osc_config *cfg, bool json, FILE *out,
                       struct osc_error *err);

/* `octoscale state unlock`: prints the holder, then (with `yes`) breaks the
 * lease or removes a lock file no process holds; without `yes`,
 * OSC_E_USAGE. */
int osc_cmd_state_unlock(const struct osc_config *cfg, bool yes, FILE *out,
                         struct osc_error *err);

/* `octoscale state copy SRC DST`: SRC and DST are a local path or an
 * http(s) blob URL (authorized as the config's `state:` says, else with the
 * azure section's credential). Reads SRC (it must exist), then writes DST
 * under DST's lock. */
int osc_cmd_state_copy(const struct osc_config *cfg, const char *src,
                       const char *dst, FILE *out, struct osc_error *err);

#endif
