/* The engine's data: what was collected for one scale set entry, as typed C
 * structs. Strings and arrays live in the owning osc_collection's arena. */
#ifndef OSC_MODEL_H
#define OSC_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/osc_arena.h"
#include "core/osc_error.h"

enum osc_vm_state {
  OSC_VM_UNKNOWN = 0,
  OSC_VM_CREATING,
  OSC_VM_UPDATING,
  OSC_VM_SUCCEEDED,
  OSC_VM_FAILED,
  OSC_VM_DELETING,
  OSC_VM_MIGRATING,
};

enum osc_orchestration {
  OSC_UNIFORM = 0, /* an absent orchestrationMode means Uniform */
  OSC_FLEXIBLE,
};

struct osc_strlist {
  const char **items;
  size_t n;
};

struct osc_tag {
  const char *key;
  const char *value;
};

struct osc_vm {
  const char *id;                 /* ARM resource id */
  const char *name;               /* resource name: vmss_3 or vmss_ab12cd34 */
  const char *instance_id;        /* "3" (Uniform) or the VM name (Flexible) */
  const char *computer_name;      /* host name; may be NULL */
  const char *vm_id;              /* Azure's GUID; may be NULL */
  const char *provisioning_state; /* as Azure wrote it, e.g. "Succeeded" */
  enum osc_vm_state state;        /* parsed case-insensitively */
  const char *power_state;        /* "running", ...; NULL when unknown */
  struct osc_strlist private_ips;
  int64_t created_at; /* Unix seconds; 0 when unknown */
  const char *zone;   /* NULL when none */
  struct osc_tag *tags;
  size_t n_tags;
  const char *scale_set; /* VMSS name */
};

enum osc_comm_style {
  OSC_COMM_OTHER = 0,
  OSC_COMM_LISTENING, /* TentaclePassive */
  OSC_COMM_POLLING,   /* TentacleActive */
};

struct osc_target {
  const char *id;   /* Machines-N */
  const char *name; /* registration name */
  struct osc_strlist roles;
  struct osc_strlist environment_ids;
  struct osc_strlist tenant_ids;
  const char *health; /* Healthy, Unavailable, ... */
  bool disabled;
  enum osc_comm_style comm_style;
  const char *comm_style_raw; /* CommunicationStyle as Octopus wrote it */
  const char *uri;
  const char *thumbprint;
  /* When octoscale disabled it (policy memory, from the state); 0 when it
   * is enabled or was disabled by someone else (osc_collection_mark_disabled
   * sets it). */
  int64_t disabled_since;
};

/* Beyond any real scale set (Azure allows 1,000 VMs): a larger capacity
 * is implausible data. */
#define OSC_VMSS_MAX_CAPACITY 100000

/* The scale set itself (from the VMSS GET). */
struct osc_vmss {
  const char *id;
  const char *name;
  enum osc_orchestration mode;
  const char *provisioning_state; /* "succeeded", "Updating", ... */
  int64_t capacity;               /* sku.capacity; -1 when unknown */
  const char *capacity_problem;   /* why it is unknown ("no sku", ...) */
  bool overprovision;
  const char *computer_name_prefix;
};

/* Everything collected for one config entry. `complete` is false when any
 * read failed or was partial after retries; `incomplete_reason` says which
 * (safety rule 1). */
struct osc_collection {
  struct osc_arena arena;
  const char *entry_name; /* the config entry's name */
  struct osc_vmss vmss;
  bool have_vmss;
  struct osc_vm *vms;
  size_t n_vms;
  size_t cap_vms;             /* room in vms (parsers grow it geometrically) */
  struct osc_target *targets; /* every target of the entry's environment */
  size_t n_targets;
  size_t cap_targets;
  bool complete;
  char incomplete_reason[OSC_ERROR_MAX];
};

/* Parses a provisioning state ("succeeded", "Creating", ...). */
enum osc_vm_state osc_vm_state_parse(const char *s);
const char *osc_vm_state_name(enum osc_vm_state state);
const char *osc_comm_style_name(enum osc_comm_style style);

bool osc_strlist_contains_ci(const struct osc_strlist *l, const char *s);

void osc_collection_init(struct osc_collection *c, const char *entry_name);
void osc_collection_free(struct osc_collection *c);
/* Marks the collection incomplete (keeps the first reason). */
void osc_collection_mark_incomplete(struct osc_collection *c,
                                    const char *reason);

#endif
