#!/bin/sh
# steps.sh STEPS: runs a real-kernel scenario's step file in the guest, one line per step; stops
# at the first step whose expectation fails (exit 1). vfio-rk-sim runs the same file against the
# kernel simulator. The verbs:
#   say TEXT                    print TEXT
#   run EXIT ARGS...            vfio-reconcile --state-dir /run/vfio-reconcile ARGS; exit must be EXIT
#   output-has TEXT             the last run's output holds TEXT
#   output-lacks TEXT           ... does not hold it
#   expect BDF DRIVER OVERRIDE  the device's driver and driver_override now ("-": none, unset)
#   viable BDF yes|no           VFIO_GROUP_GET_STATUS on the device's /dev/vfio/N
#   write PATH VALUE            write VALUE (no newline; \n: a newline) to /sys/PATH; must succeed
#   write-fails PATH VALUE ERRNO
#                               the same write must fail with ERRNO (EBUSY, ERANGE...)
#   remove-on-bind BDF VICTIM   from now on, when BDF binds to vfio-pci, VICTIM is removed
#   reprobe-on-unbind BDF       from now on, when BDF is unbound, it is probed again at once
#   wait-racer                  the listener (remove-on-bind, reprobe-on-unbind) must have fired
#   hold BDF                    vfio-holder opens BDF's group and device fd, as QEMU does, and
#                               keeps them open (an unbind of BDF would block until let-go)
#   hold-node PATH              a process (sleep) holds the device node PATH (/dev/dri/card0)
#                               open, as a display server or an audio server does
#   let-go                      the holder exits
#   rescan                      /sys/bus/pci/rescan
#   modprobe MODULE             load a module (vfio-pci, or one the guest unloaded)
#   rmmod MODULE                unload a module (its devices are left driverless)
#   status-agrees               `status --json` agrees with /sys (vfio-rk-check status-agrees)
#   dump LABEL                  every device's driver and override and /dev/vfio/N, normalized
#   soak CLAIM RELEASE BDF=DRIVER...
#                               vfio_rk.soak= cycles (kernel command line; 20 if not given) of
#                               apply CLAIM (each BDF on vfio-pci, override vfio-pci, its group
#                               viable) then apply RELEASE (each BDF back on DRIVER, no override)
#   kill-apply CLAIM RELEASE BDF=DRIVER...
#                               vfio_rk.kills= times (5 if not given): apply CLAIM, killed with
#                               SIGKILL after a random 0-800 ms; then apply CLAIM must converge
#                               (exit 0, all on vfio-pci, viable) and apply RELEASE undo it all
state=/run/vfio-reconcile
export VFIO_RECONCILE_PCI_IDS=/rk/pci.ids
fail() { echo "STEP FAILED: $*"; exit 1; }
# check BDF DRIVER OVERRIDE WHEN: the device's driver and driver_override ("-": none, unset).
check() {
  d=$(readlink "/sys/bus/pci/devices/$1/driver") && d=${d##*/} || d=-
  o=$(cat "/sys/bus/pci/devices/$1/driver_override") || fail "$4: $1: no driver_override"
  [ "$o" = "(null)" ] && o=-
  [ "$d" = "$2" ] && [ "$o" = "$3" ] || fail "$4: $1 is on $d with override $o, wanted $2 $3"
}
# cmdline_count NAME DEFAULT: vfio_rk.NAME=N from the kernel command line.
cmdline_count() {
  c=$(tr ' ' '\n' < /proc/cmdline | sed -n "s/^vfio_rk\.$1=\([0-9][0-9]*\)$/\1/p")
  echo "${c:-$2}"
}
# apply_ok WHEN ARGS...: vfio-reconcile apply ARGS must exit 0.
apply_ok() {
  when=$1
  shift
  vfio-reconcile --state-dir "$state" apply "$@" < /dev/null > /tmp/out 2>&1 ||
    { got=$?; cat /tmp/out; fail "$when: apply $* exited $got"; }
}
uptime_cs() { tr -d . < /proc/uptime | cut -d' ' -f1; }  # centiseconds since boot
n=0
racer=
holder=
exec 3< "$1"
while read -r verb rest <&3; do
  case "$verb" in '' | '#'*) continue ;; esac
  n=$((n + 1))
  echo "--- step $n: $verb $rest"
  # shellcheck disable=SC2086
  set -- $rest
  case "$verb" in
    say) ;;
    run)
      want=$1
      shift
      vfio-reconcile --state-dir "$state" "$@" < /dev/null > /tmp/out 2>&1
      got=$?
      cat /tmp/out
      [ "$got" = "$want" ] || fail "exit $got, wanted $want"
      ;;
    output-has) grep -qF -- "$rest" /tmp/out || fail "output lacks '$rest'" ;;
    output-lacks) grep -qF -- "$rest" /tmp/out && fail "output has '$rest'" ;;
    expect) check "$1" "$2" "$3" expect ;;
    soak)
      cycles=$(cmdline_count soak 20)
      claim=$1 release=$2
      shift 2
      start=$(uptime_cs)
      i=0
      while [ "$i" -lt "$cycles" ]; do
        i=$((i + 1))
        apply_ok "cycle $i" "$claim"
        for dev in "$@"; do check "${dev%%=*}" vfio-pci vfio-pci "cycle $i, claimed"; done
        vfio-rk-check viable "${1%%=*}" > /dev/null || fail "cycle $i: the group is not viable"
        apply_ok "cycle $i" "$release"
        for dev in "$@"; do check "${dev%%=*}" "${dev#*=}" - "cycle $i, released"; done
      done
      echo "soak: $cycles cycles of claim and release, every end state as it should be," \
        "in $(( ($(uptime_cs) - start) / 100 )) s"
      ;;
    kill-apply)
      kills=$(cmdline_count kills 5)
      claim=$1 release=$2
      shift 2
      i=0
      mid=0
      while [ "$i" -lt "$kills" ]; do
        i=$((i + 1))
        delay=$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 801 ))
        vfio-reconcile --state-dir "$state" apply "$claim" < /dev/null > /tmp/killed 2>&1 &
        pid=$!
        usleep $((delay * 1000))
        if kill -9 "$pid" 2> /dev/null; then
          how="killed mid-run"
          mid=$((mid + 1))
        else
          how="had finished"
        fi
        wait "$pid" 2> /dev/null
        apply_ok "kill $i (after $delay ms, $how)" "$claim"
        for dev in "$@"; do check "${dev%%=*}" vfio-pci vfio-pci "kill $i, converged"; done
        for dev in "$@"; do
          vfio-rk-check viable "${dev%%=*}" > /dev/null || fail "kill $i: ${dev%%=*} not viable"
        done
        apply_ok "kill $i, release" "$release"
        for dev in "$@"; do check "${dev%%=*}" "${dev#*=}" - "kill $i, released"; done
        echo "kill $i: SIGKILL after $delay ms ($how); the next run converged, the release undid it"
      done
      echo "kill-apply: $kills kills, $mid of them mid-run; every next run converged"
      ;;
    viable)
      vfio-rk-check viable "$1"
      got=$?
      case "$2:$got" in yes:0 | no:1) ;; *) fail "viability is not $2 (checker exit $got)" ;; esac
      ;;
    write) printf '%b' "$2" > "/sys/$1" || fail "write '$2' to /sys/$1" ;;
    write-fails)
      got=$(vfio-rk-check write-errno "/sys/$1" "$2")
      [ "$got" = "$3" ] || fail "write '$2' to /sys/$1 gave $got, wanted $3"
      ;;
    remove-on-bind | reprobe-on-unbind)
      [ -z "$racer" ] || fail "one listener at a time"
      rm -f /run/rk-armed
      # shellcheck disable=SC2068
      vfio-rk-check "$verb" $@ 120 < /dev/null &
      racer=$!
      i=0
      while [ ! -e /run/rk-armed ]; do
        i=$((i + 1))
        [ $i -gt 100 ] && fail "the uevent listener did not start"
        usleep 50000
      done
      ;;
    wait-racer)
      [ -n "$racer" ] || fail "no uevent listener"
      wait "$racer" || fail "the uevent listener did not act"
      racer=
      ;;
    hold)
      [ -z "$holder" ] || fail "one holder at a time"
      group=$(readlink "/sys/bus/pci/devices/$1/iommu_group") || fail "$1 has no IOMMU group"
      vfio-holder "${group##*/}" "$1" < /dev/null > /tmp/holder 2>&1 &
      holder=$!
      i=0
      until grep -q '^holding' /tmp/holder; do
        kill -0 "$holder" 2> /dev/null || { cat /tmp/holder; fail "vfio-holder ended"; }
        i=$((i + 1))
        [ $i -gt 100 ] && fail "vfio-holder did not start"
        usleep 50000
      done
      cat /tmp/holder
      ;;
    hold-node)
      [ -z "$holder" ] || fail "one holder at a time"
      [ -c "$1" ] || fail "$1 is not a character device"
      sleep 1000000 < "$1" &
      holder=$!
      ;;
    let-go)
      [ -n "$holder" ] || fail "no holder"
      kill "$holder"
      # vfio-holder exits 0 on SIGTERM; sleep (hold-node) dies of it: 128 + 15.
      wait "$holder" || [ $? = 143 ] || fail "the holder exit $?"
      holder=
      ;;
    rescan) echo 1 > /sys/bus/pci/rescan || fail "rescan" ;;
    modprobe) modprobe "$1" || fail "modprobe $1" ;;
    rmmod) rmmod "$1" || fail "rmmod $1" ;;
    status-agrees)
      vfio-reconcile status --json < /dev/null > /tmp/status.json || fail "status exit $?"
      vfio-rk-check status-agrees /tmp/status.json || fail "status disagrees with the kernel"
      ;;
    dump) vfio-rk-check dump "$1" ;;
    *) fail "unknown step '$verb'" ;;
  esac
done
echo "--- all $n steps held"
