/* Shared Key signing for Azure Blob Storage: the string to sign (standard
 * headers, canonicalized x-ms-* headers and resource, path-style account
 * twice), and the HMAC-SHA256 signature, checked against values computed
 * independently with `openssl dgst -sha256 -mac HMAC`. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/osc_sharedkey.h"

/* Azurite's published development key. */
#define DEV_KEY                                                                \
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/" \
  "KBHBeksoGMGw=="
#define DATE "Fri, 27 Nov 2026 10:00:00 GMT"

static void sign(const char *method, const char *account, const char *path,
                 const char *query, const struct osc_http_header *h, size_t n,
                 size_t len, const char *want_sts, const char *want_auth) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_buf sts;
  char auth[256];

  osc_buf_init(&sts, 64 * 1024);
  assert_int_equal(osc_sharedkey_string_to_sign(method, account, path, query, h,
                                                n, len, &sts, &err),
                   OSC_OK);
  assert_string_equal(osc_buf_str(&sts), want_sts);
  assert_int_equal(osc_sharedkey_authorization(account, DEV_KEY,
                                               osc_buf_str(&sts), sts.len, auth,
                                               sizeof(auth), &err),
                   OSC_OK);
  assert_string_equal(auth, want_auth);
  osc_buf_free(&sts);
}

/* Path-style (the emulator): "/account" + a path that starts with the
 * account; headers in any order and case; Content-Length 0 is empty. */
static void test_sharedkey__lease_path_style(void **state) {
  const struct osc_http_header h[] = {
      {"X-MS-Version", "2021-08-06", false},
      {"x-ms-lease-duration", "60", false},
      {"Content-Type", "application/octet-stream", false},
      {"x-ms-date", DATE, false},
      {"x-ms-lease-action", "acquire", false},
  };

  (void)state;
  sign("PUT", "devstoreaccount1",
       "/devstoreaccount1/state/octoscale/state.json", "comp=lease", h, 5, 0,
       "PUT\n\n\n\n\napplication/octet-stream\n\n\n\n\n\n\n"
       "x-ms-date:" DATE "\nx-ms-lease-action:acquire\n"
       "x-ms-lease-duration:60\nx-ms-version:2021-08-06\n"
       "/devstoreaccount1/devstoreaccount1/state/octoscale/state.json\n"
       "comp:lease",
       "SharedKey devstoreaccount1:TIrGuHOjDZTPygKGqCXzkyGoACs1tR/"
       "YlxGA0A1ljiE=");
}

/* Host-style: a body length and If-None-Match take their places. */
static void test_sharedkey__put_host_style(void **state) {
  const struct osc_http_header h[] = {
      {"x-ms-blob-type", "BlockBlob", false},
      {"If-None-Match", "*", false},
      {"x-ms-date", DATE, false},
      {"x-ms-version", "2021-08-06", false},
      {"Content-Type", "application/octet-stream", false},
  };

  (void)state;
  sign("PUT", "acct", "/c/dir/s.json", NULL, h, 5, 42,
       "PUT\n\n\n42\n\napplication/octet-stream\n\n\n\n*\n\n\n"
       "x-ms-blob-type:BlockBlob\nx-ms-date:" DATE "\nx-ms-version:2021-08-06\n"
       "/acct/c/dir/s.json",
       "SharedKey acct:R351doBblqrcq/mCC+s6OgwzZ/paOIS0TzGxFYnn8/U=");
}

/* A key that is not base64 is a config error that does not quote it. */
static void test_sharedkey__bad_key(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  char auth[256];

  (void)state;
  assert_int_equal(osc_sharedkey_authorization("acct", "not-a-key!", "x", 1,
                                               auth, sizeof(auth), &err),
                   OSC_E_CONFIG);
  assert_null(strstr(err.msg, "not-a-key"));
  assert_non_null(strstr(err.msg, "state.account_key"));
  assert_int_equal(
      osc_sharedkey_authorization("acct", "", "x", 1, auth, sizeof(auth), &err),
      OSC_E_CONFIG);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sharedkey__lease_path_style),
      cmocka_unit_test(test_sharedkey__put_host_style),
      cmocka_unit_test(test_sharedkey__bad_key),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
