#include "core/osc_store_blob.h"

#include <errno.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/osc_blob.h"
#include "core/osc_buf.h"
#include "core/osc_log.h"
#include "core/osc_time.h"

#define STATE_MAX (256u * 1024u * 1024u)
#define EMPTY_STATE                                                            \
  "{\"format_version\": 2, \"scale_sets\": {}, \"runs\": []}\n"

/* The renewal thread's share; mu guards stop, lost and why. */
struct renewer {
  pthread_t thread;
  bool started;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool stop;
  bool lost;
  char why[OSC_ERROR_MAX];
  struct osc_blob *blob; /* the thread's own client */
  const char *lease_id;
  int64_t interval_ms;
};

struct osc_store_blob {
  const struct osc_config *cfg;
  struct osc_blob *blob;
  char label[2200]; /* "blob URL" */
  bool locked;
  char lease_id[40];
  struct renewer renew;
};

int osc_store_blob_open(const struct osc_config *cfg,
                        struct osc_store_blob **out, struct osc_error *err) {
  struct osc_store_blob *sb = calloc(1, sizeof(*sb));
  int rc;

  *out = NULL;
  if (sb == NULL)
    return osc_error_set(err, OSC_E_NOMEM, "out of memory");
  sb->cfg = cfg;
  rc = osc_blob_new(cfg, 0, &sb->blob, err);
  if (rc < 0) {
    free(sb);
    return rc;
  }
  snprintf(sb->label, sizeof(sb->label), "blob %s", osc_blob_url(sb->blob));
  *out = sb;
  return OSC_OK;
}

void osc_store_blob_free(struct osc_store_blob *sb) {
  if (sb == NULL)
    return;
  osc_store_blob_unlock(sb);
  osc_blob_free(sb->blob);
  free(sb);
}

const char *osc_store_blob_url(const struct osc_store_blob *sb) {
  return osc_blob_url(sb->blob);
}

/* --- the holder --------------------------------------------------------- */

static void holder_text(const struct osc_blob_holder *h, char *out,
                        size_t cap) {
  if (h->pid[0] == '\0') {
    snprintf(out, cap, "another process (it has not recorded itself)");
    return;
  }
  snprintf(out, cap, "pid %s (started %s on host %s%s%s)", h->pid,
           h->started[0] ? h->started : "?", h->host[0] ? h->host : "?",
           h->task[0] ? ", Octopus task " : "", h->task);
}

static void me(struct osc_blob_holder *h) {
  const char *task = getenv("OCTOPUS_TASK_ID");
  int64_t now;

  memset(h, 0, sizeof(*h));
  snprintf(h->pid, sizeof(h->pid), "%ld", (long)getpid());
  if (gethostname(h->host, sizeof(h->host)) != 0)
    snprintf(h->host, sizeof(h->host), "?");
  h->host[sizeof(h->host) - 1] = '\0';
  if (osc_time_now(&now, NULL) < 0)
    now = (int64_t)time(NULL);
  osc_time_format_rfc3339(now, h->started, sizeof(h->started));
  if (task != NULL)
    snprintf(h->task, sizeof(h->task), "%s", task);
}

static bool is_leased(const struct osc_blob_props *p) {
  return strcmp(p->lease_state, "leased") == 0;
}

int osc_store_blob_holder(struct osc_store_blob *sb, bool *locked, char *text,
                          size_t cap, struct osc_error *err) {
  struct osc_blob_props props;
  int rc;

  *locked = false;
  if (cap > 0)
    text[0] = '\0';
  rc = osc_blob_properties(sb->blob, &props, err);
  if (rc < 0 || !props.exists || !is_leased(&props))
    return rc;
  *locked = true;
  holder_text(&props.holder, text, cap);
  return OSC_OK;
}

/* --- renewing --------------------------------------------------------------
 */

static void *renew_main(void *arg) {
  struct renewer *r = arg;
  struct timespec deadline;

  pthread_mutex_lock(&r->mu);
  while (!r->stop) {
    struct osc_error e = OSC_ERROR_INIT;
    int rc;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += (time_t)(r->interval_ms / 1000);
    deadline.tv_nsec += (long)(r->interval_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
      deadline.tv_sec++;
      deadline.tv_nsec -= 1000000000L;
    }
    while (!r->stop &&
           pthread_cond_timedwait(&r->cv, &r->mu, &deadline) != ETIMEDOUT) {
    }
    if (r->stop)
      break;
    pthread_mutex_unlock(&r->mu);
    rc = osc_blob_lease(r->blob, OSC_BLOB_LEASE_RENEW, r->lease_id, 0, &e);
    pthread_mutex_lock(&r->mu);
    if (rc < 0 && osc_blob_last(r->blob)->status / 100 == 4) {
      r->lost = true; /* broken, expired and taken, or the blob is gone */
      snprintf(r->why, sizeof(r->why), "%s", e.msg);
      break;
    }
    if (rc < 0) /* transient: the next tick tries again within the lease */
      osc_log_warn("renewing the state lease: %s", e.msg);
  }
  pthread_mutex_unlock(&r->mu);
  return NULL;
}

static int start_renewer(struct osc_store_blob *sb, struct osc_error *err) {
  struct renewer *r = &sb->renew;
  pthread_condattr_t attr;
  int64_t interval = (int64_t)sb->cfg->state_blob.lease_seconds * 1000 / 3;
  int rc;

  memset(r, 0, sizeof(*r));
  r->lease_id = sb->lease_id;
  r->interval_ms = interval;
  rc = osc_blob_new(sb->cfg, interval, &r->blob, err);
  if (rc < 0)
    return rc;
  pthread_mutex_init(&r->mu, NULL);
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&r->cv, &attr);
  pthread_condattr_destroy(&attr);
  if (pthread_create(&r->thread, NULL, renew_main, r) != 0) {
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    osc_blob_free(r->blob);
    r->blob = NULL;
    return osc_error_set(err, OSC_E_RUNTIME,
                         "cannot start the lease renewal thread");
  }
  r->started = true;
  return OSC_OK;
}

static void stop_renewer(struct renewer *r) {
  if (!r->started)
    return;
  pthread_mutex_lock(&r->mu);
  r->stop = true;
  pthread_cond_signal(&r->cv);
  pthread_mutex_unlock(&r->mu);
  pthread_join(r->thread, NULL);
  pthread_cond_destroy(&r->cv);
  pthread_mutex_destroy(&r->mu);
  osc_blob_free(r->blob);
  r->blob = NULL;
  r->started = false;
}

static bool lease_lost(struct osc_store_blob *sb, char *why, size_t cap) {
  bool lost;

  if (!sb->renew.started)
    return false;
  pthread_mutex_lock(&sb->renew.mu);
  lost = sb->renew.lost;
  if (lost)
    snprintf(why, cap, "%s", sb->renew.why);
  pthread_mutex_unlock(&sb->renew.mu);
  return lost;
}

/* --- locking ----------------------------------------------------------------
 */

static int new_lease_id(char *out, size_t cap, struct osc_error *err) {
  unsigned char r[16];

  if (RAND_bytes(r, sizeof(r)) != 1)
    return osc_error_set(err, OSC_E_RUNTIME, "no random bytes for a lease id");
  r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* a version-4 GUID */
  r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
  snprintf(out, cap,
           "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x"
           "%02x",
           r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10],
           r[11], r[12], r[13], r[14], r[15]);
  return OSC_OK;
}

static int held_error(struct osc_store_blob *sb, struct osc_error *err) {
  struct osc_blob_props props;
  char who[600];

  if (osc_blob_properties(sb->blob, &props, err) < 0)
    snprintf(who, sizeof(who), "another process");
  else
    holder_text(&props.holder, who, sizeof(who));
  return osc_error_set(err, OSC_E_RUNTIME,
                       "state %s is locked by %s; another apply is running "
                       "(a lease ends at most 60s after its holder stops "
                       "renewing it)",
                       sb->label, who);
}

/* Acquires the lease; a missing blob is created (once) and leased. */
static int acquire(struct osc_store_blob *sb, struct osc_error *err) {
  int attempt;
  int rc = OSC_OK;

  for (attempt = 0; attempt < 2; attempt++) {
    rc = osc_blob_lease(sb->blob, OSC_BLOB_LEASE_ACQUIRE, sb->lease_id,
                        sb->cfg->state_blob.lease_seconds, err);
    if (rc == OSC_OK || attempt > 0)
      break;
    if (osc_blob_last_is(sb->blob, 409, "LeaseAlreadyPresent"))
      return held_error(sb, err);
    if (!osc_blob_last_is(sb->blob, 404, "BlobNotFound"))
      return rc;
    osc_log_info("state %s does not exist yet: creating it", sb->label);
    rc = osc_blob_put(sb->blob, EMPTY_STATE, strlen(EMPTY_STATE), NULL, true,
                      err);
    if (rc < 0 && !osc_blob_last_is(sb->blob, 409, NULL) &&
        !osc_blob_last_is(sb->blob, 412, NULL))
      return rc; /* 409/412: another first run created it meanwhile */
  }
  if (rc < 0 && osc_blob_last_is(sb->blob, 409, "LeaseAlreadyPresent"))
    return held_error(sb, err);
  return rc;
}

int osc_store_blob_lock(struct osc_store_blob *sb, struct osc_error *err) {
  struct osc_blob_holder h;
  struct osc_error ignored = OSC_ERROR_INIT;
  int rc;

  if (sb->locked)
    return OSC_OK;
  rc = new_lease_id(sb->lease_id, sizeof(sb->lease_id), err);
  if (rc == OSC_OK)
    rc = acquire(sb, err);
  if (rc < 0)
    return rc;
  me(&h);
  rc = osc_blob_set_holder(sb->blob, sb->lease_id, &h, err);
  if (rc == OSC_OK)
    rc = start_renewer(sb, err);
  if (rc < 0) {
    osc_blob_lease(sb->blob, OSC_BLOB_LEASE_RELEASE, sb->lease_id, 0, &ignored);
    return rc;
  }
  sb->locked = true;
  osc_log_debug("state %s: lease acquired for %ds", sb->label,
                sb->cfg->state_blob.lease_seconds);
  return OSC_OK;
}

void osc_store_blob_unlock(struct osc_store_blob *sb) {
  struct osc_error err = OSC_ERROR_INIT;
  char why[OSC_ERROR_MAX];
  bool lost;

  if (sb == NULL || !sb->locked)
    return;
  lost = lease_lost(sb, why, sizeof(why));
  stop_renewer(&sb->renew);
  sb->locked = false;
  if (!lost && osc_blob_lease(sb->blob, OSC_BLOB_LEASE_RELEASE, sb->lease_id, 0,
                              &err) < 0)
    osc_log_warn("releasing the state lease: %s (it expires on its own)",
                 err.msg);
}

/* --- reading and writing ----------------------------------------------------
 */

int osc_store_blob_load(struct osc_store_blob *sb, struct osc_state **out,
                        struct osc_error *err) {
  struct osc_blob_props props;
  struct osc_buf buf;
  int rc;

  *out = NULL;
  osc_buf_init(&buf, STATE_MAX);
  rc = osc_blob_get(sb->blob, &buf, &props, err);
  if (rc == OSC_OK && !props.exists) {
    *out = calloc(1, sizeof(**out)); /* not created yet: empty */
    rc = *out ? OSC_OK : osc_error_set(err, OSC_E_NOMEM, "out of memory");
  } else if (rc == OSC_OK) {
    rc = osc_state_decode(buf.data ? buf.data : "", buf.len, sb->label, out,
                          err);
  }
  osc_buf_free(&buf);
  return rc;
}

static int lost_error(struct osc_store_blob *sb, const char *why,
                      struct osc_error *err) {
  return osc_error_set(err, OSC_E_RUNTIME,
                       "the lease on state %s was lost (%s); this run's "
                       "state was not saved, the next run reads it again",
                       sb->label, why);
}

int osc_store_blob_check(struct osc_store_blob *sb, struct osc_error *err) {
  char why[OSC_ERROR_MAX];
  struct osc_error e = OSC_ERROR_INIT;

  if (!sb->locked)
    return osc_error_set(err, OSC_E_RUNTIME, "state %s is not locked",
                         sb->label);
  if (lease_lost(sb, why, sizeof(why)))
    return lost_error(sb, why, err);
  if (osc_blob_lease(sb->blob, OSC_BLOB_LEASE_RENEW, sb->lease_id, 0, &e) < 0)
    return lost_error(sb, e.msg, err);
  return OSC_OK;
}

int osc_store_blob_save(struct osc_store_blob *sb,
                        const struct osc_state *state, struct osc_error *err) {
  char why[OSC_ERROR_MAX];
  struct osc_error e = OSC_ERROR_INIT;
  struct osc_buf buf;
  int rc;

  if (!sb->locked)
    return osc_error_set(err, OSC_E_RUNTIME, "state %s: saving needs its lease",
                         sb->label);
  if (lease_lost(sb, why, sizeof(why)))
    return lost_error(sb, why, err);
  osc_buf_init(&buf, STATE_MAX);
  rc = osc_state_encode(state, &buf, err);
  if (rc == OSC_OK) {
    rc = osc_blob_put(sb->blob, buf.data, buf.len, sb->lease_id, false, &e);
    if (rc < 0 && osc_blob_last(sb->blob)->status == 412)
      rc = lost_error(sb, e.msg, err);
    else if (rc < 0)
      rc = osc_error_set(err, e.code, "saving state: %s", e.msg);
  }
  osc_buf_free(&buf);
  return rc;
}

int osc_store_blob_break(struct osc_store_blob *sb, bool *was_locked,
                         struct osc_error *err) {
  char text[600];
  int rc;

  rc = osc_store_blob_holder(sb, was_locked, text, sizeof(text), err);
  if (rc < 0 || !*was_locked)
    return rc;
  return osc_blob_lease(sb->blob, OSC_BLOB_LEASE_BREAK, NULL, 0, err);
}
