-- The sandbox seen from inside (core/lua/osc_sandbox.c): only base, string,
-- table, math and utf8; strict globals; text-only load; read-only
-- libraries.
local t = require "octoscale.testing"

t.test("sandbox: io, os, debug, package, coroutine are not there", function()
  for _, name in ipairs { "io", "os", "debug", "package", "coroutine",
      "dofile", "loadfile", "collectgarbage", "loadstring", "warn" } do
    t.expect_error(load("return " .. name), "undeclared global '" .. name .. "'")
    t.eq(rawget(_G, name), nil, name)
  end
end)

t.test("sandbox: the allowed library is there", function()
  for _, name in ipairs { "assert", "error", "getmetatable", "ipairs", "next",
      "pairs", "pcall", "print", "rawequal", "rawget", "rawlen", "rawset",
      "select", "setmetatable", "tonumber", "tostring", "type", "xpcall",
      "load", "require" } do
    t.eq(type(_G[name]), "function", name)
  end
  for _, name in ipairs { "string", "table", "math", "utf8" } do
    t.eq(type(_G[name]), "table", name)
  end
  t.eq(_VERSION, "Lua 5.4")
end)

t.test("sandbox: string.dump is gone, also through the string metatable", function()
  t.eq(string.dump, nil)
  t.eq(("x").dump, nil)
  t.eq(getmetatable(""), false)
  t.eq(("abc"):upper(), "ABC")
end)

t.test("sandbox: reading an undeclared global raises at the reading line", function()
  local msg = t.expect_error(function() return undeclared_thing end)
  t.ok(msg:find("^tests/lua/sandbox_test.lua:%d+: undeclared global 'undeclared_thing'$"), msg)
end)

t.test("sandbox: assigning an undeclared global raises", function()
  t.expect_error(function() new_global = 1 end,
    "assignment to undeclared global 'new_global'")
  t.expect_error(function() _G.other = 1 end,
    "assignment to undeclared global 'other'")
end)

t.test("sandbox: rawset declares a global deliberately", function()
  rawset(_G, "declared_on_purpose", 42)
  t.eq(declared_on_purpose, 42)
  declared_on_purpose = 43
  t.eq(declared_on_purpose, 43)
  rawset(_G, "declared_on_purpose", nil)
end)

t.test("sandbox: libraries are read-only", function()
  t.expect_error(function() string.upper = nil end, "read%-only library 'string'")
  t.expect_error(function() math.pi = 3 end, "read%-only library 'math'")
  t.expect_error(function() table.insert = print end, "read%-only library 'table'")
  t.eq(getmetatable(string), false)
  local n = 0
  for _ in pairs(math) do n = n + 1 end
  t.ok(n > 10, "pairs over a library still works")
end)

t.test("sandbox: rawset cannot write through a library either", function()
  t.expect_error(function() rawset(string, "upper", nil) end, "read%-only library 'string'")
  t.expect_error(function() rawset(math, "pi", 3) end, "read%-only library 'math'")
  t.expect_error(function() rawset(table, "insert", print) end, "read%-only library 'table'")
  t.expect_error(function() rawset(utf8, "char", print) end, "read%-only library 'utf8'")
  t.expect_error(function() rawset(reconcile, "plan", print) end, "read%-only library 'reconcile'")
  t.expect_error(function() reconcile.plan = print end, "read%-only library 'reconcile'")
  t.eq(type(string.upper), "function")
  t.eq(math.pi > 3.14, true)
  local plain = {}
  t.eq(rawset(plain, "k", 1), plain, "rawset still works on other tables")
  t.eq(plain.k, 1)
end)

t.test("sandbox: pattern matching behaves as Lua's", function()
  t.eq(select("#", ("hello world"):find("o w")), 2)
  t.eq(table.concat({ ("hello world"):find("(o)(r)") }, ","), "8,9,o,r")
  t.eq(("a.b"):find(".", 1, true), 2)
  t.eq(("abc"):find("b", -1), nil)
  t.eq(("abc"):find("", 10), nil)
  t.eq(("abc"):find("", 4), 4)
  t.eq(("key = value"):match("^(%w+)%s*=%s*(%w+)$"), "key")
  t.eq(select(2, ("key = value"):match("^(%w+)%s*=%s*(%w+)$")), "value")
  t.eq(("THE (quick) fox"):match("%((%a+)%)"), "quick")
  t.eq(("f(a(b)c)d"):match("%b()"), "(a(b)c)")
  t.eq(("THE (quick) fox"):gsub("%f[%a]%a+", "W"), "W (W) W")
  t.eq(("abc"):match("()b()"), 2)
  t.eq(("hello"):gsub("l+", { ll = "LL" }), "heLLo")
  t.eq(("hello"):gsub("(h)(e)", "%2%1%0"), "ehhello")
  t.eq(("abc"):gsub("", "-"), "-a-b-c-")
  t.eq(("abc"):gsub("%w", function(c) return c:upper() end, 2), "ABc")
  local words = {}
  for k, v in ("a=1, b=2"):gmatch("(%w+)=(%w+)") do words[#words + 1] = k .. v end
  t.eq(table.concat(words, ";"), "a1;b2")
  local caret = {} -- not an anchor in gmatch: a literal '^' (as in Lua 5.4)
  for w in ("a^a"):gmatch("^a") do caret[#caret + 1] = w end
  t.eq(#caret, 1)
  t.expect_error(function() ("x"):find("%") end, "malformed pattern")
  t.expect_error(function() ("x"):gsub("(x)", "%2") end, "invalid capture index")
  t.expect_error(function() ("x"):find("[a") end, "missing ']'")
end)

t.test("sandbox: math.random is deterministic, randomseed is gone", function()
  t.eq(math.randomseed, nil)
  local x = math.random(1, 1000000)
  t.ok(x >= 1 and x <= 1000000)
end)

t.test("sandbox: load refuses binary chunks", function()
  local f, err = load("\27Lua\84\0garbage")
  t.eq(f, nil)
  t.ok(err:find("attempt to load a binary chunk"), err)
  f, err = load("\27Lua", "x", "b")
  t.eq(f, nil)
  t.ok(err:find("binary chunk"), err)
end)

t.test("sandbox: load's default environment is a fresh strict one", function()
  local f = assert(load("return string.rep('a', 3)"))
  t.eq(f(), "aaa")
  t.expect_error(assert(load("x = 1")), "assignment to undeclared global 'x'")
  t.expect_error(assert(load("return io")), "undeclared global 'io'")
  local env = { y = 2 }
  t.eq(assert(load("y = y + 1; return y", "chunk", "t", env))(), 3)
  t.eq(env.y, 3)
end)

t.test("sandbox: load of text still works with a chunk name", function()
  local f, err = load("return (", "=mychunk")
  t.eq(f, nil)
  t.ok(err:find("^mychunk:1:"), err)
end)

t.test("sandbox: require serves only the embedded library", function()
  t.eq(require "octoscale.duration", require "octoscale.duration")
  t.eq(require "reconcile", reconcile)
  t.expect_error(function() require "os" end, "module 'os' not found")
  t.expect_error(function() require "octoscale.nope" end, "not found")
end)

t.test("sandbox: errors carry file and line; tables with message work", function()
  local msg = t.expect_error(function() error("boom") end)
  t.ok(msg:find("^tests/lua/sandbox_test.lua:%d+: boom$"), msg)
  local ok, e = pcall(error, { message = "structured" })
  t.eq(ok, false)
  t.eq(e.message, "structured")
end)

t.test("sandbox: print goes to the log and returns nothing", function()
  t.eq(select("#", print("printed from", "sandbox_test", 1, nil, true)), 0)
end)

t.test("sandbox: utf8 is available", function()
  t.eq(utf8.len("héllo"), 5)
  t.eq(utf8.char(72, 105), "Hi")
end)
