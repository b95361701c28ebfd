#!/usr/bin/env bash
# The real binary decides by itself whether its stderr is the journal: $JOURNAL_STREAM must name
# stderr's device and inode (as systemd sets it), and then every stderr line carries an
# sd-daemon(3) priority; a JOURNAL_STREAM naming another file (a redirected child) changes nothing.
#   journal_stream.sh VFIO_RECONCILE BAD_MANIFEST
set -uo pipefail
bin=$1
bad=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

journal=$scratch/journal
: >"$journal"
JOURNAL_STREAM=$(stat -c '%d:%i' "$journal") "$bin" validate "$bad" 2>>"$journal" >/dev/null
code=$?
[ "$code" = 65 ] || fail "validate exited $code, expected 65"
grep -qv '^<3>' "$journal" && fail "a line without the error priority: $(grep -v '^<3>' "$journal")"
grep -q "^<3>$bad:" "$journal" || fail "no '<3>$bad:' line in: $(cat "$journal")"

other=$scratch/other
plain=$scratch/plain
: >"$other"
JOURNAL_STREAM=$(stat -c '%d:%i' "$other") "$bin" validate "$bad" 2>"$plain" >/dev/null
grep -q '^<' "$plain" && fail "priority prefixes with JOURNAL_STREAM naming another file: $(cat "$plain")"
grep -q "^$bad:" "$plain" || fail "no plain '$bad:' line in: $(cat "$plain")"

JOURNAL_STREAM=$(stat -c '%d:%i' "$journal") "$bin" --sysfs-root /nonexistent status 2>/dev/null
[ $? = 64 ] || fail "usage errors must still exit 64"

if ((failures)); then
  echo "journal stream: $failures failed"
  exit 1
fi
echo "journal stream: all passed"
