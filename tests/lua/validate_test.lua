-- octoscale.validate (vim.validate style).
local t = require "octoscale.testing"
local validate = require "octoscale.validate"

local function takes_name(name)
  validate("name", name, "string")
  return name
end

t.test("validate: passes valid values", function()
  t.eq(takes_name("x"), "x")
  t.ok(validate("n", 3, "number"))
  t.ok(validate("n", 3, "integer"))
  t.ok(validate("f", print, "callable"))
  t.ok(validate("o", nil, "string", true))
  t.ok(validate("u", 1, { "string", "number" }))
  t.ok(validate { a = { 1, "number" }, b = { nil, "table", true } })
end)

t.test("validate: raises at the misusing caller's line", function()
  local msg = t.expect_error(function() takes_name(42) end)
  t.ok(msg:find("^tests/lua/validate_test.lua:%d+: name: expected string, got number$"), msg)
end)

t.test("validate: lists, predicates and one_of", function()
  t.expect_error(function() validate("v", true, { "string", "number" }) end,
    "v: expected string or number, got boolean")
  t.expect_error(function() validate("n", 1.5, "integer") end,
    "n: expected integer, got number")
  local action = validate.one_of { "delete", "disable", "keep" }
  t.ok(validate("action", "keep", action))
  t.expect_error(function() validate("action", "delet", action) end,
    "action: expected delete, disable or keep, got 'delet'")
end)

t.test("validate: check returns instead of raising", function()
  local ok, err = validate.check("x", {}, "string")
  t.eq(ok, false)
  t.eq(err, "x: expected string, got table")
  t.eq(validate.check("x", "s", "string"), true)
end)

t.test("validate: unknown type names are a bug in the caller", function()
  t.expect_error(function() validate("x", 1, "strnig") end, "unknown type name 'strnig'")
end)
