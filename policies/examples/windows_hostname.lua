-- Windows Tentacles register under the NetBIOS host name: upper case and
-- at most 15 characters. A VMSS computer name prefix longer than 9
-- characters ("webfrontend" + 6 base-36 digits) is cut by Windows, so the
-- target name is the upper-cased computer name's first 15 characters.
--
-- Two VMs can collide after the cut (same first 15 characters); the core
-- reports such duplicates as conflicts and never guesses.

return {
  target_name = function(vm, ctx)
    local name = vm.computer_name or vm.name
    return name:upper():sub(1, 15)
  end,
}
