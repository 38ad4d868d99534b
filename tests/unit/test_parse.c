/* The parsers against the real Azure and Octopus shapes in
 * tests/fixtures/api (copied from the shared fixtures). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "core/osc_buf.h"
#include "core/osc_json.h"
#include "core/osc_model.h"
#include "core/osc_parse.h"

/* The file's document; `wrap` puts it in a one-element array first. */
static struct osc_json_doc *decode_file_as(const char *path, bool wrap) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_json_doc *doc = NULL;
  struct osc_buf buf;

  osc_buf_init(&buf, 1u << 24);
  if (wrap)
    assert_int_equal(osc_buf_puts(&buf, "[", &err), 0);
  assert_int_equal(osc_buf_read_file(&buf, path, &err), 0);
  if (wrap)
    assert_int_equal(osc_buf_puts(&buf, "]", &err), 0);
  assert_int_equal(osc_json_parse(buf.data, buf.len, path, &doc, &err), 0);
  osc_buf_free(&buf);
  return doc;
}

static struct osc_json_doc *decode_file(const char *path) {
  return decode_file_as(path, false);
}

static struct osc_json_doc *decode_text(const char *text) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_json_doc *doc = NULL;

  assert_int_equal(osc_json_parse(text, strlen(text), "test", &doc, &err), 0);
  return doc;
}

static void test_parse__vmss_uniform_lowercase_state(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_collection c;
  struct osc_json_doc *doc =
      decode_file("tests/fixtures/api/azure/vmss-get-uniform.json");

  (void)state;
  osc_collection_init(&c, "web");
  assert_int_equal(osc_parse_vmss(osc_json_root(doc), &c, &err), 0);
  assert_true(c.have_vmss);
  assert_int_equal(c.vmss.mode, OSC_UNIFORM); /* orchestrationMode absent */
  assert_int_equal(c.vmss.capacity, 4);
  assert_string_equal(c.vmss.provisioning_state, "succeeded");
  assert_false(c.vmss.overprovision);
  assert_string_equal(c.vmss.computer_name_prefix, "myVirtualMachineScaleSet");
  osc_collection_free(&c);
  osc_json_doc_free(doc);
}

static void test_parse__vmss_flexible(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_collection c;
  struct osc_json_doc *doc =
      decode_file("tests/fixtures/api/azure/vmss-get-flexible.json");

  (void)state;
  osc_collection_init(&c, "api");
  assert_int_equal(osc_parse_vmss(osc_json_root(doc), &c, &err), 0);
  assert_int_equal(c.vmss.mode, OSC_FLEXIBLE);
  assert_int_equal(c.vmss.capacity, 10);
  osc_collection_free(&c);
  osc_json_doc_free(doc);
}

static void test_parse__uniform_vm_list(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_collection c;
  struct osc_json_doc *doc =
      decode_file("tests/fixtures/api/azure/vmss-vms-list-uniform.json");

  (void)state;
  osc_collection_init(&c, "web");
  assert_int_equal(
      osc_parse_vms(osc_json_get(osc_json_root(doc), "value"), &c, &err), 0);
  assert_int_equal(c.n_vms, 2);
  assert_string_equal(c.vms[0].instance_id, "1");
  assert_string_equal(c.vms[0].computer_name, "statustes000001");
  assert_int_equal(c.vms[0].state, OSC_VM_SUCCEEDED);
  assert_string_equal(c.vms[0].scale_set, "{vmss-name}");
  assert_true(c.vms[0].created_at > 0);
  /* a second page appends */
  assert_int_equal(
      osc_parse_vms(osc_json_get(osc_json_root(doc), "value"), &c, &err), 0);
  assert_int_equal(c.n_vms, 4);
  assert_string_equal(c.vms[3].computer_name, "statustes000002");
  osc_collection_free(&c);
  osc_json_doc_free(doc);
}

static void test_parse__instance_view_power_state(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_collection c;
  struct osc_json_doc *doc = decode_file(
      "tests/fixtures/api/azure/vmss-vms-list-with-instanceview-maxset.json");

  (void)state;
  osc_collection_init(&c, "web");
  assert_int_equal(
      osc_parse_vms(osc_json_get(osc_json_root(doc), "value"), &c, &err), 0);
  assert_true(c.n_vms >= 1);
  assert_string_equal(c.vms[0].computer_name, "test000000");
  assert_string_equal(c.vms[0].zone, "a");
  osc_collection_free(&c);
  osc_json_doc_free(doc);
}

static void test_parse__flexible_member(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_collection c;
  /* a one-element array holding the standard VM body */
  struct osc_json_doc *doc =
      decode_file_as("tests/fixtures/api/azure/vm-flex-member.json", true);

  (void)state;
  osc_collection_init(&c, "api");
  assert_int_equal(osc_parse_vms(osc_json_root(doc), &c, &err), 0);
  assert_int_equal(c.n_vms, 1);
  assert_string_equal(c.vms[0].name, "myVM");
  assert_string_equal(c.vms[0].instance_id, "myVM"); /* Flexible: the name */
  assert_string_equal(c.vms[0].scale_set, "myExistingFlexVmss");
  assert_int_equal(c.vms[0].state, OSC_VM_CREATING);
  osc_collection_free(&c);
  osc_json_doc_free(doc);
}

static void test_parse__nics_join_private_ips(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_collection c;
  struct osc_json_doc *doc =
      decode_file("tests/fixtures/api/azure/vmss-nics-list.json");
  static const char body[] =
      "[{\"id\":\"/subscriptions/subid/resourceGroups/rg1/providers/"
      "Microsoft.Compute/virtualMachineScaleSets/vmss1/virtualMachines/1\","
      "\"properties\":{\"provisioningState\":\"Succeeded\"}},"
      "{\"id\":\"/subscriptions/subid/resourceGroups/rg1/providers/"
      "Microsoft.Compute/virtualMachineScaleSets/VMSS1/virtualMachines/0\","
      "\"properties\":{\"provisioningState\":\"Succeeded\"}}]";
  struct osc_json_doc *vms = decode_text(body);

  (void)state;
  osc_collection_init(&c, "web");
  assert_int_equal(osc_parse_vms(osc_json_root(vms), &c, &err), 0);
  assert_int_equal(
      osc_parse_nics(osc_json_get(osc_json_root(doc), "value"), &c, &err), 0);
  assert_int_equal(c.vms[0].private_ips.n, 1);
  assert_string_equal(c.vms[0].private_ips.items[0], "10.0.0.5");
  assert_int_equal(c.vms[1].private_ips.n, 1); /* ids compare ignoring case */
  assert_string_equal(c.vms[1].private_ips.items[0], "10.0.0.4");
  osc_collection_free(&c);
  osc_json_doc_free(vms);
  osc_json_doc_free(doc);
}

static void test_parse__targets(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_collection c;
  struct osc_json_doc *doc;
  static const char body[] =
      "[{\"Id\":\"Machines-1\",\"Name\":\"web000001\",\"Roles\":[\"web\","
      "\"api\"],\"EnvironmentIds\":[\"Environments-1\"],\"TenantIds\":[],"
      "\"IsDisabled\":true,\"HealthStatus\":\"Unavailable\",\"Endpoint\":{"
      "\"CommunicationStyle\":\"TentacleActive\",\"Uri\":\"poll://abc/\","
      "\"Thumbprint\":\"AB\"}}]";

  (void)state;
  doc = decode_text(body);
  osc_collection_init(&c, "web");
  assert_int_equal(osc_parse_targets(osc_json_root(doc), &c, &err), 0);
  assert_int_equal(c.n_targets, 1);
  assert_string_equal(c.targets[0].id, "Machines-1");
  assert_int_equal(c.targets[0].roles.n, 2);
  assert_int_equal(c.targets[0].tenant_ids.n, 0);
  assert_true(c.targets[0].disabled);
  assert_int_equal(c.targets[0].comm_style, OSC_COMM_POLLING);
  assert_string_equal(c.targets[0].uri, "poll://abc/");
  assert_string_equal(c.targets[0].thumbprint, "AB");
  osc_collection_free(&c);
  osc_json_doc_free(doc);
}

static void test_parse__malformed_is_an_error(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_collection c;
  struct osc_json_doc *doc = NULL;

  (void)state;
  osc_collection_init(&c, "web");
  assert_int_not_equal(osc_json_parse("{", 1, "page 2", &doc, &err), 0);
  assert_null(doc);
  assert_non_null(strstr(err.msg, "page 2: invalid JSON"));
  doc = decode_text("[{\"name\":\"no-id\"}]");
  assert_int_not_equal(osc_parse_vms(osc_json_root(doc), &c, &err), 0);
  assert_non_null(strstr(err.msg, "VM 1 has no id"));
  assert_int_not_equal(osc_parse_targets(osc_json_root(doc), &c, &err), 0);
  osc_collection_free(&c);
  osc_json_doc_free(doc);
}

/* Capacity is range-checked: anything but an integer 0..max is unknown
 * (-1) with the reason, never a wrapped cast. */
static void test_parse__vmss_capacity_range(void **state) {
  static const struct {
    const char *body;
    int64_t capacity;
    const char *problem;
  } cases[] = {
      {"{\"sku\":{\"capacity\":5}}", 5, NULL},
      {"{\"sku\":{\"capacity\":0}}", 0, NULL},
      {"{\"name\":\"x\"}", -1, "the scale set body has no sku"},
      {"{\"sku\":{\"name\":\"Mix\"}}", -1, "sku.capacity is missing"},
      {"{\"sku\":{\"capacity\":null}}", -1, "sku.capacity is null"},
      {"{\"sku\":{\"capacity\":-3}}", -1, "out of range"},
      {"{\"sku\":{\"capacity\":1.5}}", -1, "fits in 64 bits"},
      {"{\"sku\":{\"capacity\":18446744073709551616}}", -1, "fits in 64 bits"},
      {"{\"sku\":{\"capacity\":\"99999999999999999999\"}}", -1,
       "fits in 64 bits"},
      {"{\"sku\":{\"capacity\":5000000000}}", -1, "out of range"},
      {"{\"sku\":{\"capacity\":true}}", -1, "not a number"},
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct osc_error err = OSC_ERROR_INIT;
    struct osc_collection c;
    struct osc_json_doc *doc = decode_text(cases[i].body);

    osc_collection_init(&c, "web");
    assert_int_equal(osc_parse_vmss(osc_json_root(doc), &c, &err), 0);
    assert_int_equal(c.vmss.capacity, cases[i].capacity);
    if (cases[i].problem == NULL) {
      assert_null(c.vmss.capacity_problem);
    } else {
      assert_non_null(c.vmss.capacity_problem);
      assert_non_null(strstr(c.vmss.capacity_problem, cases[i].problem));
    }
    osc_collection_free(&c);
    osc_json_doc_free(doc);
  }
}

/* Appending page after page keeps every item and grows the array
 * geometrically (the room is never just the items so far). */
static void test_parse__pages_append_without_copying_all(void **state) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_collection c;
  struct osc_json_doc *doc = decode_text(
      "[{\"id\":\"/subscriptions/s/resourceGroups/r/providers/"
      "Microsoft.Compute/virtualMachineScaleSets/v/virtualMachines/1\"},"
      "{\"id\":\"/subscriptions/s/resourceGroups/r/providers/"
      "Microsoft.Compute/virtualMachineScaleSets/v/virtualMachines/2\"}]");
  size_t reallocs = 0;
  const void *last = NULL;
  int i;

  (void)state;
  osc_collection_init(&c, "web");
  for (i = 0; i < 1000; i++) {
    assert_int_equal(osc_parse_vms(osc_json_root(doc), &c, &err), 0);
    if ((const void *)c.vms != last)
      reallocs++;
    last = c.vms;
  }
  assert_int_equal(c.n_vms, 2000);
  assert_true(c.cap_vms >= c.n_vms);
  assert_true(reallocs <= 12); /* 16, 32, ... 2048 */
  assert_string_equal(c.vms[1999].instance_id, "2");
  osc_collection_free(&c);
  osc_json_doc_free(doc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse__vmss_uniform_lowercase_state),
      cmocka_unit_test(test_parse__vmss_flexible),
      cmocka_unit_test(test_parse__uniform_vm_list),
      cmocka_unit_test(test_parse__instance_view_power_state),
      cmocka_unit_test(test_parse__flexible_member),
      cmocka_unit_test(test_parse__nics_join_private_ips),
      cmocka_unit_test(test_parse__targets),
      cmocka_unit_test(test_parse__malformed_is_an_error),
      cmocka_unit_test(test_parse__vmss_capacity_range),
      cmocka_unit_test(test_parse__pages_append_without_copying_all),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
