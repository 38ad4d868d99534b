/* The benchmark's baseline: replays, against octoscale-sim, the request
 * pattern of Octopus's "Check VMSS Provision Status (Deployment Targets)"
 * step template makes (its published script: one page of machines, one
 * request per VM and per deletion). One blocking request at a time on one
 * connection (which flatters the template: PowerShell cmdlets are not faster
 * than libcurl), for each scale set in turn (one step run per scale set):
 *
 *   token      1 Entra client-credentials POST (Connect-AzAccount)
 *   S2         GET /api/events?regardingAny=<deployment>... (queue time)
 *   S4         GET the VMSS once (w1 = 1: nothing is provisioning)
 *   S5         Get-AzVmssVM: the VM list, every nextLink page (w2 = 1)
 *   S6         Get-AzVmssVM again: the final list, every page
 *   S7         GET
 * /api/<space>/machines?environmentIds=&roles=&skip=0&take=1000
 *              --pages one: that single page, as the template does (a
 *              correctness defect past 1,000 targets: the rest is never
 *              seen, so their orphans are never deleted);
 *              --pages all: follows Links["Page.Next"] (the same work as
 *              octoscale, for a fair speed comparison)
 *   S8-S10     role AND-filter, then name matching, O(targets x VMs):
 *              equal, or either name contains the other (case-insensitive)
 *   S11        DELETE /api/<space>/machines/<id> per unmatched target
 *   S12        GET /api/events?regarding=<id>&...&eventCategories=Created
 *              per matched target (Exclude Pre-Existing = Yes)
 *
 * The Az cmdlets follow nextLink themselves, so S5/S6 read every page; 2.5
 * counts cmdlet calls (3 Azure calls), the simulator counts pages.
 * Like the template (Calamari sets $ErrorActionPreference = Stop), the first
 * failed request (a 429 included: the template has no retry) ends the run
 * with exit status 1.
 *
 * Prints one line per scale set and a total, as key=value pairs.
 *
 * Build: cc -O2 -I. tests/bench/baseline.c core/osc_rawjson.c core/osc_buf.c
 *        core/osc_error.c -lcurl */
#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/osc_buf.h"
#include "core/osc_error.h"
#include "core/osc_rawjson.h"

#define BODY_MAX ((size_t)256 << 20)
#define NAME_MAX_LEN 256
#define URL_LEN 4096

struct opts {
  const char *azure;   /* http://127.0.0.1:PORT (login and management) */
  const char *octopus; /* http://127.0.0.1:PORT */
  const char *tenant;
  const char *client_id;
  const char *client_secret;
  const char *api_key;
  const char *subscription;
  const char *space;       /* Spaces-1: Octopus.Space.Id, no lookup */
  const char *environment; /* Environments-1: Octopus.Environment.Id */
  const char *deployment;  /* Octopus.Deployment.Id for S2 */
  bool all_pages;
  bool exclude;
};

struct counts {
  long azure;    /* requests to Azure (token included) */
  long octopus;  /* requests to Octopus */
  long pages;    /* machine pages read */
  long vms;      /* VMs in the final list */
  long seen;     /* targets read */
  long total;    /* TotalResults of the machines list */
  long in_scope; /* passing the role filter */
  long deleted;
  long matched;
  long events;
  long comparisons; /* name tests made by the O(R x V) matching */
};

static CURL *curl;
static struct counts all;

struct vm_list {
  char (*names)[NAME_MAX_LEN];
  size_t n;
  size_t cap;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
  struct osc_buf *b = ud;
  struct osc_error err = OSC_ERROR_INIT;

  if (osc_buf_append(b, p, size * n, &err) < 0)
    return 0;
  return size * n;
}

/* One blocking request; the body lands in out. Returns the HTTP status,
 * or exits on a transport error. */
static long request(const char *method, const char *url, const char *hdr,
                    const char *post, struct osc_buf *out) {
  struct curl_slist *h = NULL;
  long status = 0;
  CURLcode cc;

  osc_buf_reset(out);
  out->max = BODY_MAX;
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(curl, CURLOPT_POST, post != NULL ? 1L : 0L);
  if (post != NULL)
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, post);
  else
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  h = curl_slist_append(h, "Accept: application/json");
  if (hdr != NULL)
    h = curl_slist_append(h, hdr);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
  cc = curl_easy_perform(curl);
  curl_slist_free_all(h);
  if (cc != CURLE_OK) {
    fprintf(stderr, "baseline: %s %s: %s\n", method, url,
            curl_easy_strerror(cc));
    exit(1);
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  return status;
}

static void need(long status, long want, const char *what, const char *url) {
  if (status == want || (want == 200 && status >= 200 && status < 300))
    return;
  /* The template has no retry: Invoke-RestMethod throws, the step fails. */
  fprintf(stderr, "baseline: %s: HTTP %ld (%s); the step fails here\n", what,
          status, url);
  printf("result=failed status=%ld vms=%ld targets_total=%ld "
         "targets_seen=%ld in_scope=%ld matched=%ld deleted=%ld events=%ld\n",
         status, all.vms, all.total, all.seen, all.in_scope, all.matched,
         all.deleted, all.events);
  exit(1);
}

static int member_str(const char *text, struct osc_rawjson_span obj,
                      const char *path, char *out, size_t cap) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_rawjson_span v;

  if (osc_rawjson_path(text, obj, path, &v, &err) != 1)
    return -1;
  return osc_rawjson_string(text, v, out, cap);
}

static struct osc_rawjson_span root_of(const struct osc_buf *b,
                                       const char *what) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_rawjson_span root;

  if (osc_rawjson_root(b->data ? b->data : "", b->len, &root, &err) < 0) {
    fprintf(stderr, "baseline: %s: %s\n", what, err.msg);
    exit(1);
  }
  return root;
}

static void trim_lower(const char *in, char *out, size_t cap) {
  size_t n;

  while (*in == ' ' || *in == '\t')
    in++;
  snprintf(out, cap, "%s", in);
  n = strlen(out);
  while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'))
    out[--n] = '\0';
  for (size_t i = 0; i < n; i++)
    if (out[i] >= 'A' && out[i] <= 'Z')
      out[i] = (char)(out[i] - 'A' + 'a');
}

static char token[8192];

static void get_token(const struct opts *o, struct osc_buf *b) {
  char url[URL_LEN];
  char post[2048];
  struct osc_rawjson_span root;

  snprintf(url, sizeof(url), "%s/%s/oauth2/v2.0/token", o->azure, o->tenant);
  snprintf(post, sizeof(post),
           "grant_type=client_credentials&client_id=%s&client_secret=%s&"
           "scope=https%%3A%%2F%%2Fmanagement.azure.com%%2F.default",
           o->client_id, o->client_secret);
  all.azure++;
  need(request("POST", url, NULL, post, b), 200, "Azure token", url);
  root = root_of(b, "token");
  if (member_str(b->data, root, "access_token", token, sizeof(token)) < 0) {
    fprintf(stderr, "baseline: no access_token\n");
    exit(1);
  }
}

/* Get-AzVmssVM: every page; with keep, the computer names of VMs whose
 * state is not Failed (S6). Returns true when a VM is still Creating. */
static bool list_vms(const struct opts *o, const char *rg, const char *vmss,
                     struct osc_buf *b, struct vm_list *keep) {
  char url[URL_LEN];
  char auth[sizeof(token) + 32];
  bool creating = false;

  snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
  snprintf(url, sizeof(url),
           "%s/subscriptions/%s/resourceGroups/%s/providers/"
           "Microsoft.Compute/virtualMachineScaleSets/%s/virtualMachines?"
           "api-version=2024-07-01",
           o->azure, o->subscription, rg, vmss);
  for (;;) {
    struct osc_error err = OSC_ERROR_INIT;
    struct osc_rawjson_span root, arr, item, v;
    size_t cursor = 0;
    char next[URL_LEN];

    all.azure++;
    need(request("GET", url, auth, NULL, b), 200, "Get-AzVmssVM", url);
    root = root_of(b, "VM list");
    if (osc_rawjson_member(b->data, root, "value", &arr, &err) != 1) {
      fprintf(stderr, "baseline: VM list has no value\n");
      exit(1);
    }
    while (osc_rawjson_array_next(b->data, arr, &cursor, &item, &err) == 1) {
      char state[64] = "";
      char name[NAME_MAX_LEN] = "";

      member_str(b->data, item, "properties.provisioningState", state,
                 sizeof(state));
      if (strcasecmp(state, "creating") == 0)
        creating = true;
      if (keep == NULL || strcasecmp(state, "failed") == 0)
        continue;
      if (member_str(b->data, item, "properties.osProfile.computerName", name,
                     sizeof(name)) < 0)
        continue;
      if (keep->n == keep->cap) {
        keep->cap = keep->cap ? keep->cap * 2 : 256;
        keep->names = realloc(keep->names, keep->cap * sizeof(*keep->names));
        if (keep->names == NULL)
          exit(1);
      }
      trim_lower(name, keep->names[keep->n++], NAME_MAX_LEN);
    }
    if (osc_rawjson_member(b->data, root, "nextLink", &v, &err) != 1 ||
        osc_rawjson_string(b->data, v, next, sizeof(next)) < 0 ||
        next[0] == '\0')
      break;
    snprintf(url, sizeof(url), "%s", next);
  }
  return creating;
}

struct target {
  char id[64];
  char name[NAME_MAX_LEN];
  bool in_scope;
};

/* S8: a target must carry every role (case-insensitive). */
static bool has_roles(const char *text, struct osc_rawjson_span item,
                      const char *roles) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_rawjson_span arr, r;
  char want[512];
  char *save = NULL;

  if (osc_rawjson_member(text, item, "Roles", &arr, &err) != 1)
    return false;
  snprintf(want, sizeof(want), "%s", roles);
  for (char *w = strtok_r(want, ",", &save); w;
       w = strtok_r(NULL, ",", &save)) {
    size_t cursor = 0;
    bool found = false;
    char role[256];

    while (*w == ' ')
      w++;
    while (osc_rawjson_array_next(text, arr, &cursor, &r, &err) == 1) {
      if (osc_rawjson_string(text, r, role, sizeof(role)) == 0 &&
          strcasecmp(role, w) == 0) {
        found = true;
        break;
      }
    }
    if (!found)
      return false;
  }
  return true;
}

/* S10: equal, target -like "*vm*", or vm -like "*target*". */
static bool name_matches(const char *vm, const char *target) {
  all.comparisons++;
  return strcmp(vm, target) == 0 || strstr(target, vm) != NULL ||
         strstr(vm, target) != NULL;
}

/* The targets the template read (S7), with their ids and trimmed names. */
struct target_list {
  struct target *items;
  size_t n, cap;
};

static struct target *target_add(struct target_list *l) {
  struct target *t;

  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 1024;
    l->items = realloc(l->items, l->cap * sizeof(*l->items));
    if (l->items == NULL)
      exit(1);
  }
  t = &l->items[l->n++];
  memset(t, 0, sizeof(*t));
  return t;
}

/* RG/VMSS/ROLES -> its three parts; a malformed spec is a usage error. */
static void parse_spec(const char *spec, char *rg, size_t rg_cap, char *vmss,
                       size_t vmss_cap, char *roles, size_t roles_cap) {
  const char *slash1 = strchr(spec, '/');
  const char *slash2 = slash1 ? strchr(slash1 + 1, '/') : NULL;

  if (slash1 == NULL || slash2 == NULL) {
    fprintf(stderr, "baseline: scale set spec is RG/VMSS/ROLES: %s\n", spec);
    exit(2);
  }
  snprintf(rg, rg_cap, "%.*s", (int)(slash1 - spec), spec);
  snprintf(vmss, vmss_cap, "%.*s", (int)(slash2 - slash1 - 1), slash1 + 1);
  snprintf(roles, roles_cap, "%s", slash2 + 1);
}

/* S2 (the queued deployment's event), S4 (Get-AzVmss), S5 and S6 (the VMs). */
static void read_azure(const struct opts *o, const char *api, const char *rg,
                       const char *vmss, struct osc_buf *b,
                       struct vm_list *vms) {
  char url[URL_LEN];
  char auth[sizeof(token) + 32];

  snprintf(url, sizeof(url),
           "%s/api/events?regardingAny=%s&spaces=%s&documentTypes=Deployments"
           "&eventCategories=DeploymentQueued",
           o->octopus, o->deployment, o->space);
  all.octopus++;
  need(request("GET", url, api, NULL, b), 200, "S2 queued event", url);

  /* S4: one pass (not provisioning). */
  snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
  snprintf(url, sizeof(url),
           "%s/subscriptions/%s/resourceGroups/%s/providers/"
           "Microsoft.Compute/virtualMachineScaleSets/%s?api-version="
           "2024-07-01",
           o->azure, o->subscription, rg, vmss);
  all.azure++;
  need(request("GET", url, auth, NULL, b), 200, "Get-AzVmss", url);

  /* S5: wait while any VM is Creating (one pass here), then S6. */
  if (list_vms(o, rg, vmss, b, NULL))
    fprintf(stderr, "baseline: a VM is Creating; the template would sleep "
                    "10 s and poll again (not replayed)\n");
  list_vms(o, rg, vmss, b, vms);
}

/* One machines page's Items -> targets; S8 keeps those with every role. */
static void add_page_targets(const struct osc_buf *b,
                             struct osc_rawjson_span root, const char *roles,
                             struct target_list *targets) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_rawjson_span arr, item;
  size_t cursor = 0;

  if (osc_rawjson_member(b->data, root, "Items", &arr, &err) != 1) {
    fprintf(stderr, "baseline: machines page has no Items\n");
    exit(1);
  }
  while (osc_rawjson_array_next(b->data, arr, &cursor, &item, &err) == 1) {
    struct target *t = target_add(targets);
    char name[NAME_MAX_LEN] = "";

    member_str(b->data, item, "Id", t->id, sizeof(t->id));
    member_str(b->data, item, "Name", name, sizeof(name));
    trim_lower(name, t->name, sizeof(t->name));
    t->in_scope = has_roles(b->data, item, roles); /* S8 (S9: no tenant) */
  }
}

/* The next page's URL from Links["Page.Next"]; false at the last page. */
static bool next_page(const struct opts *o, const struct osc_buf *b,
                      struct osc_rawjson_span root, char *url, size_t cap) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_rawjson_span links, v; /* "Page.Next" has a dot: no path */
  char next[URL_LEN];

  if (osc_rawjson_member(b->data, root, "Links", &links, &err) != 1 ||
      osc_rawjson_member(b->data, links, "Page.Next", &v, &err) != 1)
    return false;
  if (osc_rawjson_string(b->data, v, next, sizeof(next)) < 0 || next[0] == '\0')
    return false;
  snprintf(url, cap, "%s%s", o->octopus, next);
  return true;
}

/* S7: the machines, one page of 1000 (or every page). */
static void read_machines(const struct opts *o, const char *api,
                          const char *roles, struct osc_buf *b,
                          struct target_list *targets) {
  char url[URL_LEN];

  snprintf(url, sizeof(url),
           "%s/api/%s/machines?environmentIds=%s&roles=%s&skip=0&take=1000",
           o->octopus, o->space, o->environment, roles);
  for (;;) {
    struct osc_error err = OSC_ERROR_INIT;
    struct osc_rawjson_span root, v;

    all.octopus++;
    all.pages++;
    need(request("GET", url, api, NULL, b), 200, "S7 machines", url);
    root = root_of(b, "machines");
    if (targets->n == 0 &&
        osc_rawjson_member(b->data, root, "TotalResults", &v, &err) == 1)
      all.total += strtol(b->data + v.start, NULL, 10); /* the first page's */
    add_page_targets(b, root, roles, targets);
    if (!o->all_pages || !next_page(o, b, root, url, sizeof(url)))
      break;
  }
}

/* S10 + S11: match every target against every VM; delete at once. */
static void match_and_delete(const struct opts *o, const char *api,
                             const struct vm_list *vms,
                             struct target_list *targets, struct osc_buf *b) {
  char url[URL_LEN];

  for (size_t i = 0; i < targets->n; i++) {
    struct target *t = &targets->items[i];
    bool found = false;

    if (!t->in_scope)
      continue;
    all.in_scope++;
    for (size_t j = 0; j < vms->n && !found; j++)
      found = name_matches(vms->names[j], t->name);
    if (found) {
      all.matched++;
      continue;
    }
    t->in_scope = false; /* deleted: not an output */
    snprintf(url, sizeof(url), "%s/api/%s/machines/%s", o->octopus, o->space,
             t->id);
    all.octopus++;
    need(request("DELETE", url, api, NULL, b), 200, "S11 delete", url);
    all.deleted++;
  }
}

/* S12: per matched target, when was it created. */
static void created_events(const struct opts *o, const char *api,
                           const struct target_list *targets,
                           struct osc_buf *b) {
  char url[URL_LEN];

  for (size_t i = 0; i < targets->n; i++) {
    if (!targets->items[i].in_scope)
      continue;
    snprintf(url, sizeof(url),
             "%s/api/events?regarding=%s&spaces=%s&includeSystem=true&"
             "eventCategories=Created",
             o->octopus, targets->items[i].id, o->space);
    all.octopus++;
    all.events++;
    need(request("GET", url, api, NULL, b), 200, "S12 created event", url);
  }
}

static void print_counts(const char *vmss, const struct counts *before) {
  printf("set=%s azure_requests=%ld octopus_requests=%ld machine_pages=%ld "
         "vms=%ld targets_total=%ld targets_seen=%ld in_scope=%ld "
         "matched=%ld deleted=%ld events=%ld comparisons=%ld\n",
         vmss, all.azure - before->azure, all.octopus - before->octopus,
         all.pages - before->pages, all.vms - before->vms,
         all.total - before->total, all.seen - before->seen,
         all.in_scope - before->in_scope, all.matched - before->matched,
         all.deleted - before->deleted, all.events - before->events,
         all.comparisons - before->comparisons);
}

static void run_set(const struct opts *o, const char *spec) {
  char rg[256], vmss[256], roles[512];
  char api[600];
  struct osc_buf b;
  struct vm_list vms = {NULL, 0, 0};
  struct target_list targets = {NULL, 0, 0};
  struct counts before = all;

  parse_spec(spec, rg, sizeof(rg), vmss, sizeof(vmss), roles, sizeof(roles));
  snprintf(api, sizeof(api), "X-Octopus-ApiKey: %s", o->api_key);
  osc_buf_init(&b, BODY_MAX);

  get_token(o, &b);
  read_azure(o, api, rg, vmss, &b, &vms);
  read_machines(o, api, roles, &b, &targets);
  all.seen += (long)targets.n;
  all.vms += (long)vms.n;
  match_and_delete(o, api, &vms, &targets, &b);
  if (o->exclude)
    created_events(o, api, &targets, &b);
  print_counts(vmss, &before);
  free(vms.names);
  free(targets.items);
  osc_buf_free(&b);
}

static void usage(void) {
  fputs("usage: baseline --azure URL --octopus URL --tenant T --client-id C\n"
        "         --client-secret S --api-key K --subscription SUB\n"
        "         [--space Spaces-1] [--environment Environments-1]\n"
        "         [--pages one|all] [--exclude yes|no] RG/VMSS/ROLES...\n",
        stderr);
  exit(2);
}

int main(int argc, char **argv) {
  struct opts o = {0};
  int i;

  o.space = "Spaces-1";
  o.environment = "Environments-1";
  o.deployment = "Deployments-1";
  o.exclude = true;
  for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
    const char *k = argv[i] + 2;
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;

    if (v == NULL)
      usage();
    if (strcmp(k, "azure") == 0)
      o.azure = v;
    else if (strcmp(k, "octopus") == 0)
      o.octopus = v;
    else if (strcmp(k, "tenant") == 0)
      o.tenant = v;
    else if (strcmp(k, "client-id") == 0)
      o.client_id = v;
    else if (strcmp(k, "client-secret") == 0)
      o.client_secret = v;
    else if (strcmp(k, "api-key") == 0)
      o.api_key = v;
    else if (strcmp(k, "subscription") == 0)
      o.subscription = v;
    else if (strcmp(k, "space") == 0)
      o.space = v;
    else if (strcmp(k, "environment") == 0)
      o.environment = v;
    else if (strcmp(k, "pages") == 0)
      o.all_pages = strcmp(v, "all") == 0;
    else if (strcmp(k, "exclude") == 0)
      o.exclude = strcmp(v, "no") != 0;
    else
      usage();
  }
  if (i >= argc || !o.azure || !o.octopus || !o.tenant || !o.client_id ||
      !o.client_secret || !o.api_key || !o.subscription)
    usage();
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return 1;
  curl = curl_easy_init();
  if (curl == NULL)
    return 1;
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "octoscale-bench-baseline");
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
  for (; i < argc; i++)
    run_set(&o, argv[i]);
  printf("result=ok azure_requests=%ld octopus_requests=%ld machine_pages=%ld "
         "vms=%ld targets_total=%ld targets_seen=%ld in_scope=%ld "
         "matched=%ld deleted=%ld events=%ld comparisons=%ld\n",
         all.azure, all.octopus, all.pages, all.vms, all.total, all.seen,
         all.in_scope, all.matched, all.deleted, all.events, all.comparisons);
  curl_easy_cleanup(curl);
  curl_global_cleanup();
  return 0;
}
