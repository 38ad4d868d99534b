/* Live collection: one session per process (config, one osc_http, the
 * Azure token cache, the Octopus name cache), and osc_collect_all(), which
 * reads every selected scale set entry concurrently.
 *
 * Requests per run: one token (cached across scale sets), the Octopus space
 * and each distinct environment / tenant name once; then per entry one
 * VMSS GET, the VM list pages, the NIC list pages and the Octopus machine
 * pages (environmentIds=E, take=1000) - nothing per VM or per target. All
 * entries' requests are in flight together; each page's completion submits
 * the next page (nextLink / Links["Page.Next"]), except the Octopus
 * machine list: once its first page reports TotalResults and ItemsPerPage,
 * pages 2..n are requested at once by position (skip), each checked like
 * a followed page (same total, no repeated item, its next link pointing at
 * the page after it, none on the last); `snapshot` follows the links to
 * keep the pages in order.
 *
 * Failures never hide data loss. Per entry:
 *  - 401/403 from Azure or Octopus, a token endpoint refusing the
 *    credential, or an environment / tenant / space name that does not
 *    exist: result->error_code = OSC_E_RUNTIME (exit 1) with one line in
 *    result->error;
 *  - any read that failed after retries (the VMSS GET, 404 on the scale set
 *    included; a VM, NIC or machine page; a name lookup that got 5xx), or
 *    an Octopus list shorter than its TotalResults: the collection is marked
 *    incomplete with a line naming the read ("Azure VM list page 3: HTTP 503
 *    after 6 attempts (request id ...)"), so the engine's safety rule 1
 *    stops destruction (exit 4). NIC failures count too: policies may name
 *    targets by private IP. */
#ifndef OSC_COLLECT_H
#define OSC_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/osc_azure.h"
#include "core/osc_buf.h"
#include "core/osc_config.h"
#include "core/osc_engine.h"
#include "core/osc_error.h"
#include "core/osc_http.h"
#include "core/osc_model.h"
#include "core/osc_octopus.h"

struct osc_session;

/* Creates the HTTP layer from cfg->http (verbose when the log level is
 * debug) and the two clients. cfg is borrowed and must outlive the
 * session. */
int osc_session_new(const struct osc_config *cfg, struct osc_session **out,
                    struct osc_error *err);
void osc_session_free(struct osc_session *s);

const struct osc_config *osc_session_config(const struct osc_session *s);
struct osc_http *osc_session_http(struct osc_session *s);
struct osc_azure *osc_session_azure(struct osc_session *s);
struct osc_octopus *osc_session_octopus(struct osc_session *s);

/* Raw bodies as received, for `snapshot` (keep_raw). */
struct osc_collect_pages {
  struct osc_buf *items;
  size_t n;
  size_t cap;
};

struct osc_collect_raw {
  struct osc_buf vmss;                    /* the VMSS GET body */
  struct osc_collect_pages vm_pages;      /* bodies with value[] */
  struct osc_collect_pages nic_pages;     /* bodies with value[] */
  struct osc_collect_pages machine_pages; /* bodies with Items[] */
};

struct osc_collect_result {
  /* Always initialised (osc_collection_init with the entry's name). */
  struct osc_collection collection;
  /* environment_id / tenant_id resolved, roles from the config; strings in
   * collection.arena. environment_id is NULL when it could not be
   * resolved. */
  struct osc_scope scope;
  int error_code; /* OSC_OK, or OSC_E_RUNTIME / OSC_E_CONFIG / OSC_E_NOMEM */
  char error[OSC_ERROR_MAX];
  /* The first failed request's details (status 0 when none), behind
   * error or the incomplete mark: for the Lua clients' error tables. */
  struct osc_apierr failure;
  struct osc_collect_raw *raw; /* keep_raw only */
};

/* What to read (osc_collect_parts). */
enum {
  OSC_COLLECT_AZURE = 1,   /* VMSS, VMs, NICs */
  OSC_COLLECT_OCTOPUS = 2, /* machines of the entry's environment */
  OSC_COLLECT_BOTH = 3,
};

/* Collects entries[0..n) into results[0..n) (uninitialised on entry; free
 * each with osc_collect_result_free). Returns < 0 only when nothing could
 * be attempted (out of memory); per-entry failures are in the results. */
int osc_collect_all(struct osc_session *s,
                    const struct osc_config_scale_set *const *entries, size_t n,
                    bool keep_raw, struct osc_collect_result *results,
                    struct osc_error *err);

/* The same, reading only `parts` (the Lua clients list targets without
 * touching Azure, and instances without touching Octopus). */
int osc_collect_parts(struct osc_session *s,
                      const struct osc_config_scale_set *const *entries,
                      size_t n, unsigned parts, bool keep_raw,
                      struct osc_collect_result *results,
                      struct osc_error *err);

void osc_collect_result_free(struct osc_collect_result *r);

/* Moves the collection and scope out of r (into memory the caller frees
 * with osc_collection_free); r keeps an empty collection. */
void osc_collect_result_take(struct osc_collect_result *r,
                             struct osc_collection *c, struct osc_scope *scope);

#endif
