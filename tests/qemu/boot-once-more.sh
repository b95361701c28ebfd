# shellcheck shell=bash
# Sourced by the QEMU suites (tests/realkernel/run-boot.sh, tests/realboot/run.sh): one boot,
# run once more when its first try died of a cause that is neither this tool's nor the test's.
#
# Under multi-threaded TCG on a loaded 2-core host two such causes were met, each once and not
# again in reruns: QEMU 7.2 itself died by SIGSEGV (the fresh-clone CI of 2026-12-01, rootports
# at `let-go`, the guest with no failure printed), and a 6.12 guest kernel panicked 2.7 s into its
# boot, before any userspace ran ("Oops: int3" in run_timer_softirq: TCG's code patching under
# MTTCG). A second failure of either kind fails the boot; every retry says why on stdout and
# keeps the first console beside the second.

# boot_retry_reason QEMU_EXIT CONSOLE USERSPACE_PATTERN: why the boot may run once more, or
# nothing. USERSPACE_PATTERN (grep -E) matches a console line the test's own userspace prints.
boot_retry_reason() {
  local code=$1 console=$2 userspace=$3
  case $code in
    134 | 135 | 139) echo "QEMU itself died (exit $code: signal $((code - 128)))" ;;
    *)
      if grep -q 'Kernel panic' "$console" && ! grep -qE "$userspace" "$console"; then
        echo "the guest kernel panicked before the test's userspace printed a line"
      fi
      ;;
  esac
}

# boot_once_more LABEL CONSOLE USERSPACE_PATTERN COMMAND...: runs COMMAND (a QEMU boot under
# `timeout`), its output without carriage returns in CONSOLE, and once more when
# boot_retry_reason gives a reason (the first try's console kept as CONSOLE.first-try). Sets
# BOOT_EXIT to QEMU's (or timeout's) exit code of the last try.
boot_once_more() {
  local label=$1 console=$2 userspace=$3 attempt why errexit=0
  shift 3
  [[ $- == *e* ]] && errexit=1
  for attempt in 1 2; do
    set +e
    "$@" < /dev/null 2>&1 | tr -d '\r' > "$console"
    BOOT_EXIT=${PIPESTATUS[0]}
    ((errexit)) && set -e
    why=$(boot_retry_reason "$BOOT_EXIT" "$console" "$userspace")
    if [ -z "$why" ] || [ "$attempt" = 2 ]; then break; fi
    mv "$console" "$console.first-try"
    echo "$label: $why; its console: $console.first-try; booting once more"
  done
}
