#!/usr/bin/env bash
# debian-mirror.sh: the first Debian archive the machine's apt sources name (deb822 `URIs:` or
# one-line `deb URI suite ...`), else deb.debian.org. The boot test's debootstrap and the 6.12
# kernel line's apt configuration both fetch from it.
set -euo pipefail
mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
  /etc/apt/sources.list.d/*.sources 2> /dev/null |
  awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }
       /^deb / { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' |
  grep -E '/debian/?$' | head -n1 || true)
echo "${mirror:-http://deb.debian.org/debian}"
