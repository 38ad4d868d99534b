/* Client secret: the Entra client-credentials grant with
 * azure.client_secret. */
#include "core/osc_cred.h"

int osc_cred_client_secret(const struct osc_cred_input *in,
                           struct osc_cred_request *req,
                           struct osc_error *err) {
  const char *secret = in->cfg->azure.client_secret;
  int rc = osc_cred_entra_request(in, req, err);

  if (rc < 0)
    return rc;
  if (secret == NULL || secret[0] == '\0')
    return osc_error_set(err, OSC_E_CONFIG,
                         "Azure client secret authentication needs "
                         "azure.client_secret");
  return osc_cred_form(&req->body, "client_secret", secret, err);
}
