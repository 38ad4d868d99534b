#!/usr/bin/env bash
# The man page and the completions document what `--help` says, and nothing
# else:
#  - the commands of `octoscale --help` are the COMMANDS subsections of
#    docs/octoscale.1;
#  - the options of `octoscale --help` are those of the page's OPTIONS;
#  - for each command, the options of `octoscale COMMAND --help` (beyond the
#    global ones) are those of its subsection;
#  - the page renders without warnings (groff -ww -z -man);
#  - the bash and zsh completions offer every command and option.
# When this fails after you added or changed an option: update
# docs/octoscale.1 and contrib/completions/ (see docs/design.md §13).
# Usage: bash tests/dist/man_drift.sh BUILD_DIR
source "$(dirname "$0")/lib.sh"
build=${1:?usage: man_drift.sh BUILD_DIR}
bin="$build/bin/octoscale"
page="$root/docs/octoscale.1"
bash_comp="$root/contrib/completions/octoscale.bash"
zsh_comp="$root/contrib/completions/_octoscale"

# option tokens (-x, --long-name) in text on stdin, one per line, sorted
options() {
  grep -oE '(^|[^A-Za-z0-9_-])--?[A-Za-z][A-Za-z0-9-]*' | sed -E 's/^[^-]*//' |
    sort -u
}
# the page's roff as plain text: \- to -, font and character escapes dropped
sed -E 's/\\-/-/g; s/\\f[BIRP]//g; s/\\\(..//g; s/\\[&|e]//g' "$page" >"$tmp/page"
plain_page() { cat "$tmp/page"; }
# the plain text of one section (.SH NAME) or subsection (.SS NAME)
section() { # section SH|SS NAME
  plain_page | awk -v kind=".$1" -v name="$2" '
    /^\.S[HS] / {
      if (kind == ".SS" || $1 == ".SH") {
        t = substr($0, 5); gsub(/"/, "", t); on = ($1 == kind && t == name)
      }
      next
    }
    on { print }'
}
# lines in $1 not in $2
minus() { comm -23 <(printf '%s\n' "$1" | sed '/^$/d') <(printf '%s\n' "$2" | sed '/^$/d'); }
compare() { # compare WHAT HELP_LIST PAGE_LIST
  local extra missing
  missing=$(minus "$2" "$3" | paste -sd' ' -)
  extra=$(minus "$3" "$2" | paste -sd' ' -)
  [[ -z $missing ]] || not_ok "$1: in --help but not in docs/octoscale.1: $missing"
  [[ -z $extra ]] || not_ok "$1: in docs/octoscale.1 but not in --help: $extra"
}

[[ -x $bin ]] || {
  echo "FAIL no binary at $bin"
  exit 1
}
usage=$("$bin" --help) || not_ok "octoscale --help exits non-zero"
commands=$(printf '%s\n' "$usage" | awk '/^commands:/ { on = 1; next }
  on && /^$/ { exit } on && /^  [a-z]/ { print $1 }' | sort -u)
[[ -n $commands ]] || not_ok "no commands found in octoscale --help"
page_commands=$(plain_page | awk '/^\.SH / { on = ($2 == "COMMANDS") }
  on && /^\.SS / { gsub(/"/, "", $2); print $2 }' | sort -u)
compare "commands" "$commands" "$page_commands"

# the usage line and the options: block (the commands: block names some
# commands' own options)
global=$(printf '%s\n' "$usage" | awk 'NR == 1 { print; next }
  /^options:/ { on = 1; next } on && /^$/ { exit } on { print }' | options)
compare "global options" "$global" "$(section SH OPTIONS | options)"

all_opts=""
for cmd in $commands; do
  help=$("$bin" "$cmd" --help) || {
    not_ok "octoscale $cmd --help exits non-zero"
    continue
  }
  help_opts=$(minus "$(printf '%s\n' "$help" | options)" "$global")
  page_opts=$(minus "$(section SS "$cmd" | options)" "$global")
  compare "$cmd options" "$help_opts" "$page_opts"
  all_opts+=$'\n'$help_opts
done

warnings=$(groff -ww -z -man "$page" 2>&1)
[[ -z $warnings ]] || not_ok "groff -ww -man warns: $warnings"

# completions: every command and option, as a word of its own
for comp in "$bash_comp" "$zsh_comp"; do
  name=${comp#"$root/"}
  [[ -s $comp ]] || {
    not_ok "$name is missing"
    continue
  }
  offered=$(grep -oE -- '(^|[^A-Za-z0-9_-])-{0,2}[A-Za-z][A-Za-z0-9_-]*' "$comp" |
    sed -E 's/^[^A-Za-z-]//' | sort -u)
  missing=$(minus "$(printf '%s\n' $commands $global $all_opts | sort -u)" "$offered" | paste -sd' ' -)
  [[ -z $missing ]] || not_ok "$name does not offer: $missing"
done
bash -n "$bash_comp" || not_ok "contrib/completions/octoscale.bash does not parse"

[[ $failed == 0 ]] && echo "man page, --help and completions agree ($(wc -w <<<"$commands") commands)"
exit $failed
