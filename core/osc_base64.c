#include "core/osc_base64.h"

#include <stdbool.h>
#include <stdint.h>

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t osc_base64_encoded_len(size_t n) {
  return (n + 2) / 3 * 4;
}

int osc_base64_encode(struct osc_buf *out, const void *data, size_t len,
                      struct osc_error *err) {
  const unsigned char *p = data;
  char quad[4];
  size_t i;
  int rc = OSC_OK;

  for (i = 0; i < len && rc == OSC_OK; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16;
    size_t left = len - i;

    if (left > 1)
      v |= (uint32_t)p[i + 1] << 8;
    if (left > 2)
      v |= p[i + 2];
    quad[0] = alphabet[(v >> 18) & 63];
    quad[1] = alphabet[(v >> 12) & 63];
    quad[2] = left > 1 ? alphabet[(v >> 6) & 63] : '=';
    quad[3] = left > 2 ? alphabet[v & 63] : '=';
    rc = osc_buf_append(out, quad, sizeof(quad), err);
  }
  if (rc == OSC_OK && out->data == NULL)
    rc = osc_buf_append(out, "", 0, err); /* "" stays a string */
  return rc;
}

static int value_of(char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

int osc_base64_decode(struct osc_buf *out, const char *text, size_t len,
                      struct osc_error *err) {
  size_t i;
  int rc = OSC_OK;

  if (len % 4 != 0)
    return osc_error_set(err, OSC_E_RUNTIME,
                         "base64: length %zu is not a multiple of 4", len);
  for (i = 0; i < len && rc == OSC_OK; i += 4) {
    bool last = i + 4 == len;
    int pad = last ? (text[i + 3] == '=') + (text[i + 2] == '=') : 0;
    unsigned char bytes[3];
    uint32_t v = 0;
    int k;

    if (pad == 1 && text[i + 2] == '=')
      pad = -1; /* "x=y=" */
    for (k = 0; k < 4 && pad >= 0; k++) {
      int d = k >= 4 - pad ? 0 : value_of(text[i + (size_t)k]);

      if (d < 0)
        break;
      v = (v << 6) | (uint32_t)d;
    }
    if (pad < 0 || k < 4)
      return osc_error_set(err, OSC_E_RUNTIME,
                           "base64: invalid character at offset %zu", i);
    bytes[0] = (unsigned char)(v >> 16);
    bytes[1] = (unsigned char)(v >> 8);
    bytes[2] = (unsigned char)v;
    rc = osc_buf_append(out, bytes, (size_t)(3 - pad), err);
  }
  if (rc == OSC_OK && out->data == NULL)
    rc = osc_buf_append(out, "", 0, err);
  return rc;
}
