/* An ordered JSON writer for octoscale's own documents (--format json,
 * snapshots, state). Decoding goes through lua-cjson (core/osc_json.h); this
 * only writes, so key order is stable for humans and golden tests, and raw
 * API bodies can be spliced in unchanged (cjson would turn [] into {}).
 * Errors are sticky: check osc_jsonw_finish once at the end. */
#ifndef OSC_JSONW_H
#define OSC_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/osc_buf.h"
#include "core/osc_error.h"

#define OSC_JSONW_MAX_DEPTH 32

struct osc_jsonw {
  struct osc_buf *out;
  bool pretty;
  int depth;
  bool first[OSC_JSONW_MAX_DEPTH]; /* no element written yet at this level */
  bool after_key;
  int rc;
  struct osc_error err;
};

void osc_jsonw_init(struct osc_jsonw *w, struct osc_buf *out, bool pretty);
void osc_jsonw_object_begin(struct osc_jsonw *w);
void osc_jsonw_object_end(struct osc_jsonw *w);
void osc_jsonw_array_begin(struct osc_jsonw *w);
void osc_jsonw_array_end(struct osc_jsonw *w);
void osc_jsonw_key(struct osc_jsonw *w, const char *key);
void osc_jsonw_string(struct osc_jsonw *w, const char *s); /* NULL: null */
void osc_jsonw_int(struct osc_jsonw *w, int64_t v);
void osc_jsonw_bool(struct osc_jsonw *w, bool v);
void osc_jsonw_null(struct osc_jsonw *w);
/* Splices an already valid JSON value. */
void osc_jsonw_raw(struct osc_jsonw *w, const char *json, size_t len);
/* Returns 0, or the first error (copied into err). */
int osc_jsonw_finish(struct osc_jsonw *w, struct osc_error *err);

#endif
