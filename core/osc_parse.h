/* Raw Azure and Octopus bodies (read through core/osc_json.h) -> the typed
 * model. One place reads the real shapes, for live collection and
 * snapshots alike: missing orchestrationMode means Uniform, provisioning
 * states compare case-insensitively, power state comes from instanceView
 * statuses ("PowerState/running"). Each function allocates only in the
 * collection's arena (which the caller frees on any failure); the JSON
 * values are only read. */
#ifndef OSC_PARSE_H
#define OSC_PARSE_H

#include <stddef.h>

#include "core/osc_error.h"
#include "core/osc_json.h"
#include "core/osc_model.h"

/* A VMSS GET body -> c->vmss (sets c->have_vmss). */
int osc_parse_vmss(const struct osc_json_value *body, struct osc_collection *c,
                   struct osc_error *err);

/* The same from the body's text: text that does not decode is "not a JSON
 * object" like any other non-object (the Lua binding's entry point). */
int osc_parse_vmss_body(const char *text, size_t len, struct osc_collection *c,
                        struct osc_error *err);

/* An array of VM bodies (a list page's value[]: Uniform VMSS VMs or
 * Flexible standard VMs) -> appended to c->vms. Items without an id are an
 * error (the data would be implausible). */
int osc_parse_vms(const struct osc_json_value *list, struct osc_collection *c,
                  struct osc_error *err);

/* An array of VMSS NIC bodies -> private IPs attached to c->vms (joined on
 * properties.virtualMachine.id, case-insensitively; primary NIC and primary
 * IPv4 configuration first). */
int osc_parse_nics(const struct osc_json_value *list, struct osc_collection *c,
                   struct osc_error *err);

/* An array of Octopus machine resources -> appended to c->targets. */
int osc_parse_targets(const struct osc_json_value *list,
                      struct osc_collection *c, struct osc_error *err);

#endif
