#!/usr/bin/env bash
# Runs every libFuzzer target for a bounded time with ASan and UBSan
# (`make fuzz`; CI runs it): bash tests/fuzz/run.sh FUZZ_BUILD_DIR [SECONDS]
# [TARGET...]. Each starts from a corpus seeded with the in-repository
# fixtures (kept in FUZZ_BUILD_DIR/corpus/TARGET between runs). A crash,
# leak, timeout or UB report fails the run and leaves the input in
# FUZZ_BUILD_DIR/artifacts/TARGET/: fix it in the owning module, add a unit
# test, and keep the input in tests/fuzz/regress/TARGET/ (replayed by
# `make test`).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
build=$(cd "${1:?usage: run.sh FUZZ_BUILD_DIR [SECONDS] [TARGET...]}" && pwd)
seconds=${2:-30}
shift $(($# >= 2 ? 2 : $#))
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=("${FUZZ_TARGETS[@]}")

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
for t in "${targets[@]}"; do
  bin=$build/fuzz_$t
  [[ -x $bin ]] || { echo "fuzz: $bin is missing (make fuzz builds it)" >&2; exit 1; }
  corpus=$build/corpus/$t
  artifacts=$build/artifacts/$t
  mkdir -p "$corpus" "$artifacts"
  while IFS= read -r seed; do cp -f "$seed" "$corpus/seed-$(basename "$(dirname "$seed")")-$(basename "$seed")"; done < <(fuzz_seeds "$t")
  regress=$FUZZ_REPO/tests/fuzz/regress/$t
  [[ -d $regress ]] && cp -f "$regress"/* "$corpus"/ 2>/dev/null
  log=$build/fuzz-$t.log
  echo "# fuzz_$t: ${seconds}s"
  "$bin" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1
  rc=$?
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$')
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
  echo "fuzz_$t: exit $rc, ${execs:-?} execs, ${cov:-no coverage line}, corpus $(find "$corpus" -type f | wc -l) files"
  if [[ $rc -ne 0 ]]; then
    failed+=("$t")
    grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -20
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz: FAILED: ${failed[*]} (inputs in $build/artifacts/)"
  exit 1
fi
echo "fuzz: ${#targets[@]} targets ran ${seconds}s each, nothing found"
