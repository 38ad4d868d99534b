#!/usr/bin/env bash
# The Debian package (`make deb`, docs/design.md §13):
#  - its Depends were computed (libcurl, Lua and libyaml with versions from
#    dpkg-shlibdeps) and it holds the installed layout under /usr;
#  - as root, on a machine where no octoscale is installed: `dpkg -i`
#    installs it, `octoscale version` runs from PATH, man finds the page, and
#    `dpkg -r` removes every file again.
# The install step needs root and changes the machine, so it is guarded:
# without root, or when a package or file named octoscale is already there
# (a developer's own install), it is skipped (exit 77) with the reason; runs
# of this test on one machine are serialised by a lock.
# Usage: bash tests/dist/deb.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"
build=$(cd "${1:?usage: deb.sh BUILD_DIR}" && pwd)
deb=$build/dist/octoscale_${version}_$(dpkg --print-architecture).deb
skip() {
  echo "SKIP the install step: $*"
  exit $((failed ? 1 : 77))
}

[[ -s $deb ]] || {
  not_ok "no package at $deb (make deb)"
  exit 1
}
ok "built $(basename "$deb") ($(stat -c %s "$deb") bytes)"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libc6 libcurl4 liblua5.4-0 libyaml-0-2; do
  [[ $depends =~ (^|, )$lib( \(>= [0-9.]+\))?(,|$) ]] && ok "Depends names $lib" ||
    not_ok "Depends lacks $lib: $depends"
done
[[ $depends == *"(>= "* ]] && ok "Depends carries versions (dpkg-shlibdeps)" || not_ok "Depends has no versions: $depends"
contents=$(dpkg-deb -c "$deb" | awk '{ print $6 }')
for f in ./usr/bin/octoscale ./usr/share/man/man1/octoscale.1 \
  ./usr/share/octoscale/policies/default.lua ./usr/share/octoscale/examples/octoscale.yaml \
  ./usr/share/bash-completion/completions/octoscale ./usr/share/zsh/site-functions/_octoscale; do
  grep -qxF "$f" <<<"$contents" && ok "holds ${f#.}" || not_ok "does not hold ${f#.}"
done
# contrib/docker/Dockerfile installs this package: no Docker engine here, so
# check it as text (the base image, the file it copies, that it runs it)
df=$root/contrib/docker/Dockerfile
bad=$(grep -Ev '^\s*(#.*)?$|^ *(&&|[a-z/0-9*_.-]+ )|^(FROM|COPY|RUN|CMD|ARG|ENV|LABEL|WORKDIR|USER) ' "$df")
[[ -z $bad ]] && ok "Dockerfile: only known instructions" || not_ok "Dockerfile: unexpected lines: $bad"
[[ $(grep -m1 '^FROM ' "$df") == "FROM debian:bookworm-slim" ]] && ok "Dockerfile: FROM debian:bookworm-slim" || not_ok "Dockerfile: not FROM debian:bookworm-slim"
pattern=$(sed -n 's|^COPY \([^ ]*\) /tmp/$|\1|p' "$df")
# shellcheck disable=SC2053 # a glob match is the point
[[ -n $pattern && $(basename "$deb") == $pattern ]] && ok "Dockerfile: COPY $pattern matches $(basename "$deb")" ||
  not_ok "Dockerfile: COPY '$pattern' does not match $(basename "$deb")"
grep -qF "/tmp/$pattern" "$df" && grep -q '&& octoscale version' "$df" && ok "Dockerfile: installs the package and runs octoscale version" ||
  not_ok "Dockerfile: does not install /tmp/$pattern and run octoscale version"
((failed)) && exit 1

[[ $(id -u) == 0 ]] || skip "needs root (CI runs it as root); run 'sudo dpkg -i $deb' yourself to try"
command -v flock >/dev/null || skip "no flock(1)"
exec 9>/tmp/octoscale-deb-test.lock
flock -w 600 9 || skip "another run of this test holds /tmp/octoscale-deb-test.lock"
status=$(dpkg-query -W -f='${Status}' octoscale 2>/dev/null)
[[ -z $status || $status == *not-installed ]] ||
  skip "a package octoscale is already installed ($status, $(dpkg-query -W -f='${Version}' octoscale)); not touching it"
for f in /usr/bin/octoscale /usr/share/man/man1/octoscale.1; do
  [[ -e $f ]] && skip "$f exists (installed by hand?); not overwriting it"
done

# dpkg waits for nobody: retry while apt or dpkg of someone else holds its lock
dpkg_retry() {
  local i out
  for ((i = 0; i < 120; i++)); do
    out=$(dpkg "$@" 2>&1) && return 0
    grep -q 'lock' <<<"$out" || {
      printf '%s\n' "$out"
      return 1
    }
    sleep 1
  done
  printf '%s\n' "$out"
  return 1
}
installed=0
cleanup() {
  ((installed)) && dpkg_retry -r octoscale >/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

if out=$(dpkg_retry -i "$deb"); then
  installed=1
  ok "dpkg -i installs it"
else
  not_ok "dpkg -i failed:"
  sed 's/^/     /' <<<"$out"
  exit 1
fi
[[ $(command -v octoscale) == /usr/bin/octoscale ]] && ok "octoscale is on PATH" || not_ok "octoscale on PATH is '$(command -v octoscale)'"
if out=$(cd / && env -i PATH=/usr/bin:/bin octoscale version 2>&1) && [[ $out == "octoscale $version (commit "* ]]; then
  ok "octoscale version: $(head -1 <<<"$out")"
else
  not_ok "octoscale version: $out"
fi
if command -v man >/dev/null; then
  [[ $(man -w octoscale 2>/dev/null) == /usr/share/man/man1/octoscale.1* ]] && ok "man finds octoscale(1)" ||
    not_ok "man -w octoscale: $(man -w octoscale 2>&1)"
fi
if out=$(dpkg_retry -r octoscale); then
  installed=0
  ok "dpkg -r removes it"
else
  not_ok "dpkg -r failed: $out"
fi
status=$(dpkg-query -W -f='${Status}' octoscale 2>/dev/null)
[[ -z $status || $status == *not-installed* ]] && ok "the package is gone ($status)" || not_ok "status after dpkg -r: $status"
left=""
for f in /usr/bin/octoscale /usr/share/man/man1/octoscale.1 /usr/share/octoscale; do
  [[ -e $f ]] && left+=" $f"
done
[[ -z $left ]] && ok "no file is left behind" || not_ok "left behind:$left"
exit $failed
