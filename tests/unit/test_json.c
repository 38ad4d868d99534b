/* The JSON reader (core/osc_json.h): types, lookups, the integer rules,
 * strings with NUL bytes, nesting limits, error messages and parsing from
 * two threads at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/osc_json.h"

static struct osc_json_doc *parse(const char *text) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_json_doc *doc = NULL;

  assert_int_equal(osc_json_parse(text, strlen(text), "test", &doc, &err), 0);
  assert_non_null(doc);
  return doc;
}

static void test_json__types(void **state) {
  struct osc_json_doc *doc =
      parse("{\"n\":null,\"t\":true,\"f\":false,\"x\":2.5,\"s\":\"hi\","
            "\"a\":[1,2],\"o\":{\"k\":1}}");
  const struct osc_json_value *root = osc_json_root(doc);
  double d = 0;
  bool b = false;

  (void)state;
  assert_int_equal(osc_json_type(root), OSC_JSON_OBJECT);
  assert_int_equal(osc_json_count(root), 7);
  assert_int_equal(osc_json_type(osc_json_get(root, "n")), OSC_JSON_NULL);
  assert_int_equal(osc_json_type(osc_json_get(root, "t")), OSC_JSON_BOOL);
  assert_true(osc_json_bool(osc_json_get(root, "t"), &b) && b);
  assert_true(osc_json_bool(osc_json_get(root, "f"), &b) && !b);
  assert_true(osc_json_num(osc_json_get(root, "x"), &d));
  assert_true(d == 2.5);
  assert_string_equal(osc_json_str(osc_json_get(root, "s"), NULL), "hi");
  assert_int_equal(osc_json_type(osc_json_get(root, "a")), OSC_JSON_ARRAY);
  assert_int_equal(osc_json_len(osc_json_get(root, "a")), 2);
  assert_int_equal(osc_json_type(osc_json_get(root, "o")), OSC_JSON_OBJECT);
  /* wrong types answer "absent", never a converted value */
  assert_null(osc_json_str(osc_json_get(root, "x"), NULL));
  assert_false(osc_json_bool(osc_json_get(root, "s"), &b));
  assert_false(osc_json_num(osc_json_get(root, "s"), &d));
  assert_false(osc_json_bool(osc_json_get(root, "n"), &b));
  assert_int_equal(osc_json_len(osc_json_get(root, "o")), 0);
  assert_int_equal(osc_json_count(osc_json_get(root, "a")), 0);
  assert_null(osc_json_get(osc_json_get(root, "a"), "0"));
  /* a scalar document */
  osc_json_doc_free(doc);
  doc = parse("  \"just text\" ");
  assert_string_equal(osc_json_str(osc_json_root(doc), NULL), "just text");
  assert_false(osc_json_is_container(osc_json_root(doc)));
  osc_json_doc_free(doc);
}

/* Every reader takes NULL (absent) and answers absent, so lookups chain. */
static void test_json__absent_chains(void **state) {
  struct osc_json_doc *doc = parse("{\"a\":{\"b\":1}}");
  const struct osc_json_value *root = osc_json_root(doc);
  const char *key = "unset";
  int64_t i = 7;
  bool b = true;

  (void)state;
  assert_int_equal(osc_json_type(NULL), OSC_JSON_ABSENT);
  assert_null(osc_json_get(osc_json_get(root, "nope"), "b"));
  assert_null(osc_json_path(root, "a.nope.c"));
  assert_null(osc_json_at(NULL, 0));
  assert_int_equal(osc_json_len(NULL), 0);
  assert_int_equal(osc_json_count(NULL), 0);
  assert_null(osc_json_member(root, 1, &key, NULL));
  assert_string_equal(key, "unset");
  assert_null(osc_json_str(NULL, NULL));
  assert_false(osc_json_int(NULL, &i));
  assert_int_equal(i, 7);
  assert_false(osc_json_bool(NULL, &b));
  assert_false(osc_json_is_container(NULL));
  assert_null(osc_json_root(NULL));
  osc_json_doc_free(NULL);
  osc_json_doc_free(doc);
}

static void test_json__paths_and_keys(void **state) {
  struct osc_json_doc *doc =
      parse("{\"properties\":{\"osProfile\":{\"computerName\":\"web1\"}},"
            "\"Links\":{\"Page.Next\":\"/next\"},\"\":{\"x\":1},\"Id\":\"A\","
            "\"list\":[{\"k\":\"v\"}],\"dup\":1,\"dup\":2}");
  const struct osc_json_value *root = osc_json_root(doc);
  char long_key[200];
  int64_t n = 0;

  (void)state;
  assert_string_equal(
      osc_json_str(osc_json_path(root, "properties.osProfile.computerName"),
                   NULL),
      "web1");
  assert_ptr_equal(osc_json_path(root, ""), root);
  /* get takes the key whole; path splits it at dots */
  assert_string_equal(
      osc_json_str(osc_json_get(osc_json_get(root, "Links"), "Page.Next"),
                   NULL),
      "/next");
  assert_null(osc_json_path(root, "Links.Page.Next"));
  /* keys are exact bytes */
  assert_null(osc_json_get(root, "id"));
  assert_non_null(osc_json_get(root, "Id"));
  /* arrays are not indexed by paths */
  assert_null(osc_json_path(root, "list.0.k"));
  assert_null(osc_json_path(root, "list.1.k"));
  /* an empty segment is the empty key */
  assert_true(osc_json_int(osc_json_path(root, ".x"), &n) && n == 1);
  /* duplicate keys: the last one wins, as cjson decodes them */
  assert_true(osc_json_int(osc_json_get(root, "dup"), &n) && n == 2);
  /* a path segment of 128 bytes or more finds nothing */
  memset(long_key, 'k', sizeof(long_key));
  long_key[sizeof(long_key) - 1] = '\0';
  assert_null(osc_json_path(root, long_key));
  osc_json_doc_free(doc);
}

static void test_json__members(void **state) {
  struct osc_json_doc *doc = parse("{\"a\":1,\"bb\":\"x\",\"c\":[]}");
  const struct osc_json_value *root = osc_json_root(doc);
  unsigned seen = 0;
  size_t i;

  (void)state;
  assert_int_equal(osc_json_count(root), 3);
  for (i = 0; i < osc_json_count(root); i++) {
    const char *key = NULL;
    size_t len = 0;
    const struct osc_json_value *v = osc_json_member(root, i, &key, &len);

    assert_non_null(v);
    assert_int_equal(len, strlen(key));
    assert_ptr_equal(osc_json_get(root, key), v);
    seen |= strcmp(key, "a") == 0 ? 1u : strcmp(key, "bb") == 0 ? 2u : 4u;
  }
  assert_int_equal(seen, 7);
  osc_json_doc_free(doc);
}

/* lua-cjson cannot tell `[]` from `{}`: both read as an empty object,
 * which is a container of length 0 and no members. */
static void test_json__empty_table(void **state) {
  struct osc_json_doc *doc = parse("{\"a\":[],\"o\":{}}");
  const struct osc_json_value *root = osc_json_root(doc);
  const char *which[] = {"a", "o"};
  size_t i;

  (void)state;
  for (i = 0; i < 2; i++) {
    const struct osc_json_value *v = osc_json_get(root, which[i]);

    assert_int_equal(osc_json_type(v), OSC_JSON_OBJECT);
    assert_true(osc_json_is_container(v));
    assert_int_equal(osc_json_len(v), 0);
    assert_int_equal(osc_json_count(v), 0);
    assert_null(osc_json_at(v, 0));
  }
  osc_json_doc_free(doc);
}

/* Integers: exact in 64 bits or refused, never truncated or wrapped;
 * numeric strings only for osc_json_int. */
static void test_json__integer_rules(void **state) {
  static const struct {
    const char *json;
    bool ok_int;   /* osc_json_int */
    bool ok_num;   /* osc_json_number_int */
    int64_t value; /* when ok */
  } cases[] = {
      {"3599", true, true, 3599},
      {"-12", true, true, -12},
      {"0", true, true, 0},
      {"3.0", true, true, 3},
      {"1.5", false, false, 0},
      {"1e30", false, false, 0},
      {"-1e30", false, false, 0},
      {"9223372036854775808", false, false, 0}, /* 2^63 */
      {"-9223372036854775808", true, true, INT64_MIN},
      {"4611686018427387904", true, true, INT64_C(4611686018427387904)},
      {"\"3599\"", true, false, 3599}, /* IMDS writes expires_in as text */
      {"\"-7\"", true, false, -7},
      {"\"9223372036854775807\"", true, false, INT64_MAX},
      {"\"9223372036854775808\"", false, false, 0},
      {"\"99999999999999999999\"", false, false, 0},
      {"\"1.5\"", false, false, 0},
      {"\"12abc\"", false, false, 0},
      {"\"\"", false, false, 0},
      {"\"12\\u0000junk\"", true, false, 12}, /* C sees "12" */
      {"true", false, false, 0},
      {"null", false, false, 0},
      {"[1]", false, false, 0},
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct osc_json_doc *doc = parse(cases[i].json);
    const struct osc_json_value *v = osc_json_root(doc);
    int64_t a = 42;
    int64_t b = 42;
    bool ok_int = osc_json_int(v, &a);
    bool ok_num = osc_json_number_int(v, &b);

    if (ok_int != cases[i].ok_int || ok_num != cases[i].ok_num)
      fail_msg("%s: int %d number_int %d", cases[i].json, ok_int, ok_num);
    assert_int_equal(a, ok_int ? cases[i].value : 42);
    assert_int_equal(b, ok_num ? cases[i].value : 42);
    osc_json_doc_free(doc);
  }
}

/* "\u0000" is kept: the length says where the string really ends, and C
 * callers that use it as a plain string see it stop there. */
static void test_json__nul_bytes(void **state) {
  struct osc_json_doc *doc =
      parse("{\"s\":\"ab\\u0000cd\",\"k\\u0000x\":1,\"e\":\"\"}");
  const struct osc_json_value *root = osc_json_root(doc);
  bool found = false;
  const char *s;
  size_t len = 0;
  size_t i;

  (void)state;
  s = osc_json_str(osc_json_get(root, "s"), &len);
  assert_int_equal(len, 5);
  assert_int_equal(strlen(s), 2);
  assert_memory_equal(s, "ab\0cd", 6);
  /* a key with a NUL byte matches no C string key, but keeps its length */
  assert_null(osc_json_get(root, "k"));
  assert_int_equal(osc_json_count(root), 3);
  for (i = 0; i < 3; i++) {
    const char *key = NULL;
    size_t key_len = 0;

    osc_json_member(root, i, &key, &key_len);
    if (key[0] == 'k') {
      assert_int_equal(key_len, 3);
      assert_memory_equal(key, "k\0x", 4);
      found = true;
    } else {
      assert_int_equal(key_len, 1);
    }
  }
  assert_true(found);
  s = osc_json_str(osc_json_get(root, "e"), &len);
  assert_string_equal(s, "");
  assert_int_equal(len, 0);
  osc_json_doc_free(doc);
}

/* n nested arrays around 1, built in a malloc'ed buffer. */
static char *nested(int n) {
  char *text = malloc((size_t)n * 2 + 2);
  int i;

  assert_non_null(text);
  for (i = 0; i < n; i++)
    text[i] = '[';
  text[n] = '1';
  for (i = 0; i < n; i++)
    text[n + 1 + i] = ']';
  text[2 * n + 1] = '\0';
  return text;
}

static void test_json__deep_nesting(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_json_doc *doc = NULL;
  const struct osc_json_value *v;
  char *ok = nested(128);
  char *deep = nested(129);
  int64_t n = 0;
  int i;

  (void)state;
  assert_int_equal(osc_json_parse(ok, strlen(ok), "deep", &doc, &err), 0);
  v = osc_json_root(doc);
  for (i = 0; i < 128; i++) {
    assert_int_equal(osc_json_type(v), OSC_JSON_ARRAY);
    v = osc_json_at(v, 0);
  }
  assert_true(osc_json_int(v, &n) && n == 1);
  osc_json_doc_free(doc);
  doc = NULL;
  assert_int_equal(osc_json_parse(deep, strlen(deep), "deep", &doc, &err),
                   OSC_E_RUNTIME);
  assert_null(doc);
  assert_non_null(strstr(err.msg, "deep: invalid JSON: "));
  assert_non_null(strstr(err.msg, "too many nested data structures"));
  free(ok);
  free(deep);
}

static void test_json__malformed_message(void **state) {
  static const struct {
    const char *text;
    const char *msg;
  } cases[] = {
      {"{", "page 2: invalid JSON: Expected object key string but found "
            "T_END at character 2"},
      {"", "page 2: invalid JSON: Expected value but found T_END at "
           "character 1"},
      {"{\"a\":1} x", "page 2: invalid JSON: Expected the end but found "
                      "invalid token at character 9"},
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct osc_error err = OSC_ERROR_INIT;
    struct osc_json_doc *doc = NULL;

    assert_int_equal(osc_json_parse(cases[i].text, strlen(cases[i].text),
                                    "page 2", &doc, &err),
                     OSC_E_RUNTIME);
    assert_null(doc);
    assert_string_equal(err.msg, cases[i].msg);
  }
  /* cjson reads a NUL byte in the text as its end */
  {
    struct osc_error err = OSC_ERROR_INIT;
    struct osc_json_doc *doc = NULL;

    assert_int_equal(osc_json_parse("[1\0]", 4, "nul", &doc, &err),
                     OSC_E_RUNTIME);
    assert_null(doc);
    assert_string_equal(err.msg, "nul: invalid JSON: Expected comma or array "
                                 "end but found T_END at character 3");
  }
}

/* The decoder is shared by the process: a second thread parsing at the
 * same time (the lease renewal thread reading an error body) gets its own
 * intact document. */
static void *parse_many(void *arg) {
  int *failures = arg;
  int i;

  for (i = 0; i < 200; i++) {
    char text[128];
    struct osc_error err = OSC_ERROR_INIT;
    struct osc_json_doc *doc = NULL;
    int64_t n = -1;

    snprintf(text, sizeof(text), "{\"error\":{\"code\":\"C%d\"},\"n\":%d}", i,
             i);
    if (osc_json_parse(text, strlen(text), "t", &doc, &err) < 0 ||
        !osc_json_int(osc_json_get(osc_json_root(doc), "n"), &n) || n != i)
      (*failures)++;
    osc_json_doc_free(doc);
  }
  return NULL;
}

static void test_json__two_threads(void **state) {
  pthread_t thread;
  int failures_a = 0;
  int failures_b = 0;

  (void)state;
  assert_int_equal(pthread_create(&thread, NULL, parse_many, &failures_a), 0);
  parse_many(&failures_b);
  assert_int_equal(pthread_join(thread, NULL), 0);
  assert_int_equal(failures_a, 0);
  assert_int_equal(failures_b, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_json__types),
      cmocka_unit_test(test_json__absent_chains),
      cmocka_unit_test(test_json__paths_and_keys),
      cmocka_unit_test(test_json__members),
      cmocka_unit_test(test_json__empty_table),
      cmocka_unit_test(test_json__integer_rules),
      cmocka_unit_test(test_json__nul_bytes),
      cmocka_unit_test(test_json__deep_nesting),
      cmocka_unit_test(test_json__malformed_message),
      cmocka_unit_test(test_json__two_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
