#include "core/osc_jsonw.h"

#include <stdio.h>
#include <string.h>

static void put(struct osc_jsonw *w, const char *s, size_t n) {
  if (w->rc < 0)
    return;
  w->rc = osc_buf_append(w->out, s, n, &w->err);
}

static void newline(struct osc_jsonw *w) {
  int i;

  if (!w->pretty)
    return;
  put(w, "\n", 1);
  for (i = 0; i < w->depth; i++)
    put(w, "  ", 2);
}

/* Separator and indentation before a value or key at the current level. */
static void before_value(struct osc_jsonw *w) {
  if (w->after_key) {
    w->after_key = false;
    return;
  }
  if (w->depth == 0)
    return;
  if (!w->first[w->depth])
    put(w, ",", 1);
  w->first[w->depth] = false;
  newline(w);
}

void osc_jsonw_init(struct osc_jsonw *w, struct osc_buf *out, bool pretty) {
  memset(w, 0, sizeof(*w));
  w->out = out;
  w->pretty = pretty;
}

static void open_level(struct osc_jsonw *w, const char *c) {
  before_value(w);
  put(w, c, 1);
  if (w->depth + 1 >= OSC_JSONW_MAX_DEPTH) {
    if (w->rc >= 0)
      w->rc = osc_error_set(&w->err, OSC_E_RUNTIME, "JSON nesting too deep");
    return;
  }
  w->depth++;
  w->first[w->depth] = true;
}

static void close_level(struct osc_jsonw *w, const char *c) {
  bool empty = w->first[w->depth];

  if (w->depth > 0)
    w->depth--;
  if (!empty)
    newline(w);
  put(w, c, 1);
}

void osc_jsonw_object_begin(struct osc_jsonw *w) {
  open_level(w, "{");
}

void osc_jsonw_object_end(struct osc_jsonw *w) {
  close_level(w, "}");
}

void osc_jsonw_array_begin(struct osc_jsonw *w) {
  open_level(w, "[");
}

void osc_jsonw_array_end(struct osc_jsonw *w) {
  close_level(w, "]");
}

static void quoted(struct osc_jsonw *w, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  const unsigned char *run = p;

  put(w, "\"", 1);
  for (; *p; p++) {
    char esc[8];
    const char *rep = NULL;

    switch (*p) {
    case '"':
      rep = "\\\"";
      break;
    case '\\':
      rep = "\\\\";
      break;
    case '\n':
      rep = "\\n";
      break;
    case '\r':
      rep = "\\r";
      break;
    case '\t':
      rep = "\\t";
      break;
    default:
      if (*p < 0x20) {
        snprintf(esc, sizeof(esc), "\\u%04x", *p);
        rep = esc;
      }
    }
    if (rep != NULL) {
      put(w, (const char *)run, (size_t)(p - run));
      put(w, rep, strlen(rep));
      run = p + 1;
    }
  }
  put(w, (const char *)run, (size_t)(p - run));
  put(w, "\"", 1);
}

void osc_jsonw_key(struct osc_jsonw *w, const char *key) {
  before_value(w);
  quoted(w, key);
  put(w, w->pretty ? ": " : ":", w->pretty ? 2 : 1);
  w->after_key = true;
}

void osc_jsonw_string(struct osc_jsonw *w, const char *s) {
  if (s == NULL) {
    osc_jsonw_null(w);
    return;
  }
  before_value(w);
  quoted(w, s);
}

void osc_jsonw_int(struct osc_jsonw *w, int64_t v) {
  char num[32];
  int n = snprintf(num, sizeof(num), "%lld", (long long)v);

  before_value(w);
  put(w, num, (size_t)n);
}

void osc_jsonw_bool(struct osc_jsonw *w, bool v) {
  before_value(w);
  put(w, v ? "true" : "false", v ? 4 : 5);
}

void osc_jsonw_null(struct osc_jsonw *w) {
  before_value(w);
  put(w, "null", 4);
}

void osc_jsonw_raw(struct osc_jsonw *w, const char *json, size_t len) {
  before_value(w);
  put(w, json, len);
}

int osc_jsonw_finish(struct osc_jsonw *w, struct osc_error *err) {
  if (w->rc < 0) {
    if (err != NULL)
      *err = w->err;
    return w->rc;
  }
  return OSC_OK;
}
