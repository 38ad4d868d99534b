/* JSON documents for C code: parse once, then read an immutable tree.
 *
 * lua-cjson (the project's only JSON decoder) does the decoding, but only
 * core/osc_json.c knows that: it decodes in one private Lua state shared by
 * the whole process (created on first use, serialised by a mutex because
 * the state lease renewal thread may read an error body while the main
 * thread reads pages), copies the result into a tree in the document's
 * own memory and drops the Lua values at once. Readers therefore see
 * exactly what cjson decoded: duplicate keys keep the last value, numbers
 * are doubles (an integer beyond 2^53 is already rounded), nesting deeper
 * than 128 is refused, and an empty object and an empty array are the same
 * empty table.
 *
 * Every reader accepts NULL (an absent value) and answers "absent", so
 * lookups chain: osc_json_str(osc_json_path(root, "properties.vmId"), NULL).
 * Values live until osc_json_doc_free. Encoding of ordered output is in
 * core/osc_jsonw.h; byte-exact spans of raw text in core/osc_rawjson.h;
 * cjson for Lua scripts in core/lua/osc_json_lua.h. */
#ifndef OSC_JSON_H
#define OSC_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/osc_error.h"

enum osc_json_type {
  OSC_JSON_ABSENT = 0, /* no value: a missing key, an index past the end */
  OSC_JSON_NULL,
  OSC_JSON_BOOL,
  OSC_JSON_NUMBER,
  OSC_JSON_STRING,
  OSC_JSON_ARRAY,
  /* An object, and also an empty array: lua-cjson 2.1.0 decodes `{}` and
   * `[]` to the same empty table, so the reader cannot tell them apart and
   * reports both as an empty object. Code that wants a list should accept
   * any container (osc_json_is_container) and read osc_json_len, which is
   * 0 for an object as Lua's `#` was. */
  OSC_JSON_OBJECT,
};

struct osc_json_doc;
struct osc_json_value;

/* Decodes text[0, len) into *out (free with osc_json_doc_free). On failure
 * *out is NULL and err says "WHAT: invalid JSON: <cjson's reason>" with
 * OSC_E_RUNTIME (OSC_E_NOMEM when memory ran out; a text of 4 GiB or more
 * is refused). `what` names the document ("snapshot.json", "response"). */
int osc_json_parse(const char *text, size_t len, const char *what,
                   struct osc_json_doc **out, struct osc_error *err);
void osc_json_doc_free(struct osc_json_doc *doc);
const struct osc_json_value *osc_json_root(const struct osc_json_doc *doc);

enum osc_json_type osc_json_type(const struct osc_json_value *v);
/* An array or an object (so also an empty array, see OSC_JSON_OBJECT). */
bool osc_json_is_container(const struct osc_json_value *v);

/* The member `key` of an object (exact, case-sensitive bytes); NULL when v
 * is not an object or has no such member. */
const struct osc_json_value *osc_json_get(const struct osc_json_value *v,
                                          const char *key);
/* Follows a dotted path of object keys ("properties.osProfile.computerName";
 * arrays are not indexed). A segment of 128 bytes or more finds nothing. */
const struct osc_json_value *osc_json_path(const struct osc_json_value *v,
                                           const char *path);

/* Elements of an array (0 for anything else, an object included). */
size_t osc_json_len(const struct osc_json_value *v);
/* Element i (0-based) of an array; NULL past the end. */
const struct osc_json_value *osc_json_at(const struct osc_json_value *v,
                                         size_t i);
/* Members of an object, in no particular order (cjson's table order):
 * osc_json_count of them, member i's key (NUL-terminated, length in
 * *key_len when not NULL) and value. A key with a NUL byte ("\u0000")
 * equals no C string: osc_json_get never finds it. */
size_t osc_json_count(const struct osc_json_value *v);
const struct osc_json_value *osc_json_member(const struct osc_json_value *v,
                                             size_t i, const char **key,
                                             size_t *key_len);

/* A string's bytes, NUL-terminated; *len (when not NULL) is the full length,
 * which exceeds strlen when the JSON had "\u0000" (C callers that use the
 * plain string see it end there). NULL when v is not a string. */
const char *osc_json_str(const struct osc_json_value *v, size_t *len);
/* A number as a double; false when v is not a number. */
bool osc_json_num(const struct osc_json_value *v, double *out);
/* An integer that fits in 64 bits, from a number or a numeric string (IMDS
 * writes "3599"): 1.5, 1e30 and overflowing strings are refused (false),
 * never truncated or wrapped. */
bool osc_json_int(const struct osc_json_value *v, int64_t *out);
/* The same for JSON numbers only (a numeric string is refused). */
bool osc_json_number_int(const struct osc_json_value *v, int64_t *out);
bool osc_json_bool(const struct osc_json_value *v, bool *out);

#endif
