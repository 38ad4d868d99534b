/* Octopus service messages and base64: exact lines (Calamari's own test
 * fixtures), and every attribute decoded back to the exact bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/osc_base64.h"
#include "core/osc_octout.h"
#include "core/osc_report.h"
#include "tests/unit/plan_fixture.h"

/* --- capturing stdout-like output ------------------------------------------
 */

struct capture {
  FILE *f;
  char *text;
  size_t len;
};

static void capture_open(struct capture *c) {
  memset(c, 0, sizeof(*c));
  c->f = open_memstream(&c->text, &c->len);
  assert_non_null(c->f);
}

static const char *capture_text(struct capture *c) {
  fflush(c->f);
  return c->text;
}

static void capture_close(struct capture *c) {
  fclose(c->f);
  free(c->text);
}

static char *b64(const char *s) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_buf out;

  osc_buf_init(&out, 1u << 20);
  assert_int_equal(osc_base64_encode(&out, s, strlen(s), &err), OSC_OK);
  return osc_buf_detach(&out);
}

static char *unb64(const char *s, size_t len) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_buf out;

  osc_buf_init(&out, 1u << 20);
  if (osc_base64_decode(&out, s, len, &err) != OSC_OK)
    fail_msg("bad base64 \"%.*s\": %s", (int)len, s, err.msg);
  return osc_buf_detach(&out);
}

/* A parsed service message: name and decoded attributes. */
#define MAX_ATTRS 4

struct message {
  char name[64];
  size_t n;
  char key[MAX_ATTRS][32];
  char *value[MAX_ATTRS];
};

/* Parses one "##octopus[name a='b64' ...]" line strictly: single spaces,
 * single quotes, base64 values, nothing after "]". */
static const char *parse_message(const char *line, struct message *m) {
  const char *p = line;
  size_t k;

  memset(m, 0, sizeof(*m));
  assert_memory_equal(p, "##octopus[", 10);
  p += 10;
  k = strcspn(p, " ]\n");
  assert_true(k > 0 && k < sizeof(m->name));
  memcpy(m->name, p, k);
  p += k;
  while (*p == ' ') {
    const char *eq = strchr(p, '=');
    const char *end;

    assert_true(m->n < MAX_ATTRS);
    assert_non_null(eq);
    assert_true((size_t)(eq - p - 1) < sizeof(m->key[0]));
    memcpy(m->key[m->n], p + 1, (size_t)(eq - p - 1));
    assert_int_equal(eq[1], '\'');
    end = strchr(eq + 2, '\'');
    assert_non_null(end);
    m->value[m->n] = unb64(eq + 2, (size_t)(end - eq - 2));
    m->n++;
    p = end + 1;
  }
  assert_memory_equal(p, "]\n", 2);
  return p + 2;
}

static void message_free(struct message *m) {
  size_t i;

  for (i = 0; i < m->n; i++)
    free(m->value[i]);
}

static const char *attr(const struct message *m, const char *key) {
  size_t i;

  for (i = 0; i < m->n; i++) {
    if (strcmp(m->key[i], key) == 0)
      return m->value[i];
  }
  return NULL;
}

/* --- base64 ------------------------------------------------------------------
 */

static void test_base64__rfc4648_vectors(void **state) {
  static const char *const vectors[][2] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
      {"True", "VHJ1ZQ=="},
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
    char *enc = b64(vectors[i][0]);
    char *dec = unb64(vectors[i][1], strlen(vectors[i][1]));

    assert_string_equal(enc, vectors[i][1]);
    assert_string_equal(dec, vectors[i][0]);
    assert_int_equal(osc_base64_encoded_len(strlen(vectors[i][0])),
                     strlen(vectors[i][1]));
    free(enc);
    free(dec);
  }
}

static void test_base64__all_bytes_round_trip(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  unsigned char bytes[256];
  struct osc_buf enc;
  struct osc_buf dec;
  size_t n;

  (void)state;
  for (n = 0; n < sizeof(bytes); n++)
    bytes[n] = (unsigned char)(255 - n);
  for (n = 0; n <= sizeof(bytes); n += 1 + n / 8) {
    osc_buf_init(&enc, 4096);
    osc_buf_init(&dec, 4096);
    assert_int_equal(osc_base64_encode(&enc, bytes, n, &err), OSC_OK);
    assert_int_equal(enc.len, osc_base64_encoded_len(n));
    assert_int_equal(osc_base64_decode(&dec, enc.data, enc.len, &err), OSC_OK);
    assert_int_equal(dec.len, n);
    if (n > 0)
      assert_memory_equal(dec.data, bytes, n);
    osc_buf_free(&enc);
    osc_buf_free(&dec);
  }
}

static void test_base64__decode_rejects_malformed(void **state) {
  static const char *const bad[] = {
      "Zg=", "Z===", "Zm9v!A==", "Zg==Zg==", "Z=g=", "Zm 9v", "===="};
  struct osc_error err = OSC_ERROR_INIT;
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct osc_buf out;

    osc_buf_init(&out, 64);
    if (osc_base64_decode(&out, bad[i], strlen(bad[i]), &err) != OSC_E_RUNTIME)
      fail_msg("accepted \"%s\"", bad[i]);
    osc_buf_free(&out);
  }
}

/* --- service messages --------------------------------------------------------
 */

/* Calamari's Bash fixture test and its sensitive-variable test. */
static void test_octout__set_variable_exact_lines(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  struct capture c;

  (void)state;
  capture_open(&c);
  assert_int_equal(
      osc_octout_set_variable(c.f, "Super", "Mario Bros", false, &err), OSC_OK);
  assert_int_equal(osc_octout_set_variable(c.f, "Password",
                                           "correct horse battery staple", true,
                                           &err),
                   OSC_OK);
  assert_string_equal(
      capture_text(&c),
      "##octopus[setVariable name='U3VwZXI=' value='TWFyaW8gQnJvcw==']\n"
      "##octopus[setVariable name='UGFzc3dvcmQ=' "
      "value='Y29ycmVjdCBob3JzZSBiYXR0ZXJ5IHN0YXBsZQ==' "
      "sensitive='VHJ1ZQ==']\n");
  capture_close(&c);
}

static void test_octout__utf8_names_and_empty_values(void **state) {
  static const char *const cases[][2] = {
      {"VMSSDeploymentTargetNames.web-prod", ""},
      {"Ziel.\xc3\xa4\xc3\xb6\xc3\xbc\xe2\x82\xac", "Stra\xc3\x9f"
                                                    "e"},
      {"\xe6\x97\xa5\xe6\x9c\xac", "a'b]c\n##octopus[x]"},
      {"VMSSDeploymentTargetIds", "Machines-1,Machines-2"},
  };
  struct osc_error err = OSC_ERROR_INIT;
  struct capture c;
  const char *p;
  size_t i;

  (void)state;
  capture_open(&c);
  for (i = 0; i < 4; i++)
    assert_int_equal(
        osc_octout_set_variable(c.f, cases[i][0], cases[i][1], false, &err),
        OSC_OK);
  p = capture_text(&c);
  for (i = 0; i < 4; i++) {
    struct message m;

    p = parse_message(p, &m);
    assert_string_equal(m.name, "setVariable");
    assert_int_equal(m.n, 2);
    assert_string_equal(m.key[0], "name");
    assert_string_equal(m.key[1], "value");
    assert_string_equal(attr(&m, "name"), cases[i][0]);
    assert_string_equal(attr(&m, "value"), cases[i][1]);
    message_free(&m);
  }
  assert_string_equal(p, "");
  assert_int_equal(osc_octout_set_variable(c.f, "", "x", false, &err),
                   OSC_E_RUNTIME);
  capture_close(&c);
}

/* Every output of osc_outputs_build, decoded back, in order. */
static void test_octout__outputs(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_plan *plans[2];
  struct osc_outputs out;
  struct capture c;
  const char *p;
  size_t i;

  (void)state;
  plans[0] = fixture_plan("web-prod", OSC_PLAN_OK, "");
  plans[1] = fixture_plan("api-\xc3\xa9", OSC_PLAN_OK, "");
  fixture_deployable(plans[0], "Machines-1", "web-1");
  fixture_deployable(plans[0], "Machines-2", "web-\xe2\x9c\x93");
  assert_int_equal(osc_outputs_build(plans, 2, NULL, false, &out, &err),
                   OSC_OK);
  capture_open(&c);
  assert_int_equal(osc_octout_outputs(c.f, &out, &err), OSC_OK);
  p = capture_text(&c);
  assert_int_equal(out.n, 9);
  for (i = 0; i < out.n; i++) {
    struct message m;

    p = parse_message(p, &m);
    assert_string_equal(m.name, "setVariable");
    assert_string_equal(attr(&m, "name"), out.items[i].name);
    assert_string_equal(attr(&m, "value"), out.items[i].value);
    assert_null(attr(&m, "sensitive"));
    message_free(&m);
  }
  assert_string_equal(p, "");
  assert_string_equal(osc_outputs_get(&out, "VMSSDeploymentTargetNames"),
                      "web-1,web-\xe2\x9c\x93");
  assert_string_equal(
      osc_outputs_get(&out, "VMSSHasServersToDeployTo.api-\xc3\xa9"), "False");
  capture_close(&c);
  osc_outputs_free(&out);
  osc_plan_free(plans[0]);
  osc_plan_free(plans[1]);
}

static void test_octout__highlight(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  struct capture c;

  (void)state;
  capture_open(&c);
  assert_int_equal(osc_octout_highlight_begin(c.f, &err), OSC_OK);
  fputs("web-prod: 2 deleted\n", c.f);
  assert_int_equal(osc_octout_highlight_end(c.f, &err), OSC_OK);
  assert_string_equal(capture_text(&c), "##octopus[stdout-highlight]\n"
                                        "web-prod: 2 deleted\n"
                                        "##octopus[stdout-default]\n");
  capture_close(&c);
}

static void test_octout__create_artifact(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  char cwd[4096];
  char want[4200];
  struct capture c;
  struct message m;
  const char *p;

  (void)state;
  assert_non_null(getcwd(cwd, sizeof(cwd)));
  capture_open(&c);
  assert_int_equal(
      osc_octout_create_artifact(c.f, "/tmp/out/report.html", NULL, 1234, &err),
      OSC_OK);
  assert_int_equal(osc_octout_create_artifact(c.f, "./sub/r\xc3\xa9port.html",
                                              "VMSS report", 0, &err),
                   OSC_OK);
  p = capture_text(&c);
  assert_memory_equal(p,
                      "##octopus[createArtifact "
                      "path='L3RtcC9vdXQvcmVwb3J0Lmh0bWw=' "
                      "name='cmVwb3J0Lmh0bWw=' length='MTIzNA==']\n",
                      strlen("##octopus[createArtifact "
                             "path='L3RtcC9vdXQvcmVwb3J0Lmh0bWw=' "
                             "name='cmVwb3J0Lmh0bWw=' length='MTIzNA==']\n"));
  p = parse_message(p, &m);
  message_free(&m);
  p = parse_message(p, &m);
  assert_string_equal(m.name, "createArtifact");
  snprintf(want, sizeof(want), "%s/sub/r\xc3\xa9port.html",
           strcmp(cwd, "/") == 0 ? "" : cwd);
  assert_string_equal(attr(&m, "path"), want);
  assert_string_equal(attr(&m, "name"), "VMSS report");
  assert_string_equal(attr(&m, "length"), "0");
  message_free(&m);
  capture_close(&c);
}

static void test_octout__progress(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  static const int in[] = {42, 150, -3};
  static const char *const want[] = {"42", "100", "0"};
  struct capture c;
  const char *p;
  size_t i;

  (void)state;
  capture_open(&c);
  for (i = 0; i < 3; i++)
    assert_int_equal(
        osc_octout_progress(c.f, in[i], "web-prod: 7/10 VMs settled", &err),
        OSC_OK);
  p = capture_text(&c);
  for (i = 0; i < 3; i++) {
    struct message m;

    p = parse_message(p, &m);
    assert_string_equal(m.name, "progress");
    assert_string_equal(m.key[0], "percentage");
    assert_string_equal(attr(&m, "percentage"), want[i]);
    assert_string_equal(attr(&m, "message"), "web-prod: 7/10 VMs settled");
    message_free(&m);
  }
  capture_close(&c);
}

/* stdout closed or full (a broken pipe to the Tentacle): an error, not
 * silence. */
static void test_octout__write_failure_is_reported(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  FILE *f = fopen("/dev/full", "w");

  (void)state;
  if (f == NULL)
    skip();
  assert_int_equal(osc_octout_set_variable(f, "a", "b", false, &err),
                   OSC_E_RUNTIME);
  assert_non_null(strstr(err.msg, "cannot write Octopus service message"));
  fclose(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_base64__rfc4648_vectors),
      cmocka_unit_test(test_base64__all_bytes_round_trip),
      cmocka_unit_test(test_base64__decode_rejects_malformed),
      cmocka_unit_test(test_octout__set_variable_exact_lines),
      cmocka_unit_test(test_octout__utf8_names_and_empty_values),
      cmocka_unit_test(test_octout__outputs),
      cmocka_unit_test(test_octout__highlight),
      cmocka_unit_test(test_octout__create_artifact),
      cmocka_unit_test(test_octout__progress),
      cmocka_unit_test(test_octout__write_failure_is_reported),
  };

  return cmocka_run_group_tests_name("octout", tests, NULL, NULL);
}
