#include "core/osc_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/osc_lock.h"
#include "core/osc_store_blob.h"

struct osc_store {
  const struct osc_config *cfg;
  char label[4200];
  struct osc_store_blob *blob; /* the blob backend, else the file one */
  struct osc_lock *lock;       /* file: held */
};

int osc_store_open(const struct osc_config *cfg, struct osc_store **out,
                   struct osc_error *err) {
  struct osc_store *s = calloc(1, sizeof(*s));
  int rc = OSC_OK;

  *out = NULL;
  if (s == NULL)
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  s->cfg = cfg;
  if (cfg->state_blob.url != NULL) {
    rc = osc_store_blob_open(cfg, &s->blob, err);
    if (rc == OSC_OK)
      snprintf(s->label, sizeof(s->label), "blob %s",
               osc_store_blob_url(s->blob));
  } else if (cfg->state == NULL) {
    rc = osc_error_set(err, OSC_E_CONFIG, "no state configured");
  } else {
    snprintf(s->label, sizeof(s->label), "file %s", cfg->state);
  }
  if (rc < 0) {
    free(s);
    return rc;
  }
  *out = s;
  return OSC_OK;
}

void osc_store_free(struct osc_store *s) {
  if (s == NULL)
    return;
  osc_store_unlock(s);
  osc_store_blob_free(s->blob);
  free(s);
}

const char *osc_store_label(const struct osc_store *s) {
  return s->label;
}

bool osc_store_is_blob(const struct osc_store *s) {
  return s->blob != NULL;
}

int osc_store_lock(struct osc_store *s, struct osc_error *err) {
  if (s->blob != NULL)
    return osc_store_blob_lock(s->blob, err);
  if (s->lock != NULL)
    return OSC_OK;
  return osc_lock_acquire(s->cfg->state, &s->lock, err);
}

int osc_store_load(struct osc_store *s, struct osc_state **out,
                   struct osc_error *err) {
  if (s->blob != NULL)
    return osc_store_blob_load(s->blob, out, err);
  return osc_state_load(s->cfg->state, out, err);
}

int osc_store_check(struct osc_store *s, const struct osc_state *state,
                    struct osc_error *err) {
  struct osc_error why = OSC_ERROR_INIT;

  if (s->blob != NULL)
    return osc_store_blob_check(s->blob, err);
  /* The temporary file beside the real one is written, fsynced, removed. */
  if (osc_state_check_writable(state, s->cfg->state, &why) < 0)
    return osc_error_set(err, why.code, "%.900s; nothing was changed", why.msg);
  return OSC_OK;
}

int osc_store_save(struct osc_store *s, const struct osc_state *state,
                   struct osc_error *err) {
  if (s->blob != NULL)
    return osc_store_blob_save(s->blob, state, err);
  return osc_state_save(state, s->cfg->state, err);
}

void osc_store_unlock(struct osc_store *s) {
  if (s == NULL)
    return;
  if (s->blob != NULL)
    osc_store_blob_unlock(s->blob);
  osc_lock_release(s->lock);
  s->lock = NULL;
}

int osc_store_holder(struct osc_store *s, bool *locked, char *text, size_t cap,
                     struct osc_error *err) {
  if (s->blob != NULL)
    return osc_store_blob_holder(s->blob, locked, text, cap, err);
  return osc_lock_probe(s->cfg->state, locked, text, cap, err);
}

int osc_store_break(struct osc_store *s, bool *was_locked,
                    struct osc_error *err) {
  char holder[600];
  bool removed = false;
  int rc;

  if (s->blob != NULL)
    return osc_store_blob_break(s->blob, was_locked, err);
  rc = osc_lock_probe(s->cfg->state, was_locked, holder, sizeof(holder), err);
  if (rc < 0)
    return rc;
  if (*was_locked)
    return osc_error_set(err, OSC_E_RUNTIME,
                         "state %s is locked by a running process, %s: a "
                         "file lock ends with its holder; stop that process "
                         "instead",
                         s->label, holder);
  return osc_lock_remove_stale(s->cfg->state, &removed, err);
}
