/* Guards one paged list - an ARM list followed by nextLink, an Octopus
 * collection followed by Links["Page.Next"] - against a server that loops
 * or shifts under the reader (safety rule 2, README "Safety").
 * Each of these stops the list at once with OSC_E_SAFETY:
 *  - a next link seen before, or one whose $skiptoken / skip repeats;
 *  - an item id listed twice, or a page with a next link but no item;
 *  - a reported total (TotalResults) that changes between pages, or more
 *    items than it;
 *  - more pages than the reported total allows (ceil(total / per page) + 1)
 *    or, for ARM lists, than the scale set's capacity makes plausible;
 *    never more than OSC_PAGING_MAX_PAGES.
 * Messages are one line without the list's name; the caller prefixes it.
 * Memory is linear in the items (one 64-bit hash per item and link). */
#ifndef OSC_PAGING_H
#define OSC_PAGING_H

#include <stddef.h>
#include <stdint.h>

#include "core/osc_error.h"

#define OSC_PAGING_MAX_PAGES 2000

/* An open-addressing set of 64-bit hashes (0 is never stored). */
struct osc_hashset {
  uint64_t *slots;
  size_t n;
  size_t cap;
};

struct osc_paging {
  int64_t pages;        /* pages requested so far */
  int64_t max_pages;    /* the cap in force */
  const char *cap_from; /* what the cap derives from, for the message */
  int64_t total;        /* the first reported total; -1 unknown */
  size_t items;         /* distinct items seen */
  struct osc_hashset links;
  struct osc_hashset ids;
};

void osc_paging_init(struct osc_paging *pg);
void osc_paging_free(struct osc_paging *pg);

/* The list should hold about `items` entries (an ARM scale set's
 * capacity): caps the pages at 2 * items + 16 (overprovisioned extras,
 * short pages). Ignored when items < 0. */
void osc_paging_expect(struct osc_paging *pg, int64_t items);

/* Before a page is requested at url (the first URL or a followed next
 * link): counts it against the cap and remembers the URL. */
int osc_paging_begin(struct osc_paging *pg, const char *url,
                     struct osc_error *err);

/* One item of the current page, by its id (NULL ids are not tracked). */
int osc_paging_item(struct osc_paging *pg, const char *id,
                    struct osc_error *err);

/* The page's reported total and page size (Octopus TotalResults and
 * ItemsPerPage; per_page <= 0 when absent). */
int osc_paging_total(struct osc_paging *pg, int64_t total, int64_t per_page,
                     struct osc_error *err);

/* The page is read: it held n_items items and points at next (NULL at the
 * end of the list). */
int osc_paging_end(struct osc_paging *pg, size_t n_items, const char *next,
                   struct osc_error *err);

#endif
