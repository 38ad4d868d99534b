#!/usr/bin/env bash
# The release tarball (`make dist`, docs/design.md §13):
#  - is named octoscale.<version>.tar.gz and holds bin/octoscale, share/ and
#    README at its top (Octopus extracts it as it is);
#  - its binary links no Lua and no libyaml shared library (ldd), only glibc
#    and libcurl's tree;
#  - unpacked into an empty directory, away from the source tree and with a
#    clean environment, it runs `version`, `check` of the shipped example
#    config, and `plan --snapshot` with a shipped policy, printing exactly
#    the plan the CLI golden test expects from the development binary;
#  - as root, it runs `version` and `plan --snapshot` in a chroot that holds
#    only the package, the dynamic loader and the libraries ldd lists.
# Usage: bash tests/dist/tarball.sh BUILD_DIR TARBALL
source "$(dirname "$0")/lib.sh"
build=$(cd "${1:?usage: tarball.sh BUILD_DIR TARBALL}" && pwd)
tarball=${2:?usage: tarball.sh BUILD_DIR TARBALL}
[[ $tarball == /* ]] || tarball=$PWD/$tarball

[[ $(basename "$tarball") == "octoscale.$version.tar.gz" ]] &&
  ok "named octoscale.$version.tar.gz" || not_ok "named $(basename "$tarball"), not octoscale.$version.tar.gz"
[[ -s $tarball ]] || {
  not_ok "no tarball at $tarball (make dist)"
  exit 1
}
top=$(tar tzf "$tarball" | sed 's|^\./||; s|/.*||' | sort -u | paste -sd' ' -)
[[ $top == "README bin share" ]] && ok "top level: bin/ share/ README" || not_ok "top level is '$top'"

pkg=$tmp/Octopus/Files/octoscale.$version
mkdir -p "$pkg" "$tmp/work"
check "unpacks" tar xzf "$tarball" -C "$pkg"
bin=$pkg/bin/octoscale
check "bin/octoscale is executable" test -x "$bin"
ldd "$bin" >"$tmp/ldd" 2>&1
if grep -Eq 'liblua|libyaml|cjson' "$tmp/ldd"; then
  not_ok "ldd shows Lua or libyaml:"
  sed 's/^/     /' "$tmp/ldd"
else
  ok "ldd: no liblua, no libyaml, no lua-cjson"
fi
grep -q 'not found' "$tmp/ldd" && not_ok "ldd: a library is missing" || ok "ldd: every library found"
# direct dependencies (NEEDED): glibc's, libcurl and (for the state backends)
# libcrypto only
needed=$(objdump -p "$bin" 2>/dev/null | awk '$1 == "NEEDED" { print $2 }' | sort | paste -sd' ' -)
extra=$(tr ' ' '\n' <<<"$needed" | grep -Ev '^(libc|libm|libdl|libpthread|libcurl|libcrypto)\.so' | paste -sd' ' -)
[[ -n $needed && -z $extra ]] && ok "NEEDED: $needed" || not_ok "NEEDED has more than glibc, libcurl and libcrypto: $needed"

cd "$tmp/work" || exit 1
run() { env -i PATH=/usr/bin:/bin HOME="$tmp/work" OCTOSCALE_NOW=2026-11-27T10:00:00Z "$@"; }
check "version" run "$bin" version
cp "$tmp/out" "$tmp/version"
check "... names the release" grep -q "^octoscale $version (commit " "$tmp/version"

share=$pkg/share/octoscale
run OCTOPUS_URL=https://octopus.example.com OCTOPUS_API_KEY=API-X \
  AZURE_SUBSCRIPTION_ID=00000000-0000-0000-0000-000000000001 \
  AZURE_TENANT_ID=t AZURE_CLIENT_ID=c AZURE_CLIENT_SECRET=s \
  "$bin" -c "$share/examples/octoscale.yaml" check >"$tmp/check" 2>&1
rc=$?
[[ $rc == 0 ]] && grep -q 'policies loaded' "$tmp/check" &&
  ok "check: the shipped example config loads the shipped policies" ||
  {
    not_ok "check of the shipped example config (exit $rc)"
    sed 's/^/     /' "$tmp/check"
  }

# plan --snapshot: the fixture and state of the CLI golden case plan-scale-in,
# copied here; the policy is the one in the tarball
case=$root/tests/cli/cases/plan-scale-in
cp "$root/tests/fixtures/snapshots/octoscale.yaml" "$root/tests/fixtures/snapshots/scale-in.json" .
cp "$case/state.json" state.json
run OSC_TEST_POLICY="$share/policies/default.lua" OSC_TEST_STATE="$PWD/state.json" \
  "$bin" -c octoscale.yaml -s web-prod plan --snapshot scale-in.json >plan.out 2>plan.err
rc=$?
[[ $rc == "$(cat "$case/code")" ]] && ok "plan --snapshot exits $rc" || {
  not_ok "plan --snapshot exits $rc, expected $(cat "$case/code")"
  sed 's/^/     /' plan.err
}
if diff -u "$case/stdout" plan.out >"$tmp/diff"; then
  ok "plan --snapshot prints the golden plan"
else
  not_ok "plan --snapshot differs from tests/cli/cases/plan-scale-in/stdout"
  sed 's/^/     /' "$tmp/diff" | head -20
fi
cmp -s "$case/state.json" state.json && ok "plan wrote nothing to the state" || not_ok "plan changed the state"

# A machine with only the documented libraries: a chroot holding the
# unpacked package, the dynamic loader and the libraries ldd lists (glibc,
# libcurl and libcurl's own) and nothing else: no Lua, no libyaml, no
# /usr/share. Needs root (CI); skipped otherwise.
chroot_bin=$(command -v chroot)
if [[ $(id -u) == 0 && -n $chroot_bin ]] && "$chroot_bin" / /bin/true 2>/dev/null; then
  jail=$tmp/jail
  mkdir -p "$jail/pkg" "$jail/work"
  tar xzf "$tarball" -C "$jail/pkg"
  for lib in $(awk '$2 == "=>" { print $3 } $1 ~ /^\// { print $1 }' "$tmp/ldd"); do
    mkdir -p "$jail$(dirname "$lib")"
    cp -L "$lib" "$jail$lib"
  done
  cp octoscale.yaml scale-in.json "$jail/work/"
  cp "$case/state.json" "$jail/work/state.json"
  check "in a chroot with only those libraries: version" \
    env -i "$chroot_bin" "$jail" /pkg/bin/octoscale version
  (env -i OCTOSCALE_NOW=2026-11-27T10:00:00Z \
    OSC_TEST_POLICY=/pkg/share/octoscale/policies/default.lua OSC_TEST_STATE=/work/state.json \
    "$chroot_bin" "$jail" /pkg/bin/octoscale -c /work/octoscale.yaml -s web-prod plan \
    --snapshot /work/scale-in.json) >"$tmp/jail.out" 2>"$tmp/jail.err"
  rc=$?
  [[ $rc == "$(cat "$case/code")" ]] && diff -q "$case/stdout" "$tmp/jail.out" >/dev/null &&
    ok "in the chroot: plan --snapshot prints the golden plan" || {
    not_ok "in the chroot: plan --snapshot exits $rc"
    sed 's/^/     /' "$tmp/jail.err" | head -5
  }
else
  echo "skip the chroot check: needs root and chroot(2)"
fi
exit $failed
