#!/usr/bin/env bash
# run-boot.sh SCENARIO_DIR KERNEL_DIR BASE.cpio OUT_DIR [VFIO_RK_SIM]: one boot of the suite.
#
# Appends the scenario (its `steps` and manifests, under /scenario) to the base initramfs,
# boots Debian's kernel in QEMU with the scenario's devices (`qemu.args`), and passes when the
# guest prints "VFIO-RK RESULT: PASS". QEMU runs under `timeout` with panic=-1 -no-reboot, so a
# panicking kernel or a dying /init ends the boot at once and a hung guest within the timeout;
# on failure the whole guest console is printed. Then, when the scenario has a `sim.yaml` and
# VFIO_RK_SIM is given, the same steps run on the kernel simulator and every state dump the
# guest printed must equal the simulator's (the differential check).
set -euo pipefail
. "$(dirname "$0")/../qemu/boot-once-more.sh"
scenario=$(cd "${1:?usage: run-boot.sh SCENARIO_DIR KERNEL_DIR BASE.cpio OUT_DIR [VFIO_RK_SIM]}" && pwd)
kdir=${2:?} base=${3:?} out=${4:?} sim=${5:-}
name=$(basename "$scenario")
timeout_s=${VFIO_RK_BOOT_TIMEOUT:-120}  # a boot takes 5-15 s
mkdir -p "$out"
out=$(cd "$out" && pwd)
console=$out/console.log

fail() {
  echo "realkernel $name: FAIL: $*"
  exit 1
}

# The scenario's files, appended to the base archive (the kernel unpacks concatenated cpios).
stage=$(mktemp -d "$out/stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/scenario"
cp "$scenario"/steps "$scenario"/*.yaml "$stage/scenario/" 2>/dev/null || cp "$scenario/steps" "$stage/scenario/"
rm -f "$stage/scenario/sim.yaml"
(cd "$stage" && find scenario | LC_ALL=C sort | cpio -o -H newc --quiet) > "$out/scenario.cpio"
cat "$base" "$out/scenario.cpio" > "$out/initrd.cpio"

# KVM only where it can really run a kernel: /dev/kvm opens and the CPU has VT-x or AMD-V
# (these machines' paravirtual /dev/kvm cannot, and has neither flag).
accel=(-accel tcg,thread=multi)
if [ -z "${VFIO_RK_FORCE_TCG:-}" ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] &&
  grep -qwE 'vmx|svm' /proc/cpuinfo; then
  accel=(-accel kvm)
fi

mapfile -t devices < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$scenario/qemu.args" | tr -s ' \t' '\n\n' | sed '/^$/d')
# The soak's counts (scenarios/soak), read by the guest from its command line: the user's
# (VFIO_RK_SOAK_CYCLES, VFIO_RK_KILLS), else the kernel line's as CTest gives them, else 20 and 5.
cycles=${VFIO_RK_SOAK_CYCLES:-${VFIO_RK_LINE_SOAK_CYCLES:-20}}
kills=${VFIO_RK_KILLS:-${VFIO_RK_LINE_KILLS:-5}}
counts="vfio_rk.soak=$cycles vfio_rk.kills=$kills"
# no_timer_check: under TCG on a busy host the kernel's early IO-APIC timer check can miss its
# ticks and panic ("timer doesn't work through Interrupt-remapped IO-APIC"); VMs skip it.
start=$EPOCHREALTIME
# Once more when QEMU itself died or the guest kernel panicked before /init printed its first
# line (../qemu/boot-once-more.sh says when that was met).
boot_once_more "realkernel $name" "$console" '^VFIO-RK: kernel' \
  timeout --kill-after=5 "$timeout_s" qemu-system-x86_64 "${accel[@]}" -cpu max \
  -machine q35,kernel-irqchip=split -smp 2 -m 1G \
  -nodefaults -no-user-config -display none -serial stdio -no-reboot \
  -kernel "$kdir/vmlinux" -initrd "$out/initrd.cpio" \
  -append "console=ttyS0 intel_iommu=on iommu=pt no_timer_check quiet panic=-1 rdinit=/init $counts" \
  "${devices[@]}"

secs=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
if ! grep -q '^VFIO-RK RESULT: PASS' "$console"; then
  echo "----- guest console ($console) -----"
  cat "$console"
  echo "-----"
  [ "${BOOT_EXIT}" = 124 ] && fail "the guest did not finish within ${timeout_s} s"
  grep -q '^VFIO-RK RESULT: FAIL' "$console" && fail "a step failed in the guest (see STEP FAILED above)"
  fail "the guest ended without a result (QEMU exit ${BOOT_EXIT}: panic or a dying /init)"
fi
echo "realkernel $name: guest PASS in $secs s (${accel[1]%%,*})"
grep -E '^(--- step|STEP|VFIO-RK)' "$console" | sed 's/^/  guest| /' | head -n 200

[ -f "$scenario/sim.yaml" ] && [ -n "$sim" ] || exit 0
sim=$(realpath "$sim")
dumps() { awk '/^DUMP /{on=1} on{print} /^END DUMP/{on=0}' "$1"; }
(cd "$scenario" && "$sim" sim.yaml steps) > "$out/sim.log" 2>&1 || {
  cat "$out/sim.log"
  fail "the same steps failed on the kernel simulator (above)"
}
dumps "$console" > "$out/guest.dumps"
dumps "$out/sim.log" > "$out/sim.dumps"
[ -s "$out/guest.dumps" ] || fail "the guest printed no state dump"
if ! diff -u "$out/guest.dumps" "$out/sim.dumps" > "$out/dumps.diff"; then
  cat "$out/dumps.diff"
  fail "the simulator's final states differ from the kernel's (- guest, + simulator)"
fi
echo "realkernel $name: simulator agrees on $(grep -c '^DUMP ' "$out/guest.dumps") state dumps"
