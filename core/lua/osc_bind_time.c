#include "core/lua/osc_bind_time.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "core/osc_error.h"
#include "core/osc_time.h"

#define DAY 86400

static int64_t check_time(lua_State *L, int idx) {
  lua_Integer t = luaL_checkinteger(L, idx);

  /* years 0..9999: enough for any policy, and no overflow below */
  luaL_argcheck(L, t >= -62167219200LL && t <= 253402300799LL, idx,
                "time out of range (years 0 to 9999)");
  return (int64_t)t;
}

/* seconds, a duration ("2h", "-5h30m") or "+HH:MM" / "-HH:MM" */
static int64_t check_offset(lua_State *L, int idx) {
  struct osc_error err = OSC_ERROR_INIT;
  const char *s;
  int64_t v = 0;
  int sign = 1;
  int hh, mm;
  char tail;

  if (lua_isnoneornil(L, idx))
    return 0;
  if (lua_isinteger(L, idx))
    v = (int64_t)lua_tointeger(L, idx);
  else {
    s = luaL_checkstring(L, idx);
    if (*s == '+' || *s == '-') {
      sign = *s == '-' ? -1 : 1;
      s++;
    }
    if (sscanf(s, "%2d:%2d%c", &hh, &mm, &tail) == 2 && hh < 24 && mm < 60)
      v = (int64_t)hh * 3600 + mm * 60;
    else if (osc_duration_parse(s, &v, &err) < 0)
      luaL_argerror(L, idx,
                    "utc_offset must be seconds, a duration such as '2h' or "
                    "'+01:00'");
    v *= sign;
  }
  luaL_argcheck(L, v > -DAY && v < DAY, idx, "utc_offset beyond a day");
  return v;
}

static int t_parse(lua_State *L) {
  struct osc_error err = OSC_ERROR_INIT;
  int64_t t;

  if (osc_time_parse_rfc3339(luaL_checkstring(L, 1), &t, &err) < 0) {
    luaL_pushfail(L);
    lua_pushstring(L, err.msg);
    return 2;
  }
  lua_pushinteger(L, (lua_Integer)t);
  return 1;
}

static int t_format(lua_State *L) {
  char out[64];

  osc_time_format_rfc3339(check_time(L, 1), out, sizeof(out));
  lua_pushstring(L, out);
  return 1;
}

/* Local fields of t at utc_offset: days since the epoch and seconds of day */
static void split(lua_State *L, int64_t *days, int64_t *secs) {
  int64_t t = check_time(L, 1) + check_offset(L, 2);

  *days = t >= 0 ? t / DAY : -((-t + DAY - 1) / DAY);
  *secs = t - *days * DAY;
}

/* ISO weekday: 1970-01-01 was a Thursday (4). */
static int64_t weekday_of(int64_t days) {
  int64_t w = (days + 3) % 7;

  return (w < 0 ? w + 7 : w) + 1;
}

static int t_date(lua_State *L) {
  int64_t days, secs, y, m, d;

  split(L, &days, &secs);
  osc_civil_from_days(days, &y, &m, &d);
  lua_createtable(L, 0, 7);
  lua_pushinteger(L, (lua_Integer)y);
  lua_setfield(L, -2, "year");
  lua_pushinteger(L, (lua_Integer)m);
  lua_setfield(L, -2, "month");
  lua_pushinteger(L, (lua_Integer)d);
  lua_setfield(L, -2, "day");
  lua_pushinteger(L, (lua_Integer)(secs / 3600));
  lua_setfield(L, -2, "hour");
  lua_pushinteger(L, (lua_Integer)(secs / 60 % 60));
  lua_setfield(L, -2, "min");
  lua_pushinteger(L, (lua_Integer)(secs % 60));
  lua_setfield(L, -2, "sec");
  lua_pushinteger(L, (lua_Integer)weekday_of(days));
  lua_setfield(L, -2, "weekday");
  return 1;
}

static int t_hour(lua_State *L) {
  int64_t days, secs;

  split(L, &days, &secs);
  lua_pushinteger(L, (lua_Integer)(secs / 3600));
  return 1;
}

static int t_weekday(lua_State *L) {
  int64_t days, secs;

  split(L, &days, &secs);
  lua_pushinteger(L, (lua_Integer)weekday_of(days));
  return 1;
}

static int64_t field(lua_State *L, const char *name, int64_t dflt, int64_t lo,
                     int64_t hi) {
  int isnum = 0;
  lua_Integer v;

  if (lua_getfield(L, 1, name) == LUA_TNIL) {
    lua_pop(L, 1);
    return dflt;
  }
  v = lua_tointegerx(L, -1, &isnum);
  lua_pop(L, 1);
  if (!isnum || v < lo || v > hi)
    luaL_error(L, "octoscale.time.time: %s must be an integer from %d to %d",
               name, (int)lo, (int)hi);
  return (int64_t)v;
}

static int t_time(lua_State *L) {
  static const char *const keys[] = {"year", "month", "day", "hour",
                                     "min",  "sec",   NULL};
  int64_t y, m, d;

  luaL_checktype(L, 1, LUA_TTABLE);
  lua_pushnil(L);
  while (lua_next(L, 1) != 0) {
    size_t i;

    lua_pop(L, 1);
    for (i = 0; keys[i] != NULL; i++) {
      if (lua_type(L, -1) == LUA_TSTRING &&
          strcmp(lua_tostring(L, -1), keys[i]) == 0)
        break;
    }
    if (keys[i] == NULL)
      return luaL_error(L, "octoscale.time.time: unknown field '%s'",
                        luaL_tolstring(L, -1, NULL));
  }
  y = field(L, "year", -1, 0, 9999);
  m = field(L, "month", -1, 1, 12);
  d = field(L, "day", -1, 1, 31);
  if (y < 0 || m < 0 || d < 0)
    return luaL_error(L, "octoscale.time.time: year, month and day are "
                         "required");
  lua_pushinteger(L, (lua_Integer)(osc_days_from_civil(y, m, d) * DAY +
                                   field(L, "hour", 0, 0, 23) * 3600 +
                                   field(L, "min", 0, 0, 59) * 60 +
                                   field(L, "sec", 0, 0, 60)));
  return 1;
}

/* [value] -> seconds, or nil and osc_duration_parse's message. A
 * non-negative integer is seconds; any other non-string reaches the parser
 * as its text ("-1", "1.5", "nil"), so every refusal reads the same. */
static int duration_parse(lua_State *L, int64_t *out, struct osc_error *err) {
  char text[64];
  luaL_Buffer b;
  size_t len;
  size_t i;
  const char *s;

  if (lua_isinteger(L, 1) && lua_tointeger(L, 1) >= 0) {
    *out = (int64_t)lua_tointeger(L, 1);
    return OSC_OK;
  }
  if (lua_type(L, 1) != LUA_TSTRING) {
    if (lua_type(L, 1) == LUA_TNUMBER || lua_type(L, 1) == LUA_TBOOLEAN ||
        lua_isnoneornil(L, 1))
      snprintf(text, sizeof(text), "%s", luaL_tolstring(L, 1, NULL));
    else
      snprintf(text, sizeof(text), "a %s value", luaL_typename(L, 1));
    return osc_duration_parse(text, out, err);
  }
  s = lua_tolstring(L, 1, &len);
  if (strlen(s) == len)
    return osc_duration_parse(s, out, err);
  /* "10m\0x" must not read as "10m": shown with \0, it parses as nothing */
  luaL_buffinit(L, &b);
  for (i = 0; i < len; i++) {
    if (s[i] == '\0')
      luaL_addstring(&b, "\\0");
    else
      luaL_addchar(&b, s[i]);
  }
  luaL_pushresult(&b);
  return osc_duration_parse(lua_tostring(L, -1), out, err);
}

/* octoscale.duration.parse and octoscale.time.duration. */
static int t_duration(lua_State *L) {
  struct osc_error err = OSC_ERROR_INIT;
  int64_t v;

  if (duration_parse(L, &v, &err) < 0) {
    luaL_pushfail(L);
    lua_pushstring(L, err.msg);
    return 2;
  }
  lua_pushinteger(L, (lua_Integer)v);
  return 1;
}

/* octoscale.duration.check: like parse, but raises at the caller's line. */
static int t_duration_check(lua_State *L) {
  struct osc_error err = OSC_ERROR_INIT;
  int64_t v;

  if (duration_parse(L, &v, &err) < 0)
    return luaL_error(L, "%s", err.msg);
  lua_pushinteger(L, (lua_Integer)v);
  return 1;
}

/* Seconds (a float is rounded down) -> "1h30m"; negative: "-1m30s". */
static int t_format_duration(lua_State *L) {
  char out[64];
  lua_Integer v = 0;

  if (lua_isinteger(L, 1)) {
    v = lua_tointeger(L, 1);
  } else {
    lua_Number n = floor(luaL_checknumber(L, 1));

    luaL_argcheck(L, lua_numbertointeger(n, &v), 1, "number out of range");
  }
  if (v < 0) {
    osc_duration_format(v == LUA_MININTEGER ? INT64_MAX : -v, out + 1,
                        sizeof(out) - 1);
    out[0] = '-';
  } else {
    osc_duration_format(v, out, sizeof(out));
  }
  lua_pushstring(L, out);
  return 1;
}

int osc_bind_duration_open(lua_State *L) {
  static const luaL_Reg funcs[] = {
      {"parse", t_duration},
      {"check", t_duration_check},
      {"format", t_format_duration},
      {NULL, NULL},
  };

  luaL_newlib(L, funcs);
  return 1;
}

int osc_bind_time_open(lua_State *L) {
  static const luaL_Reg funcs[] = {
      {"parse", t_parse},
      {"format", t_format},
      {"date", t_date},
      {"hour", t_hour},
      {"weekday", t_weekday},
      {"time", t_time},
      {"duration", t_duration},
      {"format_duration", t_format_duration},
      {NULL, NULL},
  };

  luaL_newlib(L, funcs);
  return 1;
}
