/* Small shared modules: time and durations, the bounded buffer, the arena,
 * the JSON writer, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/osc_arena.h"
#include "core/osc_buf.h"
#include "core/osc_error.h"
#include "core/osc_jsonw.h"
#include "core/osc_time.h"

static void test_core__durations(void **state) {
  static const struct {
    const char *text;
    int64_t seconds;
  } ok[] = {{"90s", 90},     {"10m", 600}, {"2h", 7200},       {"1d", 86400},
            {"1h30m", 5400}, {"0", 0},     {"1d2h3m4s", 93784}};
  static const char *const bad[] = {"",     "10",  "m",    "1x",  "30m1h",
                                    "1h1h", "-5m", "1.5h", "10 m"};
  struct osc_error err = OSC_ERROR_INIT;
  char text[64];
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    int64_t v = -1;

    assert_int_equal(osc_duration_parse(ok[i].text, &v, &err), 0);
    assert_int_equal(v, ok[i].seconds);
  }
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    int64_t v = 0;

    assert_int_equal(osc_duration_parse(bad[i], &v, &err), OSC_E_CONFIG);
  }
  osc_duration_format(5400, text, sizeof(text));
  assert_string_equal(text, "1h30m");
  osc_duration_format(0, text, sizeof(text));
  assert_string_equal(text, "0s");
  osc_duration_format(720, text, sizeof(text));
  assert_string_equal(text, "12m");
}

static void test_core__rfc3339(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  char text[64];
  int64_t t = 0;

  (void)state;
  assert_int_equal(osc_time_parse_rfc3339("2026-11-27T10:00:00Z", &t, &err), 0);
  assert_int_equal(t, 1795773600);
  osc_time_format_rfc3339(t, text, sizeof(text));
  assert_string_equal(text, "2026-11-27T10:00:00Z");
  assert_int_equal(
      osc_time_parse_rfc3339("2026-11-27T11:30:00.123+01:30", &t, &err), 0);
  assert_int_equal(t, 1795773600);
  assert_int_not_equal(osc_time_parse_rfc3339("2026-11-27", &t, &err), 0);
  assert_int_not_equal(osc_time_parse_rfc3339("2026-13-27T10:00:00Z", &t, &err),
                       0);
  setenv("OCTOSCALE_NOW", "2026-11-27T10:00:00Z", 1);
  assert_int_equal(osc_time_now(&t, &err), 0);
  assert_int_equal(t, 1795773600);
  setenv("OCTOSCALE_NOW", "yesterday", 1);
  assert_int_not_equal(osc_time_now(&t, &err), 0);
  assert_non_null(strstr(err.msg, "OCTOSCALE_NOW"));
  unsetenv("OCTOSCALE_NOW");
}

static void test_core__buf_is_bounded(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_buf b;

  (void)state;
  osc_buf_init(&b, 8);
  assert_int_equal(osc_buf_puts(&b, "12345678", &err), 0);
  assert_int_not_equal(osc_buf_puts(&b, "9", &err), 0);
  assert_string_equal(osc_buf_str(&b), "12345678");
  osc_buf_free(&b);
}

static void test_core__arena(void **state) {
  struct osc_arena a = OSC_ARENA_INIT;
  char *big;
  char *s;

  (void)state;
  s = osc_arena_strdup(&a, "hello");
  big = osc_arena_alloc(&a, 1u << 20);
  assert_non_null(big);
  memset(big, 'x', 1u << 20);
  assert_string_equal(s, "hello");
  assert_string_equal(osc_arena_strndup(&a, "abcdef", 3), "abc");
  osc_arena_free(&a);
}

static void test_core__jsonw(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_jsonw w;
  struct osc_buf b;

  (void)state;
  osc_buf_init(&b, 4096);
  osc_jsonw_init(&w, &b, false);
  osc_jsonw_object_begin(&w);
  osc_jsonw_key(&w, "b");
  osc_jsonw_string(&w, "q\"uote\\\n\x01");
  osc_jsonw_key(&w, "a");
  osc_jsonw_array_begin(&w);
  osc_jsonw_int(&w, -3);
  osc_jsonw_bool(&w, true);
  osc_jsonw_null(&w);
  osc_jsonw_raw(&w, "[]", 2);
  osc_jsonw_array_end(&w);
  osc_jsonw_key(&w, "e");
  osc_jsonw_object_begin(&w);
  osc_jsonw_object_end(&w);
  osc_jsonw_object_end(&w);
  assert_int_equal(osc_jsonw_finish(&w, &err), 0);
  assert_string_equal(osc_buf_str(&b),
                      "{\"b\":\"q\\\"uote\\\\\\n\\u0001\",\"a\":[-3,true,null,"
                      "[]],\"e\":{}}");
  osc_buf_free(&b);
}

static void test_core__error_one_line(void **state) {
  struct osc_error err = OSC_ERROR_INIT;

  (void)state;
  osc_error_set(&err, OSC_E_CONFIG, "a\nb");
  assert_string_equal(err.msg, "a b");
  osc_error_prefix(&err, "file.yaml:%d", 3);
  assert_string_equal(err.msg, "file.yaml:3: a b");
  assert_int_equal(osc_error_exit_code(OSC_E_CONFIG), 3);
  assert_int_equal(osc_error_exit_code(OSC_E_SAFETY), 4);
  assert_int_equal(osc_error_exit_code(OSC_E_RUNTIME), 1);
  assert_int_equal(osc_error_exit_code(OSC_E_TIMEOUT), 5);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_core__durations),
      cmocka_unit_test(test_core__rfc3339),
      cmocka_unit_test(test_core__buf_is_bounded),
      cmocka_unit_test(test_core__arena),
      cmocka_unit_test(test_core__jsonw),
      cmocka_unit_test(test_core__error_one_line),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
