#include "core/osc_json.h"

#include <errno.h>
#include <lauxlib.h>
#include <lua-cjson.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the tree ------------------------------------------------------------ */

struct osc_json_member;

struct osc_json_value {
  unsigned char type; /* enum osc_json_type */
  bool flag;          /* BOOL: the value; NUMBER: an integer (in u.i) */
  size_t n;           /* string bytes, array elements, object members */
  union {
    const char *s;
    double d;
    int64_t i;
    const struct osc_json_value *items;
    const struct osc_json_member *members;
  } u;
};

struct osc_json_member {
  const char *key;
  size_t key_len;
  struct osc_json_value value;
};

/* The document's memory: values, keys and strings bump through large
 * chunks that are freed together (an arena that neither zeroes nor
 * rounds every string up to max_align_t: a 55 MB snapshot is millions of
 * small strings). */
struct pool_chunk {
  struct pool_chunk *next;
  size_t used;
  size_t size;
  max_align_t data[];
};

#define POOL_CHUNK ((size_t)1 << 20)

struct osc_json_doc {
  struct pool_chunk *chunks;
  struct osc_json_value root;
};

static void *pool_alloc(struct osc_json_doc *doc, size_t size, size_t align) {
  struct pool_chunk *c = doc->chunks;
  size_t at = c != NULL ? (c->used + align - 1) & ~(align - 1) : 0;

  if (c == NULL || at > c->size || c->size - at < size) {
    size_t cap = size > POOL_CHUNK / 4 ? size : POOL_CHUNK;

    if (cap > SIZE_MAX - sizeof(*c))
      return NULL;
    c = malloc(sizeof(*c) + cap);
    if (c == NULL)
      return NULL;
    c->size = cap;
    c->used = 0;
    /* A big block goes behind the current chunk, whose tail stays usable. */
    if (doc->chunks != NULL && cap != POOL_CHUNK) {
      c->next = doc->chunks->next;
      doc->chunks->next = c;
    } else {
      c->next = doc->chunks;
      doc->chunks = c;
    }
    at = 0;
  }
  c->used = at + size;
  return (char *)c->data + at;
}

#define POOL_ALLOC(doc, n, type)                                               \
  ((type *)pool_alloc((doc), (n) * sizeof(type), _Alignof(type)))

/* The decode function is kept in the registry under this address so the
 * data state has no globals to tamper with. */
static const char decode_key = 'd';

int osc_json_open_module(lua_State *L) {
  luaL_requiref(L, "cjson", luaopen_cjson, 0);
  return 1;
}

static int open_state(lua_State *L) {
  osc_json_open_module(L);       /* [cjson] */
  lua_getfield(L, -1, "decode"); /* [cjson, decode] */
  lua_rawsetp(L, LUA_REGISTRYINDEX, &decode_key);
  /* Octopus and ARM nest a few levels; refuse absurd depth early. */
  lua_getfield(L, -1, "decode_max_depth");
  lua_pushinteger(L, 128);
  lua_call(L, 1, 0);
  lua_pop(L, 1);
  return 0;
}

static int init_state(lua_State *L, lua_State **out, struct osc_error *err) {
  *out = NULL;
  if (L == NULL)
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  lua_pushcfunction(L, open_state);
  if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
    lua_close(L);
    return osc_error_set(err, OSC_E_NOMEM, "cannot initialise lua-cjson");
  }
  *out = L;
  return OSC_OK;
}

int osc_json_state_new(lua_State **out, struct osc_error *err) {
  return init_state(luaL_newstate(), out, err);
}

int osc_json_decode(lua_State *L, const char *buf, size_t len, const char *what,
                    struct osc_error *err) {
  if (!lua_checkstack(L, 3))
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  lua_rawgetp(L, LUA_REGISTRYINDEX, &decode_key);
  if (lua_type(L, -1) != LUA_TFUNCTION) {
    lua_pop(L, 1);
    return osc_error_set(err, OSC_E_RUNTIME, "%s: JSON decoder not initialised",
                         what);
  }
  lua_pushlstring(L, buf, len);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    const char *msg = lua_tostring(L, -1);

    osc_error_set(err, OSC_E_RUNTIME, "%s: invalid JSON: %s", what,
                  msg ? msg : "unknown error");
    lua_pop(L, 1);
    return OSC_E_RUNTIME;
  }
  return OSC_OK;
}

const char *osc_json_string(lua_State *L, int idx, const char *key) {
  const char *s = NULL;

  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) != LUA_TTABLE)
    return NULL;
  lua_getfield(L, idx, key);
  if (lua_type(L, -1) == LUA_TSTRING)
    s = lua_tostring(L, -1); /* the table keeps the string alive */
  lua_pop(L, 1);
  return s;
}

int osc_json_push_path(lua_State *L, int idx, const char *path) {
  char key[128];
  const char *p = path;

  idx = lua_absindex(L, idx);
  lua_pushvalue(L, idx);
  while (*p) {
    const char *dot = strchr(p, '.');
    size_t n = dot ? (size_t)(dot - p) : strlen(p);

    if (lua_type(L, -1) != LUA_TTABLE || n >= sizeof(key)) {
      lua_pop(L, 1);
      lua_pushnil(L);
      return LUA_TNIL;
    }
    memcpy(key, p, n);
    key[n] = '\0';
    lua_getfield(L, -1, key);
    lua_remove(L, -2);
    p += n;
    if (*p == '.')
      p++;
  }
  return lua_type(L, -1);
}

const char *osc_json_path_string(lua_State *L, int idx, const char *path) {
  const char *s = NULL;

  idx = lua_absindex(L, idx);
  /* Strings stay alive through the document table rooted at idx. */
  if (osc_json_push_path(L, idx, path) == LUA_TSTRING)
    s = lua_tostring(L, -1);
  lua_pop(L, 1);
  return s;
}

static bool double_int(double d, int64_t *out);

/* The number on top as an int64_t (see double_int). */
static bool top_number_int(lua_State *L, int64_t *out) {
  if (lua_isinteger(L, -1)) {
    *out = (int64_t)lua_tointeger(L, -1);
    return true;
  }
  return double_int((double)lua_tonumber(L, -1), out);
}

static bool path_int(lua_State *L, int idx, const char *path, bool strings,
                     int64_t *out) {
  bool ok = false;
  int type = osc_json_push_path(L, idx, path);

  if (type == LUA_TNUMBER) {
    ok = top_number_int(L, out);
  } else if (type == LUA_TSTRING && strings) {
    const char *s = lua_tostring(L, -1);
    char *end = NULL;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (end != s && *end == '\0' && errno == 0) {
      *out = v;
      ok = true;
    }
  }
  lua_pop(L, 1);
  return ok;
}

bool osc_json_path_int(lua_State *L, int idx, const char *path, int64_t *out) {
  return path_int(L, idx, path, true, out);
}

bool osc_json_path_number_int(lua_State *L, int idx, const char *path,
                              int64_t *out) {
  return path_int(L, idx, path, false, out);
}

bool osc_json_path_bool(lua_State *L, int idx, const char *path, bool *out) {
  bool ok = false;

  if (osc_json_push_path(L, idx, path) == LUA_TBOOLEAN) {
    *out = lua_toboolean(L, -1);
    ok = true;
  }
  lua_pop(L, 1);
  return ok;
}

/* ---- parsing --------------------------------------------------------------
 * One Lua state decodes for the whole process. Its collector is stopped:
 * while cjson fills tables everything is live anyway, and re-marking tens
 * of MB of tables would only cost time. After each document is copied out,
 * the decoded tables are dropped and one full collection frees them. */

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static lua_State *shared_state; /* lives until exit */

/* A protected parse: the decoded value is copied into doc. */
struct parse_job {
  const char *text;
  size_t len;
  const char *what;
  struct osc_json_doc *doc;
  struct osc_json_member *scratch; /* members of the objects being copied */
  size_t n_scratch;
  size_t cap_scratch;
  struct interned *interned; /* short strings already copied */
  size_t cap_interned;       /* a power of two, or 0 */
  size_t n_interned;
  struct osc_error *err;
  int rc;
};

/* Lua keeps one copy of each short string (up to LUAI_MAXSHORTLEN = 40
 * bytes), so its address identifies the text while the decoded value is
 * alive: keys and repeated values ("Succeeded") are copied once per
 * document. */
struct interned {
  const char *lua; /* Lua's bytes (NULL: a free slot) */
  const char *copy;
};

#define SHORT_STRING 40

static int copy_value(lua_State *L, struct parse_job *j,
                      struct osc_json_value *out);

static char *copy_bytes(struct parse_job *j, const char *s, size_t n) {
  char *p = pool_alloc(j->doc, n + 1, 1);

  if (p != NULL) {
    memcpy(p, s, n);
    p[n] = '\0';
  }
  return p;
}

static size_t intern_slot(const struct interned *t, size_t cap, const char *s) {
  size_t h = ((uintptr_t)s >> 3) * (size_t)0x9E3779B97F4A7C15u;
  size_t i = h & (cap - 1);

  while (t[i].lua != NULL && t[i].lua != s)
    i = (i + 1) & (cap - 1);
  return i;
}

static int intern_grow(struct parse_job *j) {
  size_t cap = j->cap_interned ? j->cap_interned * 2 : 1024;
  struct interned *t = calloc(cap, sizeof(*t));
  size_t i;

  if (t == NULL)
    return -1;
  for (i = 0; i < j->cap_interned; i++) {
    if (j->interned[i].lua != NULL)
      t[intern_slot(t, cap, j->interned[i].lua)] = j->interned[i];
  }
  free(j->interned);
  j->interned = t;
  j->cap_interned = cap;
  return 0;
}

/* The document's copy of Lua's string s (n bytes). */
static const char *copy_string(struct parse_job *j, const char *s, size_t n) {
  struct interned *slot;

  if (n > SHORT_STRING)
    return copy_bytes(j, s, n);
  if (j->n_interned >= j->cap_interned / 2 && intern_grow(j) < 0)
    return NULL;
  slot = &j->interned[intern_slot(j->interned, j->cap_interned, s)];
  if (slot->lua == NULL) {
    slot->copy = copy_bytes(j, s, n);
    if (slot->copy == NULL)
      return NULL;
    slot->lua = s;
    j->n_interned++;
  }
  return slot->copy;
}

static int no_memory(struct parse_job *j) {
  return j->rc = osc_error_set(j->err, OSC_E_NOMEM, "out of memory");
}

static int scratch_push(struct parse_job *j, const struct osc_json_member *m) {
  if (j->n_scratch == j->cap_scratch) {
    size_t cap = j->cap_scratch ? j->cap_scratch * 2 : 256;
    struct osc_json_member *s = realloc(j->scratch, cap * sizeof(*s));

    if (s == NULL)
      return no_memory(j);
    j->scratch = s;
    j->cap_scratch = cap;
  }
  j->scratch[j->n_scratch++] = *m;
  return OSC_OK;
}

/* The array on top (n > 0 elements) into out. */
static int copy_array(lua_State *L, struct parse_job *j, size_t n,
                      struct osc_json_value *out) {
  struct osc_json_value *items;
  size_t i;

  if (n > SIZE_MAX / sizeof(*items))
    return no_memory(j);
  items = POOL_ALLOC(j->doc, n, struct osc_json_value);
  if (items == NULL)
    return no_memory(j);
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, -1, (lua_Integer)i + 1);
    if (copy_value(L, j, &items[i]) < 0)
      return j->rc;
    lua_pop(L, 1);
  }
  out->type = OSC_JSON_ARRAY;
  out->n = n;
  out->u.items = items;
  return OSC_OK;
}

/* The object (or empty table) on top into out. Members gather on the
 * scratch stack (nested objects stack above and are gone by the time this
 * one ends), then move into the document in one block. */
static int copy_object(lua_State *L, struct parse_job *j,
                       struct osc_json_value *out) {
  size_t base = j->n_scratch;
  struct osc_json_member *members = NULL;
  size_t n;

  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    struct osc_json_member m;
    const char *key;

    if (lua_type(L, -2) == LUA_TSTRING) { /* cjson's keys always are */
      key = lua_tolstring(L, -2, &m.key_len);
      m.key = copy_string(j, key, m.key_len);
      if (m.key == NULL)
        return no_memory(j);
      if (copy_value(L, j, &m.value) < 0 || scratch_push(j, &m) < 0)
        return j->rc;
    }
    lua_pop(L, 1);
  }
  n = j->n_scratch - base;
  if (n > 0) {
    members = POOL_ALLOC(j->doc, n, struct osc_json_member);
    if (members == NULL)
      return no_memory(j);
    memcpy(members, j->scratch + base, n * sizeof(*members));
  }
  j->n_scratch = base;
  out->type = OSC_JSON_OBJECT;
  out->n = n;
  out->u.members = members;
  return OSC_OK;
}

/* The value on top (left there) into out. */
static int copy_value(lua_State *L, struct parse_job *j,
                      struct osc_json_value *out) {
  const char *s;
  size_t n;

  memset(out, 0, sizeof(*out));
  switch (lua_type(L, -1)) {
  case LUA_TBOOLEAN:
    out->type = OSC_JSON_BOOL;
    out->flag = lua_toboolean(L, -1);
    return OSC_OK;
  case LUA_TNUMBER:
    out->type = OSC_JSON_NUMBER;
    out->flag = lua_isinteger(L, -1);
    if (out->flag)
      out->u.i = (int64_t)lua_tointeger(L, -1);
    else
      out->u.d = (double)lua_tonumber(L, -1);
    return OSC_OK;
  case LUA_TSTRING:
    s = lua_tolstring(L, -1, &n);
    out->type = OSC_JSON_STRING;
    out->n = n;
    out->u.s = copy_string(j, s, n);
    return out->u.s == NULL ? no_memory(j) : OSC_OK;
  case LUA_TTABLE:
    /* Nesting is bounded by cjson's decode_max_depth (128). */
    if (!lua_checkstack(L, 4))
      return no_memory(j);
    n = (size_t)lua_rawlen(L, -1);
    return n > 0 ? copy_array(L, j, n, out) : copy_object(L, j, out);
  default: /* cjson.null, a light userdata */
    out->type = OSC_JSON_NULL;
    return OSC_OK;
  }
}

/* [job] -> []: decodes with cjson (its message on failure), then copies. */
static int parse_l(lua_State *L) {
  struct parse_job *j = lua_touserdata(L, 1);

  lua_rawgetp(L, LUA_REGISTRYINDEX, &decode_key);
  lua_pushlstring(L, j->text, j->len);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    const char *msg = lua_tostring(L, -1);

    j->rc = osc_error_set(j->err, OSC_E_RUNTIME, "%s: invalid JSON: %s",
                          j->what, msg ? msg : "unknown error");
    return 0;
  }
  copy_value(L, j, &j->doc->root);
  return 0;
}

/* Decodes under the lock; the Lua values are gone on return. */
static int parse_shared(struct parse_job *j) {
  lua_State *L;
  int status;

  pthread_mutex_lock(&shared_lock);
  if (shared_state == NULL &&
      osc_json_state_new(&shared_state, j->err) == OSC_OK)
    lua_gc(shared_state, LUA_GCSTOP);
  L = shared_state;
  if (L == NULL) {
    pthread_mutex_unlock(&shared_lock);
    return j->rc = j->err ? j->err->code : OSC_E_NOMEM;
  }
  lua_pushcfunction(L, parse_l);
  lua_pushlightuserdata(L, j);
  status = lua_pcall(L, 1, 0, 0);
  lua_settop(L, 0);
  lua_gc(L, LUA_GCCOLLECT);
  pthread_mutex_unlock(&shared_lock);
  if (status != LUA_OK && j->rc == OSC_OK)
    no_memory(j);
  return j->rc;
}

int osc_json_parse(const char *text, size_t len, const char *what,
                   struct osc_json_doc **out, struct osc_error *err) {
  struct parse_job j;
  struct osc_json_doc *doc = calloc(1, sizeof(*doc));

  *out = NULL;
  if (doc == NULL)
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  memset(&j, 0, sizeof(j));
  j.text = text != NULL ? text : "";
  j.len = text != NULL ? len : 0;
  j.what = what;
  j.doc = doc;
  j.err = err;
  parse_shared(&j);
  free(j.scratch);
  free(j.interned);
  if (j.rc < 0) {
    osc_json_doc_free(doc);
    return j.rc;
  }
  *out = doc;
  return OSC_OK;
}

void osc_json_doc_free(struct osc_json_doc *doc) {
  if (doc == NULL)
    return;
  while (doc->chunks != NULL) {
    struct pool_chunk *c = doc->chunks;

    doc->chunks = c->next;
    free(c);
  }
  free(doc);
}

const struct osc_json_value *osc_json_root(const struct osc_json_doc *doc) {
  return doc != NULL ? &doc->root : NULL;
}

/* ---- reading ------------------------------------------------------------- */

enum osc_json_type osc_json_type(const struct osc_json_value *v) {
  return v != NULL ? (enum osc_json_type)v->type : OSC_JSON_ABSENT;
}

bool osc_json_is_container(const struct osc_json_value *v) {
  return v != NULL && (v->type == OSC_JSON_ARRAY || v->type == OSC_JSON_OBJECT);
}

static const struct osc_json_value *get_n(const struct osc_json_value *v,
                                          const char *key, size_t len) {
  size_t i;

  if (v == NULL || v->type != OSC_JSON_OBJECT)
    return NULL;
  for (i = 0; i < v->n; i++) {
    const struct osc_json_member *m = &v->u.members[i];

    if (m->key_len == len && memcmp(m->key, key, len) == 0)
      return &m->value;
  }
  return NULL;
}

const struct osc_json_value *osc_json_get(const struct osc_json_value *v,
                                          const char *key) {
  return get_n(v, key, strlen(key));
}

const struct osc_json_value *osc_json_path(const struct osc_json_value *v,
                                           const char *path) {
  const char *p = path;

  while (*p && v != NULL) {
    const char *dot = strchr(p, '.');
    size_t n = dot ? (size_t)(dot - p) : strlen(p);

    /* as the Lua readers did: a key buffer of 128 bytes */
    v = n < 128 ? get_n(v, p, n) : NULL;
    p += n;
    if (*p == '.')
      p++;
  }
  return v;
}

size_t osc_json_len(const struct osc_json_value *v) {
  return v != NULL && v->type == OSC_JSON_ARRAY ? v->n : 0;
}

const struct osc_json_value *osc_json_at(const struct osc_json_value *v,
                                         size_t i) {
  return i < osc_json_len(v) ? &v->u.items[i] : NULL;
}

size_t osc_json_count(const struct osc_json_value *v) {
  return v != NULL && v->type == OSC_JSON_OBJECT ? v->n : 0;
}

const struct osc_json_value *osc_json_member(const struct osc_json_value *v,
                                             size_t i, const char **key,
                                             size_t *key_len) {
  const struct osc_json_member *m;

  if (i >= osc_json_count(v))
    return NULL;
  m = &v->u.members[i];
  if (key != NULL)
    *key = m->key;
  if (key_len != NULL)
    *key_len = m->key_len;
  return &m->value;
}

const char *osc_json_str(const struct osc_json_value *v, size_t *len) {
  if (v == NULL || v->type != OSC_JSON_STRING)
    return NULL;
  if (len != NULL)
    *len = v->n;
  return v->u.s;
}

bool osc_json_num(const struct osc_json_value *v, double *out) {
  if (v == NULL || v->type != OSC_JSON_NUMBER)
    return false;
  *out = v->flag ? (double)v->u.i : v->u.d;
  return true;
}

/* A double as an int64_t: integral and in range, never a wrapped or
 * truncated cast. */
static bool double_int(double d, int64_t *out) {
  /* -2^63 <= d < 2^63, both exactly representable as doubles */
  if (!isfinite(d) || d != floor(d) || d < -9223372036854775808.0 ||
      d >= 9223372036854775808.0)
    return false;
  *out = (int64_t)d;
  return true;
}

bool osc_json_number_int(const struct osc_json_value *v, int64_t *out) {
  if (v == NULL || v->type != OSC_JSON_NUMBER)
    return false;
  if (v->flag) {
    *out = v->u.i;
    return true;
  }
  return double_int(v->u.d, out);
}

bool osc_json_int(const struct osc_json_value *v, int64_t *out) {
  const char *s = osc_json_str(v, NULL);
  char *end = NULL;
  long long n;

  if (s == NULL)
    return osc_json_number_int(v, out);
  /* up to the first NUL, as C sees the string */
  errno = 0;
  n = strtoll(s, &end, 10);
  if (end == s || *end != '\0' || errno != 0)
    return false;
  *out = n;
  return true;
}

bool osc_json_bool(const struct osc_json_value *v, bool *out) {
  if (v == NULL || v->type != OSC_JSON_BOOL)
    return false;
  *out = v->flag;
  return true;
}
