#!/usr/bin/env bash
# make-rootfs.sh CACHE_DIR NAME PACKAGE...: a minimal Debian 12 root file system with systemd as
# PID 1, made by debootstrap from Debian's registry and cached in CACHE_DIR/NAME-KEY, where KEY is
# a hash of the suite, the mirror and the package list: a warm run with the same list costs
# nothing, a changed list builds a new tree (older trees of the same NAME are removed; the boot
# test keeps two, one per initramfs generator). Prints the tree's path last.
# Needs root (debootstrap, chroot). The mirror is the first deb.debian.org-style URI apt knows, or
# $VFIO_RB_MIRROR.
set -euo pipefail
cache=${1:?usage: make-rootfs.sh CACHE_DIR NAME PACKAGE...}
name=${2:?usage: make-rootfs.sh CACHE_DIR NAME PACKAGE...}
shift 2
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
suite=bookworm

die() { echo "make-rootfs: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "debootstrap and chroot need root"

mirror=${VFIO_RB_MIRROR:-}
if [ -z "$mirror" ]; then
  mirror=$("$(dirname "$0")/../realkernel/debian-mirror.sh")
fi

mapfile -t packages < <(printf '%s\n' "$@" | LC_ALL=C sort -u)
key=$(printf '%s\n' "$suite" "$mirror" minbase "${packages[@]}" | sha256sum | cut -c1-16)
dir=$cache/$name-$key
if [ -f "$dir/.complete" ]; then
  echo "make-rootfs: cached $(basename "$dir") (${#packages[@]} packages)" >&2
  echo "$dir"
  exit 0
fi

command -v debootstrap > /dev/null || die "debootstrap is missing (tools/install-deps installs it)"
# Trees of this name made for another package list are stale: a root file system is ~300 MB.
for old in "$cache/$name"-*; do
  [ -e "$old" ] && [ "$old" != "$dir" ] && rm -rf "$old"
done
rm -rf "$dir" "$dir.tmp"
include=$(IFS=,; echo "${packages[*]}")
echo "make-rootfs: debootstrap $suite from $mirror (minbase + ${#packages[@]} packages)" >&2
start=$SECONDS
if ! debootstrap --variant=minbase --include="$include" "$suite" "$dir.tmp" "$mirror" \
  > "$cache/debootstrap-$name.log" 2>&1; then
  tail -n 30 "$cache/debootstrap-$name.log" >&2
  die "debootstrap failed (log: $cache/debootstrap-$name.log)"
fi
# Downloaded packages are not part of the system.
rm -rf "$dir.tmp"/var/cache/apt/archives/*.deb "$dir.tmp"/var/lib/apt/lists/*_Packages
touch "$dir.tmp/.complete"
mv "$dir.tmp" "$dir"
echo "make-rootfs: $(basename "$dir") made in $((SECONDS - start)) s ($(du -sh "$dir" | cut -f1))" >&2
echo "$dir"
