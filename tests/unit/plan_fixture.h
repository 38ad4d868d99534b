/* Shared by the unit tests of the modules that consume plans (state, octout,
 * html): plans built by hand in their own arena, and scratch directories. */
#ifndef PLAN_FIXTURE_H
#define PLAN_FIXTURE_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/osc_engine.h"

#define FIXTURE_NOW 1795773600 /* 2026-11-27T10:00:00Z */
#define FIXTURE_MAX_ACTIONS 64

static inline struct osc_plan *fixture_plan(const char *scale_set,
                                            enum osc_plan_status status,
                                            const char *message) {
  struct osc_plan *p = NULL;

  if (osc_plan_new_failed(scale_set, status, 0, message, &p, NULL) < 0)
    abort();
  p->actions =
      osc_arena_alloc(&p->arena, FIXTURE_MAX_ACTIONS * sizeof(*p->actions));
  p->orphans =
      osc_arena_alloc(&p->arena, FIXTURE_MAX_ACTIONS * sizeof(*p->orphans));
  p->deployable =
      osc_arena_alloc(&p->arena, FIXTURE_MAX_ACTIONS * sizeof(*p->deployable));
  p->disabled =
      osc_arena_alloc(&p->arena, FIXTURE_MAX_ACTIONS * sizeof(*p->disabled));
  if (p->actions == NULL || p->orphans == NULL || p->deployable == NULL ||
      p->disabled == NULL)
    abort();
  return p;
}

static inline const char *fixture_str(struct osc_plan *p, const char *s) {
  return s ? osc_arena_strdup(&p->arena, s) : NULL;
}

/* Adds an action and keeps the counts the engine would keep. */
static inline struct osc_action *
fixture_action(struct osc_plan *p, enum osc_action_kind kind,
               enum osc_class cls, const char *target_id,
               const char *target_name, const char *vm, const char *reason,
               enum osc_action_result result, const char *result_message) {
  struct osc_action *a;

  if (p->n_actions >= FIXTURE_MAX_ACTIONS)
    abort();
  a = &p->actions[p->n_actions++];
  a->kind = kind;
  a->cls = cls;
  a->target_id = fixture_str(p, target_id);
  a->target_name = fixture_str(p, target_name);
  a->vm_name = fixture_str(p, vm);
  a->reason = fixture_str(p, reason);
  a->result = result;
  a->result_message = fixture_str(p, result_message);
  p->class_counts[cls]++;
  if (vm != NULL)
    p->n_vms++;
  if (target_id != NULL)
    p->n_in_scope++;
  if (kind == OSC_ACT_DELETE || kind == OSC_ACT_DISABLE)
    p->n_destructive++;
  return a;
}

static inline void fixture_orphan(struct osc_plan *p, const char *id,
                                  int64_t since) {
  p->orphans[p->n_orphans].target_id = fixture_str(p, id);
  p->orphans[p->n_orphans].since = since;
  p->n_orphans++;
}

/* A target octoscale disabled earlier and the plan saw still disabled. */
static inline void fixture_disabled(struct osc_plan *p, const char *id,
                                    int64_t since) {
  p->disabled[p->n_disabled].target_id = fixture_str(p, id);
  p->disabled[p->n_disabled].since = since;
  p->n_disabled++;
}

static inline void fixture_deployable(struct osc_plan *p, const char *id,
                                      const char *name) {
  p->deployable[p->n_deployable].id = fixture_str(p, id);
  p->deployable[p->n_deployable].name = fixture_str(p, name);
  p->n_deployable++;
}

/* --- scratch directories ---------------------------------------------------
 */

/* rm -rf without following symlinks. */
static inline void fixture_rm_tree(const char *path) {
  struct stat st;
  DIR *d;
  struct dirent *e;

  if (lstat(path, &st) != 0)
    return;
  if (S_ISDIR(st.st_mode) && (d = opendir(path)) != NULL) {
    while ((e = readdir(d)) != NULL) {
      size_t n = strlen(path) + strlen(e->d_name) + 2;
      char *child;

      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
        continue;
      child = malloc(n);
      if (child == NULL)
        abort();
      snprintf(child, n, "%s/%s", path, e->d_name);
      fixture_rm_tree(child);
      free(child);
    }
    closedir(d);
  }
  remove(path);
}

/* A fresh directory under /tmp (tests run in parallel under ctest). */
static inline char *fixture_tmpdir(void) {
  char *dir = strdup("/tmp/octoscale-test-XXXXXX");

  if (dir == NULL || mkdtemp(dir) == NULL)
    abort();
  return dir;
}

static inline void fixture_rmdir(char *dir) {
  if (dir != NULL)
    fixture_rm_tree(dir);
  free(dir);
}

static inline char *fixture_path(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = malloc(n);

  if (p == NULL)
    abort();
  snprintf(p, n, "%s/%s", dir, name);
  return p;
}

/* Whole file into a malloc'ed string (NULL when it cannot be read). */
static inline char *fixture_read(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  long n;

  if (f == NULL)
    return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
      fseek(f, 0, SEEK_SET) == 0) {
    buf = malloc((size_t)n + 1);
    if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
      free(buf);
      buf = NULL;
    }
    if (buf != NULL) {
      buf[n] = '\0';
      if (len != NULL)
        *len = (size_t)n;
    }
  }
  fclose(f);
  return buf;
}

static inline void fixture_write(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");

  if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
    abort();
}

#endif
