#!/usr/bin/env bash
# Saved plans with the real binary on a host laid out on disk (a copy: the test changes it):
# `plan --out` writes a file `apply --plan --dry-run` accepts while the host is as it was (the
# same plan, exit 0), still when a device the plan is not about changed, and refuses with exit 3,
# naming the device, once a device of the planned group changed.
#   saved_plan.sh VFIO_RECONCILE EXAMPLE_HOSTS_DIR MANIFEST
set -uo pipefail
bin=$1 hosts=$2 manifest=$3
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -a "$hosts/workstation" "$scratch/sys"
run() { "$bin" --sysfs-root "$scratch/sys" --proc-root "$hosts/workstation.proc" \
  --modules-dir "$hosts/workstation.modules" --state-dir "$scratch/state" "$@"; }
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

planned=$(run plan "$manifest" --out "$scratch/gpu.plan" 2>&1)
code=$?
[ "$code" -eq 0 ] || fail "plan --out exited $code: $planned"
grep -F "Saved the plan to $scratch/gpu.plan" <<<"$planned" >/dev/null || fail "not said: $planned"
[ -s "$scratch/gpu.plan" ] || fail "no saved plan"

shown=$(run apply --plan "$scratch/gpu.plan" --dry-run 2>&1)
code=$?
[ "$code" -eq 0 ] || fail "apply --plan --dry-run on the same host exited $code: $shown"
grep -F "+ IOMMU group 1: claim for gpu0" <<<"$shown" >/dev/null || fail "plan not shown: $shown"

# Someone set the USB controller's driver_override since: a device the plan is not about, so
# still the plan for this host.
echo vfio-pci >"$scratch/sys/devices/pci0000:00/0000:00:14.0/driver_override"
shown=$(run apply --plan "$scratch/gpu.plan" --dry-run 2>&1)
code=$?
[ "$code" -eq 0 ] || fail "a change elsewhere made the saved plan stale (exit $code): $shown"

# And the GPU's audio function's: not the host planned for.
echo vfio-pci >"$scratch/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.1/driver_override"
refused=$(run apply --plan "$scratch/gpu.plan" --dry-run 2>&1)
code=$?
[ "$code" -eq 3 ] || fail "apply --plan on a changed host exited $code, not 3: $refused"
grep -F "0000:01:00.1: driver_override none -> vfio-pci" <<<"$refused" >/dev/null ||
  fail "the change is not named: $refused"

if ((failures)); then
  echo "saved plan: $failures failed"
  exit 1
fi
echo "saved plan: all passed"
