/* Results of `octoscale test`, collected per test and written as the JSON
 * document of --format json or the JUnit XML file of --junit FILE. */
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

#endif
