#!/usr/bin/env bash
# make-dracut-initramfs.sh STAGE KVER OUT: the boot test's second initramfs, made as a dracut
# user makes it: dracut (Debian's package, its default generic image, systemd inside) in the image
# tree STAGE (chroot), which has the package installed and the manifest in /etc/vfio-reconcile.
# The host drivers of the test's devices go in with --add-drivers, as MODULES=most puts them in
# initramfs-tools' image: the initramfs's udev would then bind them before the real root is up,
# which the module's pre-udev hook must prevent. Copies it to OUT/initrd-dracut.img and checks,
# from its contents, what the module promises:
#   - dracut included the module, and its hook runs in pre-udev (dracut-pre-udev.service, which
#     systemd starts before systemd-udevd.service);
#   - it holds the tool (which runs there: its libraries came along), the manifest, the
#     early-claim runner, vfio-pci's module and the host drivers;
#   - the module kept its copy of the manifest in /var/lib/vfio-reconcile/initramfs/KVER;
#   - made without a manifest first (without kernel modules, which that check does not need:
#     15 s instead of a minute), the initramfs holds nothing of vfio-reconcile, and the copy of
#     an earlier build is gone.
# Needs root (chroot, mount).
set -euo pipefail
stage=${1:?usage: make-dracut-initramfs.sh STAGE KVER OUT}
kver=${2:?}
out=${3:?}
failures=0
fail() { echo "make-dracut-initramfs: FAIL: $*"; failures=$((failures + 1)); }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
host_drivers="nvme e1000e e1000 xhci-pci"
copy=$stage/var/lib/vfio-reconcile/initramfs/$kver

mount -t proc proc "$stage/proc"
trap 'umount "$stage/proc"' EXIT
build() { # build NAME DRACUT-OPTIONS...: dracut into /tmp, then moved to OUT/NAME
  local start=$EPOCHREALTIME name=$1
  shift
  chroot "$stage" dracut --no-hostonly --kver "$kver" --compress zstd --force "$@" "/tmp/$name" \
    > "$out/$name.log" 2>&1 ||
    { cat "$out/$name.log"; echo "make-dracut-initramfs: dracut failed"; exit 1; }
  mv "$stage/tmp/$name" "$out/$name"
  echo "make-dracut-initramfs: $name made by dracut in $(since "$start") s ($(du -h "$out/$name" | cut -f1))"
}
contents() { # contents NAME: the initramfs's file list
  cp "$out/$1" "$stage/tmp/$1"
  chroot "$stage" lsinitrd "/tmp/$1"
  rm "$stage/tmp/$1"
}

# Without a manifest first, over a copy an earlier build left: the module adds nothing and
# removes that copy.
mv "$stage/etc/vfio-reconcile/manifest.yaml" "$stage/manifest.yaml.aside"
mkdir -p "$copy" && echo "from an earlier build" > "$copy/manifest.yaml"
build initrd-dracut-no-manifest.img --no-kernel
mv "$stage/manifest.yaml.aside" "$stage/etc/vfio-reconcile/manifest.yaml"
left=$(contents initrd-dracut-no-manifest.img | grep -E 'vfio-reconcile' || true)
[ -z "$left" ] || fail "without a manifest the initramfs still holds: $left"
[ -e "$copy" ] && fail "without a manifest the module left the copy of an earlier build in $copy"
rm "$out/initrd-dracut-no-manifest.img"

build initrd-dracut.img --add-drivers "$host_drivers"
grep -q 'Including module: vfio-reconcile' "$out/initrd-dracut.img.log" ||
  fail "dracut did not include the module vfio-reconcile (log: $out/initrd-dracut.img.log)"
# Unpacked (lsinitrd --unpack, in the tree that has dracut), as its init sees it.
root=$out/initrd-dracut/root
rm -rf "$out/initrd-dracut" "$stage/tmp/unpacked" && mkdir -p "$out/initrd-dracut" "$stage/tmp/unpacked"
cp "$out/initrd-dracut.img" "$stage/tmp/"
chroot "$stage" sh -c 'cd /tmp/unpacked && lsinitrd --unpack /tmp/initrd-dracut.img'
mv "$stage/tmp/unpacked" "$root"
rm "$stage/tmp/initrd-dracut.img"
for path in usr/sbin/vfio-reconcile usr/lib/vfio-reconcile/early-claim \
  etc/vfio-reconcile/manifest.yaml usr/lib/dracut/hooks/pre-udev/00-vfio-reconcile-early.sh \
  etc/systemd/system/initrd.target.wants/dracut-pre-udev.service; do
  [ -e "$root/$path" ] || [ -L "$root/$path" ] || fail "the initramfs lacks /$path"
done
grep -q 'Before=.*systemd-udevd.service' "$root/usr/lib/systemd/system/dracut-pre-udev.service" ||
  fail "dracut-pre-udev.service does not run before systemd-udevd.service"
for module in vfio-pci vfio_iommu_type1 $host_drivers; do
  find "$root/usr/lib/modules/$kver" -name "${module//[-_]/[-_]}.ko*" | grep -q . ||
    fail "the initramfs lacks the module $module"
done
cmp -s "$stage/etc/vfio-reconcile/manifest.yaml" "$root/etc/vfio-reconcile/manifest.yaml" ||
  fail "the initramfs's manifest is not /etc's"
cmp -s "$stage/etc/vfio-reconcile/manifest.yaml" "$copy/manifest.yaml" ||
  fail "the module did not keep its copy in /var/lib/vfio-reconcile/initramfs/$kver"
chroot "$root" /usr/sbin/vfio-reconcile --version > /dev/null ||
  fail "the tool does not run inside the initramfs (a library missing?)"
rm -rf "$out/initrd-dracut"
if ((failures)); then exit 1; fi
echo "make-dracut-initramfs: ok: the module's pre-udev hook, the tool, the manifest, vfio-pci and the host drivers are in; none of it without a manifest"
