#include "core/osc_apierr.h"

#include "core/osc_error.h"
#include "core/osc_http.h"

#include <stdio.h>
#include <string.h>

void osc_apierr_clear(struct osc_apierr *e) {
  if (e != NULL)
    memset(e, 0, sizeof(*e));
}

void osc_apierr_copy_line(char *dst, size_t cap, const char *s) {
  size_t n = 0;

  if (cap == 0)
    return;
  if (s != NULL) {
    /* Skip leading blanks, stop at the first line break. */
    while (*s == ' ' || *s == '\t')
      s++;
    for (; *s && *s != '\n' && *s != '\r' && n + 1 < cap; s++)
      dst[n++] = ((unsigned char)*s < 0x20) ? ' ' : *s;
    while (n > 0 && (dst[n - 1] == ' ' || dst[n - 1] == '\t'))
      n--;
  }
  dst[n] = '\0';
}

void osc_apierr_format(const struct osc_apierr *e, const char *what, char *out,
                       size_t cap) {
  char attempts[48] = "";
  char rid[224] = "";

  if (e->attempts > 1)
    snprintf(attempts, sizeof(attempts), " after %d attempts", e->attempts);
  if (e->request_id[0])
    snprintf(rid, sizeof(rid), " (request id %s)", e->request_id);
  if (e->status == 0) {
    const char *msg = e->message[0] ? e->message : "no response";
    size_t n = strlen(what);

    /* The HTTP layer's messages start with the same `what`. */
    if (strncmp(msg, what, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
      msg += n + 2;
    snprintf(out, cap, "%s failed: %s%s", what, msg,
             strstr(msg, "request id") ? "" : rid);
    return;
  }
  if (e->message[0] == '\0') {
    /* "HTTP 503 after 6 attempts (request id ...)" */
    snprintf(out, cap, "%s: HTTP %ld%s%s%s%s", what, e->status,
             e->code[0] ? " " : "", e->code, attempts, rid);
    return;
  }
  /* The message ends with its own punctuation: extras go in parentheses,
   * "... was not found. (after 3 attempts; request id ...)". */
  if (e->attempts > 1 && e->request_id[0])
    snprintf(rid, sizeof(rid), " (after %d attempts; request id %s)",
             e->attempts, e->request_id);
  else if (e->attempts > 1)
    snprintf(rid, sizeof(rid), " (after %d attempts)", e->attempts);
  snprintf(out, cap, "%s: HTTP %ld%s%s: %s%s", what, e->status,
           e->code[0] ? " " : "", e->code, e->message, rid);
}

void osc_apierr_fill(struct osc_apierr *d, const struct osc_http_response *resp,
                     const struct osc_error *transport,
                     osc_apierr_parse_fn *parse) {
  osc_apierr_clear(d);
  if (resp != NULL) {
    d->status = resp->status;
    d->attempts = resp->attempts;
    osc_apierr_copy_line(d->request_id, sizeof(d->request_id),
                         resp->request_id);
  }
  if (resp != NULL && resp->status != 0 && resp->body.len > 0)
    parse(resp->body.data, resp->body.len, d);
  if (d->status == 0 && transport != NULL && transport->msg[0])
    osc_apierr_copy_line(d->message, sizeof(d->message), transport->msg);
}

int osc_apierr_to_error(const struct osc_apierr *d, const char *what,
                        int code_otherwise, struct osc_error *err) {
  char line[OSC_ERROR_MAX];

  osc_apierr_format(d, what, line, sizeof(line));
  return osc_error_set(
      err, osc_apierr_is_auth(d) ? OSC_E_RUNTIME : code_otherwise, "%s", line);
}

int osc_apierr_is_auth(const struct osc_apierr *e) {
  return e->status == 401 || e->status == 403;
}
