#include "core/osc_paging.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME 1099511628211ULL

static uint64_t fnv(uint64_t h, const char *s, size_t n) {
  size_t i;

  for (i = 0; i < n; i++) {
    int c = (unsigned char)s[i];

    if (c >= 'A' && c <= 'Z')
      c += 'a' - 'A';
    h ^= (uint64_t)c;
    h *= FNV_PRIME;
  }
  return h;
}

/* A hash with a domain ("link", "token", "id"), never 0. */
static uint64_t hash_of(const char *domain, const char *s, size_t n) {
  uint64_t h = fnv(FNV_OFFSET, domain, strlen(domain) + 1);

  h = fnv(h, s, n);
  return h ? h : 1;
}

static bool set_has(const struct osc_hashset *s, uint64_t h) {
  size_t i;

  if (s->cap == 0)
    return false;
  for (i = (size_t)h & (s->cap - 1); s->slots[i] != 0;
       i = (i + 1) & (s->cap - 1)) {
    if (s->slots[i] == h)
      return true;
  }
  return false;
}

static void set_put_unchecked(struct osc_hashset *s, uint64_t h) {
  size_t i = (size_t)h & (s->cap - 1);

  while (s->slots[i] != 0 && s->slots[i] != h)
    i = (i + 1) & (s->cap - 1);
  if (s->slots[i] == 0) {
    s->slots[i] = h;
    s->n++;
  }
}

/* Adds h; the table stays at most half full. */
static int set_put(struct osc_hashset *s, uint64_t h) {
  if ((s->n + 1) * 2 > s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 64;
    struct osc_hashset bigger = {NULL, 0, cap};
    size_t i;

    if (cap > SIZE_MAX / sizeof(uint64_t))
      return OSC_E_NOMEM;
    bigger.slots = calloc(cap, sizeof(uint64_t));
    if (bigger.slots == NULL)
      return OSC_E_NOMEM;
    for (i = 0; i < s->cap; i++) {
      if (s->slots[i] != 0)
        set_put_unchecked(&bigger, s->slots[i]);
    }
    free(s->slots);
    *s = bigger;
  }
  set_put_unchecked(s, h);
  return OSC_OK;
}

void osc_paging_init(struct osc_paging *pg) {
  memset(pg, 0, sizeof(*pg));
  pg->max_pages = OSC_PAGING_MAX_PAGES;
  pg->cap_from = "the hard limit";
  pg->total = -1;
}

void osc_paging_free(struct osc_paging *pg) {
  free(pg->links.slots);
  free(pg->ids.slots);
  osc_paging_init(pg);
}

static void lower_cap(struct osc_paging *pg, int64_t pages, const char *from) {
  if (pages >= 1 && pages < pg->max_pages) {
    pg->max_pages = pages;
    pg->cap_from = from;
  }
}

void osc_paging_expect(struct osc_paging *pg, int64_t items) {
  if (items >= 0 && items <= OSC_PAGING_MAX_PAGES)
    lower_cap(pg, 2 * items + 16, "the scale set's capacity");
}

/* Checks (check) or adds each paging token of url's query: $skiptoken
 * (however spelled) and Octopus's skip. */
static int each_token(const char *url, struct osc_hashset *set, bool check,
                      bool *seen) {
  static const char *const names[] = {"$skiptoken", "%24skiptoken", "skiptoken",
                                      "skip"};
  const char *p = strchr(url, '?');

  while (p != NULL && *p != '\0') {
    const char *key = p + 1;
    const char *eq = strchr(key, '=');
    size_t klen, vlen, i;

    p = strchr(key, '&');
    if (eq == NULL || (p != NULL && eq > p))
      continue;
    klen = (size_t)(eq - key);
    vlen = p != NULL ? (size_t)(p - eq - 1) : strlen(eq + 1);
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
      uint64_t h;

      if (strlen(names[i]) != klen || strncasecmp(key, names[i], klen) != 0)
        continue;
      h = hash_of(i == 3 ? "skip" : "skiptoken", eq + 1, vlen);
      if (check && set_has(set, h))
        *seen = true;
      else if (set_put(set, h) < 0)
        return OSC_E_NOMEM;
    }
  }
  return OSC_OK;
}

static int remember(struct osc_paging *pg, const char *url, bool check,
                    bool *seen, struct osc_error *err) {
  uint64_t h = hash_of("link", url, strlen(url));

  *seen = false;
  if (check && set_has(&pg->links, h)) {
    *seen = true;
    return OSC_OK;
  }
  if (set_put(&pg->links, h) < 0 ||
      each_token(url, &pg->links, check, seen) < 0)
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  return OSC_OK;
}

int osc_paging_begin(struct osc_paging *pg, const char *url,
                     struct osc_error *err) {
  bool seen;

  if (++pg->pages > pg->max_pages)
    return osc_error_set(err, OSC_E_SAFETY,
                         "more than %lld pages (the limit from %s); the "
                         "server seems to be paging in a loop",
                         (long long)pg->max_pages, pg->cap_from);
  return remember(pg, url ? url : "", false, &seen, err);
}

int osc_paging_item(struct osc_paging *pg, const char *id,
                    struct osc_error *err) {
  uint64_t h;

  if (id == NULL)
    return OSC_OK;
  h = hash_of("id", id, strlen(id));
  if (set_has(&pg->ids, h))
    return osc_error_set(err, OSC_E_SAFETY,
                         "item %.200s was already listed on an earlier page; "
                         "the list changed or loops while being read",
                         id);
  if (set_put(&pg->ids, h) < 0)
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  pg->items++;
  return OSC_OK;
}

int osc_paging_total(struct osc_paging *pg, int64_t total, int64_t per_page,
                     struct osc_error *err) {
  if (total < 0)
    return osc_error_set(err, OSC_E_SAFETY,
                         "the reported total %lld is not a count",
                         (long long)total);
  if (pg->total >= 0 && total != pg->total)
    return osc_error_set(err, OSC_E_SAFETY,
                         "the reported total changed from %lld to %lld while "
                         "the list was read",
                         (long long)pg->total, (long long)total);
  if (pg->total < 0) {
    pg->total = total;
    if (per_page > 0)
      lower_cap(pg, total / per_page + (total % per_page != 0) + 1,
                "the reported total");
  }
  return OSC_OK;
}

int osc_paging_end(struct osc_paging *pg, size_t n_items, const char *next,
                   struct osc_error *err) {
  bool seen = false;
  int rc;

  if (pg->total >= 0 && pg->items > (size_t)pg->total)
    return osc_error_set(err, OSC_E_SAFETY,
                         "%zu items listed but the reported total is %lld",
                         pg->items, (long long)pg->total);
  if (next == NULL)
    return OSC_OK;
  if (n_items == 0)
    return osc_error_set(err, OSC_E_SAFETY,
                         "a page with no item points at a next page; the "
                         "server seems to be paging in a loop");
  rc = remember(pg, next, true, &seen, err);
  if (rc < 0)
    return rc;
  if (seen)
    return osc_error_set(err, OSC_E_SAFETY,
                         "the next-page link repeats an earlier one; the "
                         "server is paging in a loop");
  return OSC_OK;
}
