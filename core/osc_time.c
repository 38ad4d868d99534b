#include "core/osc_time.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int osc_duration_parse(const char *text, int64_t *out, struct osc_error *err) {
  static const struct {
    char unit;
    int64_t seconds;
  } units[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
  const char *p = text;
  int64_t total = 0;
  size_t next_unit = 0;

  if (text == NULL || *text == '\0')
    return osc_error_set(err, OSC_E_CONFIG, "empty duration");
  if (strcmp(text, "0") == 0) {
    *out = 0;
    return OSC_OK;
  }
  while (*p) {
    int64_t n = 0;
    size_t i;

    if (!isdigit((unsigned char)*p))
      goto bad;
    while (isdigit((unsigned char)*p)) {
      if (n > 1000000000)
        goto bad;
      n = n * 10 + (*p - '0');
      p++;
    }
    for (i = next_unit; i < sizeof(units) / sizeof(units[0]); i++) {
      if (units[i].unit == *p)
        break;
    }
    if (i == sizeof(units) / sizeof(units[0]))
      goto bad;
    total += n * units[i].seconds;
    next_unit = i + 1;
    p++;
  }
  *out = total;
  return OSC_OK;
bad:
  return osc_error_set(err, OSC_E_CONFIG,
                       "invalid duration '%s' (expected e.g. 90s, 10m, 2h, "
                       "1d or 1h30m)",
                       text);
}

void osc_duration_format(int64_t seconds, char *out, size_t cap) {
  static const struct {
    char unit;
    int64_t seconds;
  } units[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
  size_t used = 0;
  size_t i;

  if (cap == 0)
    return;
  out[0] = '\0';
  if (seconds < 0) {
    used += (size_t)snprintf(out, cap, "-");
    seconds = -seconds;
  }
  if (seconds == 0) {
    snprintf(out + used, cap - used, "0s");
    return;
  }
  for (i = 0; i < sizeof(units) / sizeof(units[0]) && used < cap; i++) {
    int64_t n = seconds / units[i].seconds;

    if (n == 0)
      continue;
    seconds -= n * units[i].seconds;
    used += (size_t)snprintf(out + used, cap - used, "%lld%c", (long long)n,
                             units[i].unit);
  }
}

/* Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant). */
int64_t osc_days_from_civil(int64_t y, int64_t m, int64_t d) {
  int64_t era;
  int64_t yoe;
  int64_t doy;
  int64_t doe;

  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void osc_civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d) {
  int64_t era;
  int64_t doe;
  int64_t yoe;
  int64_t doy;
  int64_t mp;

  z += 719468;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = z - era * 146097;
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp + (mp < 10 ? 3 : -9);
  *y = yoe + era * 400 + (*m <= 2);
}

static int digits(const char *p, int n, int *out) {
  int v = 0;
  int i;

  for (i = 0; i < n; i++) {
    if (!isdigit((unsigned char)p[i]))
      return -1;
    v = v * 10 + (p[i] - '0');
  }
  *out = v;
  return 0;
}

int osc_time_parse_rfc3339(const char *text, int64_t *out,
                           struct osc_error *err) {
  int y, mo, d, h, mi, s;
  int oh = 0, om = 0;
  const char *p = text;
  int64_t t;

  if (text == NULL || strlen(text) < 19)
    goto bad;
  if (digits(p, 4, &y) || p[4] != '-' || digits(p + 5, 2, &mo) || p[7] != '-' ||
      digits(p + 8, 2, &d) || (p[10] != 'T' && p[10] != 't' && p[10] != ' ') ||
      digits(p + 11, 2, &h) || p[13] != ':' || digits(p + 14, 2, &mi) ||
      p[16] != ':' || digits(p + 17, 2, &s))
    goto bad;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
    goto bad;
  p += 19;
  if (*p == '.') {
    p++;
    if (!isdigit((unsigned char)*p))
      goto bad;
    while (isdigit((unsigned char)*p))
      p++;
  }
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int sign = *p == '-' ? -1 : 1;

    if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om))
      goto bad;
    oh *= sign;
    om *= sign;
    p += 6;
  } else {
    goto bad;
  }
  if (*p != '\0')
    goto bad;
  t = osc_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
  *out = t - (oh * 3600 + om * 60);
  return OSC_OK;
bad:
  return osc_error_set(err, OSC_E_USAGE,
                       "invalid RFC 3339 time '%s' (expected e.g. "
                       "2026-11-27T10:00:00Z)",
                       text ? text : "");
}

void osc_time_format_rfc3339(int64_t t, char *out, size_t cap) {
  time_t tt = (time_t)t;
  struct tm tm;

  gmtime_r(&tt, &tm);
  strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int osc_time_now(int64_t *out, struct osc_error *err) {
  const char *env = getenv("OCTOSCALE_NOW");
  int rc;

  if (env != NULL && *env != '\0') {
    rc = osc_time_parse_rfc3339(env, out, err);
    if (rc < 0)
      return osc_error_prefix(err, "OCTOSCALE_NOW");
    return OSC_OK;
  }
  *out = (int64_t)time(NULL);
  return OSC_OK;
}

int64_t osc_time_monotonic_ms(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t osc_time_thread_cpu_ms(void) {
  struct timespec ts;

  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
    return osc_time_monotonic_ms(); /* no CPU clock: wall time bounds it */
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
