#!/usr/bin/env bash
# The fish completion, as fish runs it: sourced into a fish without configuration, and what
# `complete -C` (fish's own completion of a command line) offers is compared. Then, against the
# real binary: every option that `--help` lists, for the program and for each command (global
# options included: they are taken after the command too), is offered after it.
#   fish_completion_test.sh VFIO_RECONCILE COMPLETION_FILE
# shellcheck disable=SC2016 # $argv in single quotes is fish's, expanded by fish
set -uo pipefail
bin=$(realpath "$1")
completion=$(realpath "$2") # both are used from a scratch directory
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# fish keeps history and universal variables under these: not in the user's home.
export XDG_CONFIG_HOME=$scratch/config XDG_DATA_HOME=$scratch/data XDG_CACHE_HOME=$scratch/cache
fish -n "$completion" || fail "fish -n: $completion does not parse"
# A statement that fails when sourced (parsed, but an unknown command or option) says so once.
if ! errors=$(fish -N -c 'source $argv[1]' "$completion" 2>&1) || [[ -n $errors ]]; then
  fail "sourcing $completion: $errors"
fi
mkdir "$scratch/cwd"
cd "$scratch/cwd" || exit 1
mkdir -p hosts/one manifest.d
touch gpu.yaml nics.yml notes.txt "with space.yaml" saved.json

# The candidates fish offers for the last word of a line, sorted, joined by |.
offered() {
  fish -N -c 'source $argv[1]; and complete -C $argv[2]' "$completion" "$1" |
    cut -f1 | sort | paste -sd'|'
}

# expect "WORDS..." "EXPECTED (sorted, joined by |)": the last word is completed.
expect() {
  local got
  got=$(offered "$1")
  [[ $got == "$2" ]] || fail "'$1' completed to '$got', expected '$2'"
}

commands="apply|help|owners|plan|show|status|validate|version"
expect "vfio-reconcile " "$commands"
expect "vfio-reconcile p" "plan"
expect "vfio-reconcile --s" "--state-dir|--sysfs-root"
expect "vfio-reconcile --sysfs-root " "hosts/|manifest.d/"
expect "vfio-reconcile --sysfs-root hosts/" "hosts/one/"
expect "vfio-reconcile --sysfs-root=" "--sysfs-root=hosts/|--sysfs-root=manifest.d/"
expect "vfio-reconcile --sysfs-root hosts/one " "$commands"
expect "vfio-reconcile --sysfs-root hosts/one -v st" "status"
expect "vfio-reconcile --state-dir /run/x apply --" \
  "--boot|--color|--config-dir|--device|--dry-run|--early|--explain|--help|--jobs|--json|--modules-dir|--no-prune|--plan|--proc-root|--quiet|--state-dir|--sysfs-root|--timeout|--verbose|--wait|--yes"
expect "vfio-reconcile apply --b" "--boot"
expect "vfio-reconcile apply --boot --config-dir " "hosts/|manifest.d/"
expect "vfio-reconcile apply --jobs " ""
expect "vfio-reconcile plan --d" "--detailed-exitcode"
expect "vfio-reconcile status --" "--color|--full|--help|--json|--modules-dir|--proc-root|--quiet|--state-dir|--sysfs-root|--timeout|--verbose"
expect "vfio-reconcile status " ""
expect "vfio-reconcile o" "owners"
expect "vfio-reconcile owners " ""
expect "vfio-reconcile plan " "gpu.yaml|hosts/|manifest.d/|nics.yml|with space.yaml"
expect "vfio-reconcile validate g" "gpu.yaml"
expect "vfio-reconcile validate --j" "--json"
expect "vfio-reconcile apply --dry-run gpu.yaml n" "nics.yml"
expect "vfio-reconcile frobnicate " ""
# Global options after the command, and the command's arguments after them.
expect "vfio-reconcile status --sy" "--sysfs-root"
expect "vfio-reconcile plan gpu.yaml --sysfs-root " "hosts/|manifest.d/"
expect "vfio-reconcile plan --timeout 5s g" "gpu.yaml"
expect "vfio-reconcile --color " "always|auto|never"
expect "vfio-reconcile status --color a" "always|auto"
expect "vfio-reconcile help " "$commands"
expect "vfio-reconcile help p" "plan"
expect "vfio-reconcile --sysfs-root hosts help " "$commands"
expect "vfio-reconcile help plan " "" # one topic
expect "vfio-reconcile version " ""
expect "vfio-reconcile show --ma" "--match-ids"
expect "vfio-reconcile show " ""
# Saved plans: any file for --out and --plan.
expect "vfio-reconcile plan --o" "--out"
expect "vfio-reconcile plan gpu.yaml --out n" "nics.yml|notes.txt"
expect "vfio-reconcile apply --plan " "gpu.yaml|hosts/|manifest.d/|nics.yml|notes.txt|saved.json|with space.yaml"
expect "vfio-reconcile apply --plan no" "notes.txt"
expect "vfio-reconcile apply --plan saved.json --d" "--device|--dry-run"
# Commands carry descriptions. (No grep -q at a pipe's end: under pipefail, the writer's SIGPIPE
# would fail a check that matched.)
fish -N -c 'source $argv[1]; and complete -C "vfio-reconcile pl"' "$completion" |
  grep $'^plan\t.' >/dev/null || fail "the command plan has no description"

# Every option of each command's help, short and long: the first words of its option lines.
for command in "" status owners validate plan apply show help version; do
  help=$("$bin" ${command:+"$command"} --help) || fail "$command --help failed"
  list=$(offered "vfio-reconcile ${command:+$command }-")
  for option in $(grep -oE '^  -[^ ]+' <<<"$help" | tr ',' '\n' | sed 's/^ *//'); do
    [[ "|$list|" == *"|$option|"* ]] ||
      fail "fish completion does not offer ${command:-global} $option (it offers $list)"
  done
done

if ((failures)); then
  echo "fish completion: $failures failed"
  exit 1
fi
echo "fish completion: all passed"
