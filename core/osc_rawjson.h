/* Spans in raw JSON text, for the two jobs cjson cannot do without changing
 * the bytes: splicing API bodies into snapshots as received, and editing
 * one top-level field of an Octopus machine resource before a PUT (lua-cjson
 * 2.1.0 decodes `[]` and `{}` alike and re-encodes both as `{}`, which
 * Octopus rejects for "TenantIds"). This is not a decoder: values are
 * located and skipped, never converted (except a string on request). Input
 * is bounded by the caller; nesting is limited to OSC_RAWJSON_MAX_DEPTH. */
#ifndef OSC_RAWJSON_H
#define OSC_RAWJSON_H

#include <stdbool.h>
#include <stddef.h>

#include "core/osc_buf.h"
#include "core/osc_error.h"

#define OSC_RAWJSON_MAX_DEPTH 256

/* A value's bytes: text[start, end). */
struct osc_rawjson_span {
  size_t start;
  size_t end;
};

/* The document's root value (a leading UTF-8 BOM and whitespace skipped;
 * trailing text other than whitespace is an error). Returns 0 or
 * OSC_E_RUNTIME ("invalid JSON at byte N"). */
int osc_rawjson_root(const char *text, size_t len, struct osc_rawjson_span *out,
                     struct osc_error *err);

/* The value of member `key` of the object at `obj` (the first occurrence).
 * Returns 1 when found, 0 when absent or `obj` is not an object, < 0 when
 * the text is malformed. */
int osc_rawjson_member(const char *text, struct osc_rawjson_span obj,
                       const char *key, struct osc_rawjson_span *out,
                       struct osc_error *err);

/* Follows a dotted path of member names from `from` ("properties.virtual
 * Machine.id"). Same returns as osc_rawjson_member. */
int osc_rawjson_path(const char *text, struct osc_rawjson_span from,
                     const char *path, struct osc_rawjson_span *out,
                     struct osc_error *err);

/* Iterates the elements of the array at `arr`: set *cursor to 0 first.
 * Returns 1 with the next element in *out, 0 at the end (or when `arr` is
 * not an array), < 0 when malformed. */
int osc_rawjson_array_next(const char *text, struct osc_rawjson_span arr,
                           size_t *cursor, struct osc_rawjson_span *out,
                           struct osc_error *err);

bool osc_rawjson_is_array(const char *text, struct osc_rawjson_span v);
bool osc_rawjson_is_object(const char *text, struct osc_rawjson_span v);

/* Decodes the JSON string at `v` into out (UTF-8, NUL-terminated). Returns
 * 0, or < 0 when `v` is not a string or does not fit in cap. */
int osc_rawjson_string(const char *text, struct osc_rawjson_span v, char *out,
                       size_t cap);

/* Writes the object `text` to `out` with every top-level member `key` set
 * to `raw_value` (valid JSON text, e.g. "true"); when absent, the member is
 * inserted first. Everything else, nested members with the same name
 * included, is copied byte for byte. */
int osc_rawjson_set_member(const char *text, size_t len, const char *key,
                           const char *raw_value, struct osc_buf *out,
                           struct osc_error *err);

#endif
