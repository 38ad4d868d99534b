/* A bump allocator for data with one lifetime (a collected scale set, a
 * plan): strings and arrays are allocated here and freed all at once, which
 * keeps the parsers' error paths trivial. */
#ifndef OSC_ARENA_H
#define OSC_ARENA_H

#include <stddef.h>

struct osc_arena_chunk;

struct osc_arena {
  struct osc_arena_chunk *head;
};

#define OSC_ARENA_INIT                                                         \
  { NULL }

/* Returns NULL when out of memory. Memory is zeroed and max-aligned. */
void *osc_arena_alloc(struct osc_arena *a, size_t size);
char *osc_arena_strdup(struct osc_arena *a, const char *s);
char *osc_arena_strndup(struct osc_arena *a, const char *s, size_t n);
void osc_arena_free(struct osc_arena *a);

#endif
