/* octoscale.time: date and duration helpers for policies and scripts, over
 * the same C parsers the config and the engine use (core/osc_time.h):
 *   parse("2026-11-27T10:00:00Z") -> t | nil, msg
 *   format(t) -> "2026-11-27T10:00:00Z"
 *   date(t [, utc_offset]) -> {year, month, day, hour, min, sec, weekday}
 *   hour(t [, utc_offset]), weekday(t [, utc_offset]) (1 = Monday .. 7)
 *   time{year =, month =, day =, hour =, min =, sec =} -> t (UTC)
 *   duration("1h30m") -> seconds | nil, msg; format_duration(seconds)
 * utc_offset is seconds, a duration ("2h", "-5h") or "+01:00". */
#ifndef OSC_BIND_TIME_H
#define OSC_BIND_TIME_H

struct lua_State;

/* require "octoscale.time": pushes the module table. */
int osc_bind_time_open(struct lua_State *L);

/* require "octoscale.duration": the same duration parser and format as
 * octoscale.time, as a module of their own:
 *   parse("1h30m") -> 5400 | nil, msg   (a non-negative integer is seconds)
 *   check("1h30m") -> 5400, or raises msg at the caller's line
 *   format(5400) -> "1h30m" */
int osc_bind_duration_open(struct lua_State *L);

#endif
