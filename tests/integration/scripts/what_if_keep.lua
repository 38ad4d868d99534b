-- A what-if policy (tests/integration/scripts/what_if.lua): keeps every
-- orphan at once.
return {
  grace = { orphan = 0 },
  on_scale_in = function() return "keep", "what-if keeps" end,
}
