#!/usr/bin/env bash
# boot-once-more.sh without QEMU: a stand-in "boot" that dies, panics or passes as told, and how
# many times it was run.
set -euo pipefail
. "$(dirname "$0")/boot-once-more.sh"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# fake_boot TRIES_FILE OUTCOME...: the Nth run prints and exits as the Nth OUTCOME says:
# crash (exit 139), early-panic (a panic before userspace), late-panic (userspace, then a panic),
# timeout (exit 124), pass.
fake_boot() {
  local tries=$1 n outcome
  shift
  n=$(($(cat "$tries" 2>/dev/null || echo 0) + 1))
  echo "$n" > "$tries"
  outcome=${*:$n:1}
  printf 'SeaBIOS\r\n'
  case $outcome in
    crash) return 139 ;;
    early-panic) echo "Kernel panic - not syncing: Fatal exception in interrupt"; return 0 ;;
    late-panic) echo "TEST: kernel up"; echo "Kernel panic - not syncing: oops"; return 0 ;;
    timeout) echo "TEST: kernel up"; return 124 ;;
    pass) echo "TEST: kernel up"; echo "TEST PASS"; return 0 ;;
  esac
}

# expect OUTCOMES TRIES EXIT LAST_LINE
expect() {
  local outcomes=$1 tries=$2 exit_code=$3 last=$4 console=$scratch/console
  rm -f "$scratch/tries" "$console" "$console.first-try"
  # shellcheck disable=SC2086
  boot_once_more "fake $outcomes" "$console" '^TEST: kernel up' fake_boot "$scratch/tries" $outcomes > "$scratch/said"
  local ran
  ran=$(cat "$scratch/tries")
  [ "$ran" = "$tries" ] || fail "$outcomes: ran $ran times, expected $tries"
  [ "$BOOT_EXIT" = "$exit_code" ] || fail "$outcomes: exit $BOOT_EXIT, expected $exit_code"
  [ "$(tail -n1 "$console")" = "$last" ] || fail "$outcomes: console ends '$(tail -n1 "$console")', expected '$last'"
  grep -q $'\r' "$console" && fail "$outcomes: carriage returns left in the console"
  if [ "$tries" = 2 ]; then
    [ -s "$console.first-try" ] || fail "$outcomes: the first try's console was not kept"
    grep -q "booting once more" "$scratch/said" || fail "$outcomes: the retry was not said"
  else
    [ -e "$console.first-try" ] && fail "$outcomes: a first-try console without a retry"
    [ -s "$scratch/said" ] && fail "$outcomes: said '$(cat "$scratch/said")' without a retry"
  fi
  return 0
}

expect "pass" 1 0 "TEST PASS"
expect "crash pass" 2 0 "TEST PASS"
expect "early-panic pass" 2 0 "TEST PASS"
expect "crash crash" 2 139 "SeaBIOS"            # a second crash is the answer
expect "early-panic early-panic" 2 0 "Kernel panic - not syncing: Fatal exception in interrupt"
expect "late-panic pass" 1 0 "Kernel panic - not syncing: oops"  # the test's own: no retry
expect "timeout pass" 1 124 "TEST: kernel up"  # a hang is the test's to report
[[ $- == *e* ]] || fail "boot_once_more turned errexit off"
[ "$failures" = 0 ] && echo "boot-once-more: 7 cases ok"
exit $((failures > 0))
