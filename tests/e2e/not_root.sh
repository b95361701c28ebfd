#!/usr/bin/env bash
# apply run as a user who may not write the host's control files (here: nobody, against an
# on-disk tree root owns) exits 77 before its first write, naming the file and saying to run as
# root, and makes no state directory; plan still works. Needs root to become nobody (skipped,
# 125, otherwise).
#   not_root.sh VFIO_RECONCILE SYSFS_ROOT PROC_ROOT MANIFEST
set -uo pipefail
bin=$1 sysfs=$2 proc=$3 manifest=$4
[ "$(id -u)" -eq 0 ] || { echo "not_root.sh: needs root to run as nobody; skipped"; exit 125; }
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
chmod 0755 "$state"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$bin" --sysfs-root "$sysfs" \
  --proc-root "$proc" --state-dir "$state/state" "$@"; }
before=$(find "$sysfs" -type f -newer "$manifest" | wc -l)

err=$(as_nobody apply "$manifest" 2>&1 >/dev/null)
code=$?
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
[ "$code" -eq 77 ] || fail "apply exited $code, not 77: $err"
grep -F "run it as root" <<<"$err" >/dev/null || fail "no 'run it as root' in: $err"
grep -F "$sysfs/bus/pci/drivers_probe is not writable here (Permission denied (EACCES))" \
  <<<"$err" >/dev/null || fail "the file and errno are not named: $err"
[ ! -e "$state/state" ] || fail "the state directory was made"
after=$(find "$sysfs" -type f -newer "$manifest" | wc -l)
[ "$before" -eq "$after" ] || fail "a file of the tree changed"
as_nobody plan "$manifest" >/dev/null 2>&1
code=$?
[ "$code" -eq 0 ] || fail "plan as nobody exited $code, not 0"
[ "$failures" -eq 0 ] && echo "not_root.sh: passed"
exit "$failures"
