/* The adaptive pacing controller (core/osc_pace.h) as a pure function of
 * the answers and the times it is given: no sleeping, no clock. The last
 * tests drive it against a modelled token-bucket server in simulated
 * milliseconds. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>

#include "core/osc_pace.h"

static void test_pace__off_until_429(void **state) {
  struct osc_pace p;
  int64_t t;

  (void)state;
  osc_pace_init(&p, 0);
  for (t = 0; t < 120000; t += 10)
    assert_int_equal(osc_pace_accepted(&p, t, t, true), OSC_PACE_SAME);
  assert_false(p.on);
  assert_int_equal(osc_pace_throttled(&p, 120000, 119980, 1000, 0),
                   OSC_PACE_STARTED);
  assert_true(p.on);
  assert_true(p.per_minute == 200.0);
  assert_int_equal(p.events, 1);
}

static void test_pace__start_rate(void **state) {
  struct osc_pace p;

  (void)state;
  osc_pace_init(&p, 90);
  osc_pace_throttled(&p, 1000, 990, -1, 0);
  assert_true(p.per_minute == 90.0);
  /* the server's advertised policy wins over the default */
  osc_pace_init(&p, 0);
  osc_pace_throttled(&p, 1000, 990, 1000, 600);
  assert_true(p.per_minute == 600.0);
  /* Retry-After 5 s: no token for 4 s or more, so at most 15 a minute */
  osc_pace_init(&p, 0);
  osc_pace_throttled(&p, 1000, 990, 5000, 0);
  assert_true(p.per_minute == 15.0);
}

static void test_pace__in_flight_429s_are_one_event(void **state) {
  struct osc_pace p;
  int i;

  (void)state;
  osc_pace_init(&p, 0);
  osc_pace_throttled(&p, 1000, 980, 1000, 0);
  /* seven more requests were on their way when the first 429 came */
  for (i = 0; i < 7; i++)
    assert_int_equal(osc_pace_throttled(&p, 1001 + i, 990 + i, 1000, 0),
                     OSC_PACE_SAME);
  assert_int_equal(p.events, 1);
  assert_true(p.per_minute == 200.0);
}

/* 100 answers over 30 s: the server sustains 200 a minute. */
static void feed(struct osc_pace *p, int64_t from, int64_t to, int n) {
  int i;

  for (i = 0; i < n; i++) {
    int64_t t = from + (to - from) * (i + 1) / n;

    osc_pace_accepted(p, t, t - 20, false);
  }
}

static void test_pace__decrease_to_measured_rate(void **state) {
  struct osc_pace p;

  (void)state;
  osc_pace_init(&p, 300);
  osc_pace_throttled(&p, 1000, 990, 1000, 0);
  feed(&p, 1000, 31000, 100);
  assert_int_equal(osc_pace_throttled(&p, 31000, 30990, 1000, 0),
                   OSC_PACE_LOWERED);
  assert_true(fabs(p.ceiling - 200.0) < 1e-9);
  assert_true(fabs(p.per_minute - 190.0) < 1e-9);
  assert_int_equal(p.accepted, 0);
}

static void test_pace__decrease_without_measurement(void **state) {
  struct osc_pace p;

  (void)state;
  osc_pace_init(&p, 0);
  osc_pace_throttled(&p, 1000, 990, 1000, 0);
  feed(&p, 1000, 2000, 3); /* too few answers to measure */
  osc_pace_throttled(&p, 2000, 1990, 1000, 0);
  assert_true(fabs(p.per_minute - 140.0) < 1e-9);
  assert_true(p.ceiling == 200.0);
}

static void test_pace__decrease_is_bounded(void **state) {
  struct osc_pace p;

  (void)state;
  osc_pace_init(&p, 0);
  osc_pace_throttled(&p, 1000, 990, 1000, 0);
  /* a measured 20 a minute cuts to half at most... */
  feed(&p, 1000, 61000, 20);
  osc_pace_throttled(&p, 61000, 60990, 1000, 0);
  assert_true(fabs(p.per_minute - 100.0) < 1e-9);
  /* ...and a measured rate above ours still lowers ours */
  osc_pace_init(&p, 0);
  osc_pace_throttled(&p, 1000, 990, 1000, 0);
  feed(&p, 1000, 31000, 200);
  osc_pace_throttled(&p, 31000, 30990, 1000, 0);
  assert_true(fabs(p.per_minute - 190.0) < 1e-9);
}

static void test_pace__rises_only_when_queued_and_quiet(void **state) {
  struct osc_pace p;

  (void)state;
  osc_pace_init(&p, 0);
  osc_pace_throttled(&p, 0, 0, 1000, 0);
  /* requests did not wait for tokens: no evidence the pace limits us */
  assert_int_equal(osc_pace_accepted(&p, 60000, 59000, false), OSC_PACE_SAME);
  /* they did, but not for 30 s yet */
  assert_int_equal(osc_pace_accepted(&p, 29999, 29000, true), OSC_PACE_SAME);
  assert_int_equal(osc_pace_accepted(&p, 30000, 29000, true), OSC_PACE_RAISED);
  assert_true(fabs(p.per_minute - 250.0) < 1e-9);
  assert_int_equal(osc_pace_accepted(&p, 31000, 30000, true), OSC_PACE_SAME);
  assert_int_equal(osc_pace_accepted(&p, 60000, 59000, true), OSC_PACE_RAISED);
  assert_true(fabs(p.per_minute - 312.5) < 1e-9);
}

static void test_pace__never_probes_above_a_ceiling(void **state) {
  struct osc_pace p;
  int64_t t;

  (void)state;
  osc_pace_init(&p, 0);
  osc_pace_throttled(&p, 0, 0, 1000, 0);
  feed(&p, 0, 30000, 100);
  osc_pace_throttled(&p, 30000, 29990, 1000, 0); /* ceiling 200 */
  p.per_minute = 150;                            /* say, after more cuts */
  for (t = 30000; t <= 30000 + 10 * 60000; t += 1000)
    osc_pace_accepted(&p, t, t - 20, true);
  assert_true(fabs(p.per_minute - 190.0) < 1e-9);
}

static void test_pace__burst(void **state) {
  (void)state;
  assert_true(fabs(osc_pace_burst(200) - 200.0 / 30.0) < 1e-9);
  assert_true(osc_pace_burst(6) == 1.0);
}

static void test_pace__parse_policy(void **state) {
  (void)state;
  assert_true(osc_pace_parse_policy("l=200;rpm=600") == 600.0);
  assert_true(osc_pace_parse_policy("rpm=120; l=10") == 120.0);
  assert_true(osc_pace_parse_policy(" l=5 ; rpm=7.5") == 7.5);
  assert_true(osc_pace_parse_policy("l=200") == 0);
  assert_true(osc_pace_parse_policy("rpm=") == 0);
  assert_true(osc_pace_parse_policy("rpm=-3") == 0);
  assert_true(osc_pace_parse_policy("rpm=12x") == 0);
  assert_true(osc_pace_parse_policy("xrpm=5") == 0);
  assert_true(osc_pace_parse_policy("") == 0);
}

/* --- against a modelled server ------------------------------------------ */

/* A token-bucket server (rate, burst; Retry-After = whole seconds to its
 * next token) and a client that always has work: unpaced it sends every
 * 5 ms, paced when its own bucket (fed by the controller, as
 * core/osc_http.c does) holds a token; one request at a time, answered
 * 20 ms later. Counts what the server accepted and rejected. */
struct model {
  double server_rate, server_burst, server_tokens;
  double client_tokens;
  int64_t paused_until;
  long accepted, rejected;
};

static void model_step(struct model *m, struct osc_pace *p, int64_t t) {
  double retry_s;
  enum osc_pace_change c;

  if (t < m->paused_until)
    return;
  if (p->on && m->client_tokens < 1.0)
    return;
  if (!p->on && t % 5 != 0)
    return;
  if (p->on)
    m->client_tokens -= 1.0;
  if (m->server_tokens >= 1.0) {
    m->server_tokens -= 1.0;
    m->accepted++;
    c = osc_pace_accepted(p, t + 20, t, p->on);
  } else {
    m->rejected++;
    retry_s = ceil((1.0 - m->server_tokens) / m->server_rate * 60.0);
    c = osc_pace_throttled(p, t + 20, t, (int64_t)retry_s * 1000, 0);
    m->paused_until = t + 20 + (int64_t)retry_s * 1000;
  }
  if (c == OSC_PACE_STARTED || c == OSC_PACE_LOWERED)
    m->client_tokens = 0;
}

static void model_run(struct model *m, struct osc_pace *p, int64_t ms) {
  int64_t t;

  m->server_tokens = m->server_burst;
  for (t = 0; t < ms; t++) {
    m->server_tokens += m->server_rate / 60000.0;
    if (m->server_tokens > m->server_burst)
      m->server_tokens = m->server_burst;
    if (p->on) {
      m->client_tokens += p->per_minute / 60000.0;
      if (m->client_tokens > osc_pace_burst(p->per_minute))
        m->client_tokens = osc_pace_burst(p->per_minute);
    }
    model_step(m, p, t);
  }
}

static void test_pace__model_200_a_minute(void **state) {
  struct model m = {200, 200, 0, 0, 0, 0, 0};
  struct osc_pace p;
  double ideal = 200 + 200.0 * 10; /* burst + 10 minutes of refill */

  (void)state;
  osc_pace_init(&p, 0);
  model_run(&m, &p, 10 * 60000);
  /* the burst is spent at once, then a handful of 429s in ten minutes */
  assert_true(m.rejected >= 1 && m.rejected <= 4);
  /* and the server's capacity is used: at least 90 % of it */
  assert_true(m.accepted >= 0.9 * ideal);
  assert_true(p.per_minute <= 200.0 && p.per_minute >= 180.0);
}

static void test_pace__model_ha_cluster_finds_more(void **state) {
  /* three nodes of 200 a minute behind a balancer, seen as one bucket */
  struct model m = {600, 600, 0, 0, 0, 0, 0};
  struct osc_pace p;

  (void)state;
  osc_pace_init(&p, 0);
  model_run(&m, &p, 10 * 60000);
  assert_true(m.rejected <= 6);
  assert_true(p.per_minute >= 450.0 && p.per_minute <= 600.0);
}

static void test_pace__model_slow_server(void **state) {
  /* 30 a minute: the default start is far too fast */
  struct model m = {30, 30, 0, 0, 0, 0, 0};
  struct osc_pace p;

  (void)state;
  osc_pace_init(&p, 0);
  model_run(&m, &p, 10 * 60000);
  assert_true(m.rejected <= 12);
  assert_true(p.per_minute <= 30.0 && p.per_minute >= 20.0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pace__off_until_429),
      cmocka_unit_test(test_pace__start_rate),
      cmocka_unit_test(test_pace__in_flight_429s_are_one_event),
      cmocka_unit_test(test_pace__decrease_to_measured_rate),
      cmocka_unit_test(test_pace__decrease_without_measurement),
      cmocka_unit_test(test_pace__decrease_is_bounded),
      cmocka_unit_test(test_pace__rises_only_when_queued_and_quiet),
      cmocka_unit_test(test_pace__never_probes_above_a_ceiling),
      cmocka_unit_test(test_pace__burst),
      cmocka_unit_test(test_pace__parse_policy),
      cmocka_unit_test(test_pace__model_200_a_minute),
      cmocka_unit_test(test_pace__model_ha_cluster_finds_more),
      cmocka_unit_test(test_pace__model_slow_server),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
