/* Commands implemented outside the CLI module: `snapshot` and `run`. The
 * CLI parses arguments and calls these; they return 0 or a negative OSC_E_*
 * whose osc_error_exit_code() is the process exit code. */
#ifndef OSC_COMMANDS_H
#define OSC_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/osc_config.h"
#include "core/osc_error.h"

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
 * same pointer) is accepted too and argv[0] skipped. */
int osc_cmd_run(const struct osc_config *cfg, const char *script, int argc,
                char **argv, int *out_exit, struct osc_error *err);

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
