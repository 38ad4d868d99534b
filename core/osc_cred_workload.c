/* Workload identity federation: the Entra client-credentials grant with the
 * service-account token that Kubernetes projects into
 * AZURE_FEDERATED_TOKEN_FILE as the client assertion. */
#include "core/osc_cred.h"

#define ASSERTION_MAX (64 * 1024)

/* Reads the assertion without its trailing blanks and line breaks. */
static int read_assertion(const char *path, struct osc_buf *assertion,
                          struct osc_error *err) {
  size_t n;

  if (osc_buf_read_any_file(assertion, path, err) < 0)
    return osc_error_set(err, OSC_E_RUNTIME,
                         "cannot read AZURE_FEDERATED_TOKEN_FILE %s", path);
  n = assertion->len;
  while (n > 0 &&
         (assertion->data[n - 1] == '\n' || assertion->data[n - 1] == '\r' ||
          assertion->data[n - 1] == ' '))
    assertion->data[--n] = '\0';
  return OSC_OK;
}

int osc_cred_workload_identity(const struct osc_cred_input *in,
                               struct osc_cred_request *req,
                               struct osc_error *err) {
  const char *path;
  struct osc_buf assertion;
  int rc = osc_cred_entra_request(in, req, err);

  if (rc < 0)
    return rc;
  path = osc_cred_env("AZURE_FEDERATED_TOKEN_FILE");
  if (path == NULL)
    return osc_error_set(err, OSC_E_CONFIG,
                         "workload identity needs "
                         "AZURE_FEDERATED_TOKEN_FILE");
  /* Re-read every time: Kubernetes rotates the projected token. */
  osc_buf_init(&assertion, ASSERTION_MAX);
  rc = read_assertion(path, &assertion, err);
  if (rc >= 0)
    rc = osc_cred_form(&req->body, "client_assertion_type",
                       "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                       err);
  if (rc >= 0)
    rc = osc_cred_form(&req->body, "client_assertion", osc_buf_str(&assertion),
                       err);
  osc_cred_wipe(&assertion);
  return rc;
}
