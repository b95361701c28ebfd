#!/usr/bin/env bash
# run.sh [BUILD_DIR [DEB]]: the boot test (README.md here says what it proves).
#
# A minimal Debian 12 with systemd as PID 1 (debootstrap, cached in BUILD_DIR/realboot-cache)
# gets the package DEB installed with dpkg in a chroot, so its maintainer scripts enable the boot
# unit as on a real install, plus a manifest in /etc/vfio-reconcile and the test's units. The
# tree becomes an ext4 disk image (mkfs.ext4 -d: no loop mount), booted in QEMU (TCG, the
# emulated Intel IOMMU and devices of qemu.args) with Debian's kernel (from the real-kernel
# suite's cache, BUILD_DIR/realkernel-cache) and the initramfs Debian's update-initramfs makes in
# the image with the package's hook (make-debian-initramfs.sh), four times:
#   early    the hook's early claim puts the manifest's devices on vfio-pci before udev loads
#            their host drivers, which never bind them; the boot unit finds them claimed; a device
#            brought back by a rescan is claimed by the udev rule's unit, another left alone;
#   dracut   the same early checks on the initramfs dracut makes with the package's dracut module
#            (make-dracut-initramfs.sh, in a second tree that has dracut instead of
#            initramfs-tools: Debian's two packages conflict);
#   claim    (vfio-reconcile.early=0) the host drivers bind first and the unit moves them: the
#            manifest's devices must end on vfio-pci, the unit must succeed before the units
#            ordered after it start; the guest then removes the manifest and reboots;
#   release  the same disk again: the devices must be on their host drivers, the unit skipped;
#            then the race (guest/vfio-rb-race): four devices in four groups moved to vfio-pci
#            and back by the tool, by Debian's driverctl and by the bare shell sequence,
#            VFIO_RB_RACE_REPS times (default 1, CI's smoke run; 10 for bench/RACE-RESULTS.md).
# VFIO_RB_BOOTS names the boots to run (default: all four, "early dracut claim release"); CI
# leaves out the dracut boot to keep its run under 45 minutes (the dracut initramfs is still made
# and its contents checked). release needs claim (which removes the manifest).
# The guest's checker prints `VFIO-RB CHECK ...` lines and a `VFIO-RB RESULT:` sentinel on the
# serial console; each boot runs under `timeout` and a failed boot prints its whole console.
# Its measurements (`VFIO-RB MEASURE`: the boot unit's time; `VFIO-RB RACE`) are collected in
# BUILD_DIR/realboot/measurements.txt, never asserted.
# Without DEB (or $VFIO_RB_DEB, as CI hands in the package it built), the package is built first
# (tools/build-deb --no-lintian, ~4 min). Needs root.
set -euo pipefail
. "$(dirname "$0")/../qemu/boot-once-more.sh"
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$(realpath -m "${1:-$repo/build}")
deb=${2:-${VFIO_RB_DEB:-}} # CI builds the package once (tools/build-deb) and hands it in
out=$build/realboot
timeout_s=${VFIO_RB_BOOT_TIMEOUT:-300} # a boot takes 30-90 s under TCG
race_reps=${VFIO_RB_RACE_REPS:-1}
read -r -a boots <<< "${VFIO_RB_BOOTS:-early dracut claim release}"
total_start=$EPOCHREALTIME

die() {
  echo "realboot: FAIL: $*"
  exit 1
}
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }'; }

[ "$(id -u)" -eq 0 ] || die "debootstrap, chroot and dpkg --root need root"
declare -A chosen
for phase in "${boots[@]}"; do
  case $phase in
    early | dracut | claim | release) chosen[$phase]=1 ;;
    *) die "VFIO_RB_BOOTS: no boot '$phase' (early, dracut, claim, release)" ;;
  esac
done
[ ${#chosen[@]} -gt 0 ] || die "VFIO_RB_BOOTS names no boot"
[[ $race_reps =~ ^[1-9][0-9]?$ ]] || die "VFIO_RB_RACE_REPS: a repetition count from 1 to 99, not '$race_reps'"
[ -z "${chosen[release]:-}" ] || [ -n "${chosen[claim]:-}" ] ||
  die "VFIO_RB_BOOTS: the release boot needs the claim boot (which removes the manifest)"
for command in qemu-system-x86_64 debootstrap mkfs.ext4 depmod dpkg-deb; do
  command -v "$command" > /dev/null ||
    die "$command is missing (tools/install-deps installs what the test needs)"
done
mkdir -p "$out"
: > "$out/measurements.txt"

# The package: given, or built from this tree (tools/build-deb builds without sanitizers).
if [ -z "$deb" ]; then
  start=$EPOCHREALTIME
  "$repo/tools/build-deb" --no-lintian "$out/deb" > "$out/build-deb.log" 2>&1 ||
    { tail -n 40 "$out/build-deb.log"; die "tools/build-deb failed (log: $out/build-deb.log)"; }
  deb=$out/deb/vfio-reconcile.deb
  echo "realboot: built $(basename "$(readlink -f "$deb")") in $(since "$start") s"
fi
deb=$(realpath "$deb")
[ -f "$deb" ] || die "no package at $deb"

start=$EPOCHREALTIME
kdir=$("$repo/tests/realkernel/prepare-kernel.sh" "$build/realkernel-cache" | tail -n1)
kver=$(basename "$kdir")
echo "realboot: kernel $kver ready in $(since "$start") s"

# The system: systemd as PID 1, udev, kmod, and the libraries the package depends on (from its
# Depends:, so the cache follows them), pci.ids for the names it recommends, driverctl for the
# release boot's race.
# debootstrap knows no virtual packages (libspdlog1.10-fmt9): such a name becomes its provider.
real_package() {
  local policy
  policy=$(apt-cache policy "$1" 2> /dev/null)
  if grep -q 'Candidate: (none)' <<< "$policy"; then
    apt-cache showpkg "$1" | awk '/^Reverse Provides:/ { on = 1; next } on && NF { print $1; exit }'
  else
    echo "$1"
  fi
}
mapfile -t deps < <(dpkg-deb -f "$deb" Depends | tr ',' '\n' |
  sed -e 's/|.*//' -e 's/(.*)//' -e 's/[[:space:]]//g' -e '/^$/d' |
  while read -r package; do real_package "$package"; done)
start=$EPOCHREALTIME
# The two trees at once (a cold debootstrap waits on the network about half its time; each
# takes about a minute): each prints its path last, and its own log on failure.
"$here/make-rootfs.sh" "$build/realboot-cache" initramfs-tools systemd-sysv udev kmod \
  pci.ids initramfs-tools busybox zstd driverctl "${deps[@]}" > "$out/rootfs.path" &
initramfs_tools_job=$!
"$here/make-rootfs.sh" "$build/realboot-cache" dracut systemd-sysv udev kmod \
  pci.ids dracut zstd "${deps[@]}" > "$out/rootfs-dracut.path" &
dracut_job=$!
wait "$initramfs_tools_job" || die "the initramfs-tools root file system could not be made (above)"
wait "$dracut_job" || die "the dracut root file system could not be made (above)"
rootfs=$(tail -n1 "$out/rootfs.path")
dracut_rootfs=$(tail -n1 "$out/rootfs-dracut.path")
echo "realboot: root file systems $(basename "$rootfs") and $(basename "$dracut_rootfs") ready in $(since "$start") s"

# A system to boot or to build an initramfs in: a copy of a cached tree, the kernel's modules
# (less the drivers no emulated device needs), the package, the manifest.
prepare_stage() { # prepare_stage TREE STAGE
  local stage=$2
  rm -rf "$stage"
  cp -a "$1" "$stage"
  rm -f "$stage/.complete"
  tar -C "$kdir/root/lib" -cf - --exclude="modules/$kver/kernel/drivers/gpu" \
    --exclude="modules/$kver/kernel/drivers/media" \
    --exclude="modules/$kver/kernel/drivers/net/wireless" \
    --exclude="modules/$kver/kernel/drivers/infiniband" \
    --exclude="modules/$kver/kernel/drivers/staging" \
    --exclude="modules/$kver/kernel/drivers/iio" \
    --exclude="modules/$kver/kernel/sound/soc" "modules/$kver" | tar -C "$stage/usr/lib" -xf -
  depmod -b "$stage" "$kver"
  # update-initramfs reads the kernel's configuration (as a kernel package installs it).
  install -D -m 644 "$kdir/root/boot/config-$kver" "$stage/boot/config-$kver"

  cp "$deb" "$stage/tmp/vfio-reconcile.deb"
  # As on a real install: dpkg runs the package's maintainer scripts, which enable the unit.
  local log
  log=$out/dpkg-$(basename "$stage").log
  chroot "$stage" dpkg -i /tmp/vfio-reconcile.deb > "$log" 2>&1 ||
    { cat "$log"; die "dpkg -i failed in the image"; }
  rm "$stage/tmp/vfio-reconcile.deb"
  [ -L "$stage/etc/systemd/system/sysinit.target.wants/vfio-reconcile.service" ] ||
    { cat "$log"; die "installing the package did not enable vfio-reconcile.service"; }
  install -D -m 644 "$here/guest/manifest.yaml" "$stage/etc/vfio-reconcile/manifest.yaml"
}

# The image: the system of the boots, with the test's units.
start=$EPOCHREALTIME
stage=$out/root
dracut_stage=$out/root-dracut
rm -f "$out/disk.img"
# (A failure stops the dracut tree's job below too; a subshell does not inherit this trap.)
trap 'jobs -pr | xargs -r kill 2> /dev/null; wait; rm -rf "$stage" "$dracut_stage"' EXIT
# The dracut tree's initramfs is made beside the image's (its own tree, its own logs): as dracut
# makes it, with the package's dracut module.
(
  prepare_stage "$dracut_rootfs" "$dracut_stage"
  "$here/make-dracut-initramfs.sh" "$dracut_stage" "$kver" "$out" ||
    die "the initramfs made by dracut is not as the module promises (above)"
  rm -rf "$dracut_stage"
) > "$out/dracut-stage.log" 2>&1 &
dracut_stage_job=$!
prepare_stage "$rootfs" "$stage"
echo "realboot: vfio-reconcile $(dpkg-deb -f "$deb" Version) installed; its postinst enabled the unit"

install -D -m 644 -t "$stage/etc/vfio-rb" "$here/guest/expect-claim" "$here/guest/expect-release"
install -m 644 "$here/guest/expect-claim" "$stage/etc/vfio-rb/expect-early"
install -m 644 "$here/guest/expect-claim" "$stage/etc/vfio-rb/expect-dracut"
install -D -m 755 -t "$stage/usr/local/sbin" "$here/guest/vfio-rb-check" "$here/guest/vfio-rb-libvirtd" \
  "$here/guest/vfio-rb-race"
install -m 644 -t "$stage/etc/vfio-rb" "$here/guest/race-claim.yaml" "$here/guest/race-release.yaml"
install -m 644 -t "$stage/etc/systemd/system" "$here/guest/libvirtd.service" \
  "$here/guest/vfio-rb-check.service"
chroot "$stage" systemctl enable --quiet libvirtd.service vfio-rb-check.service
# The serial console is the checker's; a login prompt there would only interleave with it.
chroot "$stage" systemctl mask --quiet serial-getty@ttyS0.service
echo vfio-rb > "$stage/etc/hostname"

# The initramfs, as Debian makes it: update-initramfs in the image (MODULES=most, so it carries
# and loads the host drivers of the test's devices), with the package's hook. Then the hook's
# promises, read from the image: its boot script runs before udev's (init-top/ORDER), it holds
# the tool, the manifest and vfio-pci; and without a manifest it adds nothing.
"$here/make-debian-initramfs.sh" "$stage" "$kver" "$out" ||
  die "the initramfs made by update-initramfs is not as the hook promises (above)"
if ! wait "$dracut_stage_job"; then
  cat "$out/dracut-stage.log"
  die "the dracut tree's initramfs failed (above)"
fi
sed 's/^/  dracut| /' "$out/dracut-stage.log"

size_mb=$(($(du -sm "$stage" | cut -f1) + 256))
mkfs.ext4 -q -F -L vfio-rb -d "$stage" "$out/disk.img" "${size_mb}M" > /dev/null ||
  die "mkfs.ext4 -d failed"
rm -rf "$stage"
echo "realboot: initramfs (update-initramfs, dracut) and disk image (${size_mb} MiB, sparse) made in $(since "$start") s"

# KVM only where it can really run a kernel (as in the real-kernel suite); TCG otherwise.
accel=(-accel "tcg,thread=multi")
if [ -z "${VFIO_RK_FORCE_TCG:-}" ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] &&
  grep -qwE 'vmx|svm' /proc/cpuinfo; then
  accel=(-accel kvm)
fi
mapfile -t devices < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/qemu.args" |
  tr -s '[:space:]' '\n' | sed '/^$/d')

# Checks each phase must have passed, by name (a checker that skipped one fails the boot).
declare -A required
required[early]="driver.0000:01:00.0 vfio-node.0000:01:00.0 driver.0000:02:00.0 driver.0000:00:05.0
  driver.0000:00:05.1 driver.0000:00:05.2 driver.0000:00:06.0 never-host-bound.0000:01:00.0
  never-host-bound.0000:02:00.0 never-host-bound.0000:00:05.0 never-host-bound.0000:00:05.1
  never-host-bound.0000:00:05.2 early.log early.claim.nvme early.claim.nic early.claim.audio
  early.summary unit.converged unit.success unit.enabled status.active status.exit
  hotadd.claimed.0000:01:00.0 hotadd.unit.0000:01:00.0 hotadd.left-alone.0000:03:00.0"
# The dracut boot checks what the early boot does, less hot-add (udev's, not the initramfs's).
required[dracut]=$(tr -s '[:space:]' '\n' <<< "${required[early]}" | grep -v '^hotadd\.')
required[claim]="driver.0000:01:00.0 vfio-node.0000:01:00.0 driver.0000:02:00.0 driver.0000:00:05.0
  driver.0000:00:05.1 driver.0000:00:05.2 driver.0000:00:06.0 host-bound-first.0000:01:00.0
  early.off unit.enabled unit.success
  unit.condition journal.no-ordering-cycle journal.priorities journal.no-errors
  order.libvirtd.service order.systemd-udev-trigger.service order.vfio-rb-check.service
  order.sysinit.target libvirtd.saw-vfio sandbox sandbox.syscall-filter stale-initramfs journal.claim.nvme
  journal.claim.nic journal.claim.audio status.description status.loaded status.docs status.plain
  status.active status.exit status.report status.summary"
required[release]="driver.0000:01:00.0 driver.0000:02:00.0 driver.0000:00:05.0 driver.0000:00:05.1
  driver.0000:00:05.2 override.0000:01:00.0 unit.enabled journal.no-ordering-cycle
  manifest.removed unit.skipped status.description status.loaded status.docs status.plain
  status.active status.condition race.tool.claim race.tool.converged race.tool.release
  race.driverctl.claim race.driverctl.converged race.driverctl.release race.shell.claim
  race.shell.release"

boot_limit=$timeout_s # boot's time limit, seconds
boot() { # boot PHASE [KERNEL ARGUMENTS...]
  local phase=$1 console=$out/$1.console.log start code missing name
  # Every driver bind logged by the driver core (drivers/base/dd.c), from the first moment:
  # the checker reads which driver each device met first.
  local cmdline="vfio_rb.phase=$phase dyndbg=\"file drivers/base/dd.c +p\" log_buf_len=4M ${*:2}"
  # no_timer_check: under TCG on a busy host the kernel's early IO-APIC timer check can miss its
  # ticks and panic ("timer doesn't work through Interrupt-remapped IO-APIC"); VMs skip it.
  cmdline+=" no_timer_check"
  start=$EPOCHREALTIME
  # Once more when QEMU itself died, or the guest kernel panicked before the initramfs's hook or
  # the checker printed a line (../qemu/boot-once-more.sh says when that was met). The disk is
  # the same: a crashed boot may have left it half-written, which the retry's checks then report.
  boot_once_more "realboot: the $phase boot" "$console" '^(VFIO-RB|vfio-reconcile: )' \
    timeout --kill-after=5 "$boot_limit" qemu-system-x86_64 "${accel[@]}" -cpu max \
    -machine q35,kernel-irqchip=split -smp 2 -m 1G \
    -nodefaults -no-user-config -display none -serial stdio -no-reboot \
    -kernel "$kdir/vmlinux" -initrd "$initrd" \
    -append "console=ttyS0 intel_iommu=on iommu=pt root=/dev/vda rw quiet panic=-1 $cmdline" \
    -drive "file=$out/disk.img,format=raw,if=none,id=root" \
    -device virtio-blk-pci,drive=root,bus=pcie.0,addr=0x6 \
    "${devices[@]}"
  code=$BOOT_EXIT
  local secs
  secs=$(since "$start")
  missing=""
  for name in ${required[$phase]}; do
    grep -qF "VFIO-RB CHECK ok $name:" "$console" || missing+=" $name"
  done
  if ! grep -q "^VFIO-RB RESULT: PASS ($phase" "$console" || [ -n "$missing" ] ||
    grep -q '^VFIO-RB CHECK FAIL' "$console"; then
    echo "----- guest console, $phase boot ($console) -----"
    cat "$console"
    echo "-----"
    [ "$code" = 124 ] && die "the $phase boot did not finish within ${boot_limit} s"
    grep -q '^VFIO-RB CHECK FAIL' "$console" && die "checks failed in the $phase boot (CHECK FAIL above)"
    [ -n "$missing" ] && grep -q '^VFIO-RB RESULT:' "$console" &&
      die "the $phase boot did not run these checks:$missing"
    die "the $phase boot ended without a result (QEMU exit $code)"
  fi
  echo "realboot: $phase boot PASS in $secs s (${accel[1]%%,*}, QEMU exit $code)"
  sed -n -e '/^VFIO-RB BEGIN status/,/^VFIO-RB END status/p' \
    -e '/^VFIO-RB BEGIN journal/,/^VFIO-RB END journal/p' \
    -e '/^VFIO-RB BEGIN early-log/,/^VFIO-RB END early-log/p' \
    -e '/^VFIO-RB BEGIN hotadd-journal/,/^VFIO-RB END hotadd-journal/p' \
    -e '/^VFIO-RB BEGIN race-tool/,/^VFIO-RB END race-tool/p' \
    -e '/^vfio-reconcile: /p' \
    -e '/^VFIO-RB\( CHECK\|:\| RESULT\| MEASURE\| RACE\)/p' "$console" | sed 's/^/  guest| /'
  grep -E '^VFIO-RB (MEASURE|RACE) ' "$console" >> "$out/measurements.txt" || true
}

if [ -n "${chosen[early]:-}" ]; then
  initrd=$out/initrd.img
  boot early
fi
if [ -n "${chosen[dracut]:-}" ]; then
  initrd=$out/initrd-dracut.img
  boot dracut
fi
if [ -n "${chosen[claim]:-}" ]; then
  initrd=$out/initrd.img
  boot claim vfio-reconcile.early=0
  grep -q 'manifest removed, rebooting' "$out/claim.console.log" ||
    die "the claim boot did not remove the manifest and reboot"
fi
if [ -n "${chosen[release]:-}" ]; then
  # With the manifest removed, the initramfs must be made again (`update-initramfs -u`, which
  # the claim boot's apply asked for): the one make-debian-initramfs.sh made without the
  # manifest is that update's result (running it in the guest would take minutes under TCG).
  initrd=$out/initrd-no-manifest.img
  # The race's steps take about a second each under TCG (8 a repetition, with udev's settling).
  boot_limit=$((timeout_s + race_reps * 30))
  boot release "vfio_rb.race_reps=$race_reps"
fi
skipped=""
for phase in early dracut claim release; do
  [ -n "${chosen[$phase]:-}" ] || skipped+=" $phase"
done
[ -z "$skipped" ] || echo "realboot: left out (VFIO_RB_BOOTS):$skipped"
echo "realboot: measurements (also in $out/measurements.txt):"
sed 's/^/  /' "$out/measurements.txt"
echo "realboot: PASS in $(since "$total_start") s (boots: ${boots[*]})"
