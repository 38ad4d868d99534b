# bash completion for octoscale(1). Installed as
# share/bash-completion/completions/octoscale; to try it: source this file.
# Keep the option lists in step with `octoscale [COMMAND] --help`
# (tests/dist/man_drift.sh checks them).

# The scale set names of the config the command line names (or
# ./octoscale.yaml): the `- name:` items of its scale_sets list.
_octoscale_scale_sets() {
  local config=octoscale.yaml i
  for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
    case ${COMP_WORDS[i]} in
      -c | --config) config=${COMP_WORDS[i + 1]} ;;
      --config=*) config=${COMP_WORDS[i]#--config=} ;;
    esac
  done
  [[ -r $config ]] || return 0
  sed -n 's/^[[:space:]]*-[[:space:]]*name:[[:space:]]*["'\'']\{0,1\}\([^"'\'' #]*\).*/\1/p' "$config"
}

_octoscale() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
  local commands="plan apply run check snapshot test state version"
  local global="-c --config -s --scale-set --format -v --verbose -q --quiet -h --help --version"
  local command="" opts="" i w

  case $prev in
    -c | --config)
      COMPREPLY=($(compgen -f -X '!*.@(yaml|yml)' -o plusdirs -- "$cur"))
      return
      ;;
    -s | --scale-set)
      COMPREPLY=($(compgen -W "$(_octoscale_scale_sets)" -- "$cur"))
      return
      ;;
    --format)
      COMPREPLY=($(compgen -W "text json" -- "$cur"))
      return
      ;;
    --on-timeout)
      COMPREPLY=($(compgen -W "proceed fail" -- "$cur"))
      return
      ;;
    --snapshot | --report | -o | --output | --junit)
      COMPREPLY=($(compgen -f -- "$cur"))
      return
      ;;
    --poll-interval)
      COMPREPLY=($(compgen -W "10s 30s 1m" -- "$cur"))
      return
      ;;
  esac

  # the command: the first word that is one, skipping option values
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    case $w in
      -c | --config | -s | --scale-set | --format) ((i++)) ;;
      -*) ;;
      *)
        if [[ " $commands " == *" $w "* ]]; then
          command=$w
          break
        fi
        ;;
    esac
  done

  case $command in
    plan) opts="--snapshot --force --explain" ;;
    apply) opts="--wait --poll-interval --on-timeout --only-new --health-check --octopus-output --report --force" ;;
    run) opts="--octopus-output" ;;
    snapshot) opts="-o --output" ;;
    state) opts="--yes" ;;
    test) opts="--filter --junit --coverage" ;;
  esac

  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$global $opts" -- "$cur"))
  elif [[ -z $command ]]; then
    COMPREPLY=($(compgen -W "$commands" -- "$cur"))
  elif [[ $command == state && $prev == state ]]; then
    COMPREPLY=($(compgen -W "show unlock copy" -- "$cur"))
  elif [[ $command == state ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  elif [[ $command == run || $command == test ]]; then
    COMPREPLY=($(compgen -f -X '!*.lua' -o plusdirs -- "$cur"))
  fi
}
shopt -s extglob
complete -o filenames -F _octoscale octoscale
