/* core/osc_octopus without the network: error lines from ErrorMessage and
 * Errors, name lookups (exact, case-insensitive; ids pass through), URLs
 * and Links["Page.Next"] under a virtual directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/osc_apierr.h"
#include "core/osc_http.h"
#include "core/osc_octopus.h"

static struct osc_config cfg;
static struct osc_http *http;

static struct osc_octopus *client(const char *url) {
  struct osc_http_options opt = OSC_HTTP_OPTIONS_INIT;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_octopus *o = NULL;

  memset(&cfg, 0, sizeof(cfg));
  cfg.octopus.url = url;
  cfg.octopus.api_key = "API-SECRET";
  cfg.octopus.space = "Default";
  assert_int_equal(osc_http_new(&opt, &http, &err), 0);
  assert_int_equal(osc_octopus_new(&cfg, http, &o, &err), 0);
  return o;
}

static void done(struct osc_octopus *o) {
  osc_octopus_free(o);
  osc_http_free(http);
}

static void response(struct osc_http_response *r, long status,
                     const char *body) {
  struct osc_error err = OSC_ERROR_INIT;

  osc_http_response_init(r, 1 << 20);
  r->status = status;
  r->attempts = 1;
  assert_int_equal(osc_buf_puts(&r->body, body, &err), 0);
}

static void test_octopus__error_lines(void **state) {
  struct osc_octopus *o = client("https://octo.example.com/");
  struct osc_http_response r;
  struct osc_apierr d;
  struct osc_error err = OSC_ERROR_INIT;

  (void)state;
  response(&r, 401,
           "{\"ErrorMessage\":\"You must be logged in to perform this "
           "action. Please provide a valid API key or log in again.\","
           "\"Errors\":[\"You must be logged in to perform this action. "
           "Please provide a valid API key or log in again.\"]}");
  assert_int_equal(osc_octopus_fail(o, "Octopus machines list", &r, NULL,
                                    OSC_E_SAFETY, &d, &err),
                   OSC_E_RUNTIME);
  assert_string_equal(err.msg,
                      "Octopus machines list: HTTP 401: You must be logged "
                      "in to perform this action. Please provide a valid "
                      "API key or log in again.");
  osc_http_response_free(&r);
  response(&r, 400,
           "{\"ErrorMessage\":\"There was a problem with your request.\","
           "\"Errors\":[\"TenantIds must be an array\",\"Name is "
           "required\"]}");
  assert_int_equal(osc_octopus_fail(o, "Octopus machine PUT Machines-1", &r,
                                    NULL, OSC_E_RUNTIME, &d, &err),
                   OSC_E_RUNTIME);
  assert_string_equal(d.message, "There was a problem with your request.; "
                                 "TenantIds must be an array; Name is "
                                 "required");
  assert_null(strstr(err.msg, "API-SECRET"));
  osc_http_response_free(&r);
  done(o);
}

static void test_octopus__lookups(void **state) {
  struct osc_octopus *o = client("https://octo.example.com");
  struct osc_http_response r;
  struct osc_apierr d;
  struct osc_error err = OSC_ERROR_INIT;
  const char *id = NULL;
  char *url = NULL;

  (void)state;
  /* Spaces-N passes through and becomes the space */
  assert_string_equal(osc_octopus_cached(o, OSC_OCTOPUS_SPACE, "spaces-7"),
                      "spaces-7");
  assert_string_equal(osc_octopus_space(o), "spaces-7");
  assert_string_equal(
      osc_octopus_cached(o, OSC_OCTOPUS_ENVIRONMENT, "Environments-3"),
      "Environments-3");
  assert_null(osc_octopus_cached(o, OSC_OCTOPUS_ENVIRONMENT, "Production"));
  assert_int_equal(osc_octopus_lookup_url(o, OSC_OCTOPUS_ENVIRONMENT,
                                          "Prod & Co", &url, &err),
                   0);
  assert_string_equal(url, "https://octo.example.com/api/spaces-7/"
                           "environments?partialName=Prod%20%26%20Co"
                           "&skip=0&take=100");
  free(url);
  /* partialName matches "Production" and "Production EU": exact wins,
   * case-insensitively */
  response(&r, 200,
           "{\"Items\":[{\"Id\":\"Environments-9\",\"Name\":\"Production "
           "EU\"},{\"Id\":\"Environments-2\",\"Name\":\"PRODUCTION\"}],"
           "\"TotalResults\":2}");
  assert_int_equal(osc_octopus_lookup_done(o, OSC_OCTOPUS_ENVIRONMENT,
                                           "production", &r, NULL, &id, &d,
                                           &err),
                   0);
  assert_string_equal(id, "Environments-2");
  assert_string_equal(
      osc_octopus_cached(o, OSC_OCTOPUS_ENVIRONMENT, "Production"),
      "Environments-2");
  /* only partial matches: the name does not exist (exit 1) */
  assert_int_equal(osc_octopus_lookup_done(o, OSC_OCTOPUS_ENVIRONMENT, "Prod",
                                           &r, NULL, &id, &d, &err),
                   OSC_E_RUNTIME);
  assert_string_equal(err.msg, "Octopus environment 'Prod' does not exist "
                               "in spaces-7");
  osc_http_response_free(&r);
  /* a 503 on the lookup is a failed read (exit 4) */
  response(&r, 503, "");
  assert_int_equal(osc_octopus_lookup_done(o, OSC_OCTOPUS_TENANT, "Contoso", &r,
                                           NULL, &id, &d, &err),
                   OSC_E_SAFETY);
  assert_string_equal(err.msg, "Octopus tenant lookup 'Contoso': HTTP 503");
  osc_http_response_free(&r);
  done(o);
}

/* A lookup answer octoscale cannot trust is a failed read (exit 4), never
 * "does not exist" (exit 1) or a guess: broken JSON, a non-object, and an
 * answer with more matches than it holds (a next page, a larger total),
 * where a second exact match could hide. */
static void test_octopus__lookup_answers_that_stop(void **state) {
  static const struct {
    const char *body;
    const char *msg;
  } cases[] = {
      {"{\"Items\":[{\"Id\":\"Environments-2\",\"Name\":\"Production\"}",
       "invalid JSON"},
      {"<html><body>Sign in</body></html>", "invalid JSON"},
      {"", "invalid JSON"},
      {"[1,2]", "response has no Items"},
      {"42", "response is not an object"},
      {"{\"Items\":null}", "response has no Items"},
      {"{\"Items\":[{\"Id\":\"Environments-2\",\"Name\":\"Production\"}],"
       "\"TotalResults\":1,\"Links\":{\"Page.Next\":\"/api/Spaces-1/"
       "environments?skip=0&take=100\"}}",
       "and a next page"},
      {"{\"Items\":[{\"Id\":\"Environments-2\",\"Name\":\"Production\"}],"
       "\"TotalResults\":101}",
       "1 items of TotalResults 101"},
  };
  struct osc_octopus *o = client("https://octo.example.com");
  size_t i;

  (void)state;
  osc_octopus_cached(o, OSC_OCTOPUS_SPACE, "Spaces-1");
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct osc_http_response r;
    struct osc_apierr d;
    struct osc_error err = OSC_ERROR_INIT;
    const char *id = NULL;

    response(&r, 200, cases[i].body);
    assert_int_equal(osc_octopus_lookup_done(o, OSC_OCTOPUS_ENVIRONMENT,
                                             "Production", &r, NULL, &id, &d,
                                             &err),
                     OSC_E_SAFETY);
    assert_null(id);
    assert_non_null(strstr(err.msg, "Octopus environment lookup 'Production'"));
    assert_non_null(strstr(err.msg, cases[i].msg));
    osc_http_response_free(&r);
  }
  done(o);
}

static void test_octopus__urls_and_links(void **state) {
  struct osc_octopus *o = client("http://127.0.0.1:8080/octopus/");
  struct osc_error err = OSC_ERROR_INIT;
  char *url = NULL;

  (void)state;
  osc_octopus_cached(o, OSC_OCTOPUS_SPACE, "Spaces-1");
  assert_int_equal(osc_octopus_machines_url(o, "Environments-1", &url, &err),
                   0);
  assert_string_equal(url, "http://127.0.0.1:8080/octopus/api/Spaces-1/"
                           "machines?environmentIds=Environments-1"
                           "&skip=0&take=1000");
  free(url);
  /* links with and without the virtual directory */
  assert_int_equal(osc_octopus_link_url(o,
                                        "/octopus/api/Spaces-1/machines?"
                                        "skip=1000&take=1000",
                                        &url, &err),
                   0);
  assert_string_equal(url, "http://127.0.0.1:8080/octopus/api/Spaces-1/"
                           "machines?skip=1000&take=1000");
  free(url);
  assert_int_equal(
      osc_octopus_link_url(o, "/api/Spaces-1/machines?skip=2000", &url, &err),
      0);
  assert_string_equal(url, "http://127.0.0.1:8080/octopus/api/Spaces-1/"
                           "machines?skip=2000");
  free(url);
  /* the API key never goes to another server */
  assert_int_equal(
      osc_octopus_link_url(o, "https://evil.example/api/x", &url, &err),
      OSC_E_SAFETY);
  assert_true(osc_octopus_url(o, "//evil.example/api", &url, &err) < 0);
  assert_true(osc_octopus_url(o, "api/x", &url, &err) < 0);
  done(o);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_octopus__error_lines),
      cmocka_unit_test(test_octopus__lookups),
      cmocka_unit_test(test_octopus__lookup_answers_that_stop),
      cmocka_unit_test(test_octopus__urls_and_links),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
