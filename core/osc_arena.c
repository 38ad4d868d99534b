#include "core/osc_arena.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_SIZE (64 * 1024)

struct osc_arena_chunk {
  struct osc_arena_chunk *next;
  size_t used;
  size_t size;
  alignas(max_align_t) unsigned char data[];
};

void *osc_arena_alloc(struct osc_arena *a, size_t size) {
  const size_t align = alignof(max_align_t);
  struct osc_arena_chunk *c = a->head;
  size_t need = (size + align - 1) & ~(align - 1);
  void *p;

  if (need == 0)
    need = align;
  if (c == NULL || c->size - c->used < need) {
    size_t sz = need > CHUNK_SIZE / 2 ? need : CHUNK_SIZE;

    c = malloc(sizeof(*c) + sz);
    if (c == NULL)
      return NULL;
    c->used = 0;
    c->size = sz;
    /* Big blocks go behind the current chunk so its free tail stays usable. */
    if (a->head != NULL && sz != CHUNK_SIZE) {
      c->next = a->head->next;
      a->head->next = c;
    } else {
      c->next = a->head;
      a->head = c;
    }
  }
  p = c->data + c->used;
  c->used += need;
  memset(p, 0, need);
  return p;
}

char *osc_arena_strndup(struct osc_arena *a, const char *s, size_t n) {
  char *p = osc_arena_alloc(a, n + 1);

  if (p == NULL)
    return NULL;
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

char *osc_arena_strdup(struct osc_arena *a, const char *s) {
  return s ? osc_arena_strndup(a, s, strlen(s)) : NULL;
}

void osc_arena_free(struct osc_arena *a) {
  struct osc_arena_chunk *c = a->head;

  while (c != NULL) {
    struct osc_arena_chunk *next = c->next;

    free(c);
    c = next;
  }
  a->head = NULL;
}
