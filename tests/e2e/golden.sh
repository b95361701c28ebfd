#!/usr/bin/env bash
# Runs a command and compares what it printed, and its exit code, with a golden file.
#   golden.sh GOLDEN -- COMMAND [ARGS...]
# The golden file holds stdout followed by a last line "[exit N]". With VFIO_UPDATE_GOLDEN=1 the
# file is rewritten instead (review the diff before committing it).
set -uo pipefail
golden=$1
shift
[ "$1" = "--" ] && shift

actual=$(mktemp)
trap 'rm -f "$actual"' EXIT
"$@" >"$actual"
echo "[exit $?]" >>"$actual"

if [ "${VFIO_UPDATE_GOLDEN:-}" = 1 ]; then
  cp "$actual" "$golden"
  echo "updated $golden"
  exit 0
fi
if ! diff -u "$golden" "$actual"; then
  echo "golden.sh: output of '$*' differs from $golden (VFIO_UPDATE_GOLDEN=1 rewrites it)" >&2
  exit 1
fi
