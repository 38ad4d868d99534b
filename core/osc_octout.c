#include "core/osc_octout.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "core/osc_base64.h"
#include "core/osc_buf.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

#define MESSAGE_MAX (64u << 20)

struct attr {
  const char *name;
  const char *value;
};

static int emit(FILE *f, const struct osc_buf *line, struct osc_error *err) {
  if (fwrite(line->data, 1, line->len, f) != line->len || fflush(f) != 0)
    return osc_error_set(err, OSC_E_RUNTIME,
                         "cannot write Octopus service message: %s",
                         strerror(errno));
  return OSC_OK;
}

/* Writes ##octopus[<message> a='<b64>' ...] as one line. */
static int message(FILE *f, const char *msg, const struct attr *attrs, size_t n,
                   struct osc_error *err) {
  struct osc_buf line;
  size_t i;
  int rc;

  osc_buf_init(&line, MESSAGE_MAX);
  rc = osc_buf_printf(&line, err, "##octopus[%s", msg);
  for (i = 0; i < n && rc == OSC_OK; i++) {
    const char *v = attrs[i].value ? attrs[i].value : "";

    rc = osc_buf_printf(&line, err, " %s='", attrs[i].name);
    if (rc == OSC_OK)
      rc = osc_base64_encode(&line, v, strlen(v), err);
    if (rc == OSC_OK)
      rc = osc_buf_puts(&line, "'", err);
  }
  if (rc == OSC_OK)
    rc = osc_buf_puts(&line, "]\n", err);
  if (rc == OSC_OK)
    rc = emit(f, &line, err);
  osc_buf_free(&line);
  return rc;
}

int osc_octout_set_variable(FILE *f, const char *name, const char *value,
                            bool sensitive, struct osc_error *err) {
  const struct attr attrs[] = {
      {"name", name},
      {"value", value},
      {"sensitive", "True"},
  };

  if (name == NULL || name[0] == '\0')
    return osc_error_set(err, OSC_E_RUNTIME, "an output variable needs a name");
  return message(f, "setVariable", attrs, sensitive ? 3 : 2, err);
}

int osc_octout_outputs(FILE *f, const struct osc_outputs *outputs,
                       struct osc_error *err) {
  size_t i;
  int rc = OSC_OK;

  for (i = 0; outputs != NULL && i < outputs->n && rc == OSC_OK; i++)
    rc = osc_octout_set_variable(f, outputs->items[i].name,
                                 outputs->items[i].value, false, err);
  return rc;
}

int osc_octout_highlight_begin(FILE *f, struct osc_error *err) {
  return message(f, "stdout-highlight", NULL, 0, err);
}

int osc_octout_highlight_end(FILE *f, struct osc_error *err) {
  return message(f, "stdout-default", NULL, 0, err);
}

int osc_octout_create_artifact(FILE *f, const char *path, const char *name,
                               int64_t length, struct osc_error *err) {
  char abs[PATH_MAX];
  char cwd[PATH_MAX];
  char len_text[32];
  struct attr attrs[3];
  const char *slash;
  int n;

  if (path == NULL || path[0] == '\0')
    return osc_error_set(err, OSC_E_RUNTIME, "an artifact needs a path");
  if (path[0] == '/') {
    n = snprintf(abs, sizeof(abs), "%s", path);
  } else {
    if (getcwd(cwd, sizeof(cwd)) == NULL)
      return osc_error_set(err, OSC_E_RUNTIME,
                           "cannot resolve artifact path %s: %s", path,
                           strerror(errno));
    n = snprintf(abs, sizeof(abs), "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd,
                 strncmp(path, "./", 2) == 0 ? path + 2 : path);
  }
  if (n < 0 || (size_t)n >= sizeof(abs))
    return osc_error_set(err, OSC_E_RUNTIME, "artifact path too long");
  if (name == NULL) {
    slash = strrchr(abs, '/');
    name = slash ? slash + 1 : abs;
  }
  snprintf(len_text, sizeof(len_text), "%lld",
           (long long)(length < 0 ? 0 : length));
  attrs[0].name = "path";
  attrs[0].value = abs;
  attrs[1].name = "name";
  attrs[1].value = name;
  attrs[2].name = "length";
  attrs[2].value = len_text;
  return message(f, "createArtifact", attrs, 3, err);
}

int osc_octout_progress(FILE *f, int percentage, const char *message_text,
                        struct osc_error *err) {
  char pct[16];
  const struct attr attrs[] = {
      {"percentage", pct},
      {"message", message_text},
  };

  if (percentage < 0)
    percentage = 0;
  if (percentage > 100)
    percentage = 100;
  snprintf(pct, sizeof(pct), "%d", percentage);
  return message(f, "progress", attrs, 2, err);
}
