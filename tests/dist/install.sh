#!/usr/bin/env bash
# `cmake --install` into a temporary prefix (docs/design.md §13): the
# binary, the man page, the policies, the examples and both completions land
# where they should; the installed binary works from another directory (no
# source tree, no Lua path); the installed example config loads the installed
# policies; the man page renders; the bash completion completes.
# Usage: bash tests/dist/install.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"
build=$(cd "${1:?usage: install.sh BUILD_DIR}" && pwd)

P=$tmp/prefix
check "cmake --install --prefix exits 0" cmake --install "$build" --prefix "$P"
for f in bin/octoscale share/man/man1/octoscale.1 \
  share/octoscale/policies/default.lua share/octoscale/policies/conservative.lua \
  share/octoscale/policies/examples/per_team.lua \
  share/octoscale/examples/octoscale.yaml share/octoscale/examples/scripts/report.lua \
  share/octoscale/examples/runbook/step-template.json \
  share/bash-completion/completions/octoscale share/zsh/site-functions/_octoscale; do
  check "installs $f" test -s "$P/$f"
done
check "bin/octoscale is executable" test -x "$P/bin/octoscale"

# Run from an empty directory with a clean environment: nothing of the
# source tree is reachable by a relative path or a variable.
mkdir -p "$tmp/elsewhere"
cd "$tmp/elsewhere" || exit 1
run() { env -i PATH=/usr/bin:/bin HOME="$tmp" "$@"; }
check "the installed binary prints its version" run "$P/bin/octoscale" version
cp "$tmp/out" "$tmp/version"
check "... with the commit and the libraries" \
  grep -Eq '^octoscale [0-9]+\.[0-9]+\.[0-9]+ \(commit [0-9a-z-]+\)$' "$tmp/version"
check "... Lua, libcurl, libyaml" grep -Eq '^Lua 5\.4\.[0-9]+, libcurl [0-9.]+.*, libyaml [0-9.]+$' "$tmp/version"
run OCTOPUS_URL=https://octopus.example.com OCTOPUS_API_KEY=API-X \
  AZURE_SUBSCRIPTION_ID=00000000-0000-0000-0000-000000000001 \
  AZURE_TENANT_ID=t AZURE_CLIENT_ID=c AZURE_CLIENT_SECRET=s \
  "$P/bin/octoscale" -c "$P/share/octoscale/examples/octoscale.yaml" check >"$tmp/check" 2>&1
rc=$?
if [[ $rc == 0 ]] && grep -q 'policies loaded' "$tmp/check"; then
  ok "check of the installed example config loads the installed policies"
else
  not_ok "check of the installed example config (exit $rc)"
  sed 's/^/     /' "$tmp/check"
fi
printf 'local t = require "octoscale.testing"\nt.test("embedded library", function() assert(t) end)\n' >"$tmp/elsewhere/t.lua"
check "the embedded Lua library loads (octoscale test)" run "$P/bin/octoscale" test t.lua

# the man page renders without warnings where man(1) finds it
check "groff -ww renders the installed man page silently" \
  bash -c "[[ -z \$(groff -ww -z -man '$P/share/man/man1/octoscale.1' 2>&1) ]]"
if command -v man >/dev/null; then
  check "man finds it under the prefix" \
    bash -c "[[ \$(MANPATH='$P/share/man' man -w octoscale) == '$P/share/man/man1/octoscale.1' ]] &&
      MANPATH='$P/share/man' man octoscale 2>/dev/null | grep -q '^OCTOSCALE(1)'"
fi
# the bash completion, sourced from where it was installed
check "the installed bash completion completes commands" bash -c "
  source '$P/share/bash-completion/completions/octoscale'
  COMP_WORDS=(octoscale ap); COMP_CWORD=1; _octoscale
  [[ \${COMPREPLY[*]} == apply ]]"
if command -v zsh >/dev/null; then
  check "the installed zsh completion parses" zsh -n "$P/share/zsh/site-functions/_octoscale"
fi

# `make install PREFIX=...` is the same install
check "make install PREFIX=... installs the binary" \
  make -s -C "$root" install BUILD="$build" PREFIX="$tmp/prefix2"
check "... which runs" "$tmp/prefix2/bin/octoscale" version
exit $failed
