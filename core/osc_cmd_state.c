/* `octoscale state show|unlock|copy` (docs: README "Remote state"). */
#include "core/osc_commands.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/osc_buf.h"
#include "core/osc_jsonw.h"
#include "core/osc_state.h"
#include "core/osc_store.h"
#include "core/osc_time.h"

#define HOLDER_MAX 600

static void time_text(int64_t t, char *out, size_t cap) {
  osc_time_format_rfc3339(t, out, cap);
}

static void show_text(FILE *out, const char *label, bool locked,
                      const char *holder, const struct osc_state *s) {
  char at[64];
  size_t i;
  size_t j;

  fprintf(out, "state: %s (format_version %d)\n", label,
          s->loaded_version ? s->loaded_version : OSC_STATE_VERSION);
  fprintf(out, "lock: %s%s\n", locked ? "held by " : "free",
          locked ? holder : "");
  if (s->updated_at != 0) {
    time_text(s->updated_at, at, sizeof(at));
    fprintf(out, "updated: %s\n", at);
  }
  for (i = 0; i < s->n_sets; i++) {
    const struct osc_state_scale_set *set = &s->sets[i];

    fprintf(out, "%s: %zu orphan%s, %zu baseline%s\n", set->name,
            set->n_orphans, set->n_orphans == 1 ? "" : "s", set->n_baselines,
            set->n_baselines == 1 ? "" : "s");
    for (j = 0; j < set->n_orphans; j++) {
      time_text(set->orphans[j].since, at, sizeof(at));
      fprintf(out, "  orphan    %s since %s\n", set->orphans[j].target_id, at);
    }
    for (j = 0; j < set->n_baselines; j++) {
      time_text(set->baselines[j].at, at, sizeof(at));
      fprintf(out, "  baseline  %s: %zu target%s at %s\n",
              set->baselines[j].name, set->baselines[j].n_targets,
              set->baselines[j].n_targets == 1 ? "" : "s", at);
    }
  }
  fprintf(out, "runs recorded: %zu\n", s->n_runs);
}

static void json_time(struct osc_jsonw *w, const char *key, int64_t t) {
  char at[64];

  time_text(t, at, sizeof(at));
  osc_jsonw_key(w, key);
  osc_jsonw_string(w, at);
}

static void json_set(struct osc_jsonw *w, const struct osc_state_scale_set *s) {
  size_t j;

  osc_jsonw_object_begin(w);
  osc_jsonw_key(w, "name");
  osc_jsonw_string(w, s->name);
  osc_jsonw_key(w, "orphans");
  osc_jsonw_array_begin(w);
  for (j = 0; j < s->n_orphans; j++) {
    osc_jsonw_object_begin(w);
    osc_jsonw_key(w, "target_id");
    osc_jsonw_string(w, s->orphans[j].target_id);
    json_time(w, "since", s->orphans[j].since);
    osc_jsonw_object_end(w);
  }
  osc_jsonw_array_end(w);
  osc_jsonw_key(w, "baselines");
  osc_jsonw_array_begin(w);
  for (j = 0; j < s->n_baselines; j++) {
    const struct osc_state_baseline *b = &s->baselines[j];

    osc_jsonw_object_begin(w);
    osc_jsonw_key(w, "name");
    osc_jsonw_string(w, b->name);
    osc_state_write_baseline_fields(w, b);
    osc_jsonw_object_end(w);
  }
  osc_jsonw_array_end(w);
  osc_jsonw_object_end(w);
}

static int show_json(FILE *out, const char *label, bool locked,
                     const char *holder, const struct osc_state *s,
                     struct osc_error *err) {
  struct osc_jsonw w;
  struct osc_buf buf;
  size_t i;
  int rc;

  osc_buf_init(&buf, 256u << 20);
  osc_jsonw_init(&w, &buf, true);
  osc_jsonw_object_begin(&w);
  osc_jsonw_key(&w, "location");
  osc_jsonw_string(&w, label);
  osc_jsonw_key(&w, "format_version");
  osc_jsonw_int(&w, s->loaded_version ? s->loaded_version : OSC_STATE_VERSION);
  osc_jsonw_key(&w, "locked");
  osc_jsonw_bool(&w, locked);
  osc_jsonw_key(&w, "holder");
  if (locked)
    osc_jsonw_string(&w, holder);
  else
    osc_jsonw_null(&w);
  if (s->updated_at != 0)
    json_time(&w, "updated_at", s->updated_at);
  osc_jsonw_key(&w, "scale_sets");
  osc_jsonw_array_begin(&w);
  for (i = 0; i < s->n_sets; i++)
    json_set(&w, &s->sets[i]);
  osc_jsonw_array_end(&w);
  osc_jsonw_key(&w, "runs");
  osc_jsonw_int(&w, (int64_t)s->n_runs);
  osc_jsonw_object_end(&w);
  rc = osc_jsonw_finish(&w, err);
  if (rc == OSC_OK)
    fprintf(out, "%s\n", osc_buf_str(&buf));
  osc_buf_free(&buf);
  return rc;
}

int osc_cmd_state_show(const struct osc_config *cfg, bool json, FILE *out,
                       struct osc_error *err) {
  struct osc_store *store = NULL;
  struct osc_state *state = NULL;
  char holder[HOLDER_MAX] = "";
  bool locked = false;
  int rc;

  rc = osc_store_open(cfg, &store, err);
  if (rc == OSC_OK)
    rc = osc_store_load(store, &state, err);
  if (rc == OSC_OK)
    rc = osc_store_holder(store, &locked, holder, sizeof(holder), err);
  if (rc == OSC_OK && json)
    rc = show_json(out, osc_store_label(store), locked, holder, state, err);
  else if (rc == OSC_OK)
    show_text(out, osc_store_label(store), locked, holder, state);
  osc_state_free(state);
  osc_store_free(store);
  return rc;
}

int osc_cmd_state_unlock(const struct osc_config *cfg, bool yes, FILE *out,
                         struct osc_error *err) {
  struct osc_store *store = NULL;
  char holder[HOLDER_MAX] = "";
  bool locked = false;
  int rc;

  rc = osc_store_open(cfg, &store, err);
  if (rc == OSC_OK)
    rc = osc_store_holder(store, &locked, holder, sizeof(holder), err);
  if (rc < 0)
    goto done;
  if (locked)
    fprintf(out, "state %s is locked by %s\n", osc_store_label(store), holder);
  else
    fprintf(out, "state %s is not locked\n", osc_store_label(store));
  if (!yes) {
    rc = osc_error_set(err, OSC_E_USAGE,
                       "state unlock changes nothing without --yes (a "
                       "running apply loses its lock: check the holder "
                       "first)");
    goto done;
  }
  rc = osc_store_break(store, &locked, err);
  if (rc == OSC_OK && locked)
    fprintf(out, "unlocked: the lease is broken; the holder can no longer "
                 "save\n");
done:
  osc_store_free(store);
  return rc;
}

/* A config whose state is `where`: a URL keeps the configured blob
 * settings (auth, key, SAS, lease), else uses Entra; a path is a file. */
static void config_for(const struct osc_config *cfg, const char *where,
                       struct osc_config *out) {
  *out = *cfg;
  memset(&out->arena, 0, sizeof(out->arena)); /* never freed through here */
  if (strncasecmp(where, "https://", 8) == 0 ||
      strncasecmp(where, "http://", 7) == 0) {
    out->state = NULL;
    if (cfg->state_blob.url == NULL) {
      out->state_blob.auth = OSC_BLOB_AUTH_ENTRA;
      out->state_blob.lease_seconds = 60;
    }
    out->state_blob.url = where;
  } else {
    out->state = where;
    out->state_blob.url = NULL;
  }
}

int osc_cmd_state_copy(const struct osc_config *cfg, const char *src,
                       const char *dst, FILE *out, struct osc_error *err) {
  struct osc_config src_cfg;
  struct osc_config dst_cfg;
  struct osc_store *from = NULL;
  struct osc_store *to = NULL;
  struct osc_state *state = NULL;
  int rc;

  config_for(cfg, src, &src_cfg);
  config_for(cfg, dst, &dst_cfg);
  rc = osc_store_open(&src_cfg, &from, err);
  if (rc == OSC_OK)
    rc = osc_store_open(&dst_cfg, &to, err);
  if (rc == OSC_OK)
    rc = osc_store_load(from, &state, err);
  if (rc == OSC_OK && state->loaded_version == 0)
    rc = osc_error_set(err, OSC_E_RUNTIME, "state %s does not exist",
                       osc_store_label(from));
  if (rc == OSC_OK)
    rc = osc_store_lock(to, err);
  if (rc == OSC_OK)
    rc = osc_store_save(to, state, err);
  if (rc == OSC_OK)
    fprintf(out, "copied state (%zu scale set%s, %zu runs) from %s to %s\n",
            state->n_sets, state->n_sets == 1 ? "" : "s", state->n_runs,
            osc_store_label(from), osc_store_label(to));
  osc_state_free(state);
  osc_store_free(from);
  osc_store_free(to);
  return rc;
}

int osc_cmd_state_main(const struct osc_cmd_options *o) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_config *cfg = NULL;
  const char *sub = o->n_args > 0 ? o->args[0] : NULL;
  int want = 1;
  int code;
  int rc;

  if (sub != NULL && strcmp(sub, "copy") == 0)
    want = 3;
  if (sub == NULL || (strcmp(sub, "show") != 0 && strcmp(sub, "unlock") != 0 &&
                      strcmp(sub, "copy") != 0))
    return osc_cmd_usage_error("state", "state needs show, unlock or copy");
  if (o->n_args != want)
    return osc_cmd_usage_error("state", "state %s takes %s", sub,
                               want == 3 ? "SRC and DST" : "no arguments");
  if (o->yes && strcmp(sub, "unlock") != 0)
    return osc_cmd_usage_error("state", "--yes is for state unlock");
  code = osc_cmd_load_config(o, &cfg);
  if (code != 0)
    return code;
  if (strcmp(sub, "show") == 0)
    rc = osc_cmd_state_show(cfg, o->format == OSC_FORMAT_JSON, stdout, &err);
  else if (strcmp(sub, "unlock") == 0)
    rc = osc_cmd_state_unlock(cfg, o->yes, stdout, &err);
  else
    rc = osc_cmd_state_copy(cfg, o->args[1], o->args[2], stdout, &err);
  fflush(stdout);
  if (rc < 0) {
    fprintf(stderr, "octoscale: error: %s\n", err.msg);
    code = osc_error_exit_code(rc);
  }
  osc_config_free(cfg);
  return code;
}
