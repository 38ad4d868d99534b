/* Live collection (core/osc_collect.h) against a fake transport: the VMSS,
 * its VM and NIC pages and the Octopus machines assembled into one
 * collection, and every failed or broken read marking it incomplete (or
 * failing the entry) instead of passing on partial data. From a table of
 * answers; no sockets, no simulator. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/osc_collect.h"
#include "core/osc_model.h"
#include "tests/unit/fake_transport.h"

#define VM_PAGE_2 "&$skiptoken=vm2"
#define NIC_PAGE_2 "&$skiptoken=nic2"

static const char vm_page_1[] = "{\"value\":[" FAKE_VM(0) "," FAKE_VM(
    1) "],\"nextLink\":\"" FAKE_AZURE FAKE_VMSS_ID
       "/virtualMachines?api-version=2024-11-01"
       "&$expand=instanceView" VM_PAGE_2 "\"}";
static const char vm_page_2[] = "{\"value\":[" FAKE_VM(2) "]}";
static const char nic_page_1[] = "{\"value\":[" FAKE_NIC(
    0) "],\"nextLink\":\"" FAKE_AZURE FAKE_VMSS_ID
       "/networkInterfaces?api-version=2017-03-30" NIC_PAGE_2 "\"}";
static const char nic_page_2[] =
    "{\"value\":[" FAKE_NIC(1) "," FAKE_NIC(2) "]}";
static const char machines[] = FAKE_MACHINES(
    3, FAKE_MACHINE(1, "web000000") "," FAKE_MACHINE(2, "web000001") "," //
    FAKE_MACHINE(3, "web000002"));

/* The Octopus list when the server pages by 2 (Links as Octopus sends
 * them): page 2 is asked for by position as soon as page 1 tells the
 * total. */
#define MACHINES_PAGE(total, items, links)                                     \
  "{\"ItemType\":\"Machine\",\"TotalResults\":" #total                         \
  ",\"ItemsPerPage\":2,\"Items\":[" items "],\"Links\":{" links "}}"
#define MACHINES_LINK(skip)                                                    \
  "/api/Spaces-1/machines?skip=" #skip "&environmentIds=Environments-1&take=2"
static const char machines_1of2[] = MACHINES_PAGE(
    3, FAKE_MACHINE(1, "web000000") "," FAKE_MACHINE(2, "web000001"),
    "\"Self\":\"" MACHINES_LINK(0) "\",\"Page.Next\":\"" MACHINES_LINK(2) "\"");
static const char machines_2of2[] = MACHINES_PAGE(
    3, FAKE_MACHINE(3, "web000002"), "\"Self\":\"" MACHINES_LINK(2) "\"");
static const char machines_2of2_total_changed[] = MACHINES_PAGE(
    4, FAKE_MACHINE(3, "web000002"), "\"Self\":\"" MACHINES_LINK(2) "\"");
static const char machines_2of2_repeats[] = MACHINES_PAGE(
    3, FAKE_MACHINE(2, "web000001"), "\"Self\":\"" MACHINES_LINK(2) "\"");

/* The answers of a healthy scale set of three VMs on two pages each. */
static void healthy_routes(struct fake *f) {
  fake_route(f, "POST", "/oauth2/v2.0/token", 200, FAKE_TOKEN_BODY, 0);
  fake_route(f, "GET", "/vmss-web?", 200, FAKE_VMSS_BODY(3), 0);
  fake_route(f, "GET", VM_PAGE_2, 200, vm_page_2, 0);
  fake_route(f, "GET", "/virtualMachines?", 200, vm_page_1, 0);
  fake_route(f, "GET", NIC_PAGE_2, 200, nic_page_2, 0);
  fake_route(f, "GET", "/networkInterfaces?", 200, nic_page_1, 0);
  fake_route(f, "GET", "/api/Spaces-1/machines?", 200, machines, 0);
}

struct collect_case {
  const char *name;
  struct fake_route broken[2]; /* answered before the healthy routes */
  bool complete;
  int error_code;
  size_t n_vms;
  size_t n_targets;
  const char *reason; /* in incomplete_reason, or in error */
};

static const struct collect_case collect_cases[] = {
    {"pages assembled", {{0}}, true, OSC_OK, 3, 3, NULL},
    {"VM page 2 answers 503",
     {{"GET", VM_PAGE_2, 503, "{}", NULL, 0}},
     false,
     OSC_OK,
     2,
     3,
     "Azure VM list page 2 (rg-web/vmss-web): HTTP 503"},
    {"VM page 2 is not JSON",
     {{"GET", VM_PAGE_2, 200, "{\"value\":[", NULL, 0}},
     false,
     OSC_OK,
     2,
     3,
     "Azure VM list page 2 (rg-web/vmss-web): response: invalid JSON"},
    {"VM page 2 has a VM without an id",
     {{"GET", VM_PAGE_2, 200, "{\"value\":[{\"name\":\"x\"}]}", NULL, 0}},
     false,
     OSC_OK,
     2,
     3,
     "Azure VM list page 2 (rg-web/vmss-web): VM 3 has no id"},
    {"NIC page 2 fails: private IPs are data too",
     {{"GET", NIC_PAGE_2, 500, "{}", NULL, 0}},
     false,
     OSC_OK,
     3,
     3,
     "Azure NIC list page 2 (rg-web/vmss-web): HTTP 500"},
    {"VM page 2 loops back to itself",
     {{"GET", VM_PAGE_2, 200,
       "{\"value\":[" FAKE_VM(2) "],\"nextLink\":\"" FAKE_AZURE FAKE_VMSS_ID
                                 "/virtualMachines?api-version=2024-11-01&$"
                                 "expand=instanceView" VM_PAGE_2 "\"}",
       NULL, 0}},
     false,
     OSC_OK,
     3,
     3,
     "the next-page link repeats an earlier one"},
    {"nextLink to another host",
     {{"GET", "/virtualMachines?", 200,
       "{\"value\":[" FAKE_VM(0) "],\"nextLink\":\"https://evil.test"
                                 "/virtualMachines?$skiptoken=x\"}",
       NULL, 1}},
     false,
     OSC_OK,
     1,
     3,
     "nextLink does not point at the management endpoint"},
    {"the scale set is gone (404)",
     {{"GET", "/vmss-web?", 404,
       "{\"error\":{\"code\":\"ResourceNotFound\",\"message\":\"gone\"}}", NULL,
       0}},
     false,
     OSC_OK,
     0,
     3,
     "Azure VMSS GET rg-web/vmss-web: HTTP 404 ResourceNotFound: gone"},
    {"fewer machines than TotalResults",
     {{"GET", "/api/Spaces-1/machines?", 200,
       FAKE_MACHINES(5, FAKE_MACHINE(1, "web000000")), NULL, 0}},
     false,
     OSC_OK,
     3,
     1,
     "Octopus machines list of web-prod returned 1 of 5 machines"},
    {"Octopus machines on two pages",
     {{"GET", "skip=2", 200, machines_2of2, NULL, 0},
      {"GET", "skip=0", 200, machines_1of2, NULL, 0}},
     true,
     OSC_OK,
     3,
     3,
     NULL},
    {"Octopus total changes on page 2",
     {{"GET", "skip=2", 200, machines_2of2_total_changed, NULL, 0},
      {"GET", "skip=0", 200, machines_1of2, NULL, 0}},
     false,
     OSC_OK,
     3,
     3,
     "Octopus machines list page 2 (web-prod): the reported total changed "
     "from 3 to 4"},
    {"Octopus page 2 repeats a machine",
     {{"GET", "skip=2", 200, machines_2of2_repeats, NULL, 0},
      {"GET", "skip=0", 200, machines_1of2, NULL, 0}},
     false,
     OSC_OK,
     3,
     2,
     "Octopus machines list page 2 (web-prod): item Machines-2 was already "
     "listed"},
    {"Octopus refuses the API key",
     {{"GET", "/api/Spaces-1/machines?", 401,
       "{\"ErrorMessage\":\"You must be logged in\"}", NULL, 0}},
     false,
     OSC_E_RUNTIME,
     3,
     0,
     "Octopus machines list page 1 (web-prod): HTTP 401: You must be logged "
     "in"},
    {"Octopus unreachable",
     {{"GET", "/api/Spaces-1/machines?", 0, NULL, NULL, 0}},
     false,
     OSC_OK,
     3,
     0,
     "Octopus machines list page 1 (web-prod) failed: connect to "
     "octopus.test failed"},
    {"the token endpoint refuses the credential",
     {{"POST", "/oauth2/v2.0/token", 401,
       "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: "
       "Invalid client secret provided.\"}",
       NULL, 0}},
     false,
     OSC_E_RUNTIME,
     0,
     3,
     "Azure token (client secret): HTTP 401 invalid_client: AADSTS7000215"},
};

static void run_case(const struct collect_case *c, struct fake *f,
                     struct osc_collect_result *r) {
  struct osc_config *cfg = fake_config("policies/default.lua", NULL);
  const struct osc_config_scale_set *entry = &cfg->scale_sets[0];
  struct osc_session *s;
  struct osc_error e = OSC_ERROR_INIT;
  size_t i;

  for (i = 0; i < 2 && c->broken[i].method != NULL; i++)
    f->routes[f->n_routes++] = c->broken[i];
  healthy_routes(f);
  s = fake_session(cfg, f);
  assert_int_equal(osc_collect_all(s, &entry, 1, false, r, &e), 0);
  osc_session_free(s);
  osc_config_free(cfg);
}

static bool vm_has_ip(const struct osc_vm *vm, const char *ip) {
  return vm->private_ips.n == 1 && strcmp(vm->private_ips.items[0], ip) == 0;
}

static void test_collect__cases(void **state) {
  size_t k;

  (void)state;
  for (k = 0; k < sizeof(collect_cases) / sizeof(collect_cases[0]); k++) {
    const struct collect_case *c = &collect_cases[k];
    struct fake *f = calloc(1, sizeof(*f));
    struct osc_collect_result r;
    const struct osc_collection *col = &r.collection;

    assert_non_null(f);
    run_case(c, f, &r);
    print_message("%s: complete %d, code %d, %zu VMs, %zu targets: %s%s\n",
                  c->name, col->complete, r.error_code, col->n_vms,
                  col->n_targets, col->incomplete_reason, r.error);
    if (!c->complete && c->error_code == OSC_OK && col->complete)
      fake_print_log(f);
    assert_int_equal(r.error_code, c->error_code);
    if (c->error_code == OSC_OK)
      assert_int_equal(col->complete, c->complete);
    assert_int_equal(col->n_vms, c->n_vms);
    assert_int_equal(col->n_targets, c->n_targets);
    if (c->reason != NULL)
      assert_non_null(
          strstr(c->error_code == OSC_OK ? col->incomplete_reason : r.error,
                 c->reason));
    assert_int_equal(f->unrouted, 0);
    osc_collect_result_free(&r);
    free(f);
  }
}

/* The healthy run in detail: what was assembled, and that it took exactly
 * one request per page. */
static void test_collect__assembles_pages(void **state) {
  struct fake *f = calloc(1, sizeof(*f));
  struct osc_collect_result r;
  const struct osc_collection *col = &r.collection;
  size_t i;

  (void)state;
  assert_non_null(f);
  run_case(&collect_cases[0], f, &r);
  fake_print_log(f);
  assert_true(col->complete);
  assert_true(col->have_vmss);
  assert_int_equal(col->vmss.capacity, 3);
  assert_int_equal(col->n_vms, 3);
  for (i = 0; i < 3; i++) {
    char name[32];
    char ip[32];

    snprintf(name, sizeof(name), "web00000%zu", i);
    snprintf(ip, sizeof(ip), "10.0.0.%zu", i);
    assert_string_equal(col->vms[i].computer_name, name);
    assert_true(vm_has_ip(&col->vms[i], ip));
    assert_string_equal(col->targets[i].name, name);
  }
  assert_string_equal(col->targets[2].id, "Machines-3");
  assert_string_equal(r.scope.environment_id, "Environments-1");
  assert_int_equal(fake_count(f, "POST", "/oauth2/v2.0/token"), 1);
  assert_int_equal(fake_count(f, "GET", "/vmss-web?"), 1);
  assert_int_equal(fake_count(f, "GET", "/virtualMachines?"), 2);
  assert_int_equal(fake_count(f, "GET", VM_PAGE_2), 1);
  assert_int_equal(fake_count(f, "GET", "/networkInterfaces?"), 2);
  assert_int_equal(fake_count(f, "GET", "/machines?"), 1);
  assert_int_equal(f->n_log, 7);
  /* A read-only pass. */
  assert_int_equal(fake_count(f, "DELETE", "/"), 0);
  assert_int_equal(fake_count(f, "PUT", "/"), 0);
  osc_collect_result_free(&r);
  free(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_collect__assembles_pages),
      cmocka_unit_test(test_collect__cases),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
