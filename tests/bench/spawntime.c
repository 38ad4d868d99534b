/* Start-up time of a command: runs it N times (stdout and stderr to
 * /dev/null), one after another, and prints the median and mean wall time
 * of one run in nanoseconds, and the mean CPU time (user + sys) of one run,
 * which a busy machine disturbs far less than wall time:
 * "median_ns=... mean_ns=... min_ns=... cpu_ns=...".
 * A shell loop would add its own fork and exec to every run.
 *
 * usage: spawntime N COMMAND [ARGS...] */
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int64_t now_ns(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a;
  int64_t y = *(const int64_t *)b;

  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  posix_spawn_file_actions_t fa;
  int64_t *t;
  int64_t sum = 0;
  int n;

  n = argc < 3 ? 0 : (int)strtol(argv[1], NULL, 10);
  if (n < 1) {
    fputs("usage: spawntime N COMMAND [ARGS...]\n", stderr);
    return 2;
  }
  t = calloc((size_t)n, sizeof(*t));
  if (t == NULL)
    return 1;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  for (int i = -1; i < n; i++) { /* run -1 warms the page cache */
    int64_t t0 = now_ns();
    pid_t pid;
    int status;

    if (posix_spawn(&pid, argv[2], &fa, NULL, argv + 2, environ) != 0) {
      perror(argv[2]);
      return 1;
    }
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
      fprintf(stderr, "spawntime: %s failed\n", argv[2]);
      return 1;
    }
    if (i >= 0) {
      t[i] = now_ns() - t0;
      sum += t[i];
    }
  }
  qsort(t, (size_t)n, sizeof(*t), cmp);
  {
    struct rusage ru;
    int64_t cpu = 0;

    /* the warm-up run is included: n + 1 children */
    if (getrusage(RUSAGE_CHILDREN, &ru) == 0)
      cpu = ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
            ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
    printf("median_ns=%lld mean_ns=%lld min_ns=%lld cpu_ns=%lld\n",
           (long long)t[n / 2], (long long)(sum / n), (long long)t[0],
           (long long)(cpu / (n + 1)));
  }
  free(t);
  return 0;
}
