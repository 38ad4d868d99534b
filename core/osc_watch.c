/* Scale set fingerprints for --wait (see core/osc_watch.h). */
#include "core/osc_watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/osc_apierr.h"
#include "core/osc_azure.h"
#include "core/osc_http.h"
#include "core/osc_rawjson.h"

#define WATCH_BODY_MAX ((size_t)16 << 20)
#define WATCH_PRINT_MAX ((size_t)64 << 10)
#define WATCH_PAGES_MAX 1000
#define WATCH_STATES_MAX 16
#define WATCH_STATE_LEN 64
#define EXPAND_SUFFIX "&$expand=instanceView"

/* GET url; 200 with a JSON body, else an error naming `what`. */
static int get_json(struct osc_azure *az, const char *url, const char *what,
                    struct osc_http_response *resp,
                    struct osc_rawjson_span *root, unsigned *requests,
                    struct osc_error *err) {
  struct osc_apierr detail;
  int rc;

  osc_apierr_clear(&detail);
  osc_http_response_free(resp);
  osc_http_response_init(resp, WATCH_BODY_MAX);
  rc = osc_azure_send(az, "GET", url, NULL, false, what, resp, &detail, err);
  *requests += (unsigned)(resp->attempts > 0 ? resp->attempts : 1);
  if (rc < 0)
    return rc;
  if (resp->status != 200)
    return osc_azure_fail(az, what, resp, NULL, &detail, err);
  return osc_rawjson_root(resp->body.data ? resp->body.data : "",
                          resp->body.len, root, err);
}

/* Appends "label=<raw JSON at path>;" (or "label=-;" when absent). */
static int put_member(struct osc_buf *out, const struct osc_buf *body,
                      struct osc_rawjson_span root, const char *path,
                      struct osc_error *err) {
  struct osc_rawjson_span v;
  int found = osc_rawjson_path(body->data, root, path, &v, err);

  if (found < 0)
    return found;
  if (osc_buf_printf(out, err, "%s=", path) < 0)
    return OSC_E_NOMEM;
  if (found == 0)
    return osc_buf_puts(out, "-;", err);
  if (osc_buf_append(out, body->data + v.start, v.end - v.start, err) < 0)
    return OSC_E_NOMEM;
  return osc_buf_puts(out, ";", err);
}

/* The codes of the scale set's own statuses (their times may move while
 * nothing changes). */
static int put_codes(struct osc_buf *out, const struct osc_buf *body,
                     struct osc_rawjson_span root, struct osc_error *err) {
  struct osc_rawjson_span arr;
  struct osc_rawjson_span st;
  struct osc_rawjson_span v;
  char code[WATCH_STATE_LEN * 2];
  size_t cursor = 0;
  int rc = osc_rawjson_member(body->data, root, "statuses", &arr, err);

  if (rc <= 0)
    return rc;
  while ((rc = osc_rawjson_array_next(body->data, arr, &cursor, &st, err)) ==
         1) {
    code[0] = '\0';
    if (osc_rawjson_member(body->data, st, "code", &v, NULL) == 1)
      osc_rawjson_string(body->data, v, code, sizeof(code));
    if (osc_buf_printf(out, err, "status=%s;", code) < 0)
      return OSC_E_NOMEM;
  }
  return rc;
}

/* The instance view URL: the VMSS URL with "/instanceView" before '?'. */
static int instance_view_url(const char *vmss_url, struct osc_buf *out,
                             struct osc_error *err) {
  const char *q = strchr(vmss_url, '?');
  size_t n = q ? (size_t)(q - vmss_url) : strlen(vmss_url);

  if (osc_buf_append(out, vmss_url, n, err) < 0 ||
      osc_buf_puts(out, "/instanceView", err) < 0 ||
      osc_buf_puts(out, q ? q : "", err) < 0)
    return OSC_E_NOMEM;
  return OSC_OK;
}

struct tally {
  char state[WATCH_STATES_MAX][WATCH_STATE_LEN];
  unsigned count[WATCH_STATES_MAX];
  size_t n;
  unsigned vms;
};

static void tally_add(struct tally *t, const char *state) {
  size_t i;

  t->vms++;
  for (i = 0; i < t->n; i++) {
    if (strcmp(t->state[i], state) == 0) {
      t->count[i]++;
      return;
    }
  }
  if (t->n == WATCH_STATES_MAX)
    return; /* the VM count still changes the fingerprint */
  snprintf(t->state[t->n], WATCH_STATE_LEN, "%s", state);
  t->count[t->n++] = 1;
}

/* Tallies provisioningState over one page's value[]; *next: nextLink. */
static int tally_page(const struct osc_buf *body, struct osc_rawjson_span root,
                      struct tally *t, char **next, struct osc_error *err) {
  struct osc_rawjson_span arr;
  struct osc_rawjson_span vm;
  struct osc_rawjson_span v;
  char state[WATCH_STATE_LEN];
  char link[OSC_HTTP_LOCATION_MAX];
  size_t cursor = 0;
  int rc = osc_rawjson_member(body->data, root, "value", &arr, err);

  if (rc <= 0)
    return rc < 0 ? rc : osc_error_set(err, OSC_E_SAFETY, "no value[]");
  while ((rc = osc_rawjson_array_next(body->data, arr, &cursor, &vm, err)) ==
         1) {
    state[0] = '\0';
    if (osc_rawjson_path(body->data, vm, "properties.provisioningState", &v,
                         NULL) == 1)
      osc_rawjson_string(body->data, v, state, sizeof(state));
    tally_add(t, state);
  }
  if (rc < 0)
    return rc;
  *next = NULL;
  if (osc_rawjson_member(body->data, root, "nextLink", &v, NULL) == 1 &&
      osc_rawjson_string(body->data, v, link, sizeof(link)) == 0 && link[0])
    *next = strdup(link);
  return OSC_OK;
}

/* Flexible: the VM list without $expand, every page. */
static int flexible_states(struct osc_azure *az,
                           const struct osc_config_scale_set *e,
                           struct osc_buf *out, unsigned *requests,
                           struct osc_error *err) {
  struct osc_http_response resp;
  struct osc_rawjson_span root;
  struct tally t;
  char *url = NULL;
  char *next = NULL;
  size_t n;
  size_t i;
  int pages = 0;
  int rc;

  memset(&t, 0, sizeof(t));
  osc_http_response_init(&resp, WATCH_BODY_MAX);
  rc = osc_azure_vm_list_url(az, e->subscription, e->resource_group, e->vmss,
                             NULL, OSC_FLEXIBLE, &url, err);
  if (rc < 0)
    goto done;
  n = strlen(url);
  if (n > strlen(EXPAND_SUFFIX) &&
      strcmp(url + n - strlen(EXPAND_SUFFIX), EXPAND_SUFFIX) == 0)
    url[n - strlen(EXPAND_SUFFIX)] = '\0';
  while (url != NULL && rc >= 0) {
    if (++pages > WATCH_PAGES_MAX) {
      rc = osc_error_set(err, OSC_E_SAFETY, "too many VM list pages");
      break;
    }
    rc = get_json(az, url, "Azure VM list (wait)", &resp, &root, requests, err);
    if (rc >= 0)
      rc = tally_page(&resp.body, root, &t, &next, err);
    free(url);
    url = NULL;
    if (rc >= 0 && next != NULL)
      rc = osc_azure_next_link(az, next, &url, err);
    free(next);
    next = NULL;
  }
  for (i = 0; rc >= 0 && i < t.n; i++)
    rc = osc_buf_printf(out, err, "%s=%u;", t.state[i], t.count[i]);
  if (rc >= 0)
    rc = osc_buf_printf(out, err, "vms=%u;", t.vms);
done:
  free(url);
  osc_http_response_free(&resp);
  return rc;
}

int osc_watch_fingerprint(struct osc_session *s,
                          const struct osc_config_scale_set *e,
                          enum osc_orchestration mode, struct osc_buf *out,
                          unsigned *requests, struct osc_error *err) {
  struct osc_azure *az = osc_session_azure(s);
  struct osc_http_response resp;
  struct osc_rawjson_span root;
  struct osc_buf iv_url;
  char *url = NULL;
  int rc;

  osc_buf_reset(out);
  osc_buf_init(&iv_url, WATCH_PRINT_MAX);
  osc_http_response_init(&resp, WATCH_BODY_MAX);
  rc = osc_azure_vmss_url(az, e->subscription, e->resource_group, e->vmss, &url,
                          err);
  if (rc >= 0)
    rc =
        get_json(az, url, "Azure VMSS GET (wait)", &resp, &root, requests, err);
  if (rc >= 0)
    rc = put_member(out, &resp.body, root, "properties.provisioningState", err);
  if (rc >= 0)
    rc = put_member(out, &resp.body, root, "sku.capacity", err);
  if (rc >= 0 && mode == OSC_FLEXIBLE) {
    rc = flexible_states(az, e, out, requests, err);
    goto done;
  }
  if (rc >= 0)
    rc = instance_view_url(url, &iv_url, err);
  if (rc >= 0)
    rc = get_json(az, osc_buf_str(&iv_url), "Azure VMSS instance view", &resp,
                  &root, requests, err);
  if (rc >= 0)
    rc = put_codes(out, &resp.body, root, err);
  if (rc >= 0)
    rc = put_member(out, &resp.body, root, "virtualMachine.statusesSummary",
                    err);
done:
  free(url);
  osc_buf_free(&iv_url);
  osc_http_response_free(&resp);
  return rc;
}
