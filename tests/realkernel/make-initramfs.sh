#!/usr/bin/env bash
# make-initramfs.sh KERNEL_DIR TOOL CHECKER HOLDER OUT.cpio: the guest's base initramfs (cpio newc,
# uncompressed: the kernel unpacks it faster than gzip under TCG). It holds busybox-static with
# its applet links, the modules the scenarios need (with their dependencies and a modules.dep
# of their own, so libkmod in the tool can load vfio-pci), the tool with the libraries ldd lists
# at the same paths, the static checker and vfio-holder, a fixed pci.ids and tests/realkernel/guest/{init,steps.sh}.
# A scenario's own cpio (its steps and manifests under /scenario) is appended at boot.
set -euo pipefail
kdir=${1:?usage: make-initramfs.sh KERNEL_DIR TOOL CHECKER HOLDER OUT.cpio}
tool=${2:?} checker=${3:?} holder=${4:?} out=${5:?}
here=$(cd "$(dirname "$0")" && pwd)
kver=$(basename "$kdir")
root=$kdir/root

# Loaded by /init at boot (drivers of the emulated devices), and staged only (vfio-pci: the tool
# loads it). The PCI core, pcieport and shpchp are built in. The HD audio codec driver goes
# first: without it snd_hda_intel gives up on the codec ("Cannot probe codecs") and registers no
# sound card, so there would be no /dev/snd node to hold. bochs drives QEMU's bochs-display (DRM).
boot_modules=(e1000e e1000 virtio_pci virtio_net virtio-rng nvme ahci snd-hda-codec-generic
  snd-hda-intel xhci-pci i2c-i801 lpc_ich bochs)
staged_modules=(vfio-pci vfio_iommu_type1)

stage=$(mktemp -d "${out}.stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,run,tmp,rk,scenario,lib/modules/$kver}

cp /bin/busybox "$stage/bin/busybox"
for applet in $("$stage/bin/busybox" --list); do
  [ -e "$stage/bin/$applet" ] || ln -s busybox "$stage/bin/$applet"
done

# Modules in dependency order, each once.
insmod_lines() {
  for m in "$@"; do
    modprobe -d "$root" -S "$kver" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
  done
}
mapfile -t boot_kos < <(insmod_lines "${boot_modules[@]}" | awk '!seen[$0]++')
mapfile -t staged_kos < <(insmod_lines "${staged_modules[@]}" | awk '!seen[$0]++')
for ko in "${boot_kos[@]}" "${staged_kos[@]}"; do
  rel=${ko#"$root"}
  mkdir -p "$stage/$(dirname "$rel")"
  cp "$ko" "$stage/$rel"
done
cp "$root/lib/modules/$kver"/modules.{order,builtin,builtin.modinfo} "$stage/lib/modules/$kver/"
depmod -b "$stage" "$kver"
for ko in "${boot_kos[@]}"; do echo "${ko#"$root"}"; done > "$stage/rk/modules"

# The tool, dynamically linked, with its libraries where the loader will look for them.
# Stripped: debug information would multiply the archive the guest unpacks under TCG.
strip -o "$stage/usr/bin/vfio-reconcile" "$tool"
ldd "$tool" | awk '/=> \// { print $3 } /^[[:space:]]*\/lib/ { print $1 }' | while read -r lib; do
  mkdir -p "$stage/$(dirname "$lib")"
  strip -o "$stage/$lib" "$lib"
done
strip -o "$stage/usr/bin/vfio-rk-check" "$checker"
strip -o "$stage/usr/bin/vfio-holder" "$holder"
cp "$here/../data/pci.ids" "$stage/rk/pci.ids"
cp "$here/guest/init" "$stage/init"
cp "$here/guest/steps.sh" "$stage/rk/steps.sh"
mknod -m 600 "$stage/dev/console" c 5 1

(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet) > "$out.tmp"
mv "$out.tmp" "$out"
echo "make-initramfs: $out ($(du -h "$out" | cut -f1), ${#boot_kos[@]} modules at boot)"
