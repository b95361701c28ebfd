#!/usr/bin/env bash
# The zsh completion, as zsh runs it: an interactive zsh on a pseudo-terminal (zsh/zpty), with
# compinit and the function on $fpath, has Tab typed after each command line, and the matches the
# completion system was given are compared. Then, against the real binary: every option that
# `--help` lists, for the program and for each command (global options included: they are taken
# after the command too), is offered after it.
#   zsh_completion_test.sh VFIO_RECONCILE COMPLETION_FILE
set -uo pipefail
bin=$(realpath "$1") # used from a scratch directory
completion=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

zsh -n "$completion" || fail "zsh -n: $completion does not parse"
mkdir "$scratch/functions" "$scratch/cwd"
cp "$completion" "$scratch/functions/_vfio-reconcile"
cd "$scratch/cwd" || exit 1
mkdir -p hosts/one manifest.d
touch gpu.yaml nics.yml notes.txt "with space.yaml" saved.json

# Sourced by the zsh on the terminal. compadd, wrapped, prints each match it is given that fits
# the word (what zsh would list) and adds them; `compadd -O/-A/-D` only asks which would fit, and
# passes through. compprefuncs/comppostfuncs frame each completion (zsh empties them after use).
cat >"$scratch/setup.zsh" <<'EOF'
PROMPT= RPROMPT= PS2= LISTMAX=1000 # never "do you wish to see all N possibilities?"
autoload -Uz compinit && compinit -u -D
zstyle ':completion:*' completer _complete
compadd() {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi
  local -a fits; local -A opts; zparseopts -E -A opts p: P:
  builtin compadd -O fits "$@"
  local m; for m in $fits; do print -r -- "MATCH:$opts[-P]$opts[-p]$m"; done
  builtin compadd "$@"
}
begin-of-completion() { print -r -- $'\nBEGIN:'; comppostfuncs=(end-of-completion); }
end-of-completion() { print -r -- "END:"; compprefuncs=(begin-of-completion); }
compprefuncs=(begin-of-completion)
bindkey '^I' complete-word
print -r -- "READY:$_comps[vfio-reconcile]"
EOF

# zsh -f driver.zsh FUNCTIONS SETUP LINE...: first the function compinit registered for
# vfio-reconcile, then for each LINE its matches (sorted, each once as zsh lists them, joined
# by |), one line each. Ctrl-U clears what the previous completion left on the line.
cat >"$scratch/driver.zsh" <<'EOF'
zmodload zsh/zpty || exit 2
fn_dir=$1 setup=$2
shift 2
zpty z TERM=xterm zsh -f -i
zpty -w z "fpath=(${(q)fn_dir} \$fpath); source ${(q)setup}"
zpty -r -m z out '*READY:*'$'\n'
print -r -- ${${${(M)${(f)out}:#READY:*}#READY:}%$'\r'}
for line in "$@"; do
  zpty -w -n z $'\C-u'"$line"$'\t'
  zpty -r -m z out '*END:*'
  matches=()
  for l in ${(f)out}; do [[ ${l%$'\r'} == MATCH:* ]] && matches+=("${${l%$'\r'}#MATCH:}"); done
  print -r -- "${(j:|:)${(@ou)matches}}"
done
zpty -d z
EOF

lines=()
wants=()
# expect "WORDS..." "EXPECTED (sorted, joined by |)": the last word is completed.
expect() { lines+=("$1"); wants+=("$2"); }

commands="apply|help|owners|plan|show|status|validate|version"
expect "vfio-reconcile " "$commands"
expect "vfio-reconcile p" "plan"
expect "vfio-reconcile --s" "--state-dir|--sysfs-root"
expect "vfio-reconcile --sysfs-root " "hosts|manifest.d"
expect "vfio-reconcile --sysfs-root hosts/" "hosts/one"
expect "vfio-reconcile --sysfs-root=h" "hosts"
expect "vfio-reconcile --sysfs-root hosts/one " "$commands"
expect "vfio-reconcile --sysfs-root hosts/one -v st" "status"
expect "vfio-reconcile --state-dir /run/x apply --" \
  "--boot|--color|--config-dir|--device|--dry-run|--early|--explain|--help|--jobs|--json|--modules-dir|--no-prune|--plan|--proc-root|--quiet|--state-dir|--sysfs-root|--timeout|--verbose|--wait|--yes"
expect "vfio-reconcile apply --b" "--boot"
expect "vfio-reconcile apply --boot --config-dir " "hosts|manifest.d"
expect "vfio-reconcile apply --jobs " ""
expect "vfio-reconcile apply --early --d" "--dry-run" # --device excludes --early
expect "vfio-reconcile plan --d" "--detailed-exitcode"
expect "vfio-reconcile status --" "--color|--full|--help|--json|--modules-dir|--proc-root|--quiet|--state-dir|--sysfs-root|--timeout|--verbose"
expect "vfio-reconcile status " ""
expect "vfio-reconcile o" "owners"
expect "vfio-reconcile owners " ""
# Manifests: *.yaml, *.yml and directories, as zsh quotes them for the line.
expect "vfio-reconcile plan " 'gpu.yaml|hosts|manifest.d|nics.yml|with\ space.yaml'
expect "vfio-reconcile validate g" "gpu.yaml"
expect "vfio-reconcile validate --j" "--json"
expect "vfio-reconcile apply --dry-run gpu.yaml n" "nics.yml"
expect "vfio-reconcile frobnicate " ""
# Global options after the command, and the command's arguments after them.
expect "vfio-reconcile status --sy" "--sysfs-root"
expect "vfio-reconcile plan gpu.yaml --sysfs-root " "hosts|manifest.d"
expect "vfio-reconcile plan --timeout 5s g" "gpu.yaml"
expect "vfio-reconcile plan --sysfs-root hosts g" "gpu.yaml"
expect "vfio-reconcile --color " "always|auto|never"
expect "vfio-reconcile status --color a" "always|auto"
expect "vfio-reconcile help " "$commands"
expect "vfio-reconcile help p" "plan"
expect "vfio-reconcile --sysfs-root hosts help " "$commands"
expect "vfio-reconcile show --ma" "--match-ids"
# With no argument to take, _arguments offers the options (a zsh convention).
globals="--color|--help|--modules-dir|--proc-root|--quiet|--state-dir|--sysfs-root|--timeout|--verbose"
expect "vfio-reconcile show " "${globals/--help/--help|--match-ids}|-h|-q|-v"
expect "vfio-reconcile version " "$globals|-h|-q|-v"
expect "vfio-reconcile help plan " "$globals|-h|-q|-v" # one topic
# Saved plans: any file for --out and --plan.
expect "vfio-reconcile plan --o" "--out"
expect "vfio-reconcile plan gpu.yaml --out n" "nics.yml|notes.txt"
expect "vfio-reconcile apply --plan " "gpu.yaml|hosts|manifest.d|nics.yml|notes.txt|saved.json|with\\ space.yaml"
expect "vfio-reconcile apply --plan no" "notes.txt"
expect "vfio-reconcile apply --plan saved.json --d" "--dry-run" # --plan takes no --device
expected=${#lines[@]}

# Every option of each command's help, short and long: the first words of its option lines.
help_commands=("" status owners validate plan apply show help version)
for command in "${help_commands[@]}"; do
  lines+=("vfio-reconcile ${command:+$command }-")
done

results=()
mapfile -t results < <(timeout 120 zsh -f "$scratch/driver.zsh" "$scratch/functions" \
  "$scratch/setup.zsh" "${lines[@]}")
[[ ${results[0]:-} == _vfio-reconcile ]] ||
  fail "compinit did not register _vfio-reconcile for vfio-reconcile: '${results[0]:-}'"
if ((${#results[@]} != ${#lines[@]} + 1)); then
  echo "FAIL: zsh answered ${#results[@]} of $((${#lines[@]} + 1)) lines (failed or timed out)"
  exit 1
fi

for ((i = 0; i < expected; i++)); do
  [[ ${results[i + 1]:-} == "${wants[i]}" ]] ||
    fail "'${lines[i]}' completed to '${results[i + 1]:-}', expected '${wants[i]}'"
done

for ((j = 0; j < ${#help_commands[@]}; j++)); do
  command=${help_commands[j]}
  offered=${results[expected + j + 1]:-}
  help=$("$bin" ${command:+"$command"} --help) || fail "$command --help failed"
  for option in $(grep -oE '^  -[^ ]+' <<<"$help" | tr ',' '\n' | sed 's/^ *//'); do
    [[ "|$offered|" == *"|$option|"* ]] ||
      fail "zsh completion does not offer ${command:-global} $option (it offers $offered)"
  done
done

if ((failures)); then
  echo "zsh completion: $failures failed"
  exit 1
fi
echo "zsh completion: all passed"
