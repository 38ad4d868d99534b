-- octoscale.duration is osc_duration_parse/format (core/osc_time.c).
local t = require "octoscale.testing"
local duration = require "octoscale.duration"

local GOOD = {
  ["0"] = 0, ["90s"] = 90, ["10m"] = 600, ["2h"] = 7200, ["1d"] = 86400,
  ["1h30m"] = 5400, ["1d1h1m1s"] = 90061, ["0s"] = 0, ["007m"] = 420,
  ["10000000009s"] = 10000000009,
}
local BAD = { "10", "m", "1x", "1m1h", "1h1h", "-5m", "1.5h", " 1m",
  "1m ", "10000000010s", "1hh" }

t.test("duration: parse accepts what the core accepts", function()
  for text, seconds in pairs(GOOD) do
    t.eq(duration.parse(text), seconds, text)
  end
  t.eq(duration.parse(30), 30)
end)

t.test("duration: parse refuses what the core refuses", function()
  for _, text in ipairs(BAD) do
    local s, err = duration.parse(text)
    t.eq(s, nil, text)
    t.eq(err, "invalid duration '" .. text
      .. "' (expected e.g. 90s, 10m, 2h, 1d or 1h30m)")
  end
  t.eq({ duration.parse "" }, { nil, "empty duration" })
  t.eq(select(2, duration.parse(-1)),
    "invalid duration '-1' (expected e.g. 90s, 10m, 2h, 1d or 1h30m)")
  t.eq(duration.parse(1.5), nil)
  t.eq(duration.parse(nil), nil)
  t.eq(duration.parse {}, nil)
  t.eq(select(2, duration.parse "10m\0x"),
    "invalid duration '10m\\0x' (expected e.g. 90s, 10m, 2h, 1d or 1h30m)")
end)

t.test("duration: octoscale.time reads durations the same way", function()
  local time = require "octoscale.time"
  for _, text in ipairs { "1h30m", "soon", "", 90, -1 } do
    t.eq({ time.duration(text) }, { duration.parse(text) })
  end
  t.eq(time.format_duration(5400), duration.format(5400))
end)

t.test("duration: format", function()
  t.eq(duration.format(0), "0s")
  t.eq(duration.format(5400), "1h30m")
  t.eq(duration.format(90061), "1d1h1m1s")
  t.eq(duration.format(-90), "-1m30s")
  t.eq(duration.format(720), "12m")
  t.eq(duration.format(90.7), "1m30s")
end)

t.test("duration: format and parse round-trip", function()
  for s = 0, 200000, 997 do
    t.eq(duration.parse(duration.format(s)), s)
  end
end)

t.test("duration: check raises at the caller", function()
  local msg = t.expect_error(function() duration.check("soon") end)
  t.ok(msg:find("^tests/lua/duration_test.lua:%d+: invalid duration 'soon'"), msg)
end)

t.test("duration: the core reads grace strings the same way", function()
  -- A policy's grace goes through osc_duration_parse; the reason shows it.
  local plan = t.plan {
    policy = { grace = { orphan = "1h30m" } },
    vms = { t.vm(1) },
    targets = { t.target "web000001", t.target "web000009" },
    state = { orphaned_since = { ["Machines-web000009"] = t.ago "2h" } },
  }
  local a = t.expect_action(plan, "delete", "web000009")
  t.eq(a.reason, "VM gone " .. duration.format(7200) .. ", grace "
    .. duration.format(duration.parse("1h30m")))
end)
