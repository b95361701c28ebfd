#!/usr/bin/env bash
# The man page and the bash completion against the real binary: the page formats without a
# groff warning and has the sections a reader looks for; every option that `--help` lists, for
# the program and for each command, is documented in the page and offered by the completion;
# every exit code of src/cli/exit_codes.h is explained.
#   cli_docs_test.sh VFIO_RECONCILE MAN_PAGE COMPLETION EXIT_CODES_H
set -uo pipefail
# (grep -q is never used at the end of a pipe: it may exit first, and under pipefail the writer's
# SIGPIPE would fail a check that matched.)
bin=$1
man_page=$2
completion=$3
exit_codes=$4
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

warnings=$(groff -man -ww -z "$man_page" 2>&1)
[ -z "$warnings" ] || fail "groff warns: $warnings"
# The page as a reader sees it, with hyphens as typed.
text=$(groff -man -Tutf8 -P-cbou "$man_page" 2>/dev/null | sed 's/‐/-/g; s/−/-/g')
for section in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS MANIFEST "EXIT STATUS" ENVIRONMENT \
  FILES EXAMPLES "SEE ALSO"; do
  grep -qx "$section" <<<"$text" || fail "man page has no $section section"
done

# Long options of a help text.
options_in() { grep -oE '(^|[ ,])--[a-z][a-z-]*' <<<"$1" | sed 's/^[ ,]*//' | sort -u; }

# shellcheck source=/dev/null
source "$completion"
completes() { # completes "WORDS BEFORE" OPTION
  read -r -a COMP_WORDS <<<"$1"
  COMP_WORDS+=("--")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  _vfio_reconcile
  printf '%s\n' "${COMPREPLY[@]}" | grep -x -- "$2" >/dev/null
}

for command in "" status owners validate plan apply show help version; do
  help=$("$bin" $command --help) || fail "$command --help failed"
  for option in $(options_in "$help"); do
    # Global options are listed by every command's help (CLI11 shows the parent's): they
    # complete before the command, not after it.
    if [ -n "$command" ] && options_in "$("$bin" --help)" | grep -x -- "$option" >/dev/null &&
      [ "$option" != --help ]; then
      continue
    fi
    grep -qe "$option\b" <<<"$text" || fail "man page does not document ${command:-global} $option"
    completes "vfio-reconcile $command" "$option" ||
      fail "completion does not offer ${command:-global} $option"
  done
  [ -z "$command" ] || grep -q "^       $command" <<<"$text" || fail "no entry for command $command"
done

status_text=$(sed -n '/^EXIT STATUS$/,/^ENVIRONMENT$/p' <<<"$text")
for code in $(grep -oE '= [0-9]+,' "$exit_codes" | tr -dc '0-9\n'); do
  grep -qE "^       $code( |$)" <<<"$status_text" || fail "EXIT STATUS does not explain $code"
done

if ((failures)); then
  echo "cli docs: $failures failed"
  exit 1
fi
echo "cli docs: all passed"
