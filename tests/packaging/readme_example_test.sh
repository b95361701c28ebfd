#!/usr/bin/env bash
# README.md's manifest example near the top must stay true: the manifest block (after
# `<!-- example: manifest -->`) validates, says what examples/workstation-gpu.yaml says, and the
# plan block (after `<!-- example: plan -->`) is what `plan` prints for it on the workstation
# example host.
#   readme_example_test.sh SOURCE_DIR VFIO_RECONCILE EXAMPLE_HOSTS_DIR
set -uo pipefail
source_dir=$1
bin=$2
hosts=$3
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# block MARKER: the fenced block right after the line "<!-- example: MARKER -->".
block() {
  awk -v marker="<!-- example: $1 -->" '
    $0 == marker { found = 1; next }
    found && /^```/ { if (inside) exit; inside = 1; next }
    inside { print }' "$source_dir/README.md"
}
block manifest > "$scratch/manifest.yaml"
block plan > "$scratch/plan.expected"
[ -s "$scratch/manifest.yaml" ] || fail "README.md has no <!-- example: manifest --> block"
[ -s "$scratch/plan.expected" ] || fail "README.md has no <!-- example: plan --> block"

"$bin" validate "$scratch/manifest.yaml" > "$scratch/validate.out" 2>&1 ||
  fail "the README's manifest does not validate: $(cat "$scratch/validate.out")"
# The same assignments as the example file it stands for (comments aside).
strip() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' -e '/^[[:space:]]*companions: auto$/d' "$1"; }
diff <(strip "$source_dir/examples/workstation-gpu.yaml") <(strip "$scratch/manifest.yaml") > "$scratch/diff" ||
  fail "the README's manifest differs from examples/workstation-gpu.yaml: $(cat "$scratch/diff")"

host=$hosts/workstation
"$bin" --sysfs-root "$host" --proc-root "$host.proc" --state-dir "$scratch/state" \
  plan "$scratch/manifest.yaml" > "$scratch/plan.actual" 2> "$scratch/plan.err"
code=$?
[ "$code" = 0 ] || fail "plan exited $code: $(cat "$scratch/plan.err")"
diff -u "$scratch/plan.expected" "$scratch/plan.actual" > "$scratch/plan.diff" ||
  fail "the README's plan is not what plan prints (- README, + plan): $(cat "$scratch/plan.diff")"
[ "$failures" = 0 ] && echo "README example: the manifest validates and plans as shown"
exit $((failures > 0))
