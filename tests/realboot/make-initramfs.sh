#!/usr/bin/env bash
# make-initramfs.sh KERNEL_DIR OUT.cpio: the small initramfs that boots the Debian image. It
# holds busybox-static, the modules that reach the root disk (virtio-blk, ext4) and nvme (a
# storage driver, as Debian's own initramfs would load it: so the boot unit meets an NVMe drive
# already bound to its host driver, and a network card not yet bound), and guest/initramfs-init,
# which mounts /dev/vda and hands over to systemd with switch_root.
set -euo pipefail
kdir=${1:?usage: make-initramfs.sh KERNEL_DIR OUT.cpio} out=${2:?}
here=$(cd "$(dirname "$0")" && pwd)
kver=$(basename "$kdir")
root=$kdir/root
modules=(virtio_pci virtio_blk ext4 nvme)

stage=$(mktemp -d "${out}.stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,proc,sys,dev,newroot}

cp /bin/busybox "$stage/bin/busybox"
for applet in $("$stage/bin/busybox" --list); do
  [ -e "$stage/bin/$applet" ] || ln -s busybox "$stage/bin/$applet"
done

# Modules in dependency order, each once.
mapfile -t kos < <(for m in "${modules[@]}"; do
  modprobe -d "$root" -S "$kver" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++')
for ko in "${kos[@]}"; do
  rel=${ko#"$root"}
  mkdir -p "$stage/$(dirname "$rel")"
  cp "$ko" "$stage/$rel"
  echo "$rel"
done > "$stage/modules"
cp "$here/guest/initramfs-init" "$stage/init"
mknod -m 600 "$stage/dev/console" c 5 1

(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet) > "$out.tmp"
mv "$out.tmp" "$out"
echo "make-initramfs: $out ($(du -h "$out" | cut -f1), ${#kos[@]} modules)"
