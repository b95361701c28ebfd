#!/usr/bin/env bash
# early_claim_test.sh EARLY_CLAIM TOOL SBINDIR HOST_TREE: the initramfs's early-claim runner as
# installed, run with the real tool against an on-disk host instead of /sys (its /run, /proc and
# tool paths moved into a scratch directory), for what the boot test cannot afford a boot each:
#   - a malformed manifest claims nothing, writes nothing, names the file, line and column on the
#     console, says devices are left to their host drivers, and the runner still exits 0;
#   - no manifest at all: nothing written, exit 0, a summary on the console;
#   - vfio-reconcile.early=0 on the command line: the tool is not even run.
# The boot test (tests/realboot) proves the runner's claim on Debian's own initramfs.
set -euo pipefail
runner=${1:?usage: early_claim_test.sh EARLY_CLAIM TOOL SBINDIR HOST_TREE}
tool=$(realpath "${2:?}") sbindir=${3:?} host=${4:?}
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failures=0
fail() {
  echo "early_claim_test: FAIL: $*"
  failures=$((failures + 1))
}

# The host a copy (a write would change it), the tool behind a wrapper that points it there and
# records that it ran.
cp -a "$host" "$scratch/sys"
mkdir -p "$scratch/proc/1/fd" "$scratch/etc" "$scratch/run"
cat > "$scratch/vfio-reconcile" << EOF
#!/bin/sh
touch "$scratch/tool-ran"
exec "$tool" --sysfs-root "$scratch/sys" --proc-root "$scratch/proc" \\
  --state-dir "$scratch/run/vfio-reconcile" "\$@" --config-dir "$scratch/etc"
EOF
chmod +x "$scratch/vfio-reconcile"
sed -e "s|/run/|$scratch/run/|g" -e "s|/proc/cmdline|$scratch/cmdline|g" \
  -e "s|$sbindir/vfio-reconcile|$scratch/vfio-reconcile|g" "$runner" > "$scratch/early-claim"
grep -q "$scratch/vfio-reconcile" "$scratch/early-claim" ||
  { echo "early_claim_test: the runner does not call $sbindir/vfio-reconcile"; exit 1; }
tree_sum() { (cd "$scratch/sys" && find . -type f -print0 | sort -z | xargs -0 cat | md5sum); }
before=$(tree_sum)

run() { # run NAME CMDLINE: the runner's console in $scratch/NAME.console, its exit status checked
  echo "$2" > "$scratch/cmdline"
  rm -f "$scratch/tool-ran" "$scratch/run/initramfs/vfio-reconcile.log"
  local status=0
  sh "$scratch/early-claim" > "$scratch/$1.console" 2>&1 || status=$?
  sed "s/^/  $1| /" "$scratch/$1.console"
  [ "$status" = 0 ] || fail "$1: the runner exited $status, not 0 (the boot must go on)"
  [ "$(tree_sum)" = "$before" ] || fail "$1: the host was written to"
}
has() { grep -qF -- "$2" "$scratch/$1.console" || fail "$1: the console lacks '$2'"; }

cp "$here/../manifests/bad/bad-state.yaml" "$scratch/etc/manifest.yaml"
run malformed "BOOT_IMAGE=/vmlinuz quiet"
has malformed "vfio-reconcile: $scratch/etc/manifest.yaml:"
has malformed "early claim failed (exit 65): devices it did not claim are left to their host drivers"
[ -s "$scratch/run/initramfs/vfio-reconcile.log" ] || fail "malformed: no report in the log"

rm "$scratch/etc/manifest.yaml"
run missing "quiet"
has missing "vfio-reconcile: warning: no manifest in $scratch/etc"
has missing "vfio-reconcile: early claim: nothing claimed (report: "
grep -q "failed" "$scratch/missing.console" && fail "missing: a missing manifest is not a failure"

cp "$here/../manifests/bad/bad-state.yaml" "$scratch/etc/manifest.yaml"
run off "quiet vfio-reconcile.early=0 splash"
has off "early claim off (vfio-reconcile.early=0)"
[ -e "$scratch/tool-ran" ] && fail "off: the tool ran although the command line turned it off"

if ((failures)); then exit 1; fi
echo "early_claim_test: ok: malformed and missing manifests claim nothing and say so, exit 0; early=0 runs nothing"
