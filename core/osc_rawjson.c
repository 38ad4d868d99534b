#include "core/osc_rawjson.h"

#include <stdint.h>
#include <string.h>

static int malformed(struct osc_error *err, size_t pos) {
  return osc_error_set(err, OSC_E_RUNTIME, "invalid JSON at byte %zu", pos);
}

static size_t skip_ws(const char *t, size_t pos, size_t end) {
  while (pos < end &&
         (t[pos] == ' ' || t[pos] == '\t' || t[pos] == '\n' || t[pos] == '\r'))
    pos++;
  return pos;
}

/* pos is at '"'; *out receives the position after the closing quote. */
static int skip_string(const char *t, size_t pos, size_t end, size_t *out) {
  pos++;
  while (pos < end) {
    unsigned char c = (unsigned char)t[pos];

    if (c == '"') {
      *out = pos + 1;
      return 0;
    }
    if (c == '\\') {
      pos += 2;
      continue;
    }
    if (c < 0x20)
      return -1;
    pos++;
  }
  return -1;
}

static bool scalar_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

/* Skips one value starting at or after pos (whitespace first). */
static int skip_value(const char *t, size_t pos, size_t end,
                      struct osc_rawjson_span *out, struct osc_error *err) {
  char stack[OSC_RAWJSON_MAX_DEPTH];
  size_t depth = 0;
  size_t start;

  pos = skip_ws(t, pos, end);
  start = pos;
  if (pos >= end)
    return malformed(err, pos);
  if (t[pos] == '"') {
    if (skip_string(t, pos, end, &pos) < 0)
      return malformed(err, start);
    out->start = start;
    out->end = pos;
    return 0;
  }
  if (t[pos] != '{' && t[pos] != '[') {
    while (pos < end && scalar_char(t[pos]))
      pos++;
    if (pos == start)
      return malformed(err, start);
    out->start = start;
    out->end = pos;
    return 0;
  }
  while (pos < end) {
    char c = t[pos];

    if (c == '"') {
      size_t next;

      if (skip_string(t, pos, end, &next) < 0)
        return malformed(err, pos);
      pos = next;
      continue;
    }
    if (c == '{' || c == '[') {
      if (depth >= sizeof(stack))
        return osc_error_set(err, OSC_E_RUNTIME,
                             "JSON nested too deeply at byte %zu", pos);
      stack[depth++] = c == '{' ? '}' : ']';
    } else if (c == '}' || c == ']') {
      if (depth == 0 || stack[depth - 1] != c)
        return malformed(err, pos);
      depth--;
      if (depth == 0) {
        out->start = start;
        out->end = pos + 1;
        return 0;
      }
    }
    pos++;
  }
  return malformed(err, pos);
}

int osc_rawjson_root(const char *text, size_t len, struct osc_rawjson_span *out,
                     struct osc_error *err) {
  size_t pos = 0;
  int rc;

  if (len >= 3 && (unsigned char)text[0] == 0xEF &&
      (unsigned char)text[1] == 0xBB && (unsigned char)text[2] == 0xBF)
    pos = 3;
  rc = skip_value(text, pos, len, out, err);
  if (rc < 0)
    return rc;
  if (skip_ws(text, out->end, len) != len)
    return malformed(err, out->end);
  return 0;
}

bool osc_rawjson_is_array(const char *text, struct osc_rawjson_span v) {
  return v.end > v.start && text[v.start] == '[';
}

bool osc_rawjson_is_object(const char *text, struct osc_rawjson_span v) {
  return v.end > v.start && text[v.start] == '{';
}

static void put_utf8(char *out, size_t cap, size_t *n, uint32_t cp, int *bad) {
  unsigned char b[4];
  size_t k;
  size_t i;

  if (cp < 0x80) {
    b[0] = (unsigned char)cp;
    k = 1;
  } else if (cp < 0x800) {
    b[0] = (unsigned char)(0xC0 | (cp >> 6));
    b[1] = (unsigned char)(0x80 | (cp & 0x3F));
    k = 2;
  } else if (cp < 0x10000) {
    b[0] = (unsigned char)(0xE0 | (cp >> 12));
    b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    b[2] = (unsigned char)(0x80 | (cp & 0x3F));
    k = 3;
  } else {
    b[0] = (unsigned char)(0xF0 | (cp >> 18));
    b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    b[3] = (unsigned char)(0x80 | (cp & 0x3F));
    k = 4;
  }
  if (*n + k >= cap) {
    *bad = 1;
    return;
  }
  for (i = 0; i < k; i++)
    out[(*n)++] = (char)b[i];
}

static int hex4(const char *p, uint32_t *out) {
  uint32_t v = 0;
  int i;

  for (i = 0; i < 4; i++) {
    char c = p[i];

    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (uint32_t)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= (uint32_t)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= (uint32_t)(c - 'A' + 10);
    else
      return -1;
  }
  *out = v;
  return 0;
}

int osc_rawjson_string(const char *text, struct osc_rawjson_span v, char *out,
                       size_t cap) {
  size_t pos = v.start + 1;
  size_t end = v.end - 1; /* the closing quote */
  size_t n = 0;
  int bad = 0;

  if (cap == 0 || v.end < v.start + 2 || text[v.start] != '"' ||
      text[end] != '"')
    return OSC_E_RUNTIME;
  while (pos < end && !bad) {
    char c = text[pos];

    if (c != '\\') {
      if (n + 1 >= cap)
        return OSC_E_RUNTIME;
      out[n++] = c;
      pos++;
      continue;
    }
    if (pos + 1 >= end)
      return OSC_E_RUNTIME;
    c = text[pos + 1];
    pos += 2;
    switch (c) {
    case 'b':
      c = '\b';
      break;
    case 'f':
      c = '\f';
      break;
    case 'n':
      c = '\n';
      break;
    case 'r':
      c = '\r';
      break;
    case 't':
      c = '\t';
      break;
    case 'u': {
      uint32_t cp;
      uint32_t lo;

      if (pos + 4 > end || hex4(text + pos, &cp) < 0)
        return OSC_E_RUNTIME;
      pos += 4;
      if (cp >= 0xD800 && cp <= 0xDBFF && pos + 6 <= end && text[pos] == '\\' &&
          text[pos + 1] == 'u' && hex4(text + pos + 2, &lo) == 0 &&
          lo >= 0xDC00 && lo <= 0xDFFF) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        pos += 6;
      }
      put_utf8(out, cap, &n, cp, &bad);
      continue;
    }
    default: /* '"', '\\', '/' stand for themselves */
      break;
    }
    if (n + 1 >= cap)
      return OSC_E_RUNTIME;
    out[n++] = c;
  }
  if (bad)
    return OSC_E_RUNTIME;
  out[n] = '\0';
  return 0;
}

/* Calls visit for each member of the object at obj (stop when it returns
 * non-zero). Returns that value, 0 after the last member, < 0 if malformed,
 * or 0 at once when obj is not an object. */
typedef int (*member_fn)(void *ud, const char *key, struct osc_rawjson_span k,
                         struct osc_rawjson_span v);

static int each_member(const char *t, struct osc_rawjson_span obj,
                       member_fn visit, void *ud, struct osc_error *err) {
  size_t pos;
  size_t end = obj.end;

  if (!osc_rawjson_is_object(t, obj))
    return 0;
  pos = skip_ws(t, obj.start + 1, end);
  if (pos < end && t[pos] == '}')
    return 0;
  while (pos < end) {
    struct osc_rawjson_span k;
    struct osc_rawjson_span v;
    char key[256];
    int rc;

    if (t[pos] != '"')
      return malformed(err, pos);
    k.start = pos;
    if (skip_string(t, pos, end, &k.end) < 0)
      return malformed(err, pos);
    if (osc_rawjson_string(t, k, key, sizeof(key)) < 0)
      key[0] = '\0'; /* too long to be one we look for */
    pos = skip_ws(t, k.end, end);
    if (pos >= end || t[pos] != ':')
      return malformed(err, pos);
    rc = skip_value(t, pos + 1, end, &v, err);
    if (rc < 0)
      return rc;
    rc = visit(ud, key, k, v);
    if (rc != 0)
      return rc;
    pos = skip_ws(t, v.end, end);
    if (pos < end && t[pos] == ',') {
      pos = skip_ws(t, pos + 1, end);
      continue;
    }
    if (pos < end && t[pos] == '}')
      return 0;
    return malformed(err, pos);
  }
  return malformed(err, pos);
}

struct find_ud {
  const char *key;
  struct osc_rawjson_span *out;
};

static int find_visit(void *ud, const char *key, struct osc_rawjson_span k,
                      struct osc_rawjson_span v) {
  struct find_ud *f = ud;

  (void)k;
  if (strcmp(key, f->key) != 0)
    return 0;
  *f->out = v;
  return 1;
}

int osc_rawjson_member(const char *text, struct osc_rawjson_span obj,
                       const char *key, struct osc_rawjson_span *out,
                       struct osc_error *err) {
  struct find_ud f = {key, out};

  return each_member(text, obj, find_visit, &f, err);
}

int osc_rawjson_path(const char *text, struct osc_rawjson_span from,
                     const char *path, struct osc_rawjson_span *out,
                     struct osc_error *err) {
  struct osc_rawjson_span cur = from;
  const char *p = path;

  while (*p) {
    char key[256];
    size_t n = strcspn(p, ".");
    int rc;

    if (n >= sizeof(key))
      return 0;
    memcpy(key, p, n);
    key[n] = '\0';
    rc = osc_rawjson_member(text, cur, key, &cur, err);
    if (rc <= 0)
      return rc;
    p += n;
    if (*p == '.')
      p++;
  }
  *out = cur;
  return 1;
}

int osc_rawjson_array_next(const char *text, struct osc_rawjson_span arr,
                           size_t *cursor, struct osc_rawjson_span *out,
                           struct osc_error *err) {
  size_t pos;
  int rc;

  if (!osc_rawjson_is_array(text, arr))
    return 0;
  if (*cursor == 0) {
    pos = skip_ws(text, arr.start + 1, arr.end);
  } else {
    pos = skip_ws(text, *cursor, arr.end);
    if (pos < arr.end && text[pos] == ',')
      pos = skip_ws(text, pos + 1, arr.end);
    else if (pos < arr.end && text[pos] != ']')
      return malformed(err, pos);
  }
  if (pos >= arr.end)
    return malformed(err, pos);
  if (text[pos] == ']') {
    *cursor = pos;
    return 0;
  }
  rc = skip_value(text, pos, arr.end, out, err);
  if (rc < 0)
    return rc;
  *cursor = out->end;
  return 1;
}

struct set_ud {
  const char *key;
  struct osc_rawjson_span spans[16];
  size_t n;
  bool overflow;
};

static int set_visit(void *ud, const char *key, struct osc_rawjson_span k,
                     struct osc_rawjson_span v) {
  struct set_ud *s = ud;

  (void)k;
  if (strcmp(key, s->key) != 0)
    return 0;
  if (s->n >= sizeof(s->spans) / sizeof(s->spans[0])) {
    s->overflow = true;
    return 1;
  }
  s->spans[s->n++] = v;
  return 0;
}

int osc_rawjson_set_member(const char *text, size_t len, const char *key,
                           const char *raw_value, struct osc_buf *out,
                           struct osc_error *err) {
  struct osc_rawjson_span root;
  struct set_ud s;
  size_t pos;
  size_t i;
  int rc;

  memset(&s, 0, sizeof(s));
  s.key = key;
  rc = osc_rawjson_root(text, len, &root, err);
  if (rc < 0)
    return rc;
  if (!osc_rawjson_is_object(text, root))
    return osc_error_set(err, OSC_E_RUNTIME, "JSON document is not an object");
  rc = each_member(text, root, set_visit, &s, err);
  if (rc < 0)
    return rc;
  if (s.overflow)
    return osc_error_set(err, OSC_E_RUNTIME, "member '%s' repeated too often",
                         key);
  if (s.n == 0) {
    bool empty = skip_ws(text, root.start + 1, root.end) == root.end - 1;

    rc = osc_buf_append(out, text, root.start + 1, err);
    if (rc >= 0)
      rc = osc_buf_printf(out, err, "\"%s\":%s%s", key, raw_value,
                          empty ? "" : ",");
    if (rc >= 0)
      rc =
          osc_buf_append(out, text + root.start + 1, len - root.start - 1, err);
    return rc;
  }
  pos = 0;
  for (i = 0; i < s.n; i++) {
    rc = osc_buf_append(out, text + pos, s.spans[i].start - pos, err);
    if (rc >= 0)
      rc = osc_buf_puts(out, raw_value, err);
    if (rc < 0)
      return rc;
    pos = s.spans[i].end;
  }
  return osc_buf_append(out, text + pos, len - pos, err);
}
