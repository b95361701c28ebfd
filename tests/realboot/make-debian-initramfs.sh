#!/usr/bin/env bash
# make-debian-initramfs.sh STAGE KVER OUT: the boot test's initramfs, made as Debian makes it:
# update-initramfs in the image tree STAGE (chroot; MODULES=most, initramfs-tools' default), with
# the package's hook and the manifest in /etc/vfio-reconcile. Copies it to OUT/initrd.img and
# checks, from its contents, what the hook promises:
#   - the boot script runs before udev's: scripts/init-top/ORDER lists early-vfio-reconcile
#     before udev (initramfs-tools orders scripts without prerequisites by name);
#   - it holds the tool, the manifest, the early-claim runner and vfio-pci's module, and the
#     host drivers of the test's devices (nvme, e1000e, e1000, xhci_hcd: MODULES=most);
#   - the hook left its copy of the manifest in /var/lib/vfio-reconcile/initramfs/KVER;
#   - made again without a manifest, the initramfs holds nothing of vfio-reconcile.
# Needs root (chroot, mount).
set -euo pipefail
stage=${1:?usage: make-debian-initramfs.sh STAGE KVER OUT}
kver=${2:?}
out=${3:?}
failures=0
fail() { echo "make-debian-initramfs: FAIL: $*"; failures=$((failures + 1)); }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

# update-initramfs reads the kernel's config and /proc (mounted only for the build).
[ -f "$stage/boot/config-$kver" ] || { echo "make-debian-initramfs: no /boot/config-$kver"; exit 1; }
mount -t proc proc "$stage/proc"
trap 'umount "$stage/proc"' EXIT
build() { # build NAME: update-initramfs into /boot, then moved to OUT/NAME
  local start=$EPOCHREALTIME
  rm -f "$stage/var/lib/initramfs-tools/$kver" # update-initramfs -c only makes what it never made
  chroot "$stage" update-initramfs -c -k "$kver" > "$out/$1.log" 2>&1 ||
    { cat "$out/$1.log"; echo "make-debian-initramfs: update-initramfs failed"; exit 1; }
  mv "$stage/boot/initrd.img-$kver" "$out/$1"
  echo "make-debian-initramfs: $1 made by update-initramfs in $(since "$start") s ($(du -h "$out/$1" | cut -f1))"
}
contents() { chroot "$stage" lsinitramfs "/tmp/$1"; }
unpack() { # unpack NAME DIR: the initramfs's files, as its /init sees them
  rm -rf "$2" && mkdir -p "$2"
  cp "$out/$1" "$stage/tmp/$1"
  chroot "$stage" unmkinitramfs "/tmp/$1" /tmp/unpacked > /dev/null
  mv "$stage/tmp/unpacked" "$2/root"
  rm "$stage/tmp/$1"
}

# Without a manifest first (the manifest is put back after): the hook adds nothing.
mv "$stage/etc/vfio-reconcile/manifest.yaml" "$stage/manifest.yaml.aside"
build initrd-no-manifest.img
mv "$stage/manifest.yaml.aside" "$stage/etc/vfio-reconcile/manifest.yaml"
cp "$out/initrd-no-manifest.img" "$stage/tmp/"
left=$(contents initrd-no-manifest.img | grep -E 'vfio-reconcile|vfio_pci' || true)
rm "$stage/tmp/initrd-no-manifest.img"
[ -z "$left" ] || fail "without a manifest the initramfs still holds: $left"
[ -e "$stage/var/lib/vfio-reconcile/initramfs/$kver" ] &&
  fail "without a manifest the hook still kept a copy of one"

build initrd.img
unpack initrd.img "$out/initrd"
root=$out/initrd/root
order=$root/scripts/init-top/ORDER
early_line=$(grep -n 'init-top/early-vfio-reconcile' "$order" | cut -d: -f1 || true)
udev_line=$(grep -n 'init-top/udev' "$order" | cut -d: -f1 || true)
if [ -n "$early_line" ] && [ -n "$udev_line" ] && [ "$early_line" -lt "$udev_line" ]; then
  echo "make-debian-initramfs: ok: init-top/ORDER runs early-vfio-reconcile (line $early_line) before udev (line $udev_line)"
else
  fail "init-top/ORDER does not run early-vfio-reconcile before udev: $(tr '\n' ' ' < "$order")"
fi
for path in usr/sbin/vfio-reconcile usr/lib/vfio-reconcile/early-claim \
  etc/vfio-reconcile/manifest.yaml; do
  [ -e "$root/$path" ] || fail "the initramfs lacks /$path"
done
for module in vfio-pci vfio_iommu_type1 nvme e1000e e1000 xhci-pci; do
  find "$root/usr/lib/modules/$kver" -name "${module//[-_]/[-_]}.ko*" | grep -q . ||
    fail "the initramfs lacks the module $module"
done
cmp -s "$stage/etc/vfio-reconcile/manifest.yaml" "$root/etc/vfio-reconcile/manifest.yaml" ||
  fail "the initramfs's manifest is not /etc's"
cmp -s "$stage/etc/vfio-reconcile/manifest.yaml" \
  "$stage/var/lib/vfio-reconcile/initramfs/$kver/manifest.yaml" ||
  fail "the hook did not keep its copy in /var/lib/vfio-reconcile/initramfs/$kver"
# The tool runs in it: its libraries came along (copy_exec).
chroot "$root" /usr/sbin/vfio-reconcile --version > /dev/null ||
  fail "the tool does not run inside the initramfs (a library missing?)"
rm -rf "$out/initrd"
if ((failures)); then exit 1; fi
echo "make-debian-initramfs: ok: the initramfs holds the tool, the manifest, vfio-pci and the host drivers; none of it without a manifest"
