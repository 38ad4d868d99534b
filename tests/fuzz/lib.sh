# shellcheck shell=bash
# The fuzz targets and their seeds (the in-repository fixtures), for
# run.sh (libFuzzer, `make fuzz`) and replay.sh (`make test`).
FUZZ_TARGETS=(config snapshot state arm_page octopus_page policy)
FUZZ_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# fuzz_seeds TARGET: prints the seed files, one a line: fixtures, plus
# tests/fuzz/seeds/TARGET/ where the fixtures lack a shape (captured from
# octoscale-sim: an Octopus machines page, a lookup answer).
fuzz_seeds() {
  local r=$FUZZ_REPO extra
  shopt -s nullglob
  extra=("$r"/tests/fuzz/seeds/"$1"/*)
  [[ ${#extra[@]} -eq 0 ]] || printf '%s\n' "${extra[@]}"
  case $1 in
  config) printf '%s\n' "$r"/tests/fixtures/config/*.yaml "$r"/tests/fixtures/config/broken/* \
    "$r"/tests/cli/cases/*/octoscale.yaml "$r"/examples/octoscale.yaml "$r"/tests/fixtures/snapshots/octoscale.yaml ;;
  snapshot) printf '%s\n' "$r"/tests/fixtures/snapshots/*.json ;;
  state) printf '%s\n' "$r"/tests/cli/cases/*/state.json ;;
  arm_page) printf '%s\n' "$r"/tests/fixtures/api/azure/*.json ;;
  octopus_page) printf '%s\n' "$r"/tests/fixtures/api/octopus/*.json ;;
  policy) printf '%s\n' "$r"/policies/*.lua "$r"/policies/examples/*.lua "$r"/tests/cli/cases/*/policy.lua \
    "$r"/examples/demo/policy.lua ;;
  *) return 1 ;;
  esac
  shopt -u nullglob
}
