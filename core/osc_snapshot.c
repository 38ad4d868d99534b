#include "core/osc_snapshot.h"

#include <lauxlib.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>

#include "core/osc_buf.h"
#include "core/osc_json.h"
#include "core/osc_parse.h"

#define SNAPSHOT_MAX (1024u * 1024u * 1024u) /* 1 GiB of JSON at most */

#if defined(__SANITIZE_ADDRESS__)
#define HEAP_OFF 1 /* ASan checks Lua's blocks only when malloc makes them */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HEAP_OFF 1
#endif
#endif

/* The decoded document lives in a Lua state of its own whose collector is
 * stopped: nothing is freed until osc_snapshot_free, except the old parts
 * of tables that grow while lua-cjson fills them. So the state gets a
 * simple allocator: it bumps a pointer through 64 MB mappings, keeps freed
 * blocks of up to 1 KB on exact-size free lists for the next table to grow,
 * and unmaps everything at once. For a 10,000-VM snapshot (55 MB of JSON,
 * millions of Lua objects) `plan --snapshot` goes from 0.56 to 0.45 s of
 * CPU (tests/bench) and its peak RSS from 234 to 230 MB. (MADV_HUGEPAGE
 * would also save most page faults, but in a VM with free page reporting
 * it made the run time bimodal: 0.37 or 0.7 s.) */
#define HEAP_CHUNK ((size_t)64 << 20)
#define HEAP_BIG ((size_t)1 << 20) /* blocks this large get their own map */
#define HEAP_ALIGN ((size_t)16)
#define HEAP_PAGE ((size_t)4096)

struct heap_map {
  struct heap_map *next;
  void *p;
  size_t len;
};

#define HEAP_CLASSES 64 /* free lists: 16, 32, ... 1008 bytes */

struct heap {
  char *cur; /* the chunk being filled */
  size_t used;
  size_t cap;
  struct heap_map *chunks;
  void *free[HEAP_CLASSES]; /* each block's first word links the next */
};

struct osc_snapshot {
  lua_State *L; /* index 1: the decoded document */
  char *path;
  struct heap heap;
};

#ifndef HEAP_OFF
static size_t round_up(size_t n, size_t a) {
  return (n + a - 1) & ~(a - 1);
}

static void *map_new(size_t len) {
  void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                 -1, 0);

  return p == MAP_FAILED ? NULL : p;
}

/* A small block of n bytes (a multiple of HEAP_ALIGN). */
static void *heap_take(struct heap *h, size_t n) {
  size_t k = n / HEAP_ALIGN;

  if (k < HEAP_CLASSES && h->free[k] != NULL) {
    void *p = h->free[k];

    memcpy(&h->free[k], p, sizeof(void *));
    return p;
  }
  if (h->cur == NULL || h->used + n > h->cap) {
    struct heap_map *m = malloc(sizeof(*m));

    if (m == NULL)
      return NULL;
    m->p = map_new(HEAP_CHUNK);
    if (m->p == NULL) {
      free(m);
      return NULL;
    }
    m->len = HEAP_CHUNK;
    m->next = h->chunks;
    h->chunks = m;
    h->cur = m->p;
    h->used = 0;
    h->cap = HEAP_CHUNK;
  }
  h->used += n;
  return h->cur + h->used - n;
}

/* Takes back the small block p of n bytes. */
static void heap_give(struct heap *h, void *p, size_t n) {
  size_t k = n / HEAP_ALIGN;

  if ((char *)p + n == h->cur + h->used) {
    h->used -= n; /* the newest block */
  } else if (k < HEAP_CLASSES) {
    memcpy(p, &h->free[k], sizeof(void *));
    h->free[k] = p;
  }
}

/* lua_Alloc. osize is a size only when ptr is set (else a type tag). */
static void *heap_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  struct heap *h = ud;
  bool small_old = ptr != NULL && osize < HEAP_BIG;
  size_t on = round_up(ptr != NULL ? osize : 0, HEAP_ALIGN);
  size_t nn = round_up(nsize, HEAP_ALIGN);
  void *q;

  if (nsize == 0) {
    if (small_old)
      heap_give(h, ptr, on);
    else if (ptr != NULL)
      munmap(ptr, round_up(osize, HEAP_PAGE));
    return NULL;
  }
  if (small_old && nsize < HEAP_BIG) {
    if (nn <= on)
      return ptr;
    if ((char *)ptr + on == h->cur + h->used && h->used - on + nn <= h->cap) {
      h->used += nn - on; /* the newest block grows in place */
      return ptr;
    }
  }
  q = nsize >= HEAP_BIG ? map_new(round_up(nsize, HEAP_PAGE))
                        : heap_take(h, nn);
  if (q == NULL)
    return NULL; /* Lua raises its memory error */
  if (ptr != NULL) {
    memcpy(q, ptr, osize < nsize ? osize : nsize);
    if (small_old)
      heap_give(h, ptr, on);
    else
      munmap(ptr, round_up(osize, HEAP_PAGE));
  }
  return q;
}

static void heap_free(struct heap *h) {
  while (h->chunks != NULL) {
    struct heap_map *m = h->chunks;

    h->chunks = m->next;
    munmap(m->p, m->len);
    free(m);
  }
  memset(h, 0, sizeof(*h));
}

static int snapshot_state(struct osc_snapshot *snap, struct osc_error *err) {
  return osc_json_state_new_alloc(heap_alloc, &snap->heap, &snap->L, err);
}
#else
static void heap_free(struct heap *h) {
  (void)h;
}

static int snapshot_state(struct osc_snapshot *snap, struct osc_error *err) {
  return osc_json_state_new(&snap->L, err);
}
#endif

int osc_snapshot_load(const char *path, struct osc_snapshot **out,
                      struct osc_error *err) {
  struct osc_snapshot *snap = NULL;
  struct osc_buf buf;
  int64_t version = 0;
  int rc;

  *out = NULL;
  osc_buf_init(&buf, SNAPSHOT_MAX);
  snap = calloc(1, sizeof(*snap));
  if (snap == NULL) {
    rc = osc_error_set(err, OSC_E_NOMEM, "out of memory");
    goto done;
  }
  snap->path = strdup(path);
  rc = snap->path ? snapshot_state(snap, err)
                  : osc_error_set(err, OSC_E_NOMEM, "out of memory");
  if (rc < 0)
    goto done;
  /* This state only holds the decoded document, which stays live until
   * osc_snapshot_free: a collector running while lua-cjson builds tens of
   * MB of tables would only re-mark them (0.63 -> 0.56 s of CPU for
   * 10,000 VMs), and the heap above never reuses memory anyway. lua_close
   * frees everything. */
  lua_gc(snap->L, LUA_GCSTOP);
  rc = osc_buf_read_any_file(&buf, path, err);
  if (rc < 0) {
    rc =
        osc_error_set(err, OSC_E_RUNTIME, "cannot read snapshot: %s", err->msg);
    goto done;
  }
  rc = osc_json_decode(snap->L, buf.data, buf.len, path, err);
  if (rc < 0) {
    err->code = rc = OSC_E_USAGE;
    goto done;
  }
  if (lua_type(snap->L, 1) != LUA_TTABLE ||
      osc_json_push_path(snap->L, 1, "format_version") == LUA_TNIL) {
    rc = osc_error_set(err, OSC_E_USAGE,
                       "%s: not an octoscale snapshot (no format_version)",
                       path);
    goto done;
  }
  lua_settop(snap->L, 1);
  /* The integer 1: not "1", not 1.5 */
  if (!osc_json_path_number_int(snap->L, 1, "format_version", &version)) {
    rc = osc_error_set(err, OSC_E_USAGE,
                       "%s: format_version must be the integer 1", path);
    goto done;
  }
  if (version != 1) {
    rc = osc_error_set(err, OSC_E_USAGE,
                       "%s: unsupported snapshot format_version %lld "
                       "(this octoscale reads 1)",
                       path, (long long)version);
    goto done;
  }
  if (osc_json_push_path(snap->L, 1, "scale_sets") != LUA_TTABLE) {
    lua_pop(snap->L, 1);
    rc = osc_error_set(err, OSC_E_USAGE, "%s: scale_sets must be an array",
                       path);
    goto done;
  }
  lua_pop(snap->L, 1);
  *out = snap;
  snap = NULL;
done:
  osc_buf_free(&buf);
  osc_snapshot_free(snap);
  return rc;
}

/* Pushes the scale_sets[] element named `name` (case-insensitive). */
static bool push_entry(lua_State *L, const char *name) {
  size_t n;
  size_t i;

  osc_json_push_path(L, 1, "scale_sets");
  n = lua_rawlen(L, -1);
  for (i = 1; i <= n; i++) {
    const char *entry_name;

    lua_rawgeti(L, -1, (lua_Integer)i);
    entry_name = osc_json_string(L, -1, "name");
    if (entry_name && strcasecmp(entry_name, name) == 0) {
      lua_remove(L, -2);
      return true;
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return false;
}

static bool has_prefix_ci(const char *s, const char *prefix) {
  return s && strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* Without an environment id the snapshot's targets are taken as the
 * entry's environment (the contract says they are): only when they all
 * share one. Targets of several environments would widen the scope. */
static int one_environment(const struct osc_snapshot *snap,
                           const struct osc_config_scale_set *entry,
                           const struct osc_collection *c,
                           struct osc_error *err) {
  const char *first = NULL;
  const char *other = NULL;
  size_t i, j;

  for (i = 0; i < c->n_targets && other == NULL; i++) {
    const struct osc_strlist *envs = &c->targets[i].environment_ids;

    for (j = 0; j < envs->n && other == NULL; j++) {
      if (first == NULL)
        first = envs->items[j];
      else if (strcasecmp(first, envs->items[j]) != 0)
        other = envs->items[j];
    }
  }
  if (other == NULL)
    return OSC_OK;
  return osc_error_set(
      err, OSC_E_CONFIG,
      "snapshot %s, scale set '%s': its targets belong to more than one "
      "environment (%.100s, %.100s, ...) and nothing says which is the "
      "entry's: add \"environment_id\": \"Environments-N\" to the scale set "
      "in the snapshot, or name the environment by id (environment: "
      "Environments-N) in the config",
      snap->path, entry->name, first, other);
}

int osc_snapshot_collect(struct osc_snapshot *snap,
                         const struct osc_config_scale_set *entry,
                         struct osc_collection *c, struct osc_scope *scope,
                         struct osc_error *err) {
  lua_State *L = snap->L;
  int top = lua_gettop(L);
  const char *incomplete;
  const char *env_id;
  const char *tenant_id;
  int entry_idx;
  int rc = OSC_OK;

  memset(scope, 0, sizeof(*scope));
  if (!push_entry(L, entry->name)) {
    rc = osc_error_set(err, OSC_E_RUNTIME,
                       "snapshot %s has no scale set named '%s'", snap->path,
                       entry->name);
    goto done;
  }
  entry_idx = lua_gettop(L);

  /* Scope: ids from the config when it names ids, else from the snapshot;
   * without either, the snapshot's targets are taken as the environment's
   * (the contract says they are). */
  env_id = has_prefix_ci(entry->environment, "Environments-")
               ? entry->environment
               : osc_json_string(L, entry_idx, "environment_id");
  scope->environment_id = osc_arena_strdup(&c->arena, env_id);
  scope->roles = entry->roles;
  if (entry->tenant != NULL) {
    tenant_id = has_prefix_ci(entry->tenant, "Tenants-")
                    ? entry->tenant
                    : osc_json_string(L, entry_idx, "tenant_id");
    if (tenant_id == NULL) {
      rc = osc_error_set(err, OSC_E_RUNTIME,
                         "tenant '%s' of scale set '%s' cannot be resolved "
                         "offline: the snapshot has no tenant_id",
                         entry->tenant, entry->name);
      goto done;
    }
    scope->tenant_id = osc_arena_strdup(&c->arena, tenant_id);
  }

  /* The recorded reason first, so the plan says what a live run said. */
  incomplete = osc_json_string(L, entry_idx, "incomplete");
  if (incomplete != NULL)
    osc_collection_mark_incomplete(c, incomplete);

  lua_getfield(L, entry_idx, "vmss");
  if (lua_type(L, -1) == LUA_TTABLE) {
    rc = osc_parse_vmss(L, -1, c, err);
    if (rc < 0)
      goto bad_body;
  } else {
    osc_collection_mark_incomplete(c, "the snapshot has no VMSS body");
  }
  lua_pop(L, 1);

  lua_getfield(L, entry_idx, "instances");
  if (lua_type(L, -1) == LUA_TTABLE) {
    rc = osc_parse_vms(L, -1, c, err);
    if (rc < 0)
      goto bad_body;
  } else {
    osc_collection_mark_incomplete(c, "the snapshot has no instances list");
  }
  lua_pop(L, 1);

  lua_getfield(L, entry_idx, "nics");
  if (lua_type(L, -1) == LUA_TTABLE) {
    rc = osc_parse_nics(L, -1, c, err);
    if (rc < 0)
      goto bad_body;
  }
  lua_pop(L, 1);

  lua_getfield(L, entry_idx, "targets");
  if (lua_type(L, -1) == LUA_TTABLE) {
    rc = osc_parse_targets(L, -1, c, err);
    if (rc < 0)
      goto bad_body;
  } else {
    osc_collection_mark_incomplete(c, "the snapshot has no targets list");
  }
  lua_pop(L, 1);
  if (env_id == NULL)
    rc = one_environment(snap, entry, c, err);
  goto done;

bad_body:
  if (rc != OSC_E_NOMEM)
    rc = osc_error_prefix(err, "snapshot %s, scale set '%s'", snap->path,
                          entry->name);
  if (err && rc != OSC_E_NOMEM)
    err->code = rc = OSC_E_USAGE;
done:
  lua_settop(L, top);
  return rc;
}

void osc_snapshot_free(struct osc_snapshot *snap) {
  if (snap == NULL)
    return;
  if (snap->L != NULL)
    lua_close(snap->L);
  heap_free(&snap->heap);
  free(snap->path);
  free(snap);
}
