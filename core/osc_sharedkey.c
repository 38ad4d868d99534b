#include "core/osc_sharedkey.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SK_MAX_PARTS                                                           \
  64                /* x-ms-* headers or query parameters in one request       \
                     */
#define KEY_MAX 256 /* decoded account keys are 64 bytes */

static const char *header_value(const struct osc_http_header *h, size_t n,
                                const char *name) {
  size_t i;

  for (i = 0; i < n; i++) {
    if (strcasecmp(h[i].name, name) == 0)
      return h[i].value;
  }
  return "";
}

static int cmp_lower(const void *a, const void *b) {
  return strcasecmp(*(const char *const *)a, *(const char *const *)b);
}

static int put_lower(struct osc_buf *out, const char *s, size_t n,
                     struct osc_error *err) {
  size_t i;
  int rc = OSC_OK;

  for (i = 0; i < n && rc == OSC_OK; i++) {
    char c = (char)tolower((unsigned char)s[i]);

    rc = osc_buf_append(out, &c, 1, err);
  }
  return rc;
}

/* x-ms-* headers, lowercased and sorted, "name:value\n" each. */
static int canonical_headers(const struct osc_http_header *h, size_t n,
                             struct osc_buf *out, struct osc_error *err) {
  const char *names[SK_MAX_PARTS];
  size_t k = 0;
  size_t i;
  int rc = OSC_OK;

  for (i = 0; i < n; i++) {
    if (strncasecmp(h[i].name, "x-ms-", 5) != 0)
      continue;
    if (k == SK_MAX_PARTS)
      return osc_error_set(err, OSC_E_RUNTIME, "too many x-ms- headers");
    names[k++] = h[i].name;
  }
  qsort(names, k, sizeof(names[0]), cmp_lower);
  for (i = 0; i < k && rc == OSC_OK; i++) {
    rc = put_lower(out, names[i], strlen(names[i]), err);
    if (rc == OSC_OK)
      rc = osc_buf_printf(out, err, ":%s\n", header_value(h, n, names[i]));
  }
  return rc;
}

/* "/account/path" then "\nname:value" per query parameter, sorted. */
static int canonical_resource(const char *account, const char *path,
                              const char *query, struct osc_buf *out,
                              struct osc_error *err) {
  const char *params[SK_MAX_PARTS];
  size_t k = 0;
  size_t i;
  int rc;

  rc = osc_buf_printf(out, err, "/%s%s", account, path[0] ? path : "/");
  while (rc == OSC_OK && query != NULL && *query != '\0') {
    if (k == SK_MAX_PARTS)
      return osc_error_set(err, OSC_E_RUNTIME, "too many query parameters");
    params[k++] = query;
    query += strcspn(query, "&");
    if (*query == '&')
      query++;
  }
  qsort(params, k, sizeof(params[0]), cmp_lower);
  for (i = 0; i < k && rc == OSC_OK; i++) {
    size_t len = strcspn(params[i], "&");
    const char *eq = memchr(params[i], '=', len);
    size_t name_len = eq ? (size_t)(eq - params[i]) : len;

    rc = osc_buf_puts(out, "\n", err);
    if (rc == OSC_OK)
      rc = put_lower(out, params[i], name_len, err);
    if (rc == OSC_OK)
      rc = osc_buf_append(out, ":", 1, err);
    if (rc == OSC_OK && eq != NULL)
      rc = osc_buf_append(out, eq + 1, len - name_len - 1, err);
  }
  return rc;
}

int osc_sharedkey_string_to_sign(const char *method, const char *account,
                                 const char *path, const char *query,
                                 const struct osc_http_header *headers,
                                 size_t n_headers, size_t content_length,
                                 struct osc_buf *out, struct osc_error *err) {
  static const char *const standard[] = {"Content-Encoding",
                                         "Content-Language",
                                         "",
                                         "Content-MD5",
                                         "Content-Type",
                                         "Date",
                                         "If-Modified-Since",
                                         "If-Match",
                                         "If-None-Match",
                                         "If-Unmodified-Since",
                                         "Range"};
  size_t i;
  int rc;

  rc = osc_buf_printf(out, err, "%s\n", method);
  for (i = 0; i < sizeof(standard) / sizeof(standard[0]) && rc == OSC_OK; i++) {
    if (standard[i][0] == '\0') /* Content-Length: empty when 0 */
      rc = content_length > 0
               ? osc_buf_printf(out, err, "%zu\n", content_length)
               : osc_buf_puts(out, "\n", err);
    else
      rc = osc_buf_printf(out, err, "%s\n",
                          header_value(headers, n_headers, standard[i]));
  }
  if (rc == OSC_OK)
    rc = canonical_headers(headers, n_headers, out, err);
  if (rc == OSC_OK)
    rc = canonical_resource(account, path, query, out, err);
  return rc;
}

int osc_sharedkey_authorization(const char *account, const char *key_base64,
                                const char *string_to_sign, size_t len,
                                char *out, size_t cap, struct osc_error *err) {
  unsigned char key[KEY_MAX + 4];
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned char sig[4 * EVP_MAX_MD_SIZE / 3 + 8];
  unsigned int mac_len = 0;
  size_t klen = strlen(key_base64);
  int key_len;
  int n;
  int rc = OSC_OK;

  /* EVP_DecodeBlock counts '=' padding as zero bytes: subtract it. */
  if (klen == 0 || klen % 4 != 0 || klen / 4 * 3 > KEY_MAX ||
      (key_len = EVP_DecodeBlock(key, (const unsigned char *)key_base64,
                                 (int)klen)) < 0) {
    rc = osc_error_set(err, OSC_E_CONFIG,
                       "state.account_key is not a base64 storage account "
                       "key");
    goto done;
  }
  key_len -= (key_base64[klen - 1] == '=') + (key_base64[klen - 2] == '=');
  if (HMAC(EVP_sha256(), key, key_len, (const unsigned char *)string_to_sign,
           len, mac, &mac_len) == NULL) {
    rc = osc_error_set(err, OSC_E_RUNTIME, "HMAC-SHA256 failed");
    goto done;
  }
  EVP_EncodeBlock(sig, mac, (int)mac_len);
  n = snprintf(out, cap, "SharedKey %s:%s", account, (const char *)sig);
  if (n < 0 || (size_t)n >= cap)
    rc = osc_error_set(err, OSC_E_RUNTIME, "authorization header too long");
done:
  OPENSSL_cleanse(key, sizeof(key));
  OPENSSL_cleanse(mac, sizeof(mac));
  return rc;
}
