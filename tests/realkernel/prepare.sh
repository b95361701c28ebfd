#!/usr/bin/env bash
# prepare.sh CACHE_DIR OUT_DIR TOOL CHECKER HOLDER [SUITE]: what every boot of one kernel line
# shares. The kernel (prepare-kernel.sh, cached in CACHE_DIR; SUITE: the Debian suite it comes
# from, else the machine's own) is linked as OUT_DIR/kernel, and the base initramfs is built
# afresh as OUT_DIR/base.cpio, since the tool may have been rebuilt.
set -euo pipefail
cache=${1:?usage: prepare.sh CACHE_DIR OUT_DIR TOOL CHECKER HOLDER [SUITE]} out=${2:?} tool=${3:?}
checker=${4:?} holder=${5:?} suite=${6:-}
here=$(cd "$(dirname "$0")" && pwd)
for command in qemu-system-x86_64 busybox cpio xz zstd depmod modprobe apt-get dpkg; do
  command -v "$command" > /dev/null || {
    echo "prepare: $command is missing (tools/install-deps installs what the suite needs)"
    exit 1
  }
done
start=$EPOCHREALTIME
kdir=$("$here/prepare-kernel.sh" "$cache" "$suite" | tail -n1)
mkdir -p "$out"
ln -sfn "$kdir" "$out/kernel"
"$here/make-initramfs.sh" "$kdir" "$tool" "$checker" "$holder" "$out/base.cpio"
secs=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
echo "prepare: kernel $(basename "$kdir") and base initramfs ready in $secs s"
