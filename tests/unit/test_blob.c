/* The Blob REST client's answers to refusals, against a loopback server
 * (libmicrohttpd) that also plays the Entra token endpoint: a 403 under
 * Entra names the role the identity needs, a missing container is named,
 * a missing blob is no error, lease state and holder metadata are read from
 * the response headers, and no token or key appears in a message. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/osc_blob.h"
#include "core/osc_config.h"

#define TOKEN "eyJhbGciOiJub25lIn0.eyJhdWQiOiJ0ZXN0In0.c2lnbmF0dXJl"

struct server {
  struct MHD_Daemon *d;
  unsigned short port;
  pthread_mutex_t lock;
  unsigned status; /* for blob requests */
  const char *body;
  const char *error_code; /* x-ms-error-code, or NULL */
  bool with_props;
  char auth[1024]; /* the last blob request's Authorization */
};

static enum MHD_Result handler(void *cls, struct MHD_Connection *c,
                               const char *url, const char *method,
                               const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls) {
  static int marker;
  struct server *s = cls;
  struct MHD_Response *resp;
  enum MHD_Result ret;
  const char *body;
  const char *auth;
  unsigned status;

  (void)version;
  (void)upload_data;
  (void)method;
  if (*con_cls == NULL) {
    *con_cls = &marker;
    return MHD_YES;
  }
  if (*upload_data_size) {
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (strstr(url, "/oauth2/v2.0/token") != NULL) {
    body = "{\"token_type\":\"Bearer\",\"expires_in\":3600,\"access_token\":"
           "\"" TOKEN "\"}";
    resp = MHD_create_response_from_buffer(strlen(body), (void *)body,
                                           MHD_RESPMEM_MUST_COPY);
    ret = MHD_queue_response(c, 200, resp);
    MHD_destroy_response(resp);
    return ret;
  }
  pthread_mutex_lock(&s->lock);
  auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
  snprintf(s->auth, sizeof(s->auth), "%s", auth ? auth : "");
  status = s->status;
  body = s->body ? s->body : "";
  resp = MHD_create_response_from_buffer(strlen(body), (void *)body,
                                         MHD_RESPMEM_MUST_COPY);
  if (s->error_code != NULL)
    MHD_add_response_header(resp, "x-ms-error-code", s->error_code);
  if (s->with_props) {
    MHD_add_response_header(resp, "x-ms-lease-state", "leased");
    MHD_add_response_header(resp, "ETag", "\"0x8D\"");
    MHD_add_response_header(resp, "x-ms-meta-octoscale_pid", "4242");
    MHD_add_response_header(resp, "x-ms-meta-octoscale_host", "worker-7");
    MHD_add_response_header(resp, "x-ms-meta-octoscale_task", "ServerTasks-9");
  }
  pthread_mutex_unlock(&s->lock);
  MHD_add_response_header(resp, "x-ms-request-id", "rid-1");
  ret = MHD_queue_response(c, status, resp);
  MHD_destroy_response(resp);
  return ret;
}

static int setup(void **state) {
  struct server *s = calloc(1, sizeof(*s));
  struct sockaddr_in a;

  if (s == NULL)
    return -1;
  pthread_mutex_init(&s->lock, NULL);
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
                              MHD_USE_THREAD_PER_CONNECTION,
                          0, NULL, NULL, handler, s, MHD_OPTION_SOCK_ADDR,
                          (struct sockaddr *)&a, MHD_OPTION_END);
  if (s->d == NULL)
    return -1;
  s->port = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT)->port;
  *state = s;
  return 0;
}

static int teardown(void **state) {
  struct server *s = *state;

  MHD_stop_daemon(s->d);
  pthread_mutex_destroy(&s->lock);
  free(s);
  return 0;
}

static void answer(struct server *s, unsigned status, const char *body,
                   const char *code, bool props) {
  pthread_mutex_lock(&s->lock);
  s->status = status;
  s->body = body;
  s->error_code = code;
  s->with_props = props;
  pthread_mutex_unlock(&s->lock);
}

/* A config whose state is a path-style blob on the server, with `auth`. */
static struct osc_blob *client(struct server *s, const char *auth,
                               struct osc_config **cfg) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_blob *b = NULL;
  char yaml[2048];

  snprintf(yaml, sizeof(yaml),
           "octopus: {url: http://127.0.0.1:%u}\n"
           "azure:\n  subscription: s\n  tenant: t\n  auth: client_secret\n"
           "  client_id: c\n  client_secret: very-secret\n"
           "  endpoints: {login: http://127.0.0.1:%u}\n"
           "http: {max_attempts: 1}\n"
           "state: {url: http://127.0.0.1:%u/acct/cont/dir/state.json, %s}\n"
           "scale_sets: [{name: w, resource_group: r, vmss: v, environment: "
           "E, roles: [x]}]\n",
           s->port, s->port, s->port, auth);
  assert_int_equal(
      osc_config_load_string("t.yaml", yaml, strlen(yaml), cfg, &err), OSC_OK);
  assert_int_equal(osc_blob_new(*cfg, 0, &b, &err), OSC_OK);
  assert_string_equal(osc_blob_account(b), "acct");
  assert_string_equal(osc_blob_container(b), "cont");
  return b;
}

static void test_blob__entra_403_names_the_role(void **state) {
  struct server *s = *state;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_config *cfg = NULL;
  struct osc_blob *b = client(s, "auth: entra", &cfg);
  struct osc_blob_props props;

  answer(s, 403,
         "<?xml version=\"1.0\"?><Error><Code>AuthorizationPermissionMismatch"
         "</Code><Message>This request is not authorized to perform this "
         "operation using this permission.</Message></Error>",
         "AuthorizationPermissionMismatch", false);
  assert_int_equal(osc_blob_get(b, NULL, &props, &err), OSC_E_RUNTIME);
  assert_string_equal(s->auth, "Bearer " TOKEN);
  assert_non_null(strstr(err.msg, "HTTP 403 AuthorizationPermissionMismatch"));
  assert_non_null(strstr(err.msg, "request id rid-1"));
  assert_non_null(strstr(err.msg, "Storage Blob Data Contributor"));
  assert_non_null(strstr(err.msg, "/acct/cont/dir/state.json"));
  assert_null(strstr(err.msg, TOKEN));
  assert_null(strstr(err.msg, "very-secret"));
  assert_true(osc_blob_last_is(b, 403, "AuthorizationPermissionMismatch"));
  osc_blob_free(b);
  osc_config_free(cfg);
}

static void test_blob__missing_container_and_blob(void **state) {
  struct server *s = *state;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_config *cfg = NULL;
  struct osc_blob *b =
      client(s, "auth: shared_key, account_key: \"c2VjcmV0LWtleQ==\"", &cfg);
  struct osc_blob_props props;

  answer(s, 404, "", "ContainerNotFound", false);
  assert_int_equal(osc_blob_properties(b, &props, &err), OSC_E_RUNTIME);
  assert_non_null(
      strstr(err.msg, "container 'cont' of storage account 'acct'"));
  assert_int_equal(strncmp(s->auth, "SharedKey acct:", 15), 0);
  answer(s, 404, "<Error><Code>BlobNotFound</Code></Error>", NULL, false);
  assert_int_equal(osc_blob_get(b, NULL, &props, &err), OSC_OK);
  assert_false(props.exists);
  osc_blob_free(b);
  osc_config_free(cfg);
}

static void test_blob__lease_state_and_holder(void **state) {
  struct server *s = *state;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_config *cfg = NULL;
  struct osc_blob *b =
      client(s, "auth: sas, sas_token: \"?sv=1&sig=abc\"", &cfg);
  struct osc_blob_props props;

  answer(s, 200, "", NULL, true);
  assert_int_equal(osc_blob_properties(b, &props, &err), OSC_OK);
  assert_true(props.exists);
  assert_string_equal(props.lease_state, "leased");
  assert_string_equal(props.etag, "\"0x8D\"");
  assert_string_equal(props.holder.pid, "4242");
  assert_string_equal(props.holder.host, "worker-7");
  assert_string_equal(props.holder.task, "ServerTasks-9");
  assert_string_equal(props.holder.started, "");
  assert_string_equal(s->auth, ""); /* SAS: no Authorization header */
  osc_blob_free(b);
  osc_config_free(cfg);
}

static void test_blob__bad_urls(void **state) {
  static const char *const bad[] = {
      "https://acct.blob.core.windows.net/containeronly",
      "http://127.0.0.1:10000/acct/cont",
      "https://acct.blob.core.windows.net/c/b?sig=x",
  };
  struct osc_config cfg;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_blob *b = NULL;
  size_t i;

  (void)state;
  memset(&cfg, 0, sizeof(cfg));
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    cfg.state_blob.url = bad[i];
    cfg.state_blob.auth = OSC_BLOB_AUTH_SAS;
    cfg.state_blob.sas_token = "sv=1";
    assert_int_equal(osc_blob_new(&cfg, 0, &b, &err), OSC_E_CONFIG);
    assert_null(b);
    assert_null(strstr(err.msg, "sig=x"));
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_blob__entra_403_names_the_role,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_blob__missing_container_and_blob,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_blob__lease_state_and_holder, setup,
                                      teardown),
      cmocka_unit_test(test_blob__bad_urls),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
