/* The one "did you mean" (core/osc_suggest.h) that config and policy
 * messages share. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/osc_suggest.h"

static void test_suggest__distance(void **state) {
  (void)state;
  assert_int_equal(osc_edit_distance("", ""), 0);
  assert_int_equal(osc_edit_distance("", "abc"), 3);
  assert_int_equal(osc_edit_distance("abc", ""), 3);
  assert_int_equal(osc_edit_distance("orphan", "orphan"), 0);
  assert_int_equal(osc_edit_distance("orphans", "orphan"), 1); /* insert */
  assert_int_equal(osc_edit_distance("orpan", "orphan"), 1);   /* delete */
  assert_int_equal(osc_edit_distance("orphen", "orphan"), 1);  /* replace */
  assert_int_equal(osc_edit_distance("rolse", "roles"), 1);    /* swap */
  assert_int_equal(osc_edit_distance("kitten", "sitting"), 3);
  /* case does not count */
  assert_int_equal(osc_edit_distance("Octopus", "octopus"), 0);
  assert_int_equal(osc_edit_distance("PUBILC", "public"), 1);
  /* symmetric */
  assert_int_equal(osc_edit_distance("tenat", "tenant"),
                   osc_edit_distance("tenant", "tenat"));
}

static void test_suggest__long_words_are_never_near(void **state) {
  char long_word[80];

  (void)state;
  memset(long_word, 'a', sizeof(long_word) - 1);
  long_word[sizeof(long_word) - 1] = '\0';
  assert_true(osc_edit_distance(long_word, "a") == (size_t)-1);
  assert_true(osc_edit_distance("a", long_word) == (size_t)-1);
  long_word[63] = '\0'; /* 63 bytes: still measured */
  assert_int_equal(osc_edit_distance(long_word, long_word), 0);
}

static void test_suggest__nearest_within_reach(void **state) {
  static const char *const fields[] = {"target_name", "grace", "on_scale_in",
                                       "on_failed_vm", "owns"};
  static const char *const keys[] = {"scale_sets", "octopus", "state"};

  (void)state;
  assert_string_equal(osc_suggest("on_scalein", fields, 5), "on_scale_in");
  assert_string_equal(osc_suggest("grcae", fields, 5), "grace");
  assert_string_equal(osc_suggest("scale_set", keys, 3), "scale_sets");
  assert_string_equal(osc_suggest("Octopus", keys, 3), "octopus");
  /* two edits reach names longer than 4 bytes, one edit shorter ones */
  assert_string_equal(osc_suggest("gace_", fields, 5), "grace");
  assert_string_equal(osc_suggest("own", fields, 5), "owns");
  assert_null(osc_suggest("on", fields, 5));
  assert_null(osc_suggest("max_deletes", fields, 5));
  assert_null(osc_suggest(NULL, fields, 5));
  assert_null(osc_suggest("grace", fields, 0));
}

static void test_suggest__first_of_equals_wins(void **state) {
  static const char *const names[] = {"disable", "enable"};
  static const char *const reversed[] = {"enable", "disable"};

  (void)state;
  /* "nable" is one edit from "enable" and two from "disable" */
  assert_string_equal(osc_suggest("nable", names, 2), "enable");
  /* "eable" is one from "enable"; "sable" ties both at 2: the first wins */
  assert_string_equal(osc_suggest("sable", names, 2), "disable");
  assert_string_equal(osc_suggest("sable", reversed, 2), "enable");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_suggest__distance),
      cmocka_unit_test(test_suggest__long_words_are_never_near),
      cmocka_unit_test(test_suggest__nearest_within_reach),
      cmocka_unit_test(test_suggest__first_of_equals_wins),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
