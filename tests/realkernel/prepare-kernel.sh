#!/usr/bin/env bash
# prepare-kernel.sh CACHE_DIR [SUITE]: Debian's own kernel, ready to boot in QEMU, cached in
# CACHE_DIR.
#
# Downloads (apt-get download, Debian's registry only) the package that linux-image-amd64
# depends on, unpacks it, runs depmod, and extracts the uncompressed vmlinux (QEMU boots it
# through PVH, ~2 s faster than vmlinuz). Without SUITE, from the machine's own apt sources
# (Debian 12: 6.1); with one (bookworm-backports: 6.12), from that suite of the machine's Debian
# mirror through an apt configuration of its own in CACHE_DIR/apt, leaving the machine's sources
# as they are. Every step is skipped when its result is cached, so a warm run costs a few
# milliseconds. Prints the kernel directory (CACHE_DIR/<version>) last. Fails (never skips) when
# the package cannot be had: a suite that boots nothing proves nothing.
set -euo pipefail
cache=${1:?usage: prepare-kernel.sh CACHE_DIR [SUITE]}
suite=${2:-}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

die() { echo "prepare-kernel: $*" >&2; exit 1; }

apt_options=()
if [ -n "$suite" ]; then
  mirror=$("$(dirname "$0")/debian-mirror.sh")
  mkdir -p "$cache/apt/lists/partial" "$cache/apt/cache/archives/partial"
  echo "deb $mirror $suite main" > "$cache/apt/sources.list"
  apt_options=(-o "Dir::Etc::sourcelist=$cache/apt/sources.list" -o Dir::Etc::sourceparts=-
    -o "Dir::State::Lists=$cache/apt/lists" -o "Dir::Cache=$cache/apt/cache")
fi

kernel_package() {
  apt-cache "${apt_options[@]}" depends linux-image-amd64 2> /dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

# The package name is remembered, so a warm run needs no apt lists at all.
if [ -s "$cache/package" ]; then
  pkg=$(cat "$cache/package")
else
  pkg=$(kernel_package || true) # no lists yet: apt-cache fails
  if [ -z "$pkg" ] && { [ "$(id -u)" -eq 0 ] || [ -n "$suite" ]; }; then
    apt-get "${apt_options[@]}" update -qq >&2 || true
    pkg=$(kernel_package || true)
  fi
  [ -n "$pkg" ] || die "apt-cache knows no linux-image-amd64${suite:+ in $suite} (run apt-get update)"
  echo "$pkg" > "$cache/package"
fi
kver=${pkg#linux-image-}
dir=$cache/$kver

if [ ! -f "$dir/.unpacked" ]; then
  deb=$(ls "$cache"/"${pkg}"_*.deb 2>/dev/null | head -n1 || true)
  if [ -z "$deb" ]; then
    echo "prepare-kernel: downloading $pkg" >&2
    (cd "$cache" && apt-get "${apt_options[@]}" download -q "$pkg" >&2) ||
      die "apt-get download $pkg failed"
    deb=$(ls "$cache"/"${pkg}"_*.deb | head -n1)
  fi
  rm -rf "$dir" && mkdir -p "$dir"
  echo "prepare-kernel: unpacking $(basename "$deb")" >&2
  dpkg -x "$deb" "$dir/root"
  depmod -b "$dir/root" "$kver"
  touch "$dir/.unpacked"
fi

if [ ! -f "$dir/vmlinux" ]; then
  # vmlinuz carries a compressed payload (xz in 6.1, zstd in 6.12): find its magic (fd 37 7a 58
  # 5a 00, or 28 b5 2f fd) and decompress from there, as the kernel's scripts/extract-vmlinux
  # does.
  image=$dir/root/boot/vmlinuz-$kver
  for format in 'xz \xfd7zXZ\x00' 'zstd \x28\xb5\x2f\xfd'; do
    offset=$( (LC_ALL=C grep -obUaP "${format#* }" "$image" || true) | head -n1 | cut -d: -f1)
    [ -n "$offset" ] || continue
    tail -c +$((offset + 1)) "$image" | "${format%% *}" -dc 2> /dev/null > "$dir/vmlinux.tmp" || true
    head -c 4 "$dir/vmlinux.tmp" | grep -q ELF && break
  done
  if ! head -c 4 "$dir/vmlinux.tmp" 2> /dev/null | grep -q ELF; then
    die "could not extract vmlinux from $image (neither an xz nor a zstd payload)"
  fi
  mv "$dir/vmlinux.tmp" "$dir/vmlinux"
fi
echo "$dir"
