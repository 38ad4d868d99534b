/* Replays inputs through a fuzz target's entry point without libFuzzer, so
 * `make test` (any compiler, and the ASan build) runs the seeds and every
 * kept crash input: replay FILE|DIR... (a directory: each regular file in
 * it). Exits non-zero when an argument cannot be read; a crash is the
 * sanitizer's or the signal's. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fuzz/fuzz.h"

#define REPLAY_MAX_INPUT ((size_t)16 << 20)

static int replay_file(const char *path, size_t *count) {
  FILE *f = fopen(path, "rb");
  uint8_t *buf = NULL;
  size_t n = 0;
  int rc = -1;

  if (f == NULL)
    goto done;
  buf = malloc(REPLAY_MAX_INPUT);
  if (buf == NULL)
    goto done;
  n = fread(buf, 1, REPLAY_MAX_INPUT, f);
  if (ferror(f))
    goto done;
  LLVMFuzzerTestOneInput(buf, n);
  (*count)++;
  rc = 0;
done:
  if (rc != 0)
    fprintf(stderr, "replay: cannot read %s\n", path);
  free(buf);
  if (f != NULL)
    fclose(f);
  return rc;
}

static int replay_path(const char *path, size_t *count) {
  struct stat st;
  struct dirent **names = NULL;
  int n;
  int i;
  int rc = 0;

  if (stat(path, &st) != 0) {
    fprintf(stderr, "replay: cannot read %s\n", path);
    return -1;
  }
  if (!S_ISDIR(st.st_mode))
    return replay_file(path, count);
  n = scandir(path, &names, NULL, alphasort);
  if (n < 0) {
    fprintf(stderr, "replay: cannot list %s\n", path);
    return -1;
  }
  for (i = 0; i < n; i++) {
    char child[4096];

    snprintf(child, sizeof(child), "%s/%s", path, names[i]->d_name);
    if (names[i]->d_name[0] != '.' && stat(child, &st) == 0 &&
        S_ISREG(st.st_mode) && replay_file(child, count) != 0)
      rc = -1;
    free(names[i]);
  }
  free(names);
  return rc;
}

int main(int argc, char **argv) {
  size_t count = 0;
  int rc = 0;
  int i;

  for (i = 1; i < argc; i++) {
    if (replay_path(argv[i], &count) != 0)
      rc = 1;
  }
  printf("replay: %zu inputs\n", count);
  return rc;
}
