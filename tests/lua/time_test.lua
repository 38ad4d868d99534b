-- octoscale.time (core/lua/osc_bind_time.c) and require of modules beside a
-- policy (core/lua/osc_sandbox.c).
local t = require "octoscale.testing"
local time = require "octoscale.time"

t.test("time: parse and format RFC 3339", function()
  t.eq(time.parse "2026-11-27T10:00:00Z", 1795773600)
  t.eq(time.parse "2026-11-27T11:00:00+01:00", 1795773600)
  t.eq(time.format(1795773600), "2026-11-27T10:00:00Z")
  local v, err = time.parse "27/11/2026"
  t.eq(v, nil)
  t.ok(err:find("27/11/2026", 1, true), err)
end)

t.test("time: date, hour and weekday, with a UTC offset", function()
  local t0 = time.parse "2026-11-27T23:30:00Z" -- a Friday
  t.eq(time.date(t0), { year = 2026, month = 11, day = 27, hour = 23, min = 30,
    sec = 0, weekday = 5 })
  t.eq(time.hour(t0), 23)
  t.eq(time.weekday(t0), 5)
  t.eq(time.hour(t0, "+01:00"), 0)
  t.eq(time.weekday(t0, "+01:00"), 6)
  t.eq(time.weekday(t0, 3600), 6)
  t.eq(time.hour(t0, "-5h"), 18)
  t.eq(time.weekday(time.parse "1970-01-01T00:00:00Z"), 4)
  t.eq(time.date(time.parse "2024-02-29T12:00:00Z").day, 29)
  t.expect_error(function() time.hour(t0, "lunch") end, "utc_offset must be")
  t.expect_error(function() time.hour(t0, "25h") end, "utc_offset beyond a day")
end)

t.test("time: time{} builds a UTC time from a date", function()
  t.eq(time.time { year = 2026, month = 11, day = 27, hour = 10 }, 1795773600)
  t.eq(time.time { year = 2027, month = 1, day = 2 }, time.parse "2027-01-02T00:00:00Z")
  t.expect_error(function() time.time { year = 2026, month = 13, day = 1 } end,
    "month must be an integer from 1 to 12")
  t.expect_error(function() time.time { year = 2026, mon = 1, day = 1 } end,
    "unknown field 'mon'")
end)

t.test("time: durations", function()
  t.eq(time.duration "1h30m", 5400)
  t.eq(time.duration(90), 90)
  t.eq(select(1, time.duration "soon"), nil)
  t.eq(time.format_duration(90061), "1d1h1m1s")
  t.eq(time.format_duration(-600), "-10m")
end)

t.test("require: a module beside the policy, in the same sandbox", function()
  local plan = t.plan {
    policy = "tests/lua/policies/uses_common.lua", vms = {},
    targets = { t.target "webgone01" }, settings = { team = "web" },
    state = { orphaned_since = { ["Machines-webgone01"] = t.ago "1h" } },
  }
  t.eq(t.expect_action(plan, "keep", "webgone01").policy_reason, "kept for team web")
end)

t.test("require: cycles are reported, paths stay in the policy's tree", function()
  t.expect_error(function() t.plan { policy = "tests/lua/policies/cycle/a.lua" } end,
    "cycle/a.lua:1: module 'b' is being loaded %(require loop%?%)")
  t.expect_error(function() t.plan { policy = "tests/lua/policies/escape.lua" } end,
    "module 'team.link': .* is outside tests/lua/policies")
  t.expect_error(function() require "nope" end, "module 'nope' not found")
  t.expect_error(function() require "../x" end, "a module name is dot%-separated identifiers")
end)
