#!/usr/bin/env bash
# prepare-kernel.sh CACHE_DIR: Debian's own kernel, ready to boot in QEMU, cached in CACHE_DIR.
#
# Downloads (apt-get download, Debian's registry only) the package that linux-image-amd64
# depends on, unpacks it, runs depmod, and extracts the uncompressed vmlinux (QEMU boots it
# through PVH, ~2 s faster than vmlinuz). Every step is skipped when its result is cached, so a
# warm run costs a few milliseconds. Prints the kernel directory (CACHE_DIR/<version>) last.
# Fails (never skips) when the package cannot be had: a suite that boots nothing proves nothing.
set -euo pipefail
cache=${1:?usage: prepare-kernel.sh CACHE_DIR}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

die() { echo "prepare-kernel: $*" >&2; exit 1; }

kernel_package() {
  apt-cache depends linux-image-amd64 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

# The package name is remembered, so a warm run needs no apt lists at all.
if [ -s "$cache/package" ]; then
  pkg=$(cat "$cache/package")
else
  pkg=$(kernel_package)
  if [ -z "$pkg" ] && [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq >&2 || true
    pkg=$(kernel_package)
  fi
  [ -n "$pkg" ] || die "apt-cache knows no linux-image-amd64 (run apt-get update)"
  echo "$pkg" > "$cache/package"
fi
kver=${pkg#linux-image-}
dir=$cache/$kver

if [ ! -f "$dir/.unpacked" ]; then
  deb=$(ls "$cache"/"${pkg}"_*.deb 2>/dev/null | head -n1 || true)
  if [ -z "$deb" ]; then
    echo "prepare-kernel: downloading $pkg" >&2
    (cd "$cache" && apt-get download -q "$pkg" >&2) || die "apt-get download $pkg failed"
    deb=$(ls "$cache"/"${pkg}"_*.deb | head -n1)
  fi
  rm -rf "$dir" && mkdir -p "$dir"
  echo "prepare-kernel: unpacking $(basename "$deb")" >&2
  dpkg -x "$deb" "$dir/root"
  depmod -b "$dir/root" "$kver"
  touch "$dir/.unpacked"
fi

if [ ! -f "$dir/vmlinux" ]; then
  # vmlinuz carries an xz payload: find its magic (fd 37 7a 58 5a 00) and decompress from there,
  # as the kernel's scripts/extract-vmlinux does.
  image=$dir/root/boot/vmlinuz-$kver
  offset=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$image" | head -n1 | cut -d: -f1)
  [ -n "$offset" ] || die "no xz payload in $image"
  tail -c +$((offset + 1)) "$image" | xz -dc 2>/dev/null > "$dir/vmlinux.tmp" || true
  head -c 4 "$dir/vmlinux.tmp" | grep -q ELF || die "could not extract vmlinux from $image"
  mv "$dir/vmlinux.tmp" "$dir/vmlinux"
fi
echo "$dir"
