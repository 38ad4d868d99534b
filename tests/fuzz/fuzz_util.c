#include "tests/fuzz/fuzz.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/osc_error.h"
#include "core/osc_json.h"

static char fuzz_dir[PATH_MAX];

static void remove_dir(void) {
  /* Only files this process wrote; the names are fixed per target. */
  static const char *const names[] = {"policy.lua", "snapshot.json",
                                      "state.json"};
  char path[PATH_MAX + 32];
  size_t i;

  for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    snprintf(path, sizeof(path), "%s/%s", fuzz_dir, names[i]);
    unlink(path);
  }
  rmdir(fuzz_dir);
}

const char *fuzz_write_file(const char *name, const uint8_t *data,
                            size_t size) {
  static char path[PATH_MAX + 64];
  const char *tmp = getenv("TMPDIR");
  size_t off = 0;
  int fd;

  if (fuzz_dir[0] == '\0') {
    snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/octoscale-fuzz.XXXXXX",
             tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    if (mkdtemp(fuzz_dir) == NULL) {
      fuzz_dir[0] = '\0';
      return NULL;
    }
    atexit(remove_dir);
  }
  snprintf(path, sizeof(path), "%s/%s", fuzz_dir, name);
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return NULL;
  while (off < size) {
    ssize_t n = write(fd, data + off, size - off);

    if (n <= 0) {
      close(fd);
      return NULL;
    }
    off += (size_t)n;
  }
  close(fd);
  return path;
}

struct osc_json_doc *fuzz_decode(const uint8_t *data, size_t size) {
  struct osc_json_doc *doc = NULL;

  if (osc_json_parse((const char *)data, size, "fuzz input", &doc, NULL) < 0)
    return NULL;
  return doc;
}
