-- A helper that was never defined (a typo for a local).
local function prefixed(vm)
  return "prod-" .. vm.computer_name
end

return {
  target_name = prefixd,
}
