#!/usr/bin/env bash
# The bash completion, as bash runs it: sourced into a plain shell (no bash-completion helpers),
# COMP_WORDS/COMP_CWORD set as readline would, and COMPREPLY compared.
#   bash_completion_test.sh COMPLETION_FILE
set -uo pipefail
completion=$1
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cd "$scratch" || exit 1
mkdir -p hosts/one manifest.d
touch gpu.yaml nics.yml notes.txt "with space.yaml"

# shellcheck source=/dev/null
source "$completion" || { echo "FAIL: sourcing $completion"; exit 1; }
failures=0

# expect "WORDS..." "EXPECTED (sorted, one per line joined by |)": the last word is completed.
expect() {
  local line=$1 want=$2 got
  read -r -a COMP_WORDS <<<"$line"
  [[ $line == *" " ]] && COMP_WORDS+=("")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  _vfio_reconcile
  got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | paste -sd'|')
  if [[ $got != "$want" ]]; then
    echo "FAIL: '$line' completed to '$got', expected '$want'"
    failures=$((failures + 1))
  fi
}

[[ $(complete -p vfio-reconcile) == "complete -F _vfio_reconcile vfio-reconcile" ]] ||
  { echo "FAIL: not registered: $(complete -p vfio-reconcile 2>&1)"; failures=$((failures + 1)); }

expect "vfio-reconcile " "apply|help|owners|plan|show|status|validate|version"
expect "vfio-reconcile p" "plan"
expect "vfio-reconcile --s" "--state-dir|--sysfs-root"
expect "vfio-reconcile --sysfs-root " "hosts|manifest.d"
expect "vfio-reconcile --sysfs-root hosts/" "hosts/one"
expect "vfio-reconcile --sysfs-root hosts/one " "apply|help|owners|plan|show|status|validate|version"
expect "vfio-reconcile --sysfs-root hosts/one -v st" "status"
expect "vfio-reconcile --state-dir /run/x apply --" \
  "--boot|--color|--config-dir|--device|--dry-run|--early|--explain|--help|--jobs|--json|--modules-dir|--no-prune|--plan|--proc-root|--quiet|--state-dir|--sysfs-root|--timeout|--verbose|--wait|--yes"
expect "vfio-reconcile apply --b" "--boot"
expect "vfio-reconcile apply --boot --config-dir " "hosts|manifest.d"
expect "vfio-reconcile apply --jobs " ""
expect "vfio-reconcile plan --d" "--detailed-exitcode"
expect "vfio-reconcile status --" "--color|--full|--help|--json|--modules-dir|--proc-root|--quiet|--state-dir|--sysfs-root|--timeout|--verbose"
expect "vfio-reconcile status " ""
expect "vfio-reconcile o" "owners"
expect "vfio-reconcile --state-dir /run/x owners --" "--color|--help|--json|--modules-dir|--proc-root|--quiet|--state-dir|--sysfs-root|--timeout|--verbose"
expect "vfio-reconcile owners " ""
expect "vfio-reconcile plan " "gpu.yaml|hosts|manifest.d|nics.yml|with space.yaml"
expect "vfio-reconcile validate g" "gpu.yaml"
expect "vfio-reconcile apply --dry-run gpu.yaml n" "nics.yml"
expect "vfio-reconcile frobnicate " ""
# Global options after the command (issue 17), --color's words, help's topics.
expect "vfio-reconcile status --sy" "--sysfs-root"
expect "vfio-reconcile plan gpu.yaml --sysfs-root " "hosts|manifest.d"
expect "vfio-reconcile plan --timeout 5s g" "gpu.yaml"
expect "vfio-reconcile --color " "always|auto|never"
expect "vfio-reconcile status --color a" "always|auto"
expect "vfio-reconcile help " "apply|help|owners|plan|show|status|validate|version"
expect "vfio-reconcile help p" "plan"
expect "vfio-reconcile help --" "--help"
expect "vfio-reconcile version " ""
expect "vfio-reconcile show --ma" "--match-ids"
expect "vfio-reconcile show " ""
# Saved plans (issue 17): any file after --out and --plan, and what follows still completes.
expect "vfio-reconcile plan --o" "--out"
expect "vfio-reconcile plan gpu.yaml --out n" "nics.yml|notes.txt"
expect "vfio-reconcile apply --plan no" "notes.txt"
expect "vfio-reconcile apply --plan notes.txt --d" "--device|--dry-run"

if ((failures)); then
  echo "bash completion: $failures failed"
  exit 1
fi
echo "bash completion: all passed"
