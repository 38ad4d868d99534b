/* `octoscale test`: the runner of Lua policy tests, and their results,
 * collected per test and written as the JSON document of --format json or
 * the JUnit XML file of --junit FILE. */
#ifndef OSC_TESTRUN_H
#define OSC_TESTRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/osc_error.h"

struct osc_test_result {
  char file[512]; /* display name of the test file */
  char name[256]; /* the test's name; the file's name for a load failure */
  bool ok;
  char message[OSC_ERROR_MAX]; /* "file:LINE: ..." when it failed */
  int64_t ms;
};

struct osc_test_report {
  struct osc_test_result *items;
  size_t n;
  size_t cap;
};

/* Appends a result (strings are copied, bounded). */
int osc_test_report_add(struct osc_test_report *r, const char *file,
                        const char *name, bool ok, const char *message,
                        int64_t ms, struct osc_error *err);

void osc_test_report_free(struct osc_test_report *r);

/* {"format_version":1,"command":"test","passed":N,"failed":N,
 *  "tests":[{"file","name","ok","message","ms"}]} on f. */
int osc_test_report_json(FILE *f, const struct osc_test_report *r,
                         struct osc_error *err);

/* JUnit XML: one <testsuite> per file, one <testcase> per test, <failure
 * message=...> for a failed one; written atomically to path. */
int osc_test_report_junit(const char *path, const struct osc_test_report *r,
                          struct osc_error *err);

/* `octoscale test [FILE...]`: runs Lua policy tests (files that use
 * require "octoscale.testing") in the sandbox, printing one line per test
 * and a closing "N passed, N failed" line to stdout. *out_failed receives
 * the number of failed tests (a file that fails to load counts as one). */
int osc_test_run(const char *const *files, size_t n_files, int *out_failed,
                 struct osc_error *err);

/* The same with `octoscale test` options: filter runs only the tests whose
 * name contains it; json prints one JSON document (osc_test_report_json)
 * instead of the lines; junit_path also writes a JUnit XML file; coverage
 * prints the line coverage of the policy files after each test file
 * (core/lua/osc_coverage.h; on stderr with json). */
struct osc_test_options {
  const char *filter;
  bool json;
  const char *junit_path;
  bool coverage;
};

int osc_test_run_with(const char *const *files, size_t n_files,
                      const struct osc_test_options *opts, int *out_failed,
                      struct osc_error *err);

#endif
