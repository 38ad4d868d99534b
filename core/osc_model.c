#include "core/osc_model.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

enum osc_vm_state osc_vm_state_parse(const char *s) {
  static const struct {
    const char *name;
    enum osc_vm_state state;
  } states[] = {
      {"creating", OSC_VM_CREATING},   {"updating", OSC_VM_UPDATING},
      {"succeeded", OSC_VM_SUCCEEDED}, {"failed", OSC_VM_FAILED},
      {"deleting", OSC_VM_DELETING},   {"migrating", OSC_VM_MIGRATING},
  };
  size_t i;

  if (s == NULL)
    return OSC_VM_UNKNOWN;
  for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
    if (strcasecmp(s, states[i].name) == 0)
      return states[i].state;
  }
  return OSC_VM_UNKNOWN;
}

const char *osc_vm_state_name(enum osc_vm_state state) {
  switch (state) {
  case OSC_VM_CREATING:
    return "Creating";
  case OSC_VM_UPDATING:
    return "Updating";
  case OSC_VM_SUCCEEDED:
    return "Succeeded";
  case OSC_VM_FAILED:
    return "Failed";
  case OSC_VM_DELETING:
    return "Deleting";
  case OSC_VM_MIGRATING:
    return "Migrating";
  default:
    return "Unknown";
  }
}

const char *osc_comm_style_name(enum osc_comm_style style) {
  switch (style) {
  case OSC_COMM_LISTENING:
    return "listening";
  case OSC_COMM_POLLING:
    return "polling";
  default:
    return "other";
  }
}

bool osc_strlist_contains_ci(const struct osc_strlist *l, const char *s) {
  size_t i;

  if (s == NULL)
    return false;
  for (i = 0; i < l->n; i++) {
    if (l->items[i] != NULL && strcasecmp(l->items[i], s) == 0)
      return true;
  }
  return false;
}

void osc_collection_init(struct osc_collection *c, const char *entry_name) {
  memset(c, 0, sizeof(*c));
  c->entry_name = osc_arena_strdup(&c->arena, entry_name ? entry_name : "");
  c->vmss.capacity = -1;
  c->complete = true;
}

void osc_collection_free(struct osc_collection *c) {
  osc_arena_free(&c->arena);
  memset(c, 0, sizeof(*c));
}

void osc_collection_mark_incomplete(struct osc_collection *c,
                                    const char *reason) {
  if (!c->complete)
    return;
  c->complete = false;
  snprintf(c->incomplete_reason, sizeof(c->incomplete_reason), "%s",
           reason ? reason : "incomplete read");
}
