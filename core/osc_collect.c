/* Live collection as a set of callbacks on one osc_http event loop.
 *
 * A run (osc_collect_parts) goes through three phases:
 *  1. Access, once for every entry: the Azure token and the Octopus space
 *     id (authorize_all). A failure here is every entry's failure.
 *  2. Reads, all in flight together (run_start, then osc_http_run):
 *     - Azure, per entry: the VMSS GET (on_vmss); its answer gives the
 *       orchestration mode, which picks the VM and NIC list URLs, and both
 *       lists start. Each list page (on_vm_page, on_nic_page) is decoded,
 *       its items fed to the list's loop guard (core/osc_paging.h: no id
 *       or link twice, no more pages than the scale set's capacity makes
 *       plausible) and the next page is sent from its nextLink (checked by
 *       osc_azure_next_link to stay on the ARM host); a page without one ends
 *       the list (vms_done, nics_done). VM pages are parsed as they come;
 *       NIC pages are only kept, because joining IPs to VMs needs them all.
 *     - Octopus: an environment or tenant name is looked up once per run
 *       however many entries name it (need_name, on_lookup). An entry whose
 *       environment id is known joins that environment's machine list
 *       (mlist_join); every entry that knows it before the list starts
 *       shares it, so one environment is read once. mlists_flush sends the
 *       first page of each list. Page 1 either fans out (mlist_fan_out:
 *       TotalResults and ItemsPerPage known and the next link pages by
 *       skip, so pages 2..n go out at once and each is checked to sit
 *       where its position says) or the list follows Page.Next links. The
 *       same guard watches these pages, and TotalResults too (it may not
 *       change between pages). Each page is parsed into every subscriber's
 *       collection.
 *     Any read that fails marks the entry incomplete (or in error for
 *     refusals) and stops that list; the other reads go on.
 *  3. Completion, per entry (finish_entry): the kept NIC pages are parsed
 *     onto the VMs, then every list must have reached its end and the
 *     machine list must hold TotalResults machines, or the collection is
 *     incomplete, which keeps the engine from deleting anything. */
#include "core/osc_collect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/osc_json.h"
#include "core/osc_log.h"
#include "core/osc_paging.h"
#include "core/osc_parse.h"
#include "core/osc_progress.h"

#define PAGE_MAX_BODY ((size_t)64 << 20)

struct osc_session {
  const struct osc_config *cfg;
  struct osc_http *http;
  struct osc_azure *azure;
  struct osc_octopus *octopus;
};

/* Progress lines show the session's requests and whether they are paced. */
static void progress_counts(void *ud, struct osc_progress_counts *out) {
  struct osc_http_stats stats;

  osc_http_get_stats(ud, &stats);
  out->requests = stats.completed + stats.failed;
  out->rate_waits = stats.rate_waits;
  out->throttled = stats.throttled;
}

int osc_session_new(const struct osc_config *cfg, struct osc_session **out,
                    struct osc_error *err) {
  struct osc_http_options opt = OSC_HTTP_OPTIONS_INIT;
  struct osc_session *s;
  int rc;

  *out = NULL;
  s = calloc(1, sizeof(*s));
  if (s == NULL)
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  s->cfg = cfg;
  opt.connect_timeout_ms = cfg->http.connect_timeout_ms;
  opt.timeout_ms = cfg->http.timeout_ms;
  opt.max_attempts = cfg->http.max_attempts;
  opt.max_retry_ms = cfg->http.max_retry_ms;
  opt.concurrency_per_host = cfg->http.concurrency;
  opt.ca_file = cfg->http.ca_file;
  rc = osc_http_new(&opt, &s->http, err);
  if (rc < 0)
    goto fail;
  osc_http_set_verbose(s->http, osc_log_enabled(OSC_LOG_DEBUG) != 0);
  osc_progress_set_counts(progress_counts, s->http);
  rc = osc_azure_new(cfg, s->http, &s->azure, err);
  if (rc < 0)
    goto fail;
  if (cfg->octopus.url != NULL && cfg->octopus.url[0] != '\0') {
    rc = osc_octopus_new(cfg, s->http, &s->octopus, err);
    if (rc < 0)
      goto fail;
  }
  *out = s;
  return OSC_OK;
fail:
  osc_session_free(s);
  return rc;
}

void osc_session_free(struct osc_session *s) {
  if (s == NULL)
    return;
  osc_octopus_free(s->octopus);
  osc_azure_free(s->azure);
  osc_progress_unset_counts(s->http);
  osc_http_free(s->http);
  free(s);
}

const struct osc_config *osc_session_config(const struct osc_session *s) {
  return s->cfg;
}

struct osc_http *osc_session_http(struct osc_session *s) {
  return s->http;
}

struct osc_azure *osc_session_azure(struct osc_session *s) {
  return s->azure;
}

struct osc_octopus *osc_session_octopus(struct osc_session *s) {
  return s->octopus;
}

/* ---- raw bodies ------------------------------------------------------- */

static void pages_free(struct osc_collect_pages *p) {
  size_t i;

  for (i = 0; i < p->n; i++)
    osc_buf_free(&p->items[i]);
  free(p->items);
  memset(p, 0, sizeof(*p));
}

/* Takes the body out of resp (the HTTP layer frees what is left). */
static int pages_take(struct osc_collect_pages *p,
                      struct osc_http_response *resp) {
  if (p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 4;
    struct osc_buf *items = realloc(p->items, cap * sizeof(*items));

    if (items == NULL)
      return OSC_E_NOMEM;
    p->items = items;
    p->cap = cap;
  }
  p->items[p->n++] = resp->body;
  osc_buf_init(&resp->body, resp->body.max);
  return OSC_OK;
}

static void raw_free(struct osc_collect_raw *raw) {
  if (raw == NULL)
    return;
  osc_buf_free(&raw->vmss);
  pages_free(&raw->vm_pages);
  pages_free(&raw->nic_pages);
  pages_free(&raw->machine_pages);
  free(raw);
}

void osc_collect_result_free(struct osc_collect_result *r) {
  if (r == NULL)
    return;
  osc_collection_free(&r->collection);
  raw_free(r->raw);
  memset(r, 0, sizeof(*r));
}

void osc_collect_result_take(struct osc_collect_result *r,
                             struct osc_collection *c,
                             struct osc_scope *scope) {
  *c = r->collection;
  *scope = r->scope;
  osc_collection_init(&r->collection, c->entry_name);
  memset(&r->scope, 0, sizeof(r->scope));
}

/* ---- one collection run ----------------------------------------------- */

struct run;

struct entry {
  struct run *run;
  const struct osc_config_scale_set *cfg;
  struct osc_collect_result *res;
  char label[512];            /* "rg-web/vmss-web" */
  struct osc_paging vm_pages; /* loop guards and page counts, per list */
  struct osc_paging nic_pages;
  bool vms_done; /* the VM list was read to its end */
  bool nics_done;
  bool machines_done;
  int64_t machines_total; /* TotalResults of the last page; -1 unknown */
  struct osc_collect_pages nic_bodies; /* parsed after the VM list */
};

/* One page request of a machine list (the callback's context). */
struct mpage {
  struct mlist *list;
  int64_t page;  /* 1-based */
  bool parallel; /* fetched by position: pages 2..n after page 1 */
};

/* One machine list (all pages) per environment, shared by the entries
 * that joined it before its first page went out. Page 1 is read first;
 * when it reports TotalResults and ItemsPerPage, pages 2..n go out at once
 * (skip = (k - 1) x ItemsPerPage), else each page follows Page.Next. */
struct mlist {
  struct run *run;
  char env_id[128];
  struct entry **subs;
  size_t n_subs;
  size_t cap_subs;
  struct osc_paging pages;
  bool started;
  struct mpage seq;  /* the page in flight when following links */
  struct mpage *par; /* pages 2..n when fetched in parallel */
  int64_t n_par;     /* their count */
  int64_t par_left;  /* not yet answered */
  int64_t per_page;  /* ItemsPerPage of page 1 */
  bool failed;       /* a page failed: the list is incomplete */
  struct mlist *next;
};

/* A name looked up once for every entry that needs it. */
struct lookup {
  struct run *run;
  enum osc_octopus_kind kind;
  const char *name;
  struct lookup *next;
};

struct run {
  struct osc_session *s;
  struct entry *entries;
  size_t n;
  unsigned parts;
  bool keep_raw;
  struct lookup *lookups;
  struct mlist *mlists;
  struct osc_error fatal; /* out of memory inside a callback */
};

static void entry_error(struct entry *e, int code, const char *msg) {
  if (e->res->error_code != OSC_OK)
    return; /* keep the first */
  e->res->error_code = code;
  snprintf(e->res->error, sizeof(e->res->error), "%s", msg);
}

/* A read failed: 401/403 and refusals are errors, the rest incomplete.
 * detail (may be NULL) is kept for the first failure. */
static void entry_failed_detail(struct entry *e, const struct osc_error *err,
                                const struct osc_apierr *detail) {
  if (detail != NULL && e->res->failure.status == 0 &&
      e->res->failure.message[0] == '\0')
    e->res->failure = *detail;
  if (err->code == OSC_E_SAFETY)
    osc_collection_mark_incomplete(&e->res->collection, err->msg);
  else
    entry_error(e, err->code, err->msg);
}

static void entry_failed(struct entry *e, const struct osc_error *err) {
  if (err->code == OSC_E_SAFETY)
    osc_collection_mark_incomplete(&e->res->collection, err->msg);
  else
    entry_error(e, err->code, err->msg);
}

/* Decodes one page and parses its items into the collection. */
enum page_kind {
  PAGE_VMSS = 0,
  PAGE_VMS,
  PAGE_NICS,
  PAGE_MACHINES,
};

struct page_call {
  struct osc_collection *c;
  struct osc_collection **cols; /* machine pages: every subscriber's */
  size_t n_cols;
  const char *body;
  size_t len;
  enum page_kind kind;
  bool parse_items; /* NIC pages are only scanned for nextLink at first */
  struct osc_paging *paging; /* the list's loop guard; NULL: none */
  bool by_position;          /* a parallel page: its next link is checked
                                by the caller, not followed */
  char *next;                /* malloc'ed next-page link, or NULL */
  int64_t total;             /* TotalResults, -1 */
  int64_t per_page;          /* ItemsPerPage, -1 */
  struct osc_error *err;
  int rc;
};

/* Feeds the ids of the page's items to the loop guard: an id listed twice
 * stops the list. */
static int guard_items(const struct osc_json_value *items,
                       struct page_call *p) {
  const char *key = p->kind == PAGE_MACHINES ? "Id" : "id";
  size_t n = osc_json_len(items);
  size_t i;

  for (i = 0; i < n && p->rc >= 0; i++) {
    const struct osc_json_value *item = osc_json_at(items, i);

    if (osc_json_is_container(item))
      p->rc = osc_paging_item(
          p->paging, osc_json_str(osc_json_get(item, key), NULL), p->err);
  }
  return p->rc;
}

/* An Octopus page's TotalResults, range-checked, into p->total and the
 * loop guard (a total that changes between pages stops the list). */
static int guard_total(const struct osc_json_value *doc, struct page_call *p) {
  const struct osc_json_value *total_value = osc_json_get(doc, "TotalResults");
  int64_t total = -1;
  int64_t per_page = -1;

  if (osc_json_int(total_value, &total) && total >= 0)
    p->total = total;
  else if (total_value != NULL)
    return p->rc = osc_error_set(p->err, OSC_E_SAFETY,
                                 "TotalResults is not a count");
  else
    return OSC_OK;
  if (!osc_json_int(osc_json_get(doc, "ItemsPerPage"), &per_page))
    per_page = -1;
  p->per_page = per_page;
  if (p->paging != NULL)
    p->rc = osc_paging_total(p->paging, total, per_page, p->err);
  return p->rc;
}

/* The page's items (value[] or Items[]) into the collection(s). */
static int parse_items(const struct osc_json_value *items,
                       struct page_call *p) {
  size_t i;

  if (p->kind == PAGE_VMS)
    return p->rc = osc_parse_vms(items, p->c, p->err);
  if (p->kind == PAGE_NICS)
    return p->rc = osc_parse_nics(items, p->c, p->err);
  for (i = 0; i < p->n_cols && p->rc >= 0; i++)
    p->rc = osc_parse_targets(items, p->cols[i], p->err);
  return p->rc;
}

/* The page's next link (NULL at the end), after the loop guard's
 * checks of the totals and the page's end. */
static int page_next(const struct osc_json_value *doc, size_t n_items,
                     struct page_call *p) {
  const char *next;

  if (p->kind == PAGE_MACHINES) {
    if (guard_total(doc, p) < 0)
      return p->rc;
    next = osc_json_str(osc_json_get(osc_json_get(doc, "Links"), "Page.Next"),
                        NULL);
  } else {
    next = osc_json_str(osc_json_get(doc, "nextLink"), NULL);
  }
  if (next != NULL && next[0] == '\0')
    next = NULL;
  if (p->paging != NULL) {
    p->rc = osc_paging_end(p->paging, n_items, p->by_position ? NULL : next,
                           p->err);
    if (p->rc < 0)
      return p->rc;
  }
  if (next != NULL) {
    p->next = strdup(next);
    if (p->next == NULL)
      return p->rc = osc_error_set(p->err, OSC_E_NOMEM, "out of memory");
  }
  return OSC_OK;
}

/* The decoded page: its kind's checks, items and next link. */
static int read_page(const struct osc_json_value *doc, struct page_call *p) {
  const char *items_key = p->kind == PAGE_MACHINES ? "Items" : "value";
  const struct osc_json_value *items;

  if (!osc_json_is_container(doc))
    return p->rc =
               osc_error_set(p->err, OSC_E_SAFETY, "response is not an object");
  if (p->kind == PAGE_VMSS)
    return p->rc = osc_parse_vmss(doc, p->c, p->err);
  items = osc_json_get(doc, items_key);
  if (!osc_json_is_container(items))
    return p->rc = osc_error_set(p->err, OSC_E_SAFETY, "response has no %s",
                                 items_key);
  if (p->paging != NULL && guard_items(items, p) < 0)
    return p->rc;
  if (p->parse_items && parse_items(items, p) < 0)
    return p->rc;
  return page_next(doc, osc_json_len(items), p);
}

/* Decodes one page and reads it (p->next is malloc'ed when rc >= 0). */
static int run_page(struct page_call *p) {
  struct osc_json_doc *doc = NULL;

  p->next = NULL;
  p->total = -1;
  p->rc = osc_json_parse(p->body, p->len, "response", &doc, p->err);
  if (p->rc >= 0)
    read_page(osc_json_root(doc), p);
  osc_json_doc_free(doc);
  if (p->rc < 0) {
    free(p->next);
    p->next = NULL;
  }
  return p->rc;
}

static void on_vmss(void *ud, const struct osc_http_request *req,
                    struct osc_http_response *resp,
                    const struct osc_error *herr);
static void on_vm_page(void *ud, const struct osc_http_request *req,
                       struct osc_http_response *resp,
                       const struct osc_error *herr);
static void on_nic_page(void *ud, const struct osc_http_request *req,
                        struct osc_http_response *resp,
                        const struct osc_error *herr);
static void on_mlist_page(void *ud, const struct osc_http_request *req,
                          struct osc_http_response *resp,
                          const struct osc_error *herr);

/* Submits an Azure GET with the (cached) bearer token. */
static int submit_azure(struct entry *e, const char *url, const char *what,
                        osc_http_done_fn done, struct osc_error *err) {
  struct osc_session *s = e->run->s;
  struct osc_http_header hdr[2];
  struct osc_http_request req;
  struct osc_apierr detail;
  int rc;

  rc = osc_azure_authorize(s->azure, &hdr[0], &detail, err);
  if (rc < 0)
    return rc;
  hdr[1].name = "Accept";
  hdr[1].value = "application/json";
  hdr[1].secret = false;
  memset(&req, 0, sizeof(req));
  req.method = "GET";
  req.url = url;
  req.headers = hdr;
  req.n_headers = 2;
  req.what = what;
  req.max_body = PAGE_MAX_BODY;
  return osc_http_submit(s->http, &req, done, e, err);
}

static int submit_octopus(struct osc_session *s, const char *url,
                          const char *what, osc_http_done_fn done, void *ud,
                          struct osc_error *err) {
  struct osc_http_header hdr[2];
  struct osc_http_request req;

  memset(&req, 0, sizeof(req));
  req.method = "GET";
  req.url = url;
  req.headers = hdr;
  req.n_headers = osc_octopus_headers(s->octopus, hdr);
  req.what = what;
  req.max_body = PAGE_MAX_BODY;
  return osc_http_submit(s->http, &req, done, ud, err);
}

static void what_vm_page(struct entry *e, int page, char *out, size_t cap) {
  snprintf(out, cap, "Azure VM list page %d (%s)", page, e->label);
}

static void what_nic_page(struct entry *e, int page, char *out, size_t cap) {
  snprintf(out, cap, "Azure NIC list page %d (%s)", page, e->label);
}

/* Starts (url != NULL) or continues (next link) a list. */
static void next_vm_page(struct entry *e, const char *url) {
  struct osc_error err = OSC_ERROR_INIT;
  char what[640];
  int rc = osc_paging_begin(&e->vm_pages, url, &err);

  what_vm_page(e, (int)e->vm_pages.pages, what, sizeof(what));
  if (rc < 0)
    osc_error_prefix(&err, "%s", what);
  if (rc < 0 || submit_azure(e, url, what, on_vm_page, &err) < 0)
    entry_failed(e, &err);
}

static void next_nic_page(struct entry *e, const char *url) {
  struct osc_error err = OSC_ERROR_INIT;
  char what[640];
  int rc = osc_paging_begin(&e->nic_pages, url, &err);

  what_nic_page(e, (int)e->nic_pages.pages, what, sizeof(what));
  if (rc < 0)
    osc_error_prefix(&err, "%s", what);
  if (rc < 0 || submit_azure(e, url, what, on_nic_page, &err) < 0)
    entry_failed(e, &err);
}

/* Common handling of an Azure page: HTTP failure, then decode + parse. */
static int azure_page(struct entry *e, const char *what,
                      struct osc_http_response *resp,
                      const struct osc_error *herr, enum page_kind kind,
                      struct osc_paging *paging, char **next) {
  struct osc_session *s = e->run->s;
  struct osc_error err = OSC_ERROR_INIT;
  struct page_call p;

  *next = NULL;
  if (herr != NULL || resp->status != 200) {
    struct osc_apierr detail;

    osc_azure_fail(s->azure, what, resp, herr, &detail, &err);
    entry_failed_detail(e, &err, &detail);
    return -1;
  }
  memset(&p, 0, sizeof(p));
  p.c = &e->res->collection;
  p.body = resp->body.data ? resp->body.data : "";
  p.len = resp->body.len;
  p.kind = kind;
  /* NIC pages are parsed after the VM list is complete: the join needs
   * every VM. */
  p.parse_items = kind != PAGE_NICS;
  p.paging = paging;
  p.err = &err;
  if (run_page(&p) < 0) {
    osc_error_prefix(&err, "%s", what);
    if (err.code != OSC_E_NOMEM)
      err.code = OSC_E_SAFETY;
    entry_failed(e, &err);
    return -1;
  }
  *next = p.next;
  return 0;
}

/* A nextLink, checked and fixed, or NULL with the entry marked. */
static char *azure_next(struct entry *e, const char *what, const char *link) {
  struct osc_error err = OSC_ERROR_INIT;
  char *url = NULL;

  if (osc_azure_next_link(e->run->s->azure, link, &url, &err) < 0) {
    osc_error_prefix(&err, "%s", what);
    err.code = OSC_E_SAFETY;
    entry_failed(e, &err);
    return NULL;
  }
  return url;
}

static void on_vmss(void *ud, const struct osc_http_request *req,
                    struct osc_http_response *resp,
                    const struct osc_error *herr) {
  struct entry *e = ud;
  struct osc_session *s = e->run->s;
  struct osc_collection *c = &e->res->collection;
  struct osc_error err = OSC_ERROR_INIT;
  char what[640];
  char *next = NULL;
  char *url = NULL;

  (void)req;
  snprintf(what, sizeof(what), "Azure VMSS GET %s", e->label);
  if (azure_page(e, what, resp, herr, PAGE_VMSS, NULL, &next) < 0)
    return;
  /* Without properties the body tells neither the mode nor whether the
   * scale set is Updating (safety rule 2 needs both): a failed read. */
  if (c->vmss.provisioning_state == NULL) {
    osc_error_set(&err, OSC_E_SAFETY,
                  "%s: the body has no properties.provisioningState", what);
    entry_failed(e, &err);
    return;
  }
  osc_paging_expect(&e->vm_pages, c->vmss.capacity);
  if (e->run->keep_raw) {
    e->res->raw->vmss = resp->body;
    osc_buf_init(&resp->body, resp->body.max);
  }
  if (osc_azure_vm_list_url(s->azure, e->cfg->subscription,
                            e->cfg->resource_group, e->cfg->vmss, c->vmss.id,
                            c->vmss.mode, &url, &err) < 0) {
    entry_failed(e, &err);
    return;
  }
  next_vm_page(e, url);
  free(url);
  url = NULL;
  if (osc_azure_nic_list_url(s->azure, e->cfg->subscription,
                             e->cfg->resource_group, e->cfg->vmss, c->vmss.mode,
                             &url, &err) < 0) {
    entry_failed(e, &err);
    return;
  }
  next_nic_page(e, url);
  free(url);
}

static void on_vm_page(void *ud, const struct osc_http_request *req,
                       struct osc_http_response *resp,
                       const struct osc_error *herr) {
  struct entry *e = ud;
  char what[640];
  char *next = NULL;
  char *url;

  (void)req;
  what_vm_page(e, (int)e->vm_pages.pages, what, sizeof(what));
  if (azure_page(e, what, resp, herr, PAGE_VMS, &e->vm_pages, &next) < 0)
    return;
  if (e->run->keep_raw && pages_take(&e->res->raw->vm_pages, resp) < 0) {
    osc_error_set(&e->run->fatal, OSC_E_NOMEM, "out of memory");
    entry_error(e, OSC_E_NOMEM, "out of memory");
  }
  if (next == NULL) {
    e->vms_done = true;
    return;
  }
  url = azure_next(e, what, next);
  free(next);
  if (url != NULL)
    next_vm_page(e, url);
  free(url);
}

static void on_nic_page(void *ud, const struct osc_http_request *req,
                        struct osc_http_response *resp,
                        const struct osc_error *herr) {
  struct entry *e = ud;
  char what[640];
  char *next = NULL;
  char *url;

  (void)req;
  what_nic_page(e, (int)e->nic_pages.pages, what, sizeof(what));
  if (azure_page(e, what, resp, herr, PAGE_NICS, &e->nic_pages, &next) < 0)
    return;
  if (pages_take(&e->nic_bodies, resp) < 0) {
    osc_error_set(&e->run->fatal, OSC_E_NOMEM, "out of memory");
    entry_error(e, OSC_E_NOMEM, "out of memory");
    free(next);
    return;
  }
  if (next == NULL) {
    e->nics_done = true;
    return;
  }
  url = azure_next(e, what, next);
  free(next);
  if (url != NULL)
    next_nic_page(e, url);
  free(url);
}

/* ---- Octopus machine lists ------------------------------------------------
 */

static void what_mlist_page(const struct mlist *l, int page, char *out,
                            size_t cap) {
  if (l->n_subs == 1)
    snprintf(out, cap, "Octopus machines list page %d (%s)", page,
             l->subs[0]->cfg->name);
  else
    snprintf(out, cap, "Octopus machines list page %d (environment %s)", page,
             l->env_id);
}

static void mlist_failed(struct mlist *l, const struct osc_error *err,
                         const struct osc_apierr *detail) {
  size_t i;

  l->failed = true;
  for (i = 0; i < l->n_subs; i++)
    entry_failed_detail(l->subs[i], err, detail);
}

/* Sends page mp->page of the list at url. */
static int send_mlist_page(struct mpage *mp, const char *url) {
  struct mlist *l = mp->list;
  struct osc_error err = OSC_ERROR_INIT;
  char what[640];
  int rc = osc_paging_begin(&l->pages, url, &err);

  what_mlist_page(l, (int)mp->page, what, sizeof(what));
  if (rc < 0)
    osc_error_prefix(&err, "%s", what);
  if (rc >= 0)
    rc = submit_octopus(l->run->s, url, what, on_mlist_page, mp, &err);
  if (rc < 0)
    mlist_failed(l, &err, NULL);
  return rc;
}

/* The next page by its link (the first page: the list's URL). */
static void next_mlist_page(struct mlist *l, const char *url) {
  l->seq.list = l;
  l->seq.page = l->pages.pages + 1;
  l->seq.parallel = false;
  send_mlist_page(&l->seq, url);
}

/* The value of the "skip" query parameter of a link; -1 when absent. */
static int64_t link_skip(const char *link) {
  const char *q = strchr(link, '?');
  int64_t v = -1;

  while (q != NULL) {
    q++;
    if (strncasecmp(q, "skip=", 5) == 0) {
      const char *d = q + 5;

      v = 0;
      while (*d >= '0' && *d <= '9' && v < INT64_MAX / 10)
        v = v * 10 + (*d++ - '0');
      if (d == q + 5 || (*d != '\0' && *d != '&' && *d != '#'))
        return -1;
    }
    q = strchr(q, '&');
  }
  return v;
}

/* url with its "skip" query value replaced (malloc'ed; NULL when it has
 * none or on no memory). */
static char *with_skip(const char *url, int64_t skip) {
  const char *q = strchr(url, '?');
  struct osc_buf b;

  while (q != NULL && strncasecmp(q + 1, "skip=", 5) != 0)
    q = strchr(q + 1, '&');
  if (q == NULL)
    return NULL;
  osc_buf_init(&b, strlen(url) + 32);
  if (osc_buf_append(&b, url, (size_t)(q + 6 - url), NULL) < 0 ||
      osc_buf_printf(&b, NULL, "%lld", (long long)skip) < 0 ||
      osc_buf_puts(&b, q + 6 + strspn(q + 6, "0123456789"), NULL) < 0) {
    osc_buf_free(&b);
    return NULL;
  }
  return osc_buf_detach(&b);
}

/* After page 1: pages 2..n at once, when page 1 said how many there are
 * and its next link pages by skip. Snapshots keep the pages in order:
 * they follow the links. Returns false to follow links instead. */
static bool mlist_fan_out(struct mlist *l, const struct page_call *p,
                          const char *next_url) {
  int64_t n;
  int64_t k;

  if (l->run->keep_raw || p->total < 0 || p->per_page <= 0 ||
      link_skip(next_url) != p->per_page)
    return false;
  n = p->total / p->per_page + (p->total % p->per_page != 0);
  if (n < 2 || n > OSC_PAGING_MAX_PAGES)
    return false;
  l->par = calloc((size_t)(n - 1), sizeof(*l->par));
  if (l->par == NULL)
    return false;
  l->n_par = n - 1;
  l->par_left = n - 1;
  l->per_page = p->per_page;
  for (k = 2; k <= n && !l->failed; k++) {
    struct mpage *mp = &l->par[k - 2];
    char *url = with_skip(next_url, (k - 1) * p->per_page);
    struct osc_error err = OSC_ERROR_INIT;

    mp->list = l;
    mp->page = k;
    mp->parallel = true;
    if (url == NULL) {
      osc_error_set(&err, OSC_E_NOMEM, "out of memory");
      mlist_failed(l, &err, NULL);
    } else {
      send_mlist_page(mp, url);
    }
    free(url);
  }
  /* Pages never sent will never answer. */
  l->par_left -= (n - 1) - (k - 2);
  return true;
}

/* A copy of a page body for a subscriber's raw pages (snapshot). */
static int pages_copy(struct osc_collect_pages *p,
                      const struct osc_http_response *resp) {
  struct osc_http_response tmp;
  int rc;

  osc_http_response_init(&tmp, resp->body.max);
  if (resp->body.len > 0 &&
      osc_buf_append(&tmp.body, resp->body.data, resp->body.len, NULL) < 0) {
    osc_http_response_free(&tmp);
    return OSC_E_NOMEM;
  }
  rc = pages_take(p, &tmp);
  osc_http_response_free(&tmp);
  return rc;
}

/* Decodes a machine page into every subscriber's collection. */
static int mlist_parse(struct mlist *l, const struct mpage *mp,
                       const struct osc_http_response *resp,
                       struct page_call *p, struct osc_error *err) {
  struct osc_collection *cols[64];
  struct osc_collection **colv = cols;
  size_t i;

  if (l->n_subs > sizeof(cols) / sizeof(cols[0])) {
    colv = calloc(l->n_subs, sizeof(*colv));
    if (colv == NULL)
      return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  }
  for (i = 0; i < l->n_subs; i++)
    colv[i] = &l->subs[i]->res->collection;
  memset(p, 0, sizeof(*p));
  p->cols = colv;
  p->n_cols = l->n_subs;
  p->body = resp->body.data ? resp->body.data : "";
  p->len = resp->body.len;
  p->kind = PAGE_MACHINES;
  p->parse_items = true;
  p->paging = &l->pages;
  p->by_position = mp->parallel;
  p->err = err;
  run_page(p);
  if (colv != cols)
    free(colv);
  return p->rc;
}

/* A page fetched by position must point where the next page is (the
 * last: nowhere); anything else is a list that loops or moved. */
static int mlist_check_position(const struct mlist *l, const struct mpage *mp,
                                const struct page_call *p,
                                struct osc_error *err) {
  int64_t last = l->n_par + 1;
  int64_t want = mp->page < last ? mp->page * l->per_page : -1;
  int64_t got = p->next != NULL ? link_skip(p->next) : -1;

  if (got == want)
    return OSC_OK;
  if (want < 0)
    return osc_error_set(err, OSC_E_SAFETY,
                         "page %lld of %lld (by TotalResults) points at a next "
                         "page; the list changed while being read",
                         (long long)mp->page, (long long)last);
  return osc_error_set(err, OSC_E_SAFETY,
                       "its next-page link (skip %lld) is not the next page "
                       "(skip %lld); the server is paging in a loop or the "
                       "list changed while being read",
                       (long long)got, (long long)want);
}

/* The page is in: totals, raw pages, and whether the list is complete. */
static void mlist_page_read(struct mlist *l, const struct mpage *mp,
                            const struct page_call *p,
                            const struct osc_http_response *resp) {
  struct run *r = l->run;
  bool done = mp->parallel ? l->par_left == 0 && !l->failed : p->next == NULL;
  size_t i;

  for (i = 0; i < l->n_subs; i++) {
    struct entry *e = l->subs[i];

    if (p->total >= 0)
      e->machines_total = p->total;
    if (r->keep_raw && pages_copy(&e->res->raw->machine_pages, resp) < 0) {
      osc_error_set(&r->fatal, OSC_E_NOMEM, "out of memory");
      entry_error(e, OSC_E_NOMEM, "out of memory");
    }
    if (done)
      e->machines_done = true;
  }
}

static void on_mlist_page(void *ud, const struct osc_http_request *req,
                          struct osc_http_response *resp,
                          const struct osc_error *herr) {
  struct mpage *mp = ud;
  struct mlist *l = mp->list;
  struct osc_session *s = l->run->s;
  struct osc_error err = OSC_ERROR_INIT;
  struct page_call p;
  char what[640];
  char *url = NULL;

  (void)req;
  if (mp->parallel)
    l->par_left--;
  what_mlist_page(l, (int)mp->page, what, sizeof(what));
  if (herr != NULL || resp->status != 200) {
    struct osc_apierr detail;

    osc_octopus_fail(s->octopus, what, resp, herr, OSC_E_SAFETY, &detail, &err);
    mlist_failed(l, &err, &detail);
    return;
  }
  if (mlist_parse(l, mp, resp, &p, &err) >= 0 && mp->parallel)
    mlist_check_position(l, mp, &p, &err);
  if (err.code != OSC_OK) {
    osc_error_prefix(&err, "%s", what);
    if (err.code != OSC_E_NOMEM)
      err.code = OSC_E_SAFETY;
    mlist_failed(l, &err, NULL);
    free(p.next);
    return;
  }
  mlist_page_read(l, mp, &p, resp);
  if (p.next != NULL && !mp->parallel) {
    if (osc_octopus_link_url(s->octopus, p.next, &url, &err) < 0) {
      osc_error_prefix(&err, "%s", what);
      err.code = OSC_E_SAFETY;
      mlist_failed(l, &err, NULL);
    } else if (mp->page > 1 || !mlist_fan_out(l, &p, url)) {
      next_mlist_page(l, url);
    }
  }
  free(p.next);
  free(url);
}

/* Joins the entry to the (not yet started) list of its environment. */
static void mlist_join(struct entry *e, const char *environment_id) {
  struct run *r = e->run;
  struct mlist *l;

  for (l = r->mlists; l != NULL; l = l->next) {
    if (!l->started && strcasecmp(l->env_id, environment_id) == 0)
      break;
  }
  if (l == NULL) {
    l = calloc(1, sizeof(*l));
    if (l == NULL || strlen(environment_id) >= sizeof(l->env_id)) {
      free(l);
      entry_error(e, OSC_E_NOMEM, "out of memory");
      return;
    }
    l->run = r;
    osc_paging_init(&l->pages);
    memcpy(l->env_id, environment_id, strlen(environment_id) + 1);
    l->next = r->mlists;
    r->mlists = l;
  }
  if (l->n_subs == l->cap_subs) {
    size_t cap = l->cap_subs ? l->cap_subs * 2 : 4;
    struct entry **subs = realloc(l->subs, cap * sizeof(*subs));

    if (subs == NULL) {
      entry_error(e, OSC_E_NOMEM, "out of memory");
      return;
    }
    l->subs = subs;
    l->cap_subs = cap;
  }
  l->subs[l->n_subs++] = e;
}

/* Sends the first page of every list that has not started. */
static void mlists_flush(struct run *r) {
  struct mlist *l;

  for (l = r->mlists; l != NULL; l = l->next) {
    struct osc_error err = OSC_ERROR_INIT;
    char *url = NULL;

    if (l->started)
      continue;
    l->started = true;
    if (osc_octopus_machines_url(r->s->octopus, l->env_id, &url, &err) < 0)
      mlist_failed(l, &err, NULL);
    else
      next_mlist_page(l, url);
    free(url);
  }
}

/* ---- names ------------------------------------------------------------ */

static const char *entry_name_for(const struct entry *e,
                                  enum osc_octopus_kind kind) {
  return kind == OSC_OCTOPUS_ENVIRONMENT ? e->cfg->environment : e->cfg->tenant;
}

/* The entry's environment is known: list its machines (one list per
 * environment for the entries that know it at the same time). */
static void start_machines(struct entry *e, const char *environment_id) {
  e->res->scope.environment_id =
      osc_arena_strdup(&e->res->collection.arena, environment_id);
  if (e->res->scope.environment_id == NULL) {
    entry_error(e, OSC_E_NOMEM, "out of memory");
    return;
  }
  if (e->run->parts & OSC_COLLECT_OCTOPUS)
    mlist_join(e, environment_id); /* sent by mlists_flush */
}

static void name_known(struct entry *e, enum osc_octopus_kind kind,
                       const char *id) {
  if (kind == OSC_OCTOPUS_ENVIRONMENT) {
    start_machines(e, id);
    return;
  }
  e->res->scope.tenant_id = osc_arena_strdup(&e->res->collection.arena, id);
  if (e->res->scope.tenant_id == NULL)
    entry_error(e, OSC_E_NOMEM, "out of memory");
}

static void on_lookup(void *ud, const struct osc_http_request *req,
                      struct osc_http_response *resp,
                      const struct osc_error *herr) {
  struct lookup *l = ud;
  struct run *r = l->run;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_apierr detail;
  const char *id = NULL;
  size_t i;
  int rc;

  (void)req;
  rc = osc_octopus_lookup_done(r->s->octopus, l->kind, l->name, resp, herr, &id,
                               &detail, &err);
  for (i = 0; i < r->n; i++) {
    struct entry *e = &r->entries[i];
    const char *want = entry_name_for(e, l->kind);

    if (want == NULL || strcasecmp(want, l->name) != 0)
      continue;
    if (rc < 0)
      entry_failed_detail(e, &err, &detail);
    else
      name_known(e, l->kind, id);
  }
  mlists_flush(r); /* every entry of this environment joined */
}

/* Resolves (or queues the lookup of) the entry's name of this kind. */
static void need_name(struct run *r, struct entry *e,
                      enum osc_octopus_kind kind) {
  struct osc_session *s = r->s;
  struct osc_error err = OSC_ERROR_INIT;
  const char *name = entry_name_for(e, kind);
  const char *id;
  struct lookup *l;
  char what[320];
  char *url = NULL;

  if (name == NULL || name[0] == '\0') {
    if (kind == OSC_OCTOPUS_ENVIRONMENT)
      entry_error(e, OSC_E_CONFIG, "no Octopus environment configured");
    return;
  }
  id = osc_octopus_cached(s->octopus, kind, name);
  if (id != NULL) {
    name_known(e, kind, id);
    return;
  }
  for (l = r->lookups; l != NULL; l = l->next) {
    if (l->kind == kind && strcasecmp(l->name, name) == 0)
      return; /* in flight: on_lookup serves this entry too */
  }
  l = calloc(1, sizeof(*l));
  if (l == NULL) {
    entry_error(e, OSC_E_NOMEM, "out of memory");
    return;
  }
  l->run = r;
  l->kind = kind;
  l->name = name;
  l->next = r->lookups;
  r->lookups = l;
  snprintf(what, sizeof(what), "Octopus %s lookup '%s'",
           osc_octopus_kind_name(kind), name);
  if (osc_octopus_lookup_url(s->octopus, kind, name, &url, &err) < 0 ||
      submit_octopus(s, url, what, on_lookup, l, &err) < 0)
    entry_failed(e, &err);
  free(url);
}

/* ---- the run ---------------------------------------------------------- */

static int init_result(struct entry *e, bool keep_raw) {
  struct osc_collect_result *res = e->res;
  const struct osc_config_scale_set *cfg = e->cfg;
  struct osc_collection *c = &res->collection;
  size_t i;

  memset(res, 0, sizeof(*res));
  osc_collection_init(c, cfg->name);
  if (c->entry_name == NULL)
    return OSC_E_NOMEM;
  if (cfg->roles.n > 0) {
    res->scope.roles.items =
        osc_arena_alloc(&c->arena, cfg->roles.n * sizeof(char *));
    if (res->scope.roles.items == NULL)
      return OSC_E_NOMEM;
    for (i = 0; i < cfg->roles.n; i++) {
      res->scope.roles.items[i] =
          osc_arena_strdup(&c->arena, cfg->roles.items[i]);
      if (res->scope.roles.items[i] == NULL)
        return OSC_E_NOMEM;
    }
    res->scope.roles.n = cfg->roles.n;
  }
  if (keep_raw) {
    res->raw = calloc(1, sizeof(*res->raw));
    if (res->raw == NULL)
      return OSC_E_NOMEM;
    osc_buf_init(&res->raw->vmss, PAGE_MAX_BODY);
  }
  snprintf(e->label, sizeof(e->label), "%s/%s",
           cfg->resource_group ? cfg->resource_group : "?",
           cfg->vmss ? cfg->vmss : "?");
  e->machines_total = -1;
  osc_paging_init(&e->vm_pages);
  osc_paging_init(&e->nic_pages);
  return OSC_OK;
}

static void start_azure(struct run *r, struct entry *e) {
  struct osc_session *s = r->s;
  struct osc_error err = OSC_ERROR_INIT;
  char what[640];
  char *url = NULL;

  snprintf(what, sizeof(what), "Azure VMSS GET %s", e->label);
  if (osc_azure_vmss_url(s->azure, e->cfg->subscription, e->cfg->resource_group,
                         e->cfg->vmss, &url, &err) < 0 ||
      submit_azure(e, url, what, on_vmss, &err) < 0)
    entry_failed(e, &err);
  free(url);
}

/* After osc_http_run: NICs onto VMs, completeness checks. */
static void finish_entry(struct run *r, struct entry *e) {
  struct osc_collection *c = &e->res->collection;
  char msg[OSC_ERROR_MAX];
  size_t i;

  if (r->parts & OSC_COLLECT_AZURE && e->res->error_code == OSC_OK &&
      c->complete) {
    for (i = 0; i < e->nic_bodies.n; i++) {
      struct osc_error err = OSC_ERROR_INIT;
      struct page_call p;
      struct osc_buf *b = &e->nic_bodies.items[i];
      char what[640];

      memset(&p, 0, sizeof(p));
      p.c = c;
      p.body = b->data ? b->data : "";
      p.len = b->len;
      p.kind = PAGE_NICS;
      p.parse_items = true;
      p.err = &err;
      if (run_page(&p) < 0) {
        what_nic_page(e, (int)i + 1, what, sizeof(what));
        osc_error_prefix(&err, "%s", what);
        if (err.code != OSC_E_NOMEM)
          err.code = OSC_E_SAFETY;
        entry_failed(e, &err);
        break;
      }
      free(p.next);
    }
  }
  if (r->keep_raw && e->res->raw != NULL) {
    /* The snapshot keeps the NIC bodies too. */
    e->res->raw->nic_pages = e->nic_bodies;
    memset(&e->nic_bodies, 0, sizeof(e->nic_bodies));
  }
  pages_free(&e->nic_bodies);
  /* Every list must have reached its end (a failure already said why). */
  if (e->res->error_code == OSC_OK && c->complete) {
    if ((r->parts & OSC_COLLECT_AZURE) && !(e->vms_done && e->nics_done)) {
      snprintf(msg, sizeof(msg), "Azure lists of %s were not read to the end",
               e->label);
      osc_collection_mark_incomplete(c, msg);
    } else if ((r->parts & OSC_COLLECT_OCTOPUS) && !e->machines_done) {
      snprintf(msg, sizeof(msg),
               "Octopus machines list of %s was not read to the end",
               e->cfg->name);
      osc_collection_mark_incomplete(c, msg);
    } else if ((r->parts & OSC_COLLECT_OCTOPUS) && e->machines_total >= 0 &&
               (int64_t)c->n_targets < e->machines_total) {
      snprintf(msg, sizeof(msg),
               "Octopus machines list of %s returned %zu of %lld machines",
               e->cfg->name, c->n_targets, (long long)e->machines_total);
      osc_collection_mark_incomplete(c, msg);
    }
  }
}

/* Sets up the run and every entry's result (all freed on failure). */
static int run_init(struct run *r, struct osc_session *s,
                    const struct osc_config_scale_set *const *entries, size_t n,
                    unsigned parts, bool keep_raw,
                    struct osc_collect_result *results) {
  size_t i;

  memset(r, 0, sizeof(*r));
  r->s = s;
  r->n = n;
  r->parts = parts;
  r->keep_raw = keep_raw;
  r->entries = calloc(n ? n : 1, sizeof(*r->entries));
  if (r->entries == NULL)
    return OSC_E_NOMEM;
  for (i = 0; i < n; i++) {
    r->entries[i].run = r;
    r->entries[i].cfg = entries[i];
    r->entries[i].res = &results[i];
    if (init_result(&r->entries[i], keep_raw) < 0) {
      size_t j;

      for (j = 0; j <= i; j++)
        osc_collect_result_free(&results[j]);
      free(r->entries);
      r->entries = NULL;
      return OSC_E_NOMEM;
    }
  }
  return OSC_OK;
}

static void run_free(struct run *r) {
  size_t i;

  while (r->mlists != NULL) {
    struct mlist *l = r->mlists;

    r->mlists = l->next;
    osc_paging_free(&l->pages);
    free(l->par);
    free(l->subs);
    free(l);
  }
  while (r->lookups != NULL) {
    struct lookup *l = r->lookups;

    r->lookups = l->next;
    free(l);
  }
  for (i = 0; i < r->n; i++) {
    pages_free(&r->entries[i].nic_bodies);
    osc_paging_free(&r->entries[i].vm_pages);
    osc_paging_free(&r->entries[i].nic_pages);
  }
  free(r->entries);
}

/* Phase 1: the Azure token and the Octopus space, once for every entry;
 * a failure is each entry's (detail says what the server answered). */
struct run_access {
  bool az_ok;
  bool oc_ok;
  struct osc_error az_err;
  struct osc_error oc_err;
  struct osc_apierr az_detail;
  struct osc_apierr oc_detail;
};

static void authorize_all(struct run *r, struct run_access *a) {
  struct osc_session *s = r->s;
  struct osc_http_header auth;

  memset(a, 0, sizeof(*a));
  osc_apierr_clear(&a->az_detail);
  osc_apierr_clear(&a->oc_detail);
  if (r->parts & OSC_COLLECT_AZURE)
    a->az_ok = osc_azure_authorize(s->azure, &auth, &a->az_detail,
                                   &a->az_err) == OSC_OK;
  if (!(r->parts & OSC_COLLECT_OCTOPUS))
    return;
  if (s->octopus == NULL) {
    osc_error_set(&a->oc_err, OSC_E_CONFIG, "no Octopus URL (octopus.url)");
  } else {
    const char *space =
        s->cfg->octopus.space ? s->cfg->octopus.space : "Default";
    const char *id;

    a->oc_ok = osc_octopus_resolve(s->octopus, OSC_OCTOPUS_SPACE, space, &id,
                                   &a->oc_detail, &a->oc_err) == OSC_OK;
  }
}

/* Phase 2: every entry's first reads in flight together. */
static void run_start(struct run *r, const struct run_access *a) {
  size_t i;

  for (i = 0; i < r->n; i++) {
    struct entry *e = &r->entries[i];

    if (r->parts & OSC_COLLECT_AZURE) {
      if (a->az_ok)
        start_azure(r, e);
      else
        entry_failed_detail(e, &a->az_err, &a->az_detail);
    }
    if (r->parts & OSC_COLLECT_OCTOPUS) {
      if (!a->oc_ok) {
        entry_failed_detail(e, &a->oc_err, &a->oc_detail);
      } else {
        need_name(r, e, OSC_OCTOPUS_ENVIRONMENT);
        if (e->cfg->tenant != NULL && e->cfg->tenant[0] != '\0')
          need_name(r, e, OSC_OCTOPUS_TENANT);
      }
    }
  }
  mlists_flush(r); /* environments known without a lookup */
}

int osc_collect_parts(struct osc_session *s,
                      const struct osc_config_scale_set *const *entries,
                      size_t n, unsigned parts, bool keep_raw,
                      struct osc_collect_result *results,
                      struct osc_error *err) {
  struct run r;
  struct run_access access;
  size_t i;
  int rc;

  if (run_init(&r, s, entries, n, parts, keep_raw, results) < 0)
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  if (n == 0) {
    run_free(&r);
    return OSC_OK;
  }
  osc_progress_begin("reading Azure and Octopus", NULL, 0);
  authorize_all(&r, &access);
  run_start(&r, &access);
  rc = osc_http_run(s->http, err);
  osc_progress_end();
  if (rc >= 0 && r.fatal.code == OSC_E_NOMEM)
    rc = osc_error_set(err, OSC_E_NOMEM, "out of memory");
  for (i = 0; i < n && rc >= 0; i++)
    finish_entry(&r, &r.entries[i]);
  run_free(&r);
  if (rc < 0) {
    for (i = 0; i < n; i++)
      osc_collect_result_free(&results[i]);
  }
  return rc;
}

int osc_collect_all(struct osc_session *s,
                    const struct osc_config_scale_set *const *entries, size_t n,
                    bool keep_raw, struct osc_collect_result *results,
                    struct osc_error *err) {
  return osc_collect_parts(s, entries, n, OSC_COLLECT_BOTH, keep_raw, results,
                           err);
}
