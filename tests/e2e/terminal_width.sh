#!/usr/bin/env bash
# The real binary finds its terminal's width by itself: `status` on a terminal ($COLUMNS, else
# the terminal's size, through script(1)'s pseudo-terminal) fits every line to it; through a
# pipe, or with --full, lines are whole.
#   terminal_width.sh VFIO_RECONCILE EXAMPLE_HOST_DIR (a host with long device names)
set -uo pipefail
bin=$1
host=$2
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
widest() { tr -d '\r' | awk '{ if (length($0) > w) w = length($0) } END { print w + 0 }'; }
on_terminal() {  # COLUMNS ARGS...: the output of the binary run on a pseudo-terminal
  local columns=$1
  shift
  COLUMNS=$columns script -qec "$(printf '%q ' "$bin" --sysfs-root "$host" --proc-root "$host.proc" "$@")" /dev/null
}

piped=$("$bin" --sysfs-root "$host" --proc-root "$host.proc" status | widest)
[ "$piped" -gt 100 ] || fail "through a pipe the widest line is $piped columns; expected whole lines, over 100"
for columns in 100 120; do
  width=$(on_terminal "$columns" status | widest)
  [ "$width" -le "$columns" ] || fail "on a $columns-column terminal a line is $width columns"
  [ "$width" -gt 0 ] || fail "nothing printed on a $columns-column terminal"
done
full=$(on_terminal 100 status --full | widest)
[ "$full" = "$piped" ] || fail "status --full on a terminal: widest line $full columns, a pipe's $piped"
echo "widest lines: pipe $piped, terminal of 100: $(on_terminal 100 status | widest), of 120: $(on_terminal 120 status | widest)"
exit $((failures > 0))
