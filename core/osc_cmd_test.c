/* `octoscale test [PATH...]`: finds the policy test files and runs them
 * (core/lua/osc_testrun.h; core/osc_commands.h). */
#include "core/osc_commands.h"

#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/lua/osc_testrun.h"

/* A list of paths that grows (test discovery). */
struct path_list {
  char **items;
  size_t n;
  size_t cap;
};

static int path_add(struct path_list *l, const char *path) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    char **items = realloc(l->items, cap * sizeof(*items));

    if (items == NULL)
      return -1;
    l->items = items;
    l->cap = cap;
  }
  l->items[l->n] = strdup(path);
  return l->items[l->n] == NULL ? -1 : (int)++l->n;
}

static void path_free(struct path_list *l) {
  size_t i;

  for (i = 0; i < l->n; i++)
    free(l->items[i]);
  free(l->items);
}

static int cmp_path(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s);
  size_t k = strlen(suffix);

  return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Every *_test.lua under dir (hidden directories skipped), unsorted. */
static int discover(const char *dir, struct path_list *out, int depth) {
  DIR *d;
  struct dirent *e;
  int rc = 0;

  if (depth > 32 || (d = opendir(dir)) == NULL)
    return depth > 32 ? 0 : -1;
  while (rc >= 0 && (e = readdir(d)) != NULL) {
    char path[4096];
    struct stat st;

    if (e->d_name[0] == '.')
      continue;
    if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >=
            (int)sizeof(path) ||
        stat(path, &st) != 0)
      continue;
    if (S_ISDIR(st.st_mode))
      rc = discover(path, out, depth + 1) < 0 ? -1 : 0;
    else if (S_ISREG(st.st_mode) && ends_with(e->d_name, "_test.lua"))
      rc = path_add(out, path);
  }
  closedir(d);
  return rc < 0 ? -1 : 0;
}

/* FILE... as given; a directory stands for its _test.lua files (sorted);
 * none: the .lua files of tests/policies. */
static int test_files(const struct osc_cmd_options *o, struct path_list *l) {
  glob_t found;
  size_t i;
  int k;

  for (k = 0; k < o->n_args; k++) {
    struct stat st;
    size_t first = l->n;

    if (stat(o->args[k], &st) == 0 && S_ISDIR(st.st_mode)) {
      if (discover(o->args[k], l, 0) < 0) {
        fprintf(stderr, "octoscale: error: cannot read %s: %s\n", o->args[k],
                strerror(errno));
        return 3;
      }
      qsort(l->items + first, l->n - first, sizeof(*l->items), cmp_path);
    } else if (path_add(l, o->args[k]) < 0) {
      return 1;
    }
  }
  if (o->n_args > 0)
    return 0;
  /* Teams can just run `octoscale test` in their policy repository. */
  if (glob("tests/policies/*.lua", 0, NULL, &found) != 0 ||
      found.gl_pathc == 0) {
    globfree(&found);
    fprintf(stderr, "octoscale: error: no test files given and none in "
                    "tests/policies/\n");
    return 3;
  }
  for (i = 0; i < found.gl_pathc; i++) {
    if (path_add(l, found.gl_pathv[i]) < 0) {
      globfree(&found);
      return 1;
    }
  }
  globfree(&found);
  return 0;
}

int osc_cmd_test_main(const struct osc_cmd_options *o) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_test_options to;
  struct path_list files = {NULL, 0, 0};
  int failed = 0;
  int code;

  code = test_files(o, &files);
  if (code == 0 && files.n == 0) {
    fprintf(stderr, "octoscale: error: no *_test.lua files found\n");
    code = 3;
  }
  if (code != 0) {
    path_free(&files);
    return code;
  }
  to.filter = o->test_filter;
  to.json = o->format == OSC_FORMAT_JSON;
  to.junit_path = o->junit_path;
  to.coverage = o->coverage;
  if (osc_test_run_with((const char *const *)files.items, files.n, &to, &failed,
                        &err) < 0) {
    fprintf(stderr, "octoscale: error: %s\n", err.msg);
    code = osc_error_exit_code(err.code);
  } else {
    code = failed > 0 ? 1 : 0;
  }
  path_free(&files);
  return code;
}
