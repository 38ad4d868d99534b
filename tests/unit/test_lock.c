/* The state lock (safety rule 4): a second holder fails at once, naming the
 * first; flock is per open file description, so this holds within one
 * process too; the kernel drops the lock of a dead holder. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/osc_fs.h"
#include "core/osc_lock.h"
#include "core/osc_time.h"
#include "tests/unit/plan_fixture.h"

struct ctx {
  char *dir;
  char *state;     /* dir/run/state.json: "run" does not exist yet */
  char *lock_path; /* dir/run/state.json.lock */
};

static int setup(void **state) {
  struct ctx *c = calloc(1, sizeof(*c));

  assert_non_null(c);
  c->dir = fixture_tmpdir();
  c->state = fixture_path(c->dir, "run/state.json");
  c->lock_path = fixture_path(c->dir, "run/state.json.lock");
  unsetenv("OCTOSCALE_NOW");
  *state = c;
  return 0;
}

static int teardown(void **state) {
  struct ctx *c = *state;

  fixture_rmdir(c->dir);
  free(c->state);
  free(c->lock_path);
  free(c);
  unsetenv("OCTOSCALE_NOW");
  return 0;
}

static void expect_held_by(const char *state_path, long pid) {
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_lock *lock = (struct osc_lock *)&err; /* must become NULL */
  char host[256] = "?";
  char want[1024];
  int64_t t0 = osc_time_monotonic_ms();

  assert_int_equal(osc_lock_acquire(state_path, &lock, &err), OSC_E_RUNTIME);
  assert_true(osc_time_monotonic_ms() - t0 < 1000); /* at once */
  assert_null(lock);
  assert_int_equal(osc_error_exit_code(err.code), 1);
  gethostname(host, sizeof(host) - 1);
  snprintf(want, sizeof(want), "state %s is locked by pid %ld (started ",
           state_path, pid);
  if (strncmp(err.msg, want, strlen(want)) != 0)
    fail_msg("\"%s\" does not start with \"%s\"", err.msg, want);
  snprintf(want, sizeof(want), " on host %s); another apply is running", host);
  assert_non_null(strstr(err.msg, want));
}

static void test_lock__second_open_in_one_process_conflicts(void **state) {
  struct ctx *c = *state;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_lock *first = NULL;
  struct osc_lock *second = NULL;

  assert_int_equal(osc_lock_acquire(c->state, &first, &err), OSC_OK);
  assert_non_null(first);
  expect_held_by(c->state, (long)getpid());
  osc_lock_release(first);
  assert_int_equal(osc_lock_acquire(c->state, &second, &err), OSC_OK);
  osc_lock_release(second);
}

static void test_lock__file_modes_and_holder_details(void **state) {
  struct ctx *c = *state;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_lock *lock = NULL;
  char *run = fixture_path(c->dir, "run");
  char want[64];
  char *text;
  struct stat st;

  setenv("OCTOSCALE_NOW", "2026-11-27T10:00:00Z", 1);
  assert_int_equal(osc_lock_acquire(c->state, &lock, &err), OSC_OK);
  assert_int_equal(stat(run, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0700);
  assert_int_equal(stat(c->lock_path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  text = fixture_read(c->lock_path, NULL);
  snprintf(want, sizeof(want),
           "pid=%ld\nstarted=2026-11-27T10:00:00Z\nhost=", (long)getpid());
  assert_non_null(text);
  assert_memory_equal(text, want, strlen(want));
  free(text);
  osc_lock_release(lock);
  /* released: the details are gone, the file stays (see osc_lock.h) */
  text = fixture_read(c->lock_path, NULL);
  assert_string_equal(text, "");
  free(text);
  free(run);
}

/* The child holds the lock; the parent fails at once naming the child; once
 * the child releases, the parent gets it. */
static void test_lock__other_process_is_named(void **state) {
  struct ctx *c = *state;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_lock *lock = NULL;
  int ready[2];
  int go[2];
  char byte = 0;
  int status = 0;
  pid_t pid;

  assert_int_equal(pipe(ready), 0);
  assert_int_equal(pipe(go), 0);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    struct osc_lock *held = NULL;
    char b = 1;

    if (osc_lock_acquire(c->state, &held, NULL) != OSC_OK)
      _exit(2);
    if (write(ready[1], &b, 1) != 1 || read(go[0], &b, 1) != 1)
      _exit(3);
    osc_lock_release(held);
    _exit(0);
  }
  assert_int_equal(read(ready[0], &byte, 1), 1);
  expect_held_by(c->state, (long)pid);
  assert_int_equal(write(go[1], &byte, 1), 1);
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  assert_int_equal(osc_lock_acquire(c->state, &lock, &err), OSC_OK);
  osc_lock_release(lock);
  close(ready[0]);
  close(ready[1]);
  close(go[0]);
  close(go[1]);
}

/* kill -9 of the holder: the kernel releases the lock, nothing is stale. */
static void test_lock__killed_holder_leaves_no_stale_lock(void **state) {
  struct ctx *c = *state;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_lock *lock = NULL;
  int ready[2];
  char byte = 0;
  int status = 0;
  pid_t pid;

  assert_int_equal(pipe(ready), 0);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    struct osc_lock *held = NULL;
    char b = 1;

    if (osc_lock_acquire(c->state, &held, NULL) != OSC_OK)
      _exit(2);
    if (write(ready[1], &b, 1) != 1)
      _exit(3);
    for (;;)
      pause();
  }
  assert_int_equal(read(ready[0], &byte, 1), 1);
  expect_held_by(c->state, (long)pid);
  assert_int_equal(kill(pid, SIGKILL), 0);
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFSIGNALED(status));
  assert_int_equal(osc_lock_acquire(c->state, &lock, &err), OSC_OK);
  osc_lock_release(lock);
  close(ready[0]);
  close(ready[1]);
}

/* A holder that has locked but not yet written its details. */
static void test_lock__holder_without_details(void **state) {
  struct ctx *c = *state;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_lock *lock = NULL;
  int fd;

  assert_int_equal(osc_fs_mkdir_parents(c->lock_path, 0700, &err), OSC_OK);
  fd = open(c->lock_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  assert_true(fd >= 0);
  assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
  assert_int_equal(osc_lock_acquire(c->state, &lock, &err), OSC_E_RUNTIME);
  assert_non_null(strstr(err.msg, "is locked by another process"));
  assert_non_null(strstr(err.msg, "another apply is running"));
  close(fd);
  assert_int_equal(osc_lock_acquire(c->state, &lock, &err), OSC_OK);
  osc_lock_release(lock);
}

static void test_lock__unusable_directory_is_an_error(void **state) {
  struct ctx *c = *state;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_lock *lock = NULL;
  char *file = fixture_path(c->dir, "file");
  char *state_path = fixture_path(c->dir, "file/state.json");

  fixture_write(file, "not a directory");
  assert_int_equal(osc_lock_acquire(state_path, &lock, &err), OSC_E_RUNTIME);
  assert_null(lock);
  assert_non_null(strstr(err.msg, "not a directory"));
  osc_lock_release(NULL);
  free(file);
  free(state_path);
}

/* Two workers that reach one shared state file through their own links
 * exclude each other: the lock lives beside the real file. */
static void test_lock__links_to_one_state_share_the_lock(void **state) {
  struct ctx *c = *state;
  struct osc_error err = OSC_ERROR_INIT;
  struct osc_lock *first = NULL;
  struct osc_lock *second = NULL;
  char *link1 = fixture_path(c->dir, "w1/state.json");
  char *link2 = fixture_path(c->dir, "w2/state.json");
  char *link1_lock = fixture_path(c->dir, "w1/state.json.lock");
  struct stat st;

  assert_int_equal(osc_fs_mkdir_parents(c->state, 0700, &err), OSC_OK);
  fixture_write(c->state, "{}");
  assert_int_equal(osc_fs_mkdir_parents(link1, 0700, &err), OSC_OK);
  assert_int_equal(osc_fs_mkdir_parents(link2, 0700, &err), OSC_OK);
  assert_int_equal(symlink(c->state, link1), 0);
  assert_int_equal(symlink("../run/state.json", link2), 0);
  assert_int_equal(osc_lock_acquire(link1, &first, &err), OSC_OK);
  assert_int_equal(stat(c->lock_path, &st), 0);
  assert_int_equal(lstat(link1_lock, &st), -1);
  assert_int_equal(osc_lock_acquire(link2, &second, &err), OSC_E_RUNTIME);
  assert_null(second);
  assert_non_null(strstr(err.msg, "another apply is running"));
  osc_lock_release(first);
  assert_int_equal(osc_lock_acquire(link2, &second, &err), OSC_OK);
  osc_lock_release(second);
  free(link1);
  free(link2);
  free(link1_lock);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_lock__second_open_in_one_process_conflicts),
      T(test_lock__file_modes_and_holder_details),
      T(test_lock__other_process_is_named),
      T(test_lock__killed_holder_leaves_no_stale_lock),
      T(test_lock__holder_without_details),
      T(test_lock__unusable_directory_is_an_error),
      T(test_lock__links_to_one_state_share_the_lock),
  };

  return cmocka_run_group_tests_name("lock", tests, NULL, NULL);
}
