#!/usr/bin/env bash
# Installs the Debian packages octoscale needs to build and test, only when
# one is missing (so `make` stays fast on a prepared machine). Uses sudo when
# not root. `install-deps.sh --browser` installs only Chromium, for the HTML
# report test.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  liblua5.4-dev lua5.4 lua-cjson lua-cjson-dev
  libcurl4-openssl-dev libssl-dev libyaml-dev libmicrohttpd-dev libcmocka-dev
  curl ca-certificates clang-format libxml2-utils
  dpkg-dev file groff-base zsh openssl
  # make fuzz: clang 14 with libFuzzer and the sanitizer runtimes
  # (-fsanitize=fuzzer links libclang_rt.fuzzer from libclang-rt-14-dev)
  clang-14 libclang-rt-14-dev libfuzzer-14-dev
)
# --browser: only the browser the HTML report test (tests/browser/run.sh)
# renders the report in; that test asks for it, nothing else needs it.
if [[ ${1:-} == --browser ]]; then
  packages=(chromium)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$p")
done
# Azurite (Microsoft's Azure Storage emulator) for the blob-state tests,
# from npm; Node.js from Debian unless one is installed already (NodeSource's
# package brings its own npm).
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
need_azurite=false
command -v azurite-blob >/dev/null || need_azurite=true
[[ ${#missing[@]} -eq 0 && $need_azurite == false ]] && exit 0

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || {
    echo "install-deps: need root or sudo to install: ${missing[*]}$($need_azurite && echo " azurite")" >&2
    exit 1
  }
  sudo=sudo
fi
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if $need_azurite; then
  echo "install-deps: installing azurite (npm)" >&2
  $sudo npm install -g --no-fund --no-audit azurite >/dev/null
fi
