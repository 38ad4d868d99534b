/* What a remote API said when a request failed, kept apart so the Lua
 * bindings can return it as a table ({status, code, message, request_id})
 * and the CLI as one line. Filled by core/osc_azure.c and core/osc_octopus.c;
 * never holds a token, key or secret. */
#ifndef OSC_APIERR_H
#define OSC_APIERR_H

#include <stddef.h>

struct osc_apierr {
  long status;          /* HTTP status; 0 when no response was obtained */
  char code[128];       /* ResourceNotFound, invalid_client, ... or "" */
  char message[512];    /* the service's message (first line), or "" */
  char request_id[128]; /* x-ms-request-id / correlation id, or "" */
  int attempts;         /* requests sent for this call */
};

void osc_apierr_clear(struct osc_apierr *e);

/* One line: "<what>: HTTP 404 ResourceNotFound: The Resource ... (request id
 * abc)", "<what>: HTTP 503 after 6 attempts (request id abc)" or, with a
 * message and retries, "<what>: HTTP 502 Code: message (after 3 attempts;
 * request id abc)"; with no status, "<what> failed: <transport error>". */
void osc_apierr_format(const struct osc_apierr *e, const char *what, char *out,
                       size_t cap);

/* Copies s into dst (cap bytes), keeping only its first line and replacing
 * control characters, so a server message stays one line. */
void osc_apierr_copy_line(char *dst, size_t cap, const char *s);

struct osc_http_response;
struct osc_error;

/* Reads a service's error body (text[0, len)) into d's code, message and
 * request id; a body it cannot read leaves them as they are. */
typedef void osc_apierr_parse_fn(const char *text, size_t len,
                                 struct osc_apierr *d);

/* Fills d from a response: status, attempts and request id, then what
 * `parse` reads from the body; with no response, the transport error's
 * message. */
void osc_apierr_fill(struct osc_apierr *d, const struct osc_http_response *resp,
                     const struct osc_error *transport,
                     osc_apierr_parse_fn *parse);

/* Sets err to d's one line (see osc_apierr_format) with OSC_E_RUNTIME for
 * 401/403 (exit 1), else code_otherwise; returns the code. */
int osc_apierr_to_error(const struct osc_apierr *d, const char *what,
                        int code_otherwise, struct osc_error *err);

/* True for 401 and 403: authentication or permission refused (exit 1). */
int osc_apierr_is_auth(const struct osc_apierr *e);

#endif
