/* Base64 (RFC 4648, standard alphabet, with padding), as Octopus service
 * messages carry every attribute value. */
#ifndef OSC_BASE64_H
#define OSC_BASE64_H

#include <stddef.h>

#include "core/osc_buf.h"
#include "core/osc_error.h"

/* The encoded length of n bytes (without a NUL). */
size_t osc_base64_encoded_len(size_t n);

/* Appends the encoding of data[0..len) to out. */
int osc_base64_encode(struct osc_buf *out, const void *data, size_t len,
                      struct osc_error *err);

/* Appends the bytes encoded in text[0..len) to out. Strict: the length is a
 * multiple of 4, padding only at the end, no whitespace. */
int osc_base64_decode(struct osc_buf *out, const char *text, size_t len,
                      struct osc_error *err);

#endif
