/* core/osc_rawjson: spans in raw JSON, and the one-field edit that keeps a
 * machine resource's empty arrays as arrays for the PUT. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "core/osc_buf.h"
#include "core/osc_rawjson.h"

/* A machine with empty arrays, a nested IsDisabled-like key, the name in a
 * string value and escapes: only the top-level member may change. */
static const char machine[] =
    "{\"Id\":\"Machines-1\",\"Name\":\"web \\\"IsDisabled\\\":false\","
    "\"EnvironmentIds\":[\"Environments-1\"],\"Roles\":[],"
    "\"TenantIds\":[],\"TenantTags\":[],\"IsDisabled\":false,"
    "\"Endpoint\":{\"CommunicationStyle\":\"TentaclePassive\","
    "\"IsDisabled\":false,\"Nested\":{\"IsDisabled\":false}},"
    "\"Unknown\":{\"A\":[{},[]],\"B\":null},\"Slug\":\"web-\\u00e9\"}";

static void test_rawjson__set_member_top_level_only(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_buf out;
  const char *expected =
      "{\"Id\":\"Machines-1\",\"Name\":\"web \\\"IsDisabled\\\":false\","
      "\"EnvironmentIds\":[\"Environments-1\"],\"Roles\":[],"
      "\"TenantIds\":[],\"TenantTags\":[],\"IsDisabled\":true,"
      "\"Endpoint\":{\"CommunicationStyle\":\"TentaclePassive\","
      "\"IsDisabled\":false,\"Nested\":{\"IsDisabled\":false}},"
      "\"Unknown\":{\"A\":[{},[]],\"B\":null},\"Slug\":\"web-\\u00e9\"}";

  (void)state;
  osc_buf_init(&out, 1 << 20);
  assert_int_equal(osc_rawjson_set_member(machine, strlen(machine),
                                          "IsDisabled", "true", &out, &err),
                   0);
  assert_string_equal(osc_buf_str(&out), expected);
  osc_buf_free(&out);
}

static void test_rawjson__set_member_inserts_when_absent(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_buf out;
  const char *doc = " {\"Id\":\"Machines-2\",\"TenantIds\":[]}\n";

  (void)state;
  osc_buf_init(&out, 1 << 20);
  assert_int_equal(osc_rawjson_set_member(doc, strlen(doc), "IsDisabled",
                                          "false", &out, &err),
                   0);
  assert_string_equal(osc_buf_str(&out),
                      " {\"IsDisabled\":false,\"Id\":\"Machines-2\","
                      "\"TenantIds\":[]}\n");
  osc_buf_reset(&out);
  assert_int_equal(
      osc_rawjson_set_member("{ }", 3, "IsDisabled", "true", &out, &err), 0);
  assert_string_equal(osc_buf_str(&out), "{\"IsDisabled\":true }");
  osc_buf_free(&out);
}

static void test_rawjson__set_member_rejects_bad_input(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_buf out;

  (void)state;
  osc_buf_init(&out, 1 << 20);
  assert_true(
      osc_rawjson_set_member("[1,2]", 5, "IsDisabled", "true", &out, &err) < 0);
  assert_true(osc_rawjson_set_member("{\"a\":", 5, "IsDisabled", "true", &out,
                                     &err) < 0);
  assert_true(osc_rawjson_set_member("{\"a\":1} x", 9, "IsDisabled", "true",
                                     &out, &err) < 0);
  assert_non_null(strstr(err.msg, "invalid JSON"));
  assert_true(osc_rawjson_set_member("{\"a\":[}", 7, "IsDisabled", "true", &out,
                                     &err) < 0);
  osc_buf_free(&out);
}

static void test_rawjson__paths_arrays_strings(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  const char *page =
      "\xEF\xBB\xBF{\"value\":[{\"id\":\"a\",\"properties\":{"
      "\"virtualMachine\":"
      "{\"id\":\"/x/VM-1\"}}}, {\"id\":\"b\\u00e9\\ud83d\\ude00\\n\"} ,[]],"
      "\"nextLink\":null}";
  struct osc_rawjson_span root;
  struct osc_rawjson_span arr;
  struct osc_rawjson_span item;
  struct osc_rawjson_span v;
  size_t cursor = 0;
  char s[64];
  int n = 0;

  (void)state;
  assert_int_equal(osc_rawjson_root(page, strlen(page), &root, &err), 0);
  assert_true(osc_rawjson_is_object(page, root));
  assert_int_equal(osc_rawjson_member(page, root, "value", &arr, &err), 1);
  assert_true(osc_rawjson_is_array(page, arr));
  assert_int_equal(osc_rawjson_member(page, root, "missing", &v, &err), 0);
  while (osc_rawjson_array_next(page, arr, &cursor, &item, &err) == 1) {
    n++;
    if (n == 1) {
      assert_int_equal(osc_rawjson_path(page, item,
                                        "properties.virtualMachine.id", &v,
                                        &err),
                       1);
      assert_int_equal(osc_rawjson_string(page, v, s, sizeof(s)), 0);
      assert_string_equal(s, "/x/VM-1");
    } else if (n == 2) {
      assert_int_equal(osc_rawjson_member(page, item, "id", &v, &err), 1);
      assert_int_equal(osc_rawjson_string(page, v, s, sizeof(s)), 0);
      assert_string_equal(s, "b\xC3\xA9\xF0\x9F\x98\x80\n");
      assert_true(osc_rawjson_string(page, v, s, 4) < 0); /* too small */
    } else {
      assert_int_equal(item.end - item.start, 2); /* [] */
    }
  }
  assert_int_equal(n, 3);
  assert_int_equal(osc_rawjson_member(page, root, "nextLink", &v, &err), 1);
  assert_true(osc_rawjson_string(page, v, s, sizeof(s)) < 0); /* null */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rawjson__set_member_top_level_only),
      cmocka_unit_test(test_rawjson__set_member_inserts_when_absent),
      cmocka_unit_test(test_rawjson__set_member_rejects_bad_input),
      cmocka_unit_test(test_rawjson__paths_arrays_strings),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
