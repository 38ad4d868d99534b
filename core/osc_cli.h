/* The command line (docs/design.md §4): parses argv, runs the command and
 * returns the documented exit code. */
#ifndef OSC_CLI_H
#define OSC_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum osc_format {
  OSC_FORMAT_TEXT = 0,
  OSC_FORMAT_JSON,
};

enum osc_on_timeout {
  OSC_ON_TIMEOUT_PROCEED = 0,
  OSC_ON_TIMEOUT_FAIL,
};

/* Everything the command line can say, parsed. */
struct osc_cli_options {
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
  bool octopus_output;
  const char *report_path;
  /* snapshot */
  const char *output_path;
  /* test */
  const char *test_filter; /* --filter TEXT */
  const char *junit_path;  /* --junit FILE */
  bool coverage;           /* --coverage */
  /* run / test: remaining arguments */
  char **args;
  int n_args;
};

int osc_cli_main(int argc, char **argv);

#endif
