#include "core/osc_json.h"
#include "core/lua/osc_json_lua.h"

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
#include <sys/mman.h>

/* ---- the tree ------------------------------------------------------------ */

struct osc_json_member;

/* 16 bytes, and 24 as an object member: a 55 MB snapshot has 1.5 million
 * members. Counts fit in 32 bits because texts longer than that are
 * refused. */
struct osc_json_value {
  unsigned char type; /* enum osc_json_type */
  bool flag;          /* BOOL: the value; NUMBER: an integer (in u.i) */
  bool key_nul;       /* as an object member: its key has a NUL byte (and
                         its length in the size_t before it) */
  uint32_t n;         /* string bytes, array elements, object members */
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
  struct osc_json_value value;
};

/* Fresh memory is faulted in ahead of a bump pointer, PREFAULT_STEP bytes
 * per system call: in a VM, taking one page fault per 4 KB page is most of
 * the cost of touching the tens of MB a big document needs. Called with
 * the shared state's lock held. */
#define PREFAULT_STEP ((size_t)4 << 20)
#define PAGE_SIZE_MIN ((uintptr_t)4096)

static void prefault(char *base, size_t cap, size_t *done, size_t used) {
#ifdef MADV_POPULATE_WRITE
  static bool unsupported; /* kernels before 5.14 */
  uintptr_t start;
  uintptr_t end;

  if (used <= *done || unsupported)
    return;
  start = ((uintptr_t)base + *done + PAGE_SIZE_MIN - 1) & ~(PAGE_SIZE_MIN - 1);
  end = ((uintptr_t)base +
         (cap - used > PREFAULT_STEP ? used + PREFAULT_STEP : cap)) &
        ~(PAGE_SIZE_MIN - 1);
  if (end > start &&
      madvise((void *)start, end - start, MADV_POPULATE_WRITE) != 0)
    unsupported = true;
  *done = end > (uintptr_t)base + *done ? end - (uintptr_t)base : *done;
#else
  (void)base;
  (void)cap;
  (void)done;
  (void)used;
#endif
}

/* The document's memory: values, keys and strings bump through large
 * chunks that are freed together (an arena that neither zeroes nor
 * rounds every string up to max_align_t: a 55 MB snapshot is millions of
 * small strings). */
struct pool_chunk {
  struct pool_chunk *next;
  size_t used;
  size_t size;
  size_t faulted; /* bytes prefaulted */
  max_align_t data[];
};

#define POOL_MIN ((size_t)4 << 10)
#define POOL_MAX ((size_t)64 << 20)

struct osc_json_doc {
  struct pool_chunk *chunks;
  size_t chunk_size; /* the next chunk's: from the text's size, doubling */
  struct osc_json_value root;
};

static void *pool_alloc(struct osc_json_doc *doc, size_t size, size_t align) {
  struct pool_chunk *c = doc->chunks;
  size_t at = c != NULL ? (c->used + align - 1) & ~(align - 1) : 0;

  if (c == NULL || at > c->size || c->size - at < size) {
    bool own = size > doc->chunk_size / 4;
    size_t cap = own ? size : doc->chunk_size;

    if (cap > SIZE_MAX - sizeof(*c))
      return NULL;
    c = malloc(sizeof(*c) + cap);
    if (c == NULL)
      return NULL;
    c->size = cap;
    c->used = 0;
    c->faulted = 0;
    /* A big block goes behind the current chunk, whose tail stays usable. */
    if (doc->chunks != NULL && own) {
      c->next = doc->chunks->next;
      doc->chunks->next = c;
    } else {
      c->next = doc->chunks;
      doc->chunks = c;
      if (!own && doc->chunk_size < POOL_MAX)
        doc->chunk_size *= 2;
    }
    at = 0;
  }
  c->used = at + size;
  if (c->size >= PREFAULT_STEP)
    prefault((char *)c->data, c->size, &c->faulted, c->used);
  return (char *)c->data + at;
}

#define POOL_ALLOC(doc, n, type)                                               \
  ((type *)pool_alloc((doc), (n) * sizeof(type), _Alignof(type)))

/* The decode function is kept in the registry under this address so the
 * data state has no globals to tamper with. */
static const char decode_key = 'd';

/* The Lua layer's states keep their module under this address. */
static const char module_key = 'j';

void osc_json_lua_module(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &module_key) == LUA_TTABLE)
    return;
  lua_pop(L, 1);
  luaL_requiref(L, "cjson", luaopen_cjson, 0);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &module_key);
}

static int open_state(lua_State *L) {
  luaL_requiref(L, "cjson", luaopen_cjson, 0); /* [cjson] */
  lua_getfield(L, -1, "decode");               /* [cjson, decode] */
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

/* ---- the decoding heap ----------------------------------------------------
 * lua-cjson builds a document as millions of small Lua objects that all
 * die together once it is copied out. While a document is decoded, the
 * shared state's new blocks of under 1 MB therefore come from a bump heap:
 * 64 MB mappings filled front to back, with freed blocks of up to 1 KB on
 * exact-size free lists for the next table that grows. Blocks outside it
 * (the state's own, big ones) stay with malloc. Once the decoded values
 * are collected and no heap block is live, the mappings are unmapped. For
 * a 10,000-VM snapshot (55 MB of JSON) this saves most of malloc's cost.
 * (MADV_HUGEPAGE would also save page faults, but in a VM with free page
 * reporting it made run times bimodal.) */

#if defined(__SANITIZE_ADDRESS__)
#define HEAP_OFF 1 /* ASan checks Lua's blocks only when malloc makes them */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HEAP_OFF 1
#endif
#endif

#ifndef HEAP_OFF
#define HEAP_CHUNK ((size_t)64 << 20)
#define HEAP_BIG ((size_t)1 << 20) /* blocks this large go to malloc */
#define HEAP_ALIGN ((size_t)16)
#define HEAP_CLASSES 64 /* free lists: 16, 32, ... 1008 bytes */

struct heap_map {
  struct heap_map *next;
  char *p;
};

struct heap {
  bool bump;   /* new small blocks come from the maps (while decoding) */
  size_t live; /* blocks handed out and not given back */
  char *cur;   /* the map being filled */
  size_t used;
  size_t faulted; /* bytes of it prefaulted */
  struct heap_map *maps;
  void *free[HEAP_CLASSES]; /* each block's first word links the next */
};

static struct heap shared_heap;

static size_t round_up(size_t n, size_t a) {
  return (n + a - 1) & ~(a - 1);
}

static bool heap_owns(const struct heap *h, const void *p) {
  const struct heap_map *m;

  for (m = h->maps; m != NULL; m = m->next) {
    if ((const char *)p >= m->p && (const char *)p < m->p + HEAP_CHUNK)
      return true;
  }
  return false;
}

/* A block of n bytes (a multiple of HEAP_ALIGN, under HEAP_BIG). */
static void *heap_take(struct heap *h, size_t n) {
  size_t k = n / HEAP_ALIGN;
  void *p;

  if (k < HEAP_CLASSES && h->free[k] != NULL) {
    p = h->free[k];
    memcpy(&h->free[k], p, sizeof(void *));
  } else {
    if (h->cur == NULL || h->used + n > HEAP_CHUNK) {
      struct heap_map *m = malloc(sizeof(*m));

      if (m == NULL)
        return NULL;
      m->p = mmap(NULL, HEAP_CHUNK, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (m->p == MAP_FAILED) {
        free(m);
        return NULL;
      }
      m->next = h->maps;
      h->maps = m;
      h->cur = m->p;
      h->used = 0;
      h->faulted = 0;
    }
    p = h->cur + h->used;
    h->used += n;
    prefault(h->cur, HEAP_CHUNK, &h->faulted, h->used);
  }
  h->live++;
  return p;
}

/* Takes back the block p of n bytes (rounded). */
static void heap_give(struct heap *h, void *p, size_t n) {
  size_t k = n / HEAP_ALIGN;

  h->live--;
  if ((char *)p + n == h->cur + h->used) {
    h->used -= n; /* the newest block */
  } else if (k < HEAP_CLASSES) {
    memcpy(p, &h->free[k], sizeof(void *));
    h->free[k] = p;
  }
}

/* Unmaps everything once no block is live. */
static void heap_release(struct heap *h) {
  if (h->live != 0)
    return;
  while (h->maps != NULL) {
    struct heap_map *m = h->maps;

    h->maps = m->next;
    munmap(m->p, HEAP_CHUNK);
    free(m);
  }
  h->cur = NULL;
  h->used = 0;
  h->faulted = 0;
  memset(h->free, 0, sizeof(h->free));
}

/* A heap block ptr (osize bytes) resized to nsize > 0. */
static void *heap_resize(struct heap *h, void *ptr, size_t osize,
                         size_t nsize) {
  size_t on = round_up(osize, HEAP_ALIGN);
  size_t nn = round_up(nsize, HEAP_ALIGN);
  void *q;

  if (nn <= on)
    return ptr;
  if ((char *)ptr + on == h->cur + h->used && nsize < HEAP_BIG &&
      h->used - on + nn <= HEAP_CHUNK) {
    h->used += nn - on; /* the newest block grows in place */
    prefault(h->cur, HEAP_CHUNK, &h->faulted, h->used);
    return ptr;
  }
  q = h->bump && nsize < HEAP_BIG ? heap_take(h, nn) : NULL;
  if (q == NULL)
    q = malloc(nsize);
  if (q == NULL)
    return NULL; /* Lua raises its memory error */
  memcpy(q, ptr, osize);
  heap_give(h, ptr, on);
  return q;
}

/* lua_Alloc. osize is a size only when ptr is set (else a type tag). */
static void *shared_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  struct heap *h = ud;
  void *q;

  if (ptr != NULL && heap_owns(h, ptr)) {
    if (nsize > 0)
      return heap_resize(h, ptr, osize, nsize);
    heap_give(h, ptr, round_up(osize, HEAP_ALIGN));
    return NULL;
  }
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  if (ptr == NULL && h->bump && nsize < HEAP_BIG) {
    q = heap_take(h, round_up(nsize, HEAP_ALIGN));
    if (q != NULL)
      return q;
  }
  return realloc(ptr, nsize);
}

/* What luaL_newstate installs: report, then let Lua abort. */
static int panic(lua_State *L) {
  const char *msg = lua_tostring(L, -1);

  fprintf(stderr, "PANIC: unprotected error in call to Lua API (%s)\n",
          msg ? msg : "error object is not a string");
  return 0;
}

static int shared_state_new(lua_State **out, struct osc_error *err) {
  lua_State *L = lua_newstate(shared_alloc, &shared_heap);

  if (L != NULL)
    lua_atpanic(L, panic);
  return init_state(L, out, err);
}

static void heap_bump(bool on) {
  shared_heap.bump = on;
}

static void heap_trim(void) {
  heap_release(&shared_heap);
}
#else
static int shared_state_new(lua_State **out, struct osc_error *err) {
  return init_state(luaL_newstate(), out, err);
}

static void heap_bump(bool on) {
  (void)on;
}

static void heap_trim(void) {
}
#endif

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
  struct osc_error *err;
  int rc;
};

/* Strings are copied once per document, mostly. Lua keeps one copy of each
 * short string (up to LUAI_MAXSHORTLEN = 40 bytes), so while the decoded
 * value is alive its address identifies the text: keys and repeated values
 * ("Succeeded") are found by address. Longer strings are found by their
 * text: ARM ids recur (a NIC names its VM, every VM its subnet), so a
 * 10,000-VM snapshot's 16 MB of long strings are 1.5 MB of distinct ones.
 * Both caches are direct-mapped and lossy (a collision copies the string
 * again) so that they stay small enough for the CPU's caches; they belong
 * to the shared state (its lock guards them) and a generation number
 * empties them for each document. */
#define SHORT_STRING 40
#define SHORT_SLOTS_LOG2 15
#define LONG_SLOTS_LOG2 14

struct short_slot {
  const char *lua;
  const char *copy;
  uint32_t gen;
};

struct long_slot {
  const char *copy;
  size_t len;
  uint64_t hash;
  uint32_t gen;
};

static struct short_slot short_slots[(size_t)1 << SHORT_SLOTS_LOG2];
static struct long_slot long_slots[(size_t)1 << LONG_SLOTS_LOG2];
static uint32_t slots_gen; /* slots of other generations are empty */

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

/* Long strings hash by length and their ends, where ids differ. */
static uint64_t text_hash(const char *s, size_t n) {
  uint64_t h = (uint64_t)n * UINT64_C(0x9E3779B97F4A7C15);
  size_t i;

  for (i = 0; i < 16; i++)
    h = (h ^ (unsigned char)s[n - 1 - i]) * UINT64_C(0x100000001B3);
  for (i = 0; i < 8; i++)
    h = (h ^ (unsigned char)s[i]) * UINT64_C(0x100000001B3);
  return h;
}

static const char *copy_long(struct parse_job *j, const char *s, size_t n) {
  uint64_t hash = text_hash(s, n);
  struct long_slot *e = &long_slots[hash >> (64 - LONG_SLOTS_LOG2)];

  if (e->gen == slots_gen && e->hash == hash && e->len == n &&
      memcmp(e->copy, s, n) == 0)
    return e->copy;
  e->copy = copy_bytes(j, s, n);
  e->len = n;
  e->hash = hash;
  e->gen = slots_gen;
  return e->copy;
}

/* The document's copy of Lua's string s (n bytes). */
static const char *copy_string(struct parse_job *j, const char *s, size_t n) {
  uint64_t h = (uint64_t)(uintptr_t)s * UINT64_C(0x9E3779B97F4A7C15);
  struct short_slot *e = &short_slots[h >> (64 - SHORT_SLOTS_LOG2)];

  if (n > SHORT_STRING)
    return copy_long(j, s, n);
  if (e->gen == slots_gen && e->lua == s)
    return e->copy;
  e->copy = copy_bytes(j, s, n);
  e->lua = s;
  e->gen = slots_gen;
  return e->copy;
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

/* A key with a NUL byte, its length in the size_t before it. */
static const char *copy_nul_key(struct parse_job *j, const char *s, size_t n) {
  size_t *p = pool_alloc(j->doc, sizeof(size_t) + n + 1, _Alignof(size_t));

  if (p == NULL)
    return NULL;
  *p = n;
  memcpy(p + 1, s, n);
  ((char *)(p + 1))[n] = '\0';
  return (const char *)(p + 1);
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
  out->n = (uint32_t)n;
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
    size_t key_len;

    if (lua_type(L, -2) == LUA_TSTRING) { /* cjson's keys always are */
      key = lua_tolstring(L, -2, &key_len);
      m.key = memchr(key, '\0', key_len) == NULL
                  ? copy_string(j, key, key_len)
                  : copy_nul_key(j, key, key_len);
      if (m.key == NULL)
        return no_memory(j);
      if (copy_value(L, j, &m.value) < 0)
        return j->rc;
      m.value.key_nul = strlen(m.key) != key_len;
      if (scratch_push(j, &m) < 0)
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
  out->n = (uint32_t)n;
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
    out->n = (uint32_t)n;
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
  if (shared_state == NULL && shared_state_new(&shared_state, j->err) == OSC_OK)
    lua_gc(shared_state, LUA_GCSTOP);
  L = shared_state;
  if (L == NULL) {
    pthread_mutex_unlock(&shared_lock);
    return j->rc = j->err ? j->err->code : OSC_E_NOMEM;
  }
  if (++slots_gen == 0) { /* after 2^32 documents: empty them for real */
    memset(short_slots, 0, sizeof(short_slots));
    memset(long_slots, 0, sizeof(long_slots));
    slots_gen = 1;
  }
  heap_bump(true);
  lua_pushcfunction(L, parse_l);
  lua_pushlightuserdata(L, j);
  status = lua_pcall(L, 1, 0, 0);
  lua_settop(L, 0);
  /* malloc again for what the collector keeps (a shrunk string table) */
  heap_bump(false);
  lua_gc(L, LUA_GCCOLLECT);
  heap_trim();
  pthread_mutex_unlock(&shared_lock);
  if (status != LUA_OK && j->rc == OSC_OK)
    no_memory(j);
  return j->rc;
}

int osc_json_parse(const char *text, size_t len, const char *what,
                   struct osc_json_doc **out, struct osc_error *err) {
  struct parse_job j;
  struct osc_json_doc *doc;

  *out = NULL;
  if (text != NULL && len > UINT32_MAX)
    return osc_error_set(err, OSC_E_RUNTIME, "%s: too large to decode", what);
  doc = calloc(1, sizeof(*doc));
  if (doc == NULL)
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  /* A tree takes up to about twice its text: the first chunk fits it. */
  doc->chunk_size = POOL_MIN;
  while (doc->chunk_size < POOL_MAX && doc->chunk_size < len * 2)
    doc->chunk_size *= 2;
  memset(&j, 0, sizeof(j));
  j.text = text != NULL ? text : "";
  j.len = text != NULL ? len : 0;
  j.what = what;
  j.doc = doc;
  j.err = err;
  parse_shared(&j);
  free(j.scratch);
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

    /* a key with a NUL byte equals no C string */
    if (!m->value.key_nul && strncmp(m->key, key, len) == 0 &&
        m->key[len] == '\0')
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
  if (key_len != NULL) {
    size_t n = strlen(m->key);

    if (m->value.key_nul)
      memcpy(&n, m->key - sizeof(size_t), sizeof(n));
    *key_len = n;
  }
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
