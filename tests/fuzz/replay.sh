#!/usr/bin/env bash
# Replays one fuzz target's seeds and kept crash inputs
# (tests/fuzz/regress/TARGET/) through its entry point, built without
# libFuzzer: bash tests/fuzz/replay.sh BUILD_DIR TARGET
set -euo pipefail
source "$(dirname "$0")/lib.sh"
build=${1:?usage: replay.sh BUILD_DIR TARGET}
target=${2:?usage: replay.sh BUILD_DIR TARGET}
mapfile -t seeds < <(fuzz_seeds "$target")
regress=$FUZZ_REPO/tests/fuzz/regress/$target
[[ -d $regress ]] || regress=
exec "$build/tests/fuzz_replay_$target" "${seeds[@]}" ${regress:+"$regress"}
