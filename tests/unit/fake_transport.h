/* Shared by the unit tests of collect, reconcile and apply: a session whose
 * HTTP layer answers from a table instead of the network
 * (osc_http_set_transport), with a log of every request to assert on, like
 * the simulator's request log. No sockets, no simulator. */
#ifndef FAKE_TRANSPORT_H
#define FAKE_TRANSPORT_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/osc_collect.h"
#include "core/osc_config.h"
#include "core/osc_http.h"
#include "tests/unit/plan_fixture.h"

#define FAKE_ROUTES_MAX 64
#define FAKE_LOG_MAX 256

/* Azure and Octopus as the fake config names them. */
#define FAKE_AZURE "https://azure.test"
#define FAKE_OCTOPUS "https://octopus.test"
#define FAKE_SUB "00000000-0000-4000-8000-000000000001"
#define FAKE_VMSS_ID                                                           \
  "/subscriptions/" FAKE_SUB "/resourceGroups/rg-web/providers/"               \
  "Microsoft.Compute/virtualMachineScaleSets/vmss-web"

/* One answer: the first route whose method matches and whose `path` occurs
 * in the URL answers, `times` times (0: every time), then the next. */
struct fake_route {
  const char *method;
  const char *path;
  long status; /* 0: the connection fails */
  const char *body;
  const char *headers;
  int times;
};

struct fake {
  struct fake_route routes[FAKE_ROUTES_MAX];
  int used[FAKE_ROUTES_MAX];
  size_t n_routes;
  char log[FAKE_LOG_MAX][512]; /* "GET /path?query" (no origin) */
  size_t n_log;
  char last_body[8192]; /* of the last request with a body */
  size_t unrouted;
};

static inline void fake_route(struct fake *f, const char *method,
                              const char *path, long status, const char *body,
                              int times) {
  struct fake_route *r;

  if (f->n_routes >= FAKE_ROUTES_MAX)
    abort();
  r = &f->routes[f->n_routes++];
  r->method = method;
  r->path = path;
  r->status = status;
  r->body = body;
  r->headers = NULL;
  r->times = times;
}

static inline void fake_answer(void *ud, const struct osc_http_request *req,
                               struct osc_http_answer *answer) {
  static const char no_route[] =
      "{\"error\":{\"code\":\"NoRoute\",\"message\":\"not in the table\"}}";
  struct fake *f = ud;
  const char *path = strstr(req->url, "://");
  size_t i;

  path = path ? path + 3 + strcspn(path + 3, "/") : req->url;
  if (f->n_log < FAKE_LOG_MAX)
    snprintf(f->log[f->n_log++], sizeof(f->log[0]), "%s %s", req->method, path);
  if (req->body != NULL)
    snprintf(f->last_body, sizeof(f->last_body), "%.*s", (int)req->body_len,
             req->body);
  for (i = 0; i < f->n_routes; i++) {
    const struct fake_route *r = &f->routes[i];

    if (strcmp(r->method, req->method) != 0 || strstr(req->url, r->path) == 0)
      continue;
    if (r->times > 0 && f->used[i] >= r->times)
      continue;
    f->used[i]++;
    answer->status = r->status;
    answer->body = r->body;
    answer->headers = r->headers;
    return;
  }
  f->unrouted++;
  answer->status = 404;
  answer->body = no_route;
}

/* How many requests (method, and a URL containing `part`) were made. */
static inline size_t fake_count(const struct fake *f, const char *method,
                                const char *part) {
  size_t i;
  size_t n = 0;

  for (i = 0; i < f->n_log; i++) {
    size_t m = strlen(method);

    if (strncmp(f->log[i], method, m) == 0 && f->log[i][m] == ' ' &&
        strstr(f->log[i] + m + 1, part) != NULL)
      n++;
  }
  return n;
}

static inline void fake_print_log(const struct fake *f) {
  size_t i;

  for (i = 0; i < f->n_log; i++)
    fprintf(stderr, "  fake: %s\n", f->log[i]);
}

/* The config the tests share: one scale set vmss-web in rg-web, its
 * targets in Environments-1 with roles web-server and vmss-web, no retries
 * to wait for (one attempt), and `extra` appended (more scale_sets:
 * entries). policy: the policy file's path. */
static inline struct osc_config *fake_config(const char *policy,
                                             const char *extra) {
  struct osc_config *cfg = NULL;
  struct osc_error e = OSC_ERROR_INIT;
  char text[4096];
  int n;

  n = snprintf(text, sizeof(text),
               "octopus:\n"
               "  url: " FAKE_OCTOPUS "\n"
               "  api_key: API-FAKE0000000000000000000000000\n"
               "  space: Spaces-1\n"
               "azure:\n"
               "  subscription: " FAKE_SUB "\n"
               "  auth: client_secret\n"
               "  tenant: 72f988bf-0000-4000-8000-00000000a001\n"
               "  client_id: 3c9d2b1e-0000-4000-8000-00000000c001\n"
               "  client_secret: fake-secret\n"
               "  endpoints:\n"
               "    login: " FAKE_AZURE "\n"
               "    management: " FAKE_AZURE "\n"
               "http:\n"
               "  max_attempts: 1\n"
               "policy: %s\n"
               "scale_sets:\n"
               "  - name: web-prod\n"
               "    resource_group: rg-web\n"
               "    vmss: vmss-web\n"
               "    environment: Environments-1\n"
               "    roles: [web-server, vmss-web]\n"
               "%s",
               policy, extra ? extra : "");
  if (n < 0 || (size_t)n >= sizeof(text))
    abort();
  if (osc_config_load_string("fake.yaml", text, (size_t)n, &cfg, &e) < 0) {
    fprintf(stderr, "fake config: %s\n", e.msg);
    abort();
  }
  return cfg;
}

/* A session on cfg whose requests f answers. */
static inline struct osc_session *fake_session(const struct osc_config *cfg,
                                               struct fake *f) {
  struct osc_session *s = NULL;
  struct osc_error e = OSC_ERROR_INIT;

  if (osc_session_new(cfg, &s, &e) < 0) {
    fprintf(stderr, "fake session: %s\n", e.msg);
    abort();
  }
  osc_http_set_transport(osc_session_http(s), fake_answer, f);
  return s;
}

/* --- bodies --- */

#define FAKE_TOKEN_BODY                                                        \
  "{\"token_type\":\"Bearer\",\"access_token\":\"fake-token\","                \
  "\"expires_in\":3599}"

/* A Uniform scale set of `cap` VMs named web + 6 characters. */
#define FAKE_VMSS_BODY(cap)                                                    \
  "{\"id\":\"" FAKE_VMSS_ID "\",\"name\":\"vmss-web\","                        \
  "\"sku\":{\"capacity\":" #cap ",\"name\":\"Standard_D2s_v3\"},"              \
  "\"properties\":{\"provisioningState\":\"Succeeded\","                       \
  "\"orchestrationMode\":\"Uniform\",\"virtualMachineProfile\":{"              \
  "\"osProfile\":{\"computerNamePrefix\":\"web\"}}}}"

/* VM n (a digit), Succeeded and running, computer name web00000n. */
#define FAKE_VM_STATE(n, state)                                                \
  "{\"id\":\"" FAKE_VMSS_ID "/virtualMachines/" #n "\","                       \
  "\"name\":\"vmss-web_" #n "\",\"instanceId\":\"" #n "\","                    \
  "\"properties\":{\"provisioningState\":\"" state "\","                       \
  "\"timeCreated\":\"2026-11-26T10:00:00.0000000+00:00\","                     \
  "\"osProfile\":{\"computerName\":\"web00000" #n "\"},"                       \
  "\"instanceView\":{\"statuses\":["                                           \
  "{\"code\":\"ProvisioningState/succeeded\"},"                                \
  "{\"code\":\"PowerState/running\"}]}}}"
#define FAKE_VM(n) FAKE_VM_STATE(n, "Succeeded")

/* VM n's primary NIC with private IP 10.0.0.n. */
#define FAKE_NIC(n)                                                            \
  "{\"id\":\"" FAKE_VMSS_ID "/virtualMachines/" #n                             \
  "/networkInterfaces/nic01\",\"name\":\"nic01\",\"properties\":{"             \
  "\"primary\":true,\"virtualMachine\":{\"id\":\"" FAKE_VMSS_ID                \
  "/virtualMachines/" #n "\"},\"ipConfigurations\":[{\"name\":\"ipconfig1\","  \
  "\"properties\":{\"primary\":true,\"privateIPAddress\":\"10.0.0." #n "\","   \
  "\"privateIPAddressVersion\":\"IPv4\"}}]}}"

/* An in-scope target Machines-<id> named `name`; disabled: true/false. */
#define FAKE_MACHINE_X(id, name, env, disabled)                                \
  "{\"Id\":\"Machines-" #id "\",\"Name\":\"" name "\","                        \
  "\"SpaceId\":\"Spaces-1\",\"EnvironmentIds\":[\"" env "\"],"                 \
  "\"Roles\":[\"web-server\",\"vmss-web\"],\"TenantIds\":[],"                  \
  "\"IsDisabled\":" #disabled ",\"HealthStatus\":\"Healthy\","                 \
  "\"Uri\":\"https://" name ":10933/\",\"Thumbprint\":\"AB12\","               \
  "\"Endpoint\":{\"CommunicationStyle\":\"TentaclePassive\","                  \
  "\"Uri\":\"https://" name ":10933/\",\"Thumbprint\":\"AB12\"}}"
#define FAKE_MACHINE(id, name) FAKE_MACHINE_X(id, name, "Environments-1", false)

/* An Octopus page of `total` machines, all on it. */
#define FAKE_MACHINES(total, items)                                            \
  "{\"ItemType\":\"Machine\",\"TotalResults\":" #total ","                     \
  "\"ItemsPerPage\":1000,\"NumberOfPages\":1,\"LastPageNumber\":0,"            \
  "\"Items\":[" items "],\"Links\":{\"Self\":\"/api/Spaces-1/machines?"        \
  "skip=0&environmentIds=Environments-1&take=1000\"}}"

/* The scale set of the reconcile and apply tests: VM 0 and 4 with their
 * targets; 1 with none (past the registration grace: created a day before
 * FIXTURE_NOW); 2 Creating; 3 Failed with its target (Machines-4).
 * web00000z (Machines-9) is the scale set's by name but has no VM (an
 * orphan); db-01 (Machines-7) is in scope but not the scale set's
 * (foreign). */
#define FAKE_FIVE_VMS                                                          \
  "{\"value\":[" FAKE_VM(0) "," FAKE_VM(1) "," FAKE_VM_STATE(                  \
      2, "Creating") "," FAKE_VM_STATE(3, "Failed") "," FAKE_VM(4) "]}"
#define FAKE_FIVE_TARGETS                                                             \
  FAKE_MACHINES(                                                                      \
      5,                                                                              \
      FAKE_MACHINE(1, "web000000") "," FAKE_MACHINE(4, "web000003") "," FAKE_MACHINE( \
          5,                                                                          \
          "web000004") "," FAKE_MACHINE(9,                                            \
                                        "web00000z") "," FAKE_MACHINE(7,              \
                                                                      "db-"           \
                                                                      "01"))

/* A scratch directory with a policy and a state path, the config, and a
 * session answered by a fresh fake. */
struct world {
  char *dir;
  struct osc_config *cfg;
  struct fake *fake;
  struct osc_session *session;
};

static inline void world_open(struct world *w, const char *policy) {
  char *policy_path;
  char *state_path;
  char extra[512];

  w->dir = fixture_tmpdir();
  policy_path = fixture_path(w->dir, "policy.lua");
  state_path = fixture_path(w->dir, "state.json");
  fixture_write(policy_path, policy);
  snprintf(extra, sizeof(extra), "state: %s\n", state_path);
  w->cfg = fake_config(policy_path, extra);
  w->fake = calloc(1, sizeof(*w->fake));
  if (w->fake == NULL)
    abort();
  w->session = fake_session(w->cfg, w->fake);
  free(policy_path);
  free(state_path);
}

static inline void world_close(struct world *w) {
  osc_session_free(w->session);
  osc_config_free(w->cfg);
  free(w->fake);
  fixture_rmdir(w->dir);
}

/* The answers of a scale set of `capacity` with one page each of VMs
 * (vm_list), no NICs and the targets (machines); `times` as for routes.
 * The bodies must outlive the session. */
static inline void world_routes(struct fake *f, const char *vmss_body,
                                const char *vm_list, const char *machines,
                                int times) {
  fake_route(f, "POST", "/oauth2/v2.0/token", 200, FAKE_TOKEN_BODY, 0);
  fake_route(f, "GET", "/vmss-web?", 200, vmss_body, times);
  fake_route(f, "GET", "/virtualMachines?", 200, vm_list, times);
  fake_route(f, "GET", "/networkInterfaces?", 200, "{\"value\":[]}", times);
  fake_route(f, "GET", "/api/Spaces-1/machines?", 200, machines, times);
}

#endif
