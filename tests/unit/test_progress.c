/* Progress lines: what they say (done/total, requests, pacing, details),
 * what each sink writes, that short work shows nothing, and that names
 * cannot smuggle control characters onto the terminal. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/osc_progress.h"

struct sink {
  FILE *f;
  char *text;
  size_t len;
};

static void sink_open(struct sink *s, enum osc_progress_mode mode) {
  memset(s, 0, sizeof(*s));
  s->f = open_memstream(&s->text, &s->len);
  assert_non_null(s->f);
  osc_progress_init(mode, s->f);
}

static const char *sink_text(struct sink *s) {
  fflush(s->f);
  return s->text ? s->text : "";
}

static void sink_close(struct sink *s) {
  osc_progress_set_counts(NULL, NULL);
  osc_progress_init(OSC_PROGRESS_OFF, NULL);
  fclose(s->f);
  free(s->text);
}

static struct osc_progress_counts fake;

static void fake_counts(void *ud, struct osc_progress_counts *out) {
  (void)ud;
  *out = fake;
}

static const char *line(void) {
  static char buf[512];

  osc_progress_format(buf, sizeof(buf));
  return buf;
}

static void test_progress__counts_units_and_requests(void **state) {
  struct sink s;

  (void)state;
  sink_open(&s, OSC_PROGRESS_LOG);
  memset(&fake, 0, sizeof(fake));
  fake.requests = 40;
  osc_progress_set_counts(fake_counts, NULL);
  osc_progress_begin("deleting targets", "targets", 10);
  osc_progress_add(3);
  assert_string_equal(line(), "deleting targets: 3/10 targets (30%), 0.0/s");
  osc_progress_end();
  assert_string_equal(line(), "");

  osc_progress_begin("reading Azure and Octopus", NULL, 0);
  fake.requests = 52; /* 12 since the phase began */
  assert_string_equal(line(), "reading Azure and Octopus: 12 requests, 0.0/s");
  osc_progress_end();
  sink_close(&s);
}

static void test_progress__paced_and_throttled(void **state) {
  struct sink s;

  (void)state;
  sink_open(&s, OSC_PROGRESS_LOG);
  memset(&fake, 0, sizeof(fake));
  fake.rate_waits = 5; /* before the phase: not this phase's pacing */
  osc_progress_set_counts(fake_counts, NULL);
  osc_progress_begin("deleting targets", "targets", 4);
  assert_null(strstr(line(), "paced"));
  fake.rate_waits = 6;
  assert_non_null(strstr(line(), ", paced to the request rate limit"));
  fake.throttled = 1;
  assert_non_null(strstr(line(), ", throttled by the server (HTTP 429)"));
  osc_progress_end();
  sink_close(&s);
}

static void test_progress__detail_replaces_rate(void **state) {
  struct sink s;

  (void)state;
  sink_open(&s, OSC_PROGRESS_LOG);
  osc_progress_begin("waiting for provisioning", "VMs", 0);
  osc_progress_detail("settled, 4s of 30m");
  osc_progress_set(3, 5);
  assert_string_equal(line(),
                      "waiting for provisioning: 3/5 VMs settled, 4s of 30m");
  /* a nested phase (the reads of a poll) leaves the outer one showing */
  osc_progress_begin("reading Azure and Octopus", NULL, 0);
  assert_string_equal(line(),
                      "waiting for provisioning: 3/5 VMs settled, 4s of 30m");
  osc_progress_end();
  osc_progress_end();
  sink_close(&s);
}

static void test_progress__control_characters_replaced(void **state) {
  struct sink s;

  (void)state;
  sink_open(&s, OSC_PROGRESS_LOG);
  osc_progress_begin("set \033[2J\r\nevil", "targets", 1);
  assert_string_equal(line(), "set ?[2J??evil: 0/1 targets (0%), 0.0/s");
  osc_progress_detail("a\tb\x7f");
  assert_string_equal(line(), "set ?[2J??evil: 0/1 targets a?b?");
  osc_progress_end();
  sink_close(&s);
}

static void test_progress__short_work_shows_nothing(void **state) {
  enum osc_progress_mode modes[] = {OSC_PROGRESS_TERMINAL, OSC_PROGRESS_LOG,
                                    OSC_PROGRESS_OCTOPUS};
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
    struct sink s;

    sink_open(&s, modes[i]);
    osc_progress_begin("deleting targets", "targets", 2);
    osc_progress_add(1);
    osc_progress_tick();
    osc_progress_add(1);
    osc_progress_end();
    assert_string_equal(sink_text(&s), "");
    sink_close(&s);
  }
}

static void test_progress__sinks(void **state) {
  struct sink s;

  (void)state;
  sink_open(&s, OSC_PROGRESS_LOG);
  osc_progress_begin("deleting targets", "targets", 4);
  osc_progress_set(1, 4);
  osc_progress_show_now();
  osc_progress_end(); /* plain logs keep their pace: no closing line */
  assert_string_equal(sink_text(&s),
                      "octoscale: deleting targets: 1/4 targets (25%), "
                      "0.0/s\n");
  sink_close(&s);

  sink_open(&s, OSC_PROGRESS_TERMINAL);
  osc_progress_begin("deleting targets", "targets", 4);
  osc_progress_set(1, 4);
  osc_progress_show_now();
  osc_progress_set(4, 4);
  osc_progress_end(); /* the final state, and the line is ended */
  assert_string_equal(sink_text(&s),
                      "\r\033[Kdeleting targets: 1/4 targets (25%), 0.0/s"
                      "\r\033[Kdeleting targets: 4/4 targets (100%), 0.0/s\n");
  sink_close(&s);

  sink_open(&s, OSC_PROGRESS_OCTOPUS);
  osc_progress_begin("x", "targets", 4);
  osc_progress_set(1, 4);
  osc_progress_show_now();
  osc_progress_end();
  /* "x: 1/4 targets (25%), 0.0/s" at 25 %, and again as the final state */
  assert_string_equal(sink_text(&s),
                      "##octopus[progress percentage='MjU=' "
                      "message='eDogMS80IHRhcmdldHMgKDI1JSksIDAuMC9z']\n"
                      "##octopus[progress percentage='MjU=' "
                      "message='eDogMS80IHRhcmdldHMgKDI1JSksIDAuMC9z']\n");
  sink_close(&s);
}

static void test_progress__off_writes_nothing(void **state) {
  (void)state;
  osc_progress_init(OSC_PROGRESS_OFF, stderr);
  osc_progress_begin("deleting targets", "targets", 4);
  osc_progress_show_now();
  assert_string_equal(line(), "");
  osc_progress_end();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_progress__counts_units_and_requests),
      cmocka_unit_test(test_progress__paced_and_throttled),
      cmocka_unit_test(test_progress__detail_replaces_rate),
      cmocka_unit_test(test_progress__control_characters_replaced),
      cmocka_unit_test(test_progress__short_work_shows_nothing),
      cmocka_unit_test(test_progress__sinks),
      cmocka_unit_test(test_progress__off_writes_nothing),
  };

  return cmocka_run_group_tests_name("progress", tests, NULL, NULL);
}
