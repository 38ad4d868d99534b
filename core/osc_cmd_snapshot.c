/* `octoscale snapshot -o FILE` (see core/osc_commands.h). */
#include "core/osc_commands.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/osc_buf.h"
#include "core/osc_collect.h"
#include "core/osc_jsonw.h"
#include "core/osc_log.h"
#include "core/osc_rawjson.h"
#include "core/osc_time.h"

#define SNAPSHOT_OUT_MAX ((size_t)1 << 30)

/* Splices every element of each page's `key` array (value / Items) as
 * received: instances keep their empty arrays as arrays. */
static int splice_items(struct osc_jsonw *w,
                        const struct osc_collect_pages *pages, const char *key,
                        struct osc_error *err) {
  size_t i;

  for (i = 0; i < pages->n; i++) {
    const struct osc_buf *b = &pages->items[i];
    struct osc_rawjson_span root;
    struct osc_rawjson_span arr;
    struct osc_rawjson_span item;
    size_t cursor = 0;
    int rc;

    rc = osc_rawjson_root(b->data ? b->data : "", b->len, &root, err);
    if (rc >= 0)
      rc = osc_rawjson_member(b->data, root, key, &arr, err);
    if (rc == 0)
      continue; /* no items: the collector already marked that */
    while (rc >= 0) {
      rc = osc_rawjson_array_next(b->data, arr, &cursor, &item, err);
      if (rc <= 0)
        break;
      osc_jsonw_raw(w, b->data + item.start, item.end - item.start);
    }
    if (rc < 0)
      return rc;
  }
  return OSC_OK;
}

/* True when the NIC item belongs to one of the collection's VMs (the
 * Flexible NIC list covers the whole resource group). */
static bool nic_wanted(const char *text, struct osc_rawjson_span item,
                       const struct osc_collection *c) {
  struct osc_rawjson_span v;
  char vm_id[1024];
  size_t i;

  if (osc_rawjson_path(text, item, "properties.virtualMachine.id", &v, NULL) !=
          1 ||
      osc_rawjson_string(text, v, vm_id, sizeof(vm_id)) < 0)
    return false;
  for (i = 0; i < c->n_vms; i++) {
    if (c->vms[i].id != NULL && strcasecmp(c->vms[i].id, vm_id) == 0)
      return true;
  }
  return false;
}

static int splice_nics(struct osc_jsonw *w,
                       const struct osc_collect_pages *pages,
                       const struct osc_collection *c, struct osc_error *err) {
  size_t i;

  for (i = 0; i < pages->n; i++) {
    const struct osc_buf *b = &pages->items[i];
    struct osc_rawjson_span root;
    struct osc_rawjson_span arr;
    struct osc_rawjson_span item;
    size_t cursor = 0;
    int rc;

    rc = osc_rawjson_root(b->data ? b->data : "", b->len, &root, err);
    if (rc >= 0)
      rc = osc_rawjson_member(b->data, root, "value", &arr, err);
    if (rc == 0)
      continue;
    while (rc >= 0) {
      rc = osc_rawjson_array_next(b->data, arr, &cursor, &item, err);
      if (rc <= 0)
        break;
      if (nic_wanted(b->data, item, c))
        osc_jsonw_raw(w, b->data + item.start, item.end - item.start);
    }
    if (rc < 0)
      return rc;
  }
  return OSC_OK;
}

static int write_entry(struct osc_jsonw *w, const struct osc_collect_result *r,
                       struct osc_error *err) {
  const struct osc_collection *c = &r->collection;
  const struct osc_collect_raw *raw = r->raw;
  int rc;

  osc_jsonw_object_begin(w);
  osc_jsonw_key(w, "name");
  osc_jsonw_string(w, c->entry_name);
  if (raw->vmss.len > 0) {
    struct osc_rawjson_span root;

    rc = osc_rawjson_root(raw->vmss.data, raw->vmss.len, &root, err);
    if (rc < 0)
      return rc;
    osc_jsonw_key(w, "vmss");
    osc_jsonw_raw(w, raw->vmss.data + root.start, root.end - root.start);
  }
  osc_jsonw_key(w, "instances");
  osc_jsonw_array_begin(w);
  rc = splice_items(w, &raw->vm_pages, "value", err);
  if (rc < 0)
    return rc;
  osc_jsonw_array_end(w);
  osc_jsonw_key(w, "targets");
  osc_jsonw_array_begin(w);
  rc = splice_items(w, &raw->machine_pages, "Items", err);
  if (rc < 0)
    return rc;
  osc_jsonw_array_end(w);
  /* Extensions (core/osc_snapshot.h): the live scope and private IPs. */
  if (r->scope.environment_id != NULL) {
    osc_jsonw_key(w, "environment_id");
    osc_jsonw_string(w, r->scope.environment_id);
  }
  if (r->scope.tenant_id != NULL) {
    osc_jsonw_key(w, "tenant_id");
    osc_jsonw_string(w, r->scope.tenant_id);
  }
  osc_jsonw_key(w, "nics");
  osc_jsonw_array_begin(w);
  rc = splice_nics(w, &raw->nic_pages, c, err);
  if (rc < 0)
    return rc;
  osc_jsonw_array_end(w);
  if (!c->complete) {
    osc_jsonw_key(w, "incomplete");
    osc_jsonw_string(w, c->incomplete_reason);
  }
  osc_jsonw_object_end(w);
  return OSC_OK;
}

/* Writes data to path through a temporary file in the same directory and
 * rename(2), so a reader never sees half a snapshot. */
static int write_atomic(const char *path, const char *data, size_t len,
                        struct osc_error *err) {
  struct osc_buf tmp;
  size_t off = 0;
  bool created = false;
  int fd = -1;
  int rc;

  osc_buf_init(&tmp, 8192);
  rc = osc_buf_printf(&tmp, err, "%s.tmp.XXXXXX", path);
  if (rc < 0)
    goto done;
  fd = mkstemp(tmp.data);
  if (fd < 0) {
    rc = osc_error_set(err, OSC_E_RUNTIME, "cannot create %s: %s", tmp.data,
                       strerror(errno));
    goto done;
  }
  created = true;
  while (off < len) {
    ssize_t n = write(fd, data + off, len - off);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      rc = osc_error_set(err, OSC_E_RUNTIME, "cannot write %s: %s", path,
                         strerror(errno));
      goto done;
    }
    off += (size_t)n;
  }
  if (fchmod(fd, 0644) != 0 || fsync(fd) != 0) {
    rc = osc_error_set(err, OSC_E_RUNTIME, "cannot write %s: %s", path,
                       strerror(errno));
    goto done;
  }
  if (close(fd) != 0) {
    fd = -1;
    rc = osc_error_set(err, OSC_E_RUNTIME, "cannot write %s: %s", path,
                       strerror(errno));
    goto done;
  }
  fd = -1;
  if (rename(tmp.data, path) != 0) {
    rc = osc_error_set(err, OSC_E_RUNTIME, "cannot rename %s to %s: %s",
                       tmp.data, path, strerror(errno));
    goto done;
  }
  rc = OSC_OK;
done:
  if (fd >= 0)
    close(fd);
  if (rc < 0 && created)
    unlink(tmp.data);
  osc_buf_free(&tmp);
  return rc;
}

/* The selected entries (all when n_only is 0). */
static int select_entries(const struct osc_config *cfg, const char *const *only,
                          size_t n_only,
                          const struct osc_config_scale_set ***out,
                          size_t *n_out, struct osc_error *err) {
  const struct osc_config_scale_set **sel;
  size_t n = 0;
  size_t i;
  size_t j;

  *out = NULL;
  *n_out = 0;
  for (i = 0; i < n_only; i++) {
    if (osc_config_find(cfg, only[i]) == NULL)
      return osc_error_set(err, OSC_E_USAGE, "no scale set named '%s' in %s",
                           only[i], cfg->path ? cfg->path : "the config");
  }
  sel = calloc(cfg->n_scale_sets ? cfg->n_scale_sets : 1, sizeof(*sel));
  if (sel == NULL)
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  for (i = 0; i < cfg->n_scale_sets; i++) {
    bool wanted = n_only == 0;

    for (j = 0; j < n_only && !wanted; j++)
      wanted = strcasecmp(only[j], cfg->scale_sets[i].name) == 0;
    if (wanted)
      sel[n++] = &cfg->scale_sets[i];
  }
  *out = sel;
  *n_out = n;
  return OSC_OK;
}

/* The entries whose collection failed: a runtime error leaves an entry
 * out, incomplete data keeps it (marked); the first of each kind is the
 * command's error. */
struct failures {
  size_t n_runtime;
  size_t n_safety;
  char first_runtime[OSC_ERROR_MAX];
  char first_safety[OSC_ERROR_MAX];
};

/* Writes the snapshot document of the n collected entries into out. */
static int write_document(struct osc_buf *out, const char *captured,
                          const struct osc_config_scale_set *const *sel,
                          const struct osc_collect_result *results, size_t n,
                          struct failures *f, struct osc_error *err) {
  struct osc_jsonw w;
  size_t i;
  int rc;

  osc_jsonw_init(&w, out, true);
  osc_jsonw_object_begin(&w);
  osc_jsonw_key(&w, "format_version");
  osc_jsonw_int(&w, 1);
  osc_jsonw_key(&w, "captured_at");
  osc_jsonw_string(&w, captured);
  osc_jsonw_key(&w, "scale_sets");
  osc_jsonw_array_begin(&w);
  for (i = 0; i < n; i++) {
    const struct osc_collect_result *r = &results[i];

    if (r->error_code != OSC_OK) {
      osc_log_error("%s: %s", sel[i]->name, r->error);
      if (f->n_runtime++ == 0)
        snprintf(f->first_runtime, sizeof(f->first_runtime), "%s: %s",
                 sel[i]->name, r->error);
      continue;
    }
    if (!r->collection.complete) {
      osc_log_error("%s: %s", sel[i]->name, r->collection.incomplete_reason);
      if (f->n_safety++ == 0)
        snprintf(f->first_safety, sizeof(f->first_safety), "%s: %s",
                 sel[i]->name, r->collection.incomplete_reason);
    }
    rc = write_entry(&w, r, err);
    if (rc < 0) {
      osc_error_prefix(err, "snapshot of '%s'", sel[i]->name);
      return rc;
    }
  }
  osc_jsonw_array_end(&w);
  osc_jsonw_object_end(&w);
  rc = osc_jsonw_finish(&w, err);
  if (rc >= 0)
    rc = osc_buf_puts(out, "\n", err);
  return rc;
}

/* The command's result once the file is written: OSC_E_RUNTIME before
 * OSC_E_SAFETY (core/osc_commands.h). */
static int failures_result(const struct failures *f, struct osc_error *err) {
  if (f->n_runtime > 0)
    return osc_error_set(err, OSC_E_RUNTIME, "%s%s", f->first_runtime,
                         f->n_runtime + f->n_safety > 1 ? " (and more)" : "");
  if (f->n_safety > 0)
    return osc_error_set(err, OSC_E_SAFETY, "%s%s", f->first_safety,
                         f->n_safety > 1 ? " (and more)" : "");
  return OSC_OK;
}

int osc_cmd_snapshot(const struct osc_config *cfg, const char *const *only,
                     size_t n_only, const char *out_path,
                     struct osc_error *err) {
  const struct osc_config_scale_set **sel = NULL;
  struct osc_collect_result *results = NULL;
  struct osc_session *s = NULL;
  struct failures f;
  struct osc_buf out;
  char captured[64];
  size_t n = 0;
  size_t i;
  int64_t now;
  int rc;

  memset(&f, 0, sizeof(f));
  osc_buf_init(&out, SNAPSHOT_OUT_MAX);
  rc = select_entries(cfg, only, n_only, &sel, &n, err);
  if (rc < 0)
    goto done;
  rc = osc_time_now(&now, err);
  if (rc < 0)
    goto done;
  osc_time_format_rfc3339(now, captured, sizeof(captured));
  results = calloc(n ? n : 1, sizeof(*results));
  if (results == NULL) {
    rc = osc_error_set(err, OSC_E_NOMEM, "out of memory");
    goto done;
  }
  rc = osc_session_new(cfg, &s, err);
  if (rc < 0)
    goto done;
  rc = osc_collect_all(s, sel, n, true, results, err);
  if (rc < 0) {
    free(results);
    results = NULL;
    goto done;
  }
  rc = write_document(&out, captured, sel, results, n, &f, err);
  if (rc >= 0)
    rc = write_atomic(out_path, out.data, out.len, err);
  if (rc < 0)
    goto done;
  osc_log_info("wrote %s (%zu scale set%s)", out_path, n - f.n_runtime,
               n - f.n_runtime == 1 ? "" : "s");
  rc = failures_result(&f, err);
done:
  if (results != NULL) {
    for (i = 0; i < n; i++)
      osc_collect_result_free(&results[i]);
  }
  free(results);
  free(sel);
  osc_session_free(s);
  osc_buf_free(&out);
  return rc;
}

int osc_cmd_snapshot_main(const struct osc_cmd_options *o) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_config *cfg = NULL;
  int code;

  if (o->output_path == NULL)
    return osc_cmd_usage_error("snapshot", "snapshot needs -o FILE");
  code = osc_cmd_load_config(o, &cfg);
  if (code != 0)
    return code;
  if (osc_cmd_snapshot(cfg, o->scale_sets, o->n_scale_sets, o->output_path,
                       &err) < 0) {
    fprintf(stderr, "octoscale: error: %s\n", err.msg);
    code = osc_error_exit_code(err.code);
  }
  osc_config_free(cfg);
  return code;
}
