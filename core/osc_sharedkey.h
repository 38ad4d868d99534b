/* Shared Key authorization for the Blob service (version 2009-09-19 and
 * later;
 * https://learn.microsoft.com/rest/api/storageservices/authorize-with-shared-key):
 * the string to sign is
 *   VERB \n Content-Encoding \n Content-Language \n Content-Length (empty
 *   when 0) \n Content-MD5 \n Content-Type \n Date \n If-Modified-Since \n
 *   If-Match \n If-None-Match \n If-Unmodified-Since \n Range \n
 *   CanonicalizedHeaders (x-ms-* lowercased, sorted, "name:value\n")
 *   CanonicalizedResource ("/" account URL-path, then "\nname:value" per
 *   query parameter, names lowercased and sorted)
 * and the signature is base64(HMAC-SHA256(base64-decoded key, it)), from
 * OpenSSL's libcrypto. For path-style URLs (the emulator,
 * http://127.0.0.1:10000/devstoreaccount1/container/blob) the URL path
 * already starts with the account, so it appears twice:
 * "/devstoreaccount1/devstoreaccount1/container/blob" (as Azurite and the
 * SDKs compute it). Pure functions; nothing here does I/O. */
#ifndef OSC_SHAREDKEY_H
#define OSC_SHAREDKEY_H

#include <stddef.h>

#include "core/osc_buf.h"
#include "core/osc_error.h"
#include "core/osc_http.h"

/* Builds the string to sign. `path` is the URL path as sent ("/c/b"),
 * `query` the query without '?' (may be NULL or ""; values are used as
 * given: pass them unencoded), `content_length` the body's length. */
int osc_sharedkey_string_to_sign(const char *method, const char *account,
                                 const char *path, const char *query,
                                 const struct osc_http_header *headers,
                                 size_t n_headers, size_t content_length,
                                 struct osc_buf *out, struct osc_error *err);

/* "SharedKey ACCOUNT:SIGNATURE" into out. A key that is not base64 is an
 * OSC_E_CONFIG error that does not quote it. */
int osc_sharedkey_authorization(const char *account, const char *key_base64,
                                const char *string_to_sign, size_t len,
                                char *out, size_t cap, struct osc_error *err);

#endif
