/* octoscale.yaml -> struct osc_config (docs/design.md §5).
 *
 * libyaml's document API builds the node tree; this file walks it with a
 * small schema per mapping (struct field), so unknown and duplicate keys are
 * caught at every level and every message carries the node's position.
 * Strings are copied into the config's arena; the pair lists built while
 * walking live in a scratch arena freed when loading ends, and the libyaml
 * parser and documents are released on every path. */
#include "core/osc_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <yaml.h>

#include "core/osc_buf.h"
#include "core/osc_log.h"
#include "core/osc_suggest.h"
#include "core/osc_time.h"

#define CONFIG_MAX_BYTES (4u * 1024u * 1024u) /* a config file */
#define VALUE_MAX_BYTES (1u * 1024u * 1024u)  /* one expanded scalar */
#define MAX_DEPTH 64      /* nesting, which also stops alias loops */
#define MAX_VALUES 200000 /* values and pairs walked: alias bombs */
#define PATH_LEN 256      /* "scale_sets[3].settings.team" and the like */
#define MAX_FIELDS 16

struct loader {
  struct osc_config *cfg;
  struct osc_arena tmp; /* pair lists; freed when loading ends */
  const char *name;     /* the file as given, for messages */
  yaml_document_t *doc;
  size_t values_left;
  struct osc_error *err;
};

/* One key/value of a mapping after `<<` merges are applied. */
struct pair {
  yaml_node_t *key;
  yaml_node_t *value;
  const char *name; /* the key's text (not expanded) */
};

struct pairs {
  struct pair *items;
  size_t n;
  size_t cap;
};

/* One known key of a structural mapping; `pair.value` is NULL when absent. */
struct field {
  const char *key;
  struct pair pair;
};

/* --- messages --- */

static int vfail_at(struct loader *ld, const yaml_mark_t *mark, const char *fmt,
                    va_list ap) {
  char msg[OSC_ERROR_MAX];

  vsnprintf(msg, sizeof(msg), fmt, ap);
  return osc_error_set(ld->err, OSC_E_CONFIG, "%s:%zu:%zu: %s", ld->name,
                       mark->line + 1, mark->column + 1, msg);
}

static int fail_at(struct loader *ld, const yaml_mark_t *mark, const char *fmt,
                   ...) __attribute__((format(printf, 3, 4)));
static int fail_at(struct loader *ld, const yaml_mark_t *mark, const char *fmt,
                   ...) {
  va_list ap;
  int rc;

  va_start(ap, fmt);
  rc = vfail_at(ld, mark, fmt, ap);
  va_end(ap);
  return rc;
}

static int fail(struct loader *ld, const yaml_node_t *node, const char *fmt,
                ...) __attribute__((format(printf, 3, 4)));
static int fail(struct loader *ld, const yaml_node_t *node, const char *fmt,
                ...) {
  va_list ap;
  int rc;

  va_start(ap, fmt);
  rc = vfail_at(ld, &node->start_mark, fmt, ap);
  va_end(ap);
  return rc;
}

static int nomem(struct loader *ld) {
  return osc_error_set(ld->err, OSC_E_NOMEM, "%s: out of memory", ld->name);
}

/* Formats a key path for messages; a path past `cap` is cut short. */
static void fmt_path(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fmt_path(char *out, size_t cap, const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(out, cap, fmt, ap);
  va_end(ap);
}

/* "at top level" or "in octopus". */
static void where_text(char *out, size_t cap, const char *path) {
  if (path[0] == '\0')
    snprintf(out, cap, "at top level");
  else
    fmt_path(out, cap, "in %s", path);
}

static void join_path(char *out, size_t cap, const char *path,
                      const char *key) {
  if (path[0] == '\0')
    fmt_path(out, cap, "%s", key);
  else
    fmt_path(out, cap, "%s.%s", path, key);
}

/* --- node helpers --- */

static yaml_node_t *node_at(struct loader *ld, int index) {
  return yaml_document_get_node(ld->doc, index);
}

static const char *scalar_text(const yaml_node_t *n) {
  return (const char *)n->data.scalar.value;
}

/* A plain ~, null, Null, NULL or nothing at all (YAML 1.2 core schema). */
static bool is_null(const yaml_node_t *n) {
  static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
  size_t i;

  if (n->type != YAML_SCALAR_NODE ||
      n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
    return false;
  for (i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++) {
    if (strcmp(scalar_text(n), nulls[i]) == 0)
      return true;
  }
  return false;
}

static const char *kind_name(const yaml_node_t *n) {
  switch (n->type) {
  case YAML_SCALAR_NODE:
    return is_null(n) ? "null" : "a string";
  case YAML_SEQUENCE_NODE:
    return "a list";
  case YAML_MAPPING_NODE:
    return "a mapping";
  default:
    return "empty";
  }
}

static size_t utf8_chars(const char *s, size_t len) {
  size_t i;
  size_t n = 0;

  for (i = 0; i < len; i++) {
    if (((unsigned char)s[i] & 0xC0) != 0x80)
      n++;
  }
  return n;
}

/* The position of byte `off` of a scalar's value, when the source spells the
 * value verbatim on one line (plain, or quoted without escapes); else the
 * scalar's start. */
static yaml_mark_t mark_in_scalar(const yaml_node_t *n, size_t off) {
  yaml_mark_t m = n->start_mark;
  size_t chars = utf8_chars(scalar_text(n), n->data.scalar.length);
  size_t quotes;

  switch (n->data.scalar.style) {
  case YAML_PLAIN_SCALAR_STYLE:
    quotes = 0;
    break;
  case YAML_SINGLE_QUOTED_SCALAR_STYLE:
  case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
    quotes = 1;
    break;
  default:
    return m;
  }
  if (n->start_mark.line != n->end_mark.line ||
      n->end_mark.column - n->start_mark.column != chars + 2 * quotes)
    return m;
  m.column += quotes + utf8_chars(scalar_text(n), off);
  return m;
}

/* ", " separated, the last with "or": "a, b or c". */
static void list_names(char *out, size_t cap, const char *const *names,
                       size_t n, const char *last_sep) {
  size_t used = 0;
  size_t i;

  out[0] = '\0';
  for (i = 0; i < n && used < cap; i++) {
    const char *sep = i == 0 ? "" : i + 1 == n ? last_sep : ", ";
    int w = snprintf(out + used, cap - used, "%s%s", sep, names[i]);

    if (w < 0)
      break;
    used += (size_t)w;
  }
}

/* --- ${VAR} expansion --- */

static bool var_start(int c) {
  return isalpha(c) || c == '_';
}

static bool var_char(int c) {
  return isalnum(c) || c == '_';
}

/* Expands ${VAR} in a scalar's value ($$ is a literal $; a $ not followed by
 * { or $ stays as it is). The result lives in the config's arena. Messages
 * never quote the value itself: it may be a secret. */
/* The index of the '}' closing the ${NAME} reference at s[i], or an error
 * at the reference's position (a default such as ${NAME:-x}, a bad name, a
 * name of name_cap bytes or more). */
static int reference_end(struct loader *ld, const yaml_node_t *node,
                         const char *path, size_t i, size_t name_cap,
                         size_t *end) {
  const char *s = scalar_text(node);
  size_t len = node->data.scalar.length;
  size_t j = i + 2;
  yaml_mark_t m;

  if (j < len && var_start((unsigned char)s[j])) {
    while (j < len && var_char((unsigned char)s[j]))
      j++;
  }
  if (j < len && s[j] == ':' && j > i + 2) {
    m = mark_in_scalar(node, i);
    return fail_at(ld, &m,
                   "%s: defaults such as ${NAME:-value} are not supported "
                   "(set the variable, or write $$ for a literal $)",
                   path);
  }
  if (j == i + 2 || j >= len || s[j] != '}' || j - (i + 2) >= name_cap) {
    m = mark_in_scalar(node, i);
    return fail_at(ld, &m,
                   "%s: invalid ${...} reference (a variable name is "
                   "letters, digits and _; write $$ for a literal $)",
                   path);
  }
  *end = j;
  return OSC_OK;
}

static int expand(struct loader *ld, const yaml_node_t *node, const char *path,
                  const char **out) {
  const char *s = scalar_text(node);
  size_t len = node->data.scalar.length;
  struct osc_buf b;
  size_t i = 0;
  size_t lit = 0;
  int rc = OSC_OK;

  osc_buf_init(&b, VALUE_MAX_BYTES);
  *out = NULL;
  if (memchr(s, '\0', len) != NULL) {
    rc = fail(ld, node, "%s contains a NUL character", path);
    goto done;
  }
  while (i < len) {
    char name[256];
    const char *value;
    size_t j = 0;

    if (s[i] != '$' || i + 1 >= len || (s[i + 1] != '$' && s[i + 1] != '{')) {
      i++;
      continue;
    }
    if (s[i + 1] == '$') {
      rc = osc_buf_append(&b, s + lit, i + 1 - lit, ld->err);
      if (rc < 0)
        goto toobig;
      i += 2;
      lit = i;
      continue;
    }
    rc = osc_buf_append(&b, s + lit, i - lit, ld->err);
    if (rc < 0)
      goto toobig;
    rc = reference_end(ld, node, path, i, sizeof(name), &j);
    if (rc < 0)
      goto done;
    memcpy(name, s + i + 2, j - (i + 2));
    name[j - (i + 2)] = '\0';
    value = getenv(name);
    if (value == NULL) {
      yaml_mark_t m = mark_in_scalar(node, i);

      rc = fail_at(ld, &m, "environment variable '%s' is not set", name);
      goto done;
    }
    rc = osc_buf_puts(&b, value, ld->err);
    if (rc < 0)
      goto toobig;
    i = j + 1;
    lit = i;
  }
  rc = osc_buf_append(&b, s + lit, len - lit, ld->err);
  if (rc < 0)
    goto toobig;
  *out = osc_arena_strndup(&ld->cfg->arena, osc_buf_str(&b), b.len);
  if (*out == NULL)
    rc = nomem(ld);
  goto done;
toobig:
  rc = fail(ld, node, "%s is longer than %u bytes once expanded", path,
            VALUE_MAX_BYTES);
done:
  osc_buf_free(&b);
  return rc;
}

/* --- mappings --- */

static int take_value(struct loader *ld, const yaml_node_t *node) {
  if (ld->values_left == 0)
    return fail(ld, node,
                "more than %d values (an alias expanding without bound?)",
                MAX_VALUES);
  ld->values_left--;
  return OSC_OK;
}

static int pairs_push(struct loader *ld, struct pairs *p, struct pair pr) {
  if (p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 8;
    struct pair *items = osc_arena_alloc(&ld->tmp, cap * sizeof(*items));

    if (items == NULL)
      return nomem(ld);
    if (p->n > 0)
      memcpy(items, p->items, p->n * sizeof(*items));
    p->items = items;
    p->cap = cap;
  }
  p->items[p->n++] = pr;
  return OSC_OK;
}

static bool is_merge_key(const yaml_node_t *k) {
  return k->type == YAML_SCALAR_NODE &&
         k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
         strcmp(scalar_text(k), "<<") == 0;
}

static bool has_pair(const struct pairs *p, const char *name) {
  size_t i;

  for (i = 0; i < p->n; i++) {
    if (strcmp(p->items[i].name, name) == 0)
      return true;
  }
  return false;
}

static int collect_pairs(struct loader *ld, yaml_node_t *map, const char *path,
                         int depth, struct pairs *out);

/* Adds the pairs of a `<<` source that the mapping does not set itself. */
static int merge_from(struct loader *ld, yaml_node_t *src,
                      const struct pairs *explicit_keys, const char *path,
                      int depth, struct pairs *out) {
  struct pairs sub = {NULL, 0, 0};
  size_t i;
  int rc;

  if (src->type != YAML_MAPPING_NODE) {
    char where[PATH_LEN + 8];

    where_text(where, sizeof(where), path);
    return fail(ld, src,
                "the merge key '<<' %s takes a mapping or a list of mappings, "
                "not %s",
                where, kind_name(src));
  }
  rc = collect_pairs(ld, src, path, depth + 1, &sub);
  if (rc < 0)
    return rc;
  for (i = 0; i < sub.n; i++) {
    if (has_pair(explicit_keys, sub.items[i].name) ||
        has_pair(out, sub.items[i].name))
      continue;
    rc = pairs_push(ld, out, sub.items[i]);
    if (rc < 0)
      return rc;
  }
  return OSC_OK;
}

/* The pairs of a mapping in file order, with `<<: *anchor` merges applied
 * (keys the mapping sets itself win; earlier merge sources win over later
 * ones). Duplicate keys and non-string keys are errors. */
static int collect_pairs(struct loader *ld, yaml_node_t *map, const char *path,
                         int depth, struct pairs *out) {
  yaml_node_pair_t *start = map->data.mapping.pairs.start;
  yaml_node_pair_t *top = map->data.mapping.pairs.top;
  struct pairs explicit_keys = {NULL, 0, 0};
  char where[PATH_LEN + 8];
  yaml_node_pair_t *p;
  int rc;

  where_text(where, sizeof(where), path);
  if (depth > MAX_DEPTH)
    return fail(ld, map, "mappings nest deeper than %d levels %s", MAX_DEPTH,
                where);
  for (p = start; p < top; p++) {
    yaml_node_t *key = node_at(ld, p->key);
    struct pair pr;
    size_t i;

    rc = take_value(ld, key);
    if (rc < 0)
      return rc;
    if (key->type != YAML_SCALAR_NODE)
      return fail(ld, key, "keys must be strings, not %s %s", kind_name(key),
                  where);
    for (i = 0; i < explicit_keys.n; i++) {
      if (strcmp(explicit_keys.items[i].name, scalar_text(key)) == 0)
        return fail(ld, key, "duplicate key '%.64s' %s (first at line %zu)",
                    scalar_text(key), where,
                    explicit_keys.items[i].key->start_mark.line + 1);
    }
    pr.key = key;
    pr.value = node_at(ld, p->value);
    pr.name = scalar_text(key);
    rc = pairs_push(ld, &explicit_keys, pr);
    if (rc < 0)
      return rc;
  }
  for (p = start; p < top; p++) {
    yaml_node_t *key = node_at(ld, p->key);
    yaml_node_t *value = node_at(ld, p->value);
    struct pair pr;

    if (!is_merge_key(key)) {
      pr.key = key;
      pr.value = value;
      pr.name = scalar_text(key);
      rc = pairs_push(ld, out, pr);
    } else if (value->type == YAML_SEQUENCE_NODE) {
      yaml_node_item_t *it;

      rc = OSC_OK;
      for (it = value->data.sequence.items.start;
           rc == OSC_OK && it < value->data.sequence.items.top; it++)
        rc = merge_from(ld, node_at(ld, *it), &explicit_keys, path, depth, out);
    } else {
      rc = merge_from(ld, value, &explicit_keys, path, depth, out);
    }
    if (rc < 0)
      return rc;
  }
  return OSC_OK;
}

/* Reads a structural mapping: every key must be one of `fields` (else an
 * unknown-key error with a "did you mean" hint). A null node reads as an
 * empty mapping. */
static int read_fields(struct loader *ld, yaml_node_t *map, const char *path,
                       struct field *fields, size_t n) {
  struct pairs pairs = {NULL, 0, 0};
  const char *names[MAX_FIELDS];
  char where[PATH_LEN + 8];
  size_t i;
  size_t k;
  int rc;

  if (n > MAX_FIELDS)
    n = MAX_FIELDS;
  for (k = 0; k < n; k++)
    names[k] = fields[k].key;
  if (map == NULL || is_null(map))
    return OSC_OK;
  if (map->type != YAML_MAPPING_NODE)
    return fail(ld, map, "%s must be a mapping, not %s",
                path[0] ? path : "the configuration", kind_name(map));
  rc = collect_pairs(ld, map, path, 0, &pairs);
  if (rc < 0)
    return rc;
  where_text(where, sizeof(where), path);
  for (i = 0; i < pairs.n; i++) {
    const char *hint;

    for (k = 0; k < n; k++) {
      if (strcmp(fields[k].key, pairs.items[i].name) == 0)
        break;
    }
    if (k < n) {
      fields[k].pair = pairs.items[i];
      continue;
    }
    hint = osc_suggest(pairs.items[i].name, names, n);
    if (hint != NULL)
      return fail(ld, pairs.items[i].key,
                  "unknown key '%.64s' %s (did you mean '%s'?)",
                  pairs.items[i].name, where, hint);
    {
      char expected[512];

      list_names(expected, sizeof(expected), names, n, ", ");
      return fail(ld, pairs.items[i].key,
                  "unknown key '%.64s' %s (expected one of: %s)",
                  pairs.items[i].name, where, expected);
    }
  }
  return OSC_OK;
}

/* --- typed values --- */

/* A string value, ${VAR} expanded; NULL when absent or null. */
static int get_string(struct loader *ld, const struct field *f,
                      const char *path, const char **out) {
  const yaml_node_t *v = f->pair.value;

  *out = NULL;
  if (v == NULL || is_null(v))
    return OSC_OK;
  if (v->type != YAML_SCALAR_NODE)
    return fail(ld, v, "%s must be a string, not %s", path, kind_name(v));
  return expand(ld, v, path, out);
}

/* Like get_string; an empty value reads as absent (an optional key set from
 * an empty environment variable). */
static int get_optional(struct loader *ld, const struct field *f,
                        const char *path, const char **out) {
  int rc = get_string(ld, f, path, out);

  if (rc == OSC_OK && *out != NULL && **out == '\0')
    *out = NULL;
  return rc;
}

static int get_required(struct loader *ld, yaml_node_t *map,
                        const struct field *f, const char *path,
                        const char *section, const char **out) {
  char where[PATH_LEN + 8];
  int rc;

  if (f->pair.value == NULL) {
    where_text(where, sizeof(where), section);
    return fail(ld, map, "missing required key '%s' %s", f->key, where);
  }
  rc = get_string(ld, f, path, out);
  if (rc < 0)
    return rc;
  if (*out == NULL || **out == '\0')
    return fail(ld, f->pair.value, "%s must not be empty", path);
  return OSC_OK;
}

static bool has_control(const char *s) {
  for (; *s; s++) {
    if ((unsigned char)*s < 0x20 || *s == 0x7f)
      return true;
  }
  return false;
}

/* Names that go into ARM URL paths: no separators, no escapes. */
static int check_resource_name(struct loader *ld, const yaml_node_t *v,
                               const char *path, const char *s) {
  const char *p;

  if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
    goto bad;
  for (p = s; *p; p++) {
    if ((unsigned char)*p <= 0x20 || *p == 0x7f || strchr("/\\?#%&", *p))
      goto bad;
  }
  return OSC_OK;
bad:
  return fail(ld, v,
              "%s: '%.80s' is not a valid Azure name (no spaces or any of "
              "/ \\ ? # %% &)",
              path, s);
}

static bool is_loopback_host(const char *host, size_t len) {
  size_t i;

  if ((len == 9 && strncasecmp(host, "localhost", 9) == 0) ||
      (len > 10 && strncasecmp(host + len - 10, ".localhost", 10) == 0) ||
      (len == 5 && memcmp(host, "[::1]", 5) == 0))
    return true;
  if (len < 4 || memcmp(host, "127.", 4) != 0)
    return false;
  for (i = 4; i < len; i++) {
    if (!isdigit((unsigned char)host[i]) && host[i] != '.')
      return false;
  }
  return true;
}

/* An http(s) URL without credentials, query or fragment; trailing slashes
 * are trimmed. http:// to a host that is not loopback is warned about when
 * `warn_http` (docs/design.md §5). */
static int get_url(struct loader *ld, const struct field *f, const char *path,
                   bool warn_http, const char **out) {
  const yaml_node_t *v = f->pair.value;
  const char *url;
  const char *host;
  size_t host_len;
  size_t len;
  bool http;
  int rc;

  *out = NULL;
  rc = get_string(ld, f, path, &url);
  if (rc < 0 || url == NULL)
    return rc;
  if (*url == '\0')
    return fail(ld, v, "%s must not be empty", path);
  http = strncasecmp(url, "http://", 7) == 0;
  if (!http && strncasecmp(url, "https://", 8) != 0)
    return fail(ld, v, "%s must be an http:// or https:// URL, not '%.100s'",
                path, url);
  host = url + (http ? 7 : 8);
  host_len = strcspn(host, "/?#");
  if (memchr(host, '@', host_len) != NULL)
    return fail(ld, v,
                "%s must not carry credentials (user@host); the API key and "
                "secrets have their own keys",
                path);
  {
    const char *p;

    for (p = url; *p; p++) {
      if ((unsigned char)*p <= 0x20 || *p == 0x7f)
        return fail(ld, v, "%s must not contain spaces or control characters",
                    path);
    }
  }
  if (strpbrk(url, "?#") != NULL)
    return fail(ld, v, "%s must not have a query or fragment ('?' or '#')",
                path);
  {
    /* strip a :port for the loopback test, keeping [v6] literals whole */
    size_t name_len = host_len;
    const char *colon;

    if (host_len > 0 && host[0] == '[') {
      const char *close = memchr(host, ']', host_len);

      name_len = close ? (size_t)(close - host) + 1 : host_len;
    } else {
      colon = memchr(host, ':', host_len);
      if (colon != NULL)
        name_len = (size_t)(colon - host);
    }
    if (name_len == 0)
      return fail(ld, v, "%s has no host: '%.100s'", path, url);
    if (http && warn_http && !is_loopback_host(host, name_len))
      osc_log_warn("%s:%zu:%zu: %s uses http:// to '%.*s', which is not "
                   "loopback: traffic is not encrypted",
                   ld->name, v->start_mark.line + 1, v->start_mark.column + 1,
                   path, (int)name_len, host);
  }
  len = strlen(url);
  while (len > (size_t)(host - url) + host_len && url[len - 1] == '/')
    len--;
  *out = osc_arena_strndup(&ld->cfg->arena, url, len);
  return *out ? OSC_OK : nomem(ld);
}

static int get_duration_ms(struct loader *ld, const struct field *f,
                           const char *path, int64_t *out) {
  struct osc_error e = OSC_ERROR_INIT;
  const char *s;
  int64_t secs;
  int rc;

  rc = get_string(ld, f, path, &s);
  if (rc < 0 || s == NULL)
    return rc;
  if (osc_duration_parse(s, &secs, &e) < 0)
    return fail(ld, f->pair.value, "%s: %s", path, e.msg);
  if (secs <= 0 || secs > 7 * 86400)
    return fail(ld, f->pair.value, "%s must be more than 0s and at most 7d",
                path);
  *out = secs * 1000;
  return OSC_OK;
}

static int get_int(struct loader *ld, const struct field *f, const char *path,
                   long lo, long hi, int *out) {
  const char *s;
  const char *p;
  long n = 0;
  int rc;

  rc = get_string(ld, f, path, &s);
  if (rc < 0 || s == NULL)
    return rc;
  p = s;
  if (*p == '+')
    p++;
  if (*p == '\0')
    goto bad;
  for (; *p; p++) {
    if (!isdigit((unsigned char)*p) || n > hi)
      goto bad;
    n = n * 10 + (*p - '0');
  }
  if (n < lo || n > hi)
    goto bad;
  *out = (int)n;
  return OSC_OK;
bad:
  return fail(ld, f->pair.value,
              "%s must be a whole number from %ld to %ld, not '%.40s'", path,
              lo, hi, s);
}

/* --- paths --- */

/* Joins `rel` to the config's directory. "dir/.." collapses only when dir is
 * a real directory, not a symbolic link, so the result names the same file
 * as the kernel would resolve. */
static const char *resolve_path(struct loader *ld, const char *rel) {
  const char *dir = ld->cfg->dir;
  char joined[4096];
  char out[4096];
  size_t comp_at[512]; /* where each kept component starts in `out` */
  size_t n_comp = 0;
  size_t used = 0;
  bool absolute;
  const char *p;
  int w;

  if (rel[0] == '/' || strcmp(dir, ".") == 0)
    return osc_arena_strdup(&ld->cfg->arena, rel);
  w = snprintf(joined, sizeof(joined), "%s/%s", dir, rel);
  if (w < 0 || (size_t)w >= sizeof(joined))
    return osc_arena_strdup(&ld->cfg->arena, joined);
  absolute = joined[0] == '/';
  if (absolute)
    out[used++] = '/';
  out[used] = '\0';
  p = joined;
  while (*p) {
    size_t len = strcspn(p, "/");
    struct stat st;
    bool up = len == 2 && p[0] == '.' && p[1] == '.';

    if (len == 0 || (len == 1 && p[0] == '.')) {
      p += len + (p[len] == '/');
      continue;
    }
    if (up && n_comp == 0 && absolute) {
      p += len + (p[len] == '/');
      continue;
    }
    if (up && n_comp > 0 && strcmp(out + comp_at[n_comp - 1], "..") != 0 &&
        lstat(out, &st) == 0 && S_ISDIR(st.st_mode)) {
      used = comp_at[n_comp - 1];
      if (used > 1 || (used == 1 && !absolute))
        used--; /* the '/' before it */
      out[used] = '\0';
      n_comp--;
      p += len + (p[len] == '/');
      continue;
    }
    if (n_comp == sizeof(comp_at) / sizeof(comp_at[0]) ||
        used + len + 2 >= sizeof(out))
      return osc_arena_strdup(&ld->cfg->arena, joined);
    if (used > 0 && out[used - 1] != '/')
      out[used++] = '/';
    comp_at[n_comp++] = used;
    memcpy(out + used, p, len);
    used += len;
    out[used] = '\0';
    p += len + (p[len] == '/');
  }
  if (used == 0)
    return osc_arena_strdup(&ld->cfg->arena, ".");
  return osc_arena_strdup(&ld->cfg->arena, out);
}

/* A path key: relative to the config file; `dflt` when absent. */
static int get_path(struct loader *ld, const struct field *f, const char *path,
                    const char *dflt, const char **out) {
  const char *s;
  int rc;

  rc = get_string(ld, f, path, &s);
  if (rc < 0)
    return rc;
  if (s == NULL && f->pair.value == NULL) {
    s = dflt;
  } else if (s == NULL || *s == '\0') {
    return fail(ld, f->pair.value, "%s must not be empty", path);
  }
  if (s == NULL) {
    *out = NULL;
    return OSC_OK;
  }
  *out = resolve_path(ld, s);
  return *out ? OSC_OK : nomem(ld);
}

/* --- settings: free-form values --- */

static bool all_digits(const char *s, int (*pred)(int)) {
  if (*s == '\0')
    return false;
  for (; *s; s++) {
    if (!pred((unsigned char)*s))
      return false;
  }
  return true;
}

static int is_octal(int c) {
  return c >= '0' && c <= '7';
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? (YAML 1.2 core). */
static bool is_float(const char *s) {
  bool digits = false;

  if (*s == '+' || *s == '-')
    s++;
  while (isdigit((unsigned char)*s)) {
    s++;
    digits = true;
  }
  if (*s == '.') {
    s++;
    while (isdigit((unsigned char)*s)) {
      s++;
      digits = true;
    }
  }
  if (!digits)
    return false;
  if (*s == 'e' || *s == 'E') {
    s++;
    if (*s == '+' || *s == '-')
      s++;
    if (!all_digits(s, isdigit))
      return false;
    return true;
  }
  return *s == '\0';
}

/* Types a plain scalar: true/false, integers (decimal, 0x, 0o), numbers;
 * anything else, and integers beyond 64 bits, stay strings. */
static void type_plain(const char *s, struct osc_value *v) {
  static const char *const trues[] = {"true", "True", "TRUE"};
  static const char *const falses[] = {"false", "False", "FALSE"};
  const char *digits = s;
  int base = 10;
  size_t i;

  v->type = OSC_VALUE_STRING;
  v->s = s;
  for (i = 0; i < 3; i++) {
    if (strcmp(s, trues[i]) == 0 || strcmp(s, falses[i]) == 0) {
      v->type = OSC_VALUE_BOOL;
      v->b = strcmp(s, trues[i]) == 0;
      return;
    }
  }
  if (s[0] == '0' && s[1] == 'x' && all_digits(s + 2, isxdigit)) {
    digits = s + 2;
    base = 16;
  } else if (s[0] == '0' && s[1] == 'o' && all_digits(s + 2, is_octal)) {
    digits = s + 2;
    base = 8;
  } else if (!all_digits(s + (*s == '+' || *s == '-'), isdigit)) {
    digits = NULL;
  }
  if (digits != NULL) {
    char *end;
    long long n;

    errno = 0;
    n = strtoll(digits, &end, base);
    if (errno == 0 && *end == '\0') {
      v->type = OSC_VALUE_INT;
      v->i = n;
    }
    return;
  }
  if (is_float(s)) {
    v->type = OSC_VALUE_NUMBER;
    v->d = strtod(s, NULL);
  }
}

static int to_value(struct loader *ld, yaml_node_t *n, const char *path,
                    int depth, struct osc_value *out) {
  struct osc_arena *a = &ld->cfg->arena;
  char sub[PATH_LEN];
  size_t i;
  int rc;

  memset(out, 0, sizeof(*out));
  out->line = (int)n->start_mark.line + 1;
  rc = take_value(ld, n);
  if (rc < 0)
    return rc;
  if (depth > MAX_DEPTH)
    return fail(ld, n,
                "settings nest deeper than %d levels (an alias that contains "
                "itself?)",
                MAX_DEPTH);
  if (n->type == YAML_SCALAR_NODE) {
    const char *s;

    if (is_null(n)) {
      out->type = OSC_VALUE_NULL;
      return OSC_OK;
    }
    rc = expand(ld, n, path, &s);
    if (rc < 0)
      return rc;
    if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
      type_plain(s, out);
    } else {
      out->type = OSC_VALUE_STRING;
      out->s = s;
    }
    return OSC_OK;
  }
  if (n->type == YAML_SEQUENCE_NODE) {
    size_t count =
        (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);

    out->type = OSC_VALUE_LIST;
    out->n = count;
    out->items = osc_arena_alloc(a, (count ? count : 1) * sizeof(*out->items));
    if (out->items == NULL)
      return nomem(ld);
    for (i = 0; i < count; i++) {
      fmt_path(sub, sizeof(sub), "%s[%zu]", path, i);
      rc = to_value(ld, node_at(ld, n->data.sequence.items.start[i]), sub,
                    depth + 1, &out->items[i]);
      if (rc < 0)
        return rc;
    }
    return OSC_OK;
  }
  if (n->type == YAML_MAPPING_NODE) {
    struct pairs pairs = {NULL, 0, 0};

    rc = collect_pairs(ld, n, path, depth, &pairs);
    if (rc < 0)
      return rc;
    out->type = OSC_VALUE_MAP;
    out->n = pairs.n;
    out->items =
        osc_arena_alloc(a, (pairs.n ? pairs.n : 1) * sizeof(*out->items));
    out->keys =
        osc_arena_alloc(a, (pairs.n ? pairs.n : 1) * sizeof(*out->keys));
    if (out->items == NULL || out->keys == NULL)
      return nomem(ld);
    for (i = 0; i < pairs.n; i++) {
      out->keys[i] = osc_arena_strdup(a, pairs.items[i].name);
      if (out->keys[i] == NULL)
        return nomem(ld);
      join_path(sub, sizeof(sub), path, pairs.items[i].name);
      rc = to_value(ld, pairs.items[i].value, sub, depth + 1, &out->items[i]);
      if (rc < 0)
        return rc;
    }
    return OSC_OK;
  }
  return fail(ld, n, "%s: unsupported YAML node", path);
}

static int empty_map(struct loader *ld, struct osc_value *v) {
  memset(v, 0, sizeof(*v));
  v->type = OSC_VALUE_MAP;
  v->items = osc_arena_alloc(&ld->cfg->arena, sizeof(*v->items));
  v->keys = osc_arena_alloc(&ld->cfg->arena, sizeof(*v->keys));
  return v->items && v->keys ? OSC_OK : nomem(ld);
}

/* --- sections --- */

/* Octopus 2026.3 may limit API requests (200/min by default), older or
 * upgraded servers do not: `auto` (the default) paces only after a 429, a
 * number always, 0 never (README, "Octopus pacing"). */
static int read_requests_per_minute(struct loader *ld, const struct field *f) {
  const char *s;
  int rc = get_string(ld, f, "octopus.requests_per_minute", &s);

  if (rc < 0 || s == NULL)
    return rc;
  if (strcmp(s, "auto") == 0) {
    ld->cfg->octopus.requests_per_minute = OSC_RATE_AUTO;
    return OSC_OK;
  }
  if (!isdigit((unsigned char)s[0]) && s[0] != '+')
    return fail(ld, f->pair.value,
                "octopus.requests_per_minute must be auto or a whole number "
                "from 0 to 1000000, not '%.40s'",
                s);
  return get_int(ld, f, "octopus.requests_per_minute", 0, 1000000,
                 &ld->cfg->octopus.requests_per_minute);
}

static int read_octopus(struct loader *ld, yaml_node_t *root,
                        const struct field *section) {
  struct field f[] = {{"url", {0}},
                      {"api_key", {0}},
                      {"space", {0}},
                      {"requests_per_minute", {0}}};
  struct osc_config *cfg = ld->cfg;
  yaml_node_t *map = section->pair.value;
  int rc;

  if (map == NULL)
    return fail(ld, root, "missing required key 'octopus' at top level");
  rc = read_fields(ld, map, "octopus", f, 4);
  if (rc < 0)
    return rc;
  if (f[0].pair.value == NULL)
    return fail(ld, map, "missing required key 'url' in octopus");
  rc = get_url(ld, &f[0], "octopus.url", true, &cfg->octopus.url);
  if (rc < 0)
    return rc;
  if (cfg->octopus.url == NULL)
    return fail(ld, f[0].pair.value, "octopus.url must not be empty");
  /* api_key: optional here (plan --snapshot needs none); the Octopus client
   * refuses to connect without one. Never echoed. */
  rc = get_optional(ld, &f[1], "octopus.api_key", &cfg->octopus.api_key);
  if (rc < 0)
    return rc;
  rc = get_optional(ld, &f[2], "octopus.space", &cfg->octopus.space);
  if (rc < 0)
    return rc;
  if (cfg->octopus.space == NULL)
    cfg->octopus.space = "Default";
  return read_requests_per_minute(ld, &f[3]);
}

const struct osc_azure_cloud osc_azure_clouds[OSC_AZURE_CLOUD_COUNT] = {
    {"public", "AzureCloud", "https://login.microsoftonline.com",
     "https://management.azure.com"},
    {"usgovernment", "AzureUSGovernment", "https://login.microsoftonline.us",
     "https://management.usgovcloudapi.net"},
    {"china", "AzureChinaCloud", "https://login.chinacloudapi.cn",
     "https://management.chinacloudapi.cn"},
};

const struct osc_azure_cloud *osc_azure_cloud_find(const char *name) {
  size_t i;

  for (i = 0; name != NULL && i < OSC_AZURE_CLOUD_COUNT; i++) {
    if (strcasecmp(name, osc_azure_clouds[i].name) == 0 ||
        strcasecmp(name, osc_azure_clouds[i].arm_name) == 0)
      return &osc_azure_clouds[i];
  }
  return NULL;
}

/* A value out of a fixed list, compared case-insensitively; `aliases` (may
 * be NULL) are alternative spellings of the same entries. */
static int get_enum(struct loader *ld, const struct field *f, const char *path,
                    const char *const *names, const char *const *aliases,
                    size_t n, int *out) {
  const char *s;
  const char *hint;
  char expected[256];
  size_t i;
  int rc;

  rc = get_string(ld, f, path, &s);
  if (rc < 0 || s == NULL)
    return rc;
  for (i = 0; i < n; i++) {
    if (strcasecmp(s, names[i]) == 0 ||
        (aliases != NULL && strcasecmp(s, aliases[i]) == 0)) {
      *out = (int)i;
      return OSC_OK;
    }
  }
  hint = osc_suggest(s, names, n);
  if (hint != NULL)
    return fail(ld, f->pair.value,
                "%s: invalid value '%.64s' (did you mean '%s'?)", path, s,
                hint);
  list_names(expected, sizeof(expected), names, n, " or ");
  return fail(ld, f->pair.value, "%s: invalid value '%.64s' (expected %s)",
              path, s, expected);
}

static int check_tenant(struct loader *ld, const yaml_node_t *v,
                        const char *path, const char *s) {
  const char *p;

  for (p = s; *p; p++) {
    if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
      return fail(ld, v,
                  "%s: invalid tenant '%.80s' (a tenant ID or domain: "
                  "letters, digits, '-' and '.')",
                  path, s);
  }
  return OSC_OK;
}

/* "2024-11-01" or "2024-11-01-preview": it goes into every ARM query. */
static int check_api_version(struct loader *ld, const yaml_node_t *v,
                             const char *path, const char *s) {
  size_t i;

  for (i = 0; i < 10; i++) {
    bool dash = i == 4 || i == 7;

    if (dash ? s[i] != '-' : !isdigit((unsigned char)s[i]))
      goto bad;
  }
  if (s[10] == '\0')
    return OSC_OK;
  if (s[10] != '-' || s[11] == '\0')
    goto bad;
  for (i = 11; s[i]; i++) {
    if (!isalnum((unsigned char)s[i]))
      goto bad;
  }
  return OSC_OK;
bad:
  return fail(ld, v,
              "%s: invalid api-version '%.40s' (expected YYYY-MM-DD, "
              "optionally with -preview)",
              path, s);
}

static int read_endpoints(struct loader *ld, yaml_node_t *map) {
  struct field f[] = {{"login", {0}}, {"management", {0}}, {"imds", {0}}};
  struct osc_config *cfg = ld->cfg;
  const char *s;
  int rc;

  rc = read_fields(ld, map, "azure.endpoints", f, 3);
  if (rc < 0)
    return rc;
  rc = get_url(ld, &f[0], "azure.endpoints.login", true, &s);
  if (rc < 0)
    return rc;
  if (s != NULL)
    cfg->azure.login_endpoint = s;
  rc = get_url(ld, &f[1], "azure.endpoints.management", true, &s);
  if (rc < 0)
    return rc;
  if (s != NULL)
    cfg->azure.management_endpoint = s;
  /* IMDS is plain http by design (a link-local address): no warning */
  rc = get_url(ld, &f[2], "azure.endpoints.imds", false, &s);
  if (rc < 0)
    return rc;
  if (s != NULL)
    cfg->azure.imds_endpoint = s;
  return OSC_OK;
}

/* Which azure keys an auth method needs (only what is knowable offline). */
static int check_auth(struct loader *ld, const struct field *auth_field) {
  struct osc_config *cfg = ld->cfg;
  const char *method;

  switch (cfg->azure.auth) {
  case OSC_AUTH_CLIENT_SECRET:
    method = "client_secret";
    break;
  case OSC_AUTH_WORKLOAD_IDENTITY:
    method = "workload_identity";
    break;
  default:
    return OSC_OK;
  }
  if (cfg->azure.tenant == NULL)
    return fail(ld, auth_field->pair.value,
                "azure.auth is %s but azure.tenant is not set", method);
  if (cfg->azure.client_id == NULL)
    return fail(ld, auth_field->pair.value,
                "azure.auth is %s but azure.client_id is not set", method);
  if (cfg->azure.auth == OSC_AUTH_CLIENT_SECRET &&
      cfg->azure.client_secret == NULL)
    return fail(ld, auth_field->pair.value,
                "azure.auth is client_secret but azure.client_secret is not "
                "set");
  return OSC_OK;
}

static int read_azure(struct loader *ld, const struct field *section) {
  static const char *const auth_names[] = {
      "auto", "client_secret", "managed_identity", "workload_identity"};
  const char *cloud_names[OSC_AZURE_CLOUD_COUNT];
  const char *cloud_aliases[OSC_AZURE_CLOUD_COUNT];
  struct field f[] = {
      {"subscription", {0}},
      {"tenant", {0}},
      {"auth", {0}},
      {"client_id", {0}},
      {"client_secret", {0}},
      {"cloud", {0}},
      {"endpoints", {0}},
      {"api_version", {0}},
      {"network_api_version", {0}},
  };
  struct osc_config *cfg = ld->cfg;
  int cloud = 0;
  int auth = OSC_AUTH_AUTO;
  size_t i;
  int rc;

  rc = read_fields(ld, section->pair.value, "azure", f, 9);
  if (rc < 0)
    return rc;
  rc = get_optional(ld, &f[0], "azure.subscription", &cfg->azure.subscription);
  if (rc == OSC_OK && cfg->azure.subscription != NULL)
    rc = check_resource_name(ld, f[0].pair.value, "azure.subscription",
                             cfg->azure.subscription);
  if (rc == OSC_OK)
    rc = get_optional(ld, &f[1], "azure.tenant", &cfg->azure.tenant);
  if (rc == OSC_OK && cfg->azure.tenant != NULL)
    rc = check_tenant(ld, f[1].pair.value, "azure.tenant", cfg->azure.tenant);
  if (rc == OSC_OK)
    rc = get_enum(ld, &f[2], "azure.auth", auth_names, NULL, 4, &auth);
  if (rc == OSC_OK)
    rc = get_optional(ld, &f[3], "azure.client_id", &cfg->azure.client_id);
  if (rc == OSC_OK)
    rc = get_optional(ld, &f[4], "azure.client_secret",
                      &cfg->azure.client_secret);
  for (i = 0; i < OSC_AZURE_CLOUD_COUNT; i++) {
    cloud_names[i] = osc_azure_clouds[i].name;
    cloud_aliases[i] = osc_azure_clouds[i].arm_name;
  }
  if (rc == OSC_OK)
    rc = get_enum(ld, &f[5], "azure.cloud", cloud_names, cloud_aliases,
                  OSC_AZURE_CLOUD_COUNT, &cloud);
  if (rc < 0)
    return rc;
  cfg->azure.auth = (enum osc_auth)auth;
  cfg->azure.cloud = osc_azure_clouds[cloud].name;
  cfg->azure.login_endpoint = osc_azure_clouds[cloud].login;
  cfg->azure.management_endpoint = osc_azure_clouds[cloud].management;
  cfg->azure.imds_endpoint = OSC_AZURE_IMDS_ENDPOINT;
  rc = read_endpoints(ld, f[6].pair.value);
  if (rc == OSC_OK)
    rc = get_optional(ld, &f[7], "azure.api_version", &cfg->azure.api_version);
  if (rc == OSC_OK && cfg->azure.api_version != NULL)
    rc = check_api_version(ld, f[7].pair.value, "azure.api_version",
                           cfg->azure.api_version);
  if (rc == OSC_OK)
    rc = get_optional(ld, &f[8], "azure.network_api_version",
                      &cfg->azure.network_api_version);
  if (rc == OSC_OK && cfg->azure.network_api_version != NULL)
    rc = check_api_version(ld, f[8].pair.value, "azure.network_api_version",
                           cfg->azure.network_api_version);
  if (rc == OSC_OK)
    rc = check_auth(ld, &f[2]);
  return rc;
}

static int read_http(struct loader *ld, const struct field *section) {
  struct field f[] = {
      {"connect_timeout", {0}}, {"timeout", {0}},     {"max_attempts", {0}},
      {"max_retry_time", {0}},  {"concurrency", {0}}, {"ca_file", {0}},
  };
  struct osc_config *cfg = ld->cfg;
  int rc;

  rc = read_fields(ld, section->pair.value, "http", f, 6);
  if (rc == OSC_OK)
    rc = get_duration_ms(ld, &f[0], "http.connect_timeout",
                         &cfg->http.connect_timeout_ms);
  if (rc == OSC_OK)
    rc = get_duration_ms(ld, &f[1], "http.timeout", &cfg->http.timeout_ms);
  if (rc == OSC_OK)
    rc =
        get_int(ld, &f[2], "http.max_attempts", 1, 20, &cfg->http.max_attempts);
  if (rc == OSC_OK)
    rc = get_duration_ms(ld, &f[3], "http.max_retry_time",
                         &cfg->http.max_retry_ms);
  if (rc == OSC_OK)
    rc = get_int(ld, &f[4], "http.concurrency", 1, 256, &cfg->http.concurrency);
  if (rc == OSC_OK)
    rc = get_path(ld, &f[5], "http.ca_file", NULL, &cfg->http.ca_file);
  if (rc == OSC_OK && cfg->http.ca_file != NULL) {
    FILE *fp = fopen(cfg->http.ca_file, "rb");

    if (fp == NULL)
      return fail(ld, f[5].pair.value, "http.ca_file: cannot read '%s': %s",
                  cfg->http.ca_file, strerror(errno));
    fclose(fp);
  }
  return rc;
}

/* state: a path (string), or a blob mapping. */
static int read_state(struct loader *ld, const struct field *section) {
  static const char *const auths[] = {"entra", "shared_key", "sas"};
  struct field f[] = {
      {"url", {0}},       {"auth", {0}},  {"account_key", {0}},
      {"sas_token", {0}}, {"lease", {0}},
  };
  struct osc_config_state_blob *b = &ld->cfg->state_blob;
  yaml_node_t *v = section->pair.value;
  int64_t lease_ms = 60 * 1000;
  int auth = OSC_BLOB_AUTH_ENTRA;
  int rc;

  if (v == NULL || v->type != YAML_MAPPING_NODE)
    return get_path(ld, section, "state", ".octoscale/state.json",
                    &ld->cfg->state);
  rc = read_fields(ld, v, "state", f, 5);
  if (rc == OSC_OK && f[0].pair.value == NULL)
    return fail(ld, v, "missing required key 'url' in state");
  if (rc == OSC_OK)
    rc = get_url(ld, &f[0], "state.url", true, &b->url);
  if (rc == OSC_OK)
    rc = get_enum(ld, &f[1], "state.auth", auths, NULL, 3, &auth);
  if (rc == OSC_OK)
    rc = get_optional(ld, &f[2], "state.account_key", &b->account_key);
  if (rc == OSC_OK)
    rc = get_optional(ld, &f[3], "state.sas_token", &b->sas_token);
  if (rc == OSC_OK)
    rc = get_duration_ms(ld, &f[4], "state.lease", &lease_ms);
  if (rc < 0)
    return rc;
  b->auth = (enum osc_blob_auth)auth;
  if (lease_ms < 15 * 1000 || lease_ms > 60 * 1000)
    return fail(ld, f[4].pair.value,
                "state.lease must be from 15s to 60s (a blob lease's range)");
  b->lease_seconds = (int)(lease_ms / 1000);
  if (b->auth == OSC_BLOB_AUTH_SHARED_KEY && b->account_key == NULL)
    return fail(ld, v,
                "state.auth is shared_key but state.account_key is "
                "not set");
  if (b->auth == OSC_BLOB_AUTH_SAS && b->sas_token == NULL)
    return fail(ld, v, "state.auth is sas but state.sas_token is not set");
  if (b->auth != OSC_BLOB_AUTH_SHARED_KEY && f[2].pair.value != NULL)
    return fail(ld, f[2].pair.value,
                "state.account_key is for auth: shared_key only");
  if (b->auth != OSC_BLOB_AUTH_SAS && f[3].pair.value != NULL)
    return fail(ld, f[3].pair.value, "state.sas_token is for auth: sas only");
  if (b->sas_token != NULL && b->sas_token[0] == '?')
    b->sas_token++;
  return OSC_OK;
}

static int read_roles(struct loader *ld, yaml_node_t *entry,
                      const struct field *f, const char *path,
                      struct osc_strlist *out) {
  yaml_node_t *v = f->pair.value;
  char sub[PATH_LEN];
  size_t count;
  size_t i;
  int rc;

  if (v == NULL)
    return fail(ld, entry, "missing required key 'roles' in %s", path);
  join_path(sub, sizeof(sub), path, "roles");
  if (v->type == YAML_SCALAR_NODE && !is_null(v))
    return fail(ld, v,
                "%s must be a list of strings, not a string (write "
                "roles: [%.60s])",
                sub, scalar_text(v));
  if (v->type != YAML_SEQUENCE_NODE && !is_null(v))
    return fail(ld, v, "%s must be a list of strings, not %s", sub,
                kind_name(v));
  count =
      is_null(v)
          ? 0
          : (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
  /* An empty list would put every target of the environment in scope, and
   * every one of them without a VM would become an orphan: refuse. */
  if (count == 0)
    return fail(ld, v,
                "%s must list at least one role (with none, every target "
                "of the environment would be in scope)",
                sub);
  out->n = count;
  out->items = osc_arena_alloc(&ld->cfg->arena, count * sizeof(*out->items));
  if (out->items == NULL)
    return nomem(ld);
  for (i = 0; i < count; i++) {
    yaml_node_t *item = node_at(ld, v->data.sequence.items.start[i]);
    char item_path[PATH_LEN + 24];

    fmt_path(item_path, sizeof(item_path), "%s[%zu]", sub, i);
    if (item->type != YAML_SCALAR_NODE)
      return fail(ld, item, "%s must be a string, not %s", item_path,
                  kind_name(item));
    rc = is_null(item) ? OSC_OK : expand(ld, item, item_path, &out->items[i]);
    if (rc < 0)
      return rc;
    if (out->items[i] == NULL || out->items[i][0] == '\0')
      return fail(ld, item, "%s must not be empty", item_path);
  }
  return OSC_OK;
}

/* Reads one entry; *name_node is where its name is written. */
/* A scale set's subscription, else azure.subscription: one is required. */
static int read_subscription(struct loader *ld, const yaml_node_t *entry,
                             const struct field *f, const char *path,
                             const char **out) {
  char sub[PATH_LEN];
  int rc;

  join_path(sub, sizeof(sub), path, "subscription");
  rc = get_optional(ld, f, sub, out);
  if (rc == OSC_OK && *out != NULL)
    rc = check_resource_name(ld, f->pair.value, sub, *out);
  if (rc < 0)
    return rc;
  if (*out == NULL)
    *out = ld->cfg->azure.subscription;
  if (*out == NULL)
    return fail(ld, entry,
                "%s has no subscription and azure.subscription is not set",
                path);
  return OSC_OK;
}

/* A scale set's settings: a mapping, empty when absent or null. */
static int read_settings(struct loader *ld, const struct field *f,
                         const char *path, struct osc_value *out) {
  char sub[PATH_LEN];

  join_path(sub, sizeof(sub), path, "settings");
  if (f->pair.value == NULL || is_null(f->pair.value))
    return empty_map(ld, out);
  if (f->pair.value->type != YAML_MAPPING_NODE)
    return fail(ld, f->pair.value, "%s must be a mapping, not %s", sub,
                kind_name(f->pair.value));
  return to_value(ld, f->pair.value, sub, 0, out);
}

static int read_scale_set(struct loader *ld, yaml_node_t *entry, size_t index,
                          struct osc_config_scale_set *ss,
                          const yaml_node_t **name_node) {
  struct field f[] = {
      {"name", {0}},         {"resource_group", {0}}, {"vmss", {0}},
      {"subscription", {0}}, {"environment", {0}},    {"roles", {0}},
      {"tenant", {0}},       {"policy", {0}},         {"settings", {0}},
  };
  struct osc_config *cfg = ld->cfg;
  char path[PATH_LEN];
  char sub[PATH_LEN];
  int rc;

  fmt_path(path, sizeof(path), "scale_sets[%zu]", index);
  if (entry->type != YAML_MAPPING_NODE)
    return fail(ld, entry, "%s must be a mapping, not %s", path,
                kind_name(entry));
  ss->line = (int)entry->start_mark.line + 1;
  ss->config_path = cfg->path;
  rc = read_fields(ld, entry, path, f, 9);
  if (rc < 0)
    return rc;

  join_path(sub, sizeof(sub), path, "name");
  rc = get_required(ld, entry, &f[0], sub, path, &ss->name);
  *name_node = f[0].pair.value;
  if (rc == OSC_OK && has_control(ss->name))
    rc = fail(ld, f[0].pair.value, "%s must not contain control characters",
              sub);
  if (rc < 0)
    return rc;

  join_path(sub, sizeof(sub), path, "resource_group");
  rc = get_required(ld, entry, &f[1], sub, path, &ss->resource_group);
  if (rc == OSC_OK)
    rc = check_resource_name(ld, f[1].pair.value, sub, ss->resource_group);
  if (rc < 0)
    return rc;

  join_path(sub, sizeof(sub), path, "vmss");
  rc = get_required(ld, entry, &f[2], sub, path, &ss->vmss);
  if (rc == OSC_OK)
    rc = check_resource_name(ld, f[2].pair.value, sub, ss->vmss);
  if (rc < 0)
    return rc;

  rc = read_subscription(ld, entry, &f[3], path, &ss->subscription);
  if (rc < 0)
    return rc;

  join_path(sub, sizeof(sub), path, "environment");
  rc = get_required(ld, entry, &f[4], sub, path, &ss->environment);
  if (rc < 0)
    return rc;

  rc = read_roles(ld, entry, &f[5], path, &ss->roles);
  if (rc < 0)
    return rc;

  join_path(sub, sizeof(sub), path, "tenant");
  rc = get_optional(ld, &f[6], sub, &ss->tenant);
  if (rc < 0)
    return rc;

  join_path(sub, sizeof(sub), path, "policy");
  rc = get_path(ld, &f[7], sub, NULL, &ss->policy);
  if (rc < 0)
    return rc;
  if (ss->policy == NULL)
    ss->policy = cfg->policy;

  return read_settings(ld, &f[8], path, &ss->settings);
}

/* Every role of a is one of b's (names compare case-insensitively). */
static bool roles_within(const struct osc_strlist *a,
                         const struct osc_strlist *b) {
  size_t i;
  size_t j;

  for (i = 0; i < a->n; i++) {
    for (j = 0; j < b->n && strcasecmp(a->items[i], b->items[j]) != 0; j++) {
    }
    if (j == b->n)
      return false;
  }
  return true;
}

/* Two entries on one scale set whose scopes overlap would both classify
 * the same targets as theirs and both delete them: same subscription,
 * resource group and scale set, same environment, one's roles within the
 * other's, and tenants that can meet (equal, or one entry untenanted). */
static bool scopes_overlap(const struct osc_config_scale_set *a,
                           const struct osc_config_scale_set *b) {
  return strcasecmp(a->subscription, b->subscription) == 0 &&
         strcasecmp(a->resource_group, b->resource_group) == 0 &&
         strcasecmp(a->vmss, b->vmss) == 0 &&
         strcasecmp(a->environment, b->environment) == 0 &&
         (roles_within(&a->roles, &b->roles) ||
          roles_within(&b->roles, &a->roles)) &&
         (a->tenant == NULL || b->tenant == NULL ||
          strcasecmp(a->tenant, b->tenant) == 0);
}

static int check_distinct(struct loader *ld, const yaml_node_t *const *nodes,
                          size_t i) {
  const struct osc_config_scale_set *sets = ld->cfg->scale_sets;
  size_t j;

  for (j = 0; j < i; j++) {
    if (strcasecmp(sets[j].name, sets[i].name) == 0)
      return fail(ld, nodes[i],
                  "duplicate scale set name '%.64s' (first at line %zu; "
                  "names compare case-insensitively)",
                  sets[i].name, nodes[j]->start_mark.line + 1);
    if (scopes_overlap(&sets[j], &sets[i]))
      return fail(ld, nodes[i],
                  "scale set '%.64s' overlaps '%.64s' (%s:%zu): both cover "
                  "%.64s/%.64s in environment %.64s with roles one within the "
                  "other's and compatible tenants, so both would delete the "
                  "same targets; merge them or make their scopes disjoint",
                  sets[i].name, sets[j].name, ld->cfg->path,
                  nodes[j]->start_mark.line + 1, sets[i].resource_group,
                  sets[i].vmss, sets[i].environment);
  }
  return OSC_OK;
}

static int read_scale_sets(struct loader *ld, yaml_node_t *root,
                           const struct field *section) {
  struct osc_config *cfg = ld->cfg;
  yaml_node_t *v = section->pair.value;
  const yaml_node_t **name_nodes;
  size_t count;
  size_t i;
  int rc;

  if (v == NULL)
    return fail(ld, root, "missing required key 'scale_sets' at top level");
  if (v->type != YAML_SEQUENCE_NODE && !is_null(v))
    return fail(ld, v,
                "scale_sets must be a list of scale sets (each item starting "
                "with '- name:'), not %s",
                kind_name(v));
  count =
      is_null(v)
          ? 0
          : (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
  if (count == 0)
    return fail(ld, v, "scale_sets must list at least one scale set");
  cfg->scale_sets =
      osc_arena_alloc(&cfg->arena, count * sizeof(*cfg->scale_sets));
  name_nodes = osc_arena_alloc(&ld->tmp, count * sizeof(*name_nodes));
  if (cfg->scale_sets == NULL || name_nodes == NULL)
    return nomem(ld);
  for (i = 0; i < count; i++) {
    yaml_node_t *entry = node_at(ld, v->data.sequence.items.start[i]);
    struct osc_config_scale_set *ss = &cfg->scale_sets[i];

    rc = read_scale_set(ld, entry, i, ss, &name_nodes[i]);
    if (rc == OSC_OK)
      rc = check_distinct(ld, (const yaml_node_t *const *)name_nodes, i);
    if (rc < 0)
      return rc;
    cfg->n_scale_sets = i + 1;
  }
  return OSC_OK;
}

static int read_root(struct loader *ld, yaml_node_t *root) {
  struct field f[] = {
      {"octopus", {0}}, {"azure", {0}},  {"http", {0}},
      {"state", {0}},   {"policy", {0}}, {"scale_sets", {0}},
  };
  struct osc_config *cfg = ld->cfg;
  int rc;

  cfg->octopus.space = "Default";
  cfg->azure.auth = OSC_AUTH_AUTO;
  cfg->azure.cloud = osc_azure_clouds[0].name;
  cfg->azure.login_endpoint = osc_azure_clouds[0].login;
  cfg->azure.management_endpoint = osc_azure_clouds[0].management;
  cfg->azure.imds_endpoint = OSC_AZURE_IMDS_ENDPOINT;
  cfg->http.connect_timeout_ms = 10 * 1000;
  cfg->http.timeout_ms = 60 * 1000;
  cfg->http.max_attempts = 6;
  cfg->http.max_retry_ms = 120 * 1000;
  cfg->http.concurrency = 8;
  cfg->octopus.requests_per_minute = OSC_RATE_AUTO;

  if (root->type != YAML_MAPPING_NODE)
    return fail(ld, root,
                "the configuration must be a mapping (octopus:, azure:, "
                "scale_sets: ...), not %s",
                kind_name(root));
  rc = read_fields(ld, root, "", f, 6);
  if (rc == OSC_OK)
    rc = read_octopus(ld, root, &f[0]);
  if (rc == OSC_OK)
    rc = read_azure(ld, &f[1]);
  if (rc == OSC_OK)
    rc = read_http(ld, &f[2]);
  if (rc == OSC_OK)
    rc = read_state(ld, &f[3]);
  if (rc == OSC_OK)
    rc = get_path(ld, &f[4], "policy", "policies/default.lua", &cfg->policy);
  if (rc == OSC_OK)
    rc = read_scale_sets(ld, root, &f[5]);
  if (rc < 0)
    return rc;
  if (cfg->azure.api_version == NULL)
    cfg->azure.api_version = OSC_AZURE_COMPUTE_API_VERSION;
  if (cfg->azure.network_api_version == NULL)
    cfg->azure.network_api_version = OSC_AZURE_NETWORK_API_VERSION;
  return OSC_OK;
}

/* --- loading --- */

static int syntax_error(struct loader *ld, const yaml_parser_t *parser,
                        const char *text, size_t len) {
  yaml_mark_t mark = parser->problem_mark;
  const char *problem = parser->problem ? parser->problem : "invalid YAML";
  char what[64] = "";

  if (parser->error == YAML_MEMORY_ERROR)
    return nomem(ld);
  if (parser->error == YAML_READER_ERROR) {
    /* the reader reports a byte offset, not a mark */
    size_t i;

    mark.line = 0;
    mark.column = 0;
    for (i = 0; i < parser->problem_offset && i < len; i++) {
      if (text[i] == '\n') {
        mark.line++;
        mark.column = 0;
      } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
        mark.column++;
      }
    }
    if (parser->problem_value >= 0)
      snprintf(what, sizeof(what), " (byte 0x%02X)", parser->problem_value);
    return fail_at(ld, &mark, "invalid text: %s%s", problem, what);
  }
  if (parser->context != NULL)
    return fail_at(ld, &mark,
                   "YAML syntax error: %s (%s at line %zu, column %zu)",
                   problem, parser->context, parser->context_mark.line + 1,
                   parser->context_mark.column + 1);
  return fail_at(ld, &mark, "YAML syntax error: %s", problem);
}

static int load(struct loader *ld, const char *text, size_t len) {
  yaml_parser_t parser;
  yaml_document_t doc;
  yaml_document_t extra;
  bool have_doc = false;
  bool have_extra = false;
  yaml_node_t *root;
  yaml_node_t *extra_root;
  int rc = OSC_OK;

  if (!yaml_parser_initialize(&parser))
    return nomem(ld);
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  if (!yaml_parser_load(&parser, &doc)) {
    rc = syntax_error(ld, &parser, text, len);
    goto done;
  }
  have_doc = true;
  root = yaml_document_get_root_node(&doc);
  /* the whole stream is parsed first, so a syntax error anywhere wins */
  if (root != NULL) {
    if (!yaml_parser_load(&parser, &extra)) {
      rc = syntax_error(ld, &parser, text, len);
      goto done;
    }
    have_extra = true;
    extra_root = yaml_document_get_root_node(&extra);
    if (extra_root != NULL) {
      rc = fail_at(ld, &extra.start_mark,
                   "more than one YAML document (the configuration is one "
                   "mapping)");
      goto done;
    }
  }
  if (root == NULL || is_null(root)) {
    yaml_mark_t start = {0, 0, 0};

    rc = fail_at(ld, &start,
                 "empty configuration (expected a mapping with octopus and "
                 "scale_sets)");
    goto done;
  }
  ld->doc = &doc;
  rc = read_root(ld, root);
done:
  if (have_extra)
    yaml_document_delete(&extra);
  if (have_doc)
    yaml_document_delete(&doc);
  yaml_parser_delete(&parser);
  return rc;
}

static const char *dir_of(struct osc_arena *a, const char *path) {
  const char *slash = strrchr(path, '/');

  if (slash == NULL)
    return osc_arena_strdup(a, ".");
  if (slash == path)
    return osc_arena_strdup(a, "/");
  return osc_arena_strndup(a, path, (size_t)(slash - path));
}

int osc_config_load_string(const char *name, const char *text, size_t len,
                           struct osc_config **out, struct osc_error *err) {
  struct loader ld;
  struct osc_config *cfg;
  int rc;

  *out = NULL;
  if (name == NULL)
    name = "<string>";
  cfg = calloc(1, sizeof(*cfg));
  if (cfg == NULL)
    return osc_error_set(err, OSC_E_NOMEM, "%s: out of memory", name);
  memset(&ld, 0, sizeof(ld));
  ld.cfg = cfg;
  ld.name = name;
  ld.err = err;
  ld.values_left = MAX_VALUES;
  cfg->path = osc_arena_strdup(&cfg->arena, name);
  cfg->dir = dir_of(&cfg->arena, name);
  if (cfg->path == NULL || cfg->dir == NULL) {
    rc = nomem(&ld);
    goto done;
  }
  if (text == NULL) {
    text = "";
    len = 0;
  }
  rc = load(&ld, text, len);
done:
  osc_arena_free(&ld.tmp);
  if (rc < 0) {
    osc_config_free(cfg);
    return rc;
  }
  *out = cfg;
  return OSC_OK;
}

int osc_config_load(const char *path, struct osc_config **out,
                    struct osc_error *err) {
  struct osc_buf b;
  int rc;

  *out = NULL;
  osc_buf_init(&b, CONFIG_MAX_BYTES);
  rc = osc_buf_read_file(&b, path, err);
  if (rc < 0) {
    /* a config that cannot be read is a config error (exit 3) */
    rc = OSC_E_CONFIG;
    if (err != NULL)
      err->code = rc;
    goto done;
  }
  rc = osc_config_load_string(path, osc_buf_str(&b), b.len, out, err);
done:
  osc_buf_free(&b);
  return rc;
}

void osc_config_free(struct osc_config *cfg) {
  if (cfg == NULL)
    return;
  osc_arena_free(&cfg->arena);
  free(cfg);
}

const struct osc_config_scale_set *osc_config_find(const struct osc_config *cfg,
                                                   const char *name) {
  size_t i;

  if (cfg == NULL || name == NULL)
    return NULL;
  for (i = 0; i < cfg->n_scale_sets; i++) {
    if (strcasecmp(cfg->scale_sets[i].name, name) == 0)
      return &cfg->scale_sets[i];
  }
  return NULL;
}

const char *osc_config_yaml_version(void) {
  return yaml_get_version_string();
}
