#!/usr/bin/env python3
"""bench/realboot-results.py [MEASUREMENTS [OUT_DIR]]: the boot test's measurements as tables.

Reads the `VFIO-RB MEASURE` and `VFIO-RB RACE` lines the boot test collected
(tests/realboot/run.sh: build/realboot/measurements.txt) and writes
  bench/RACE-RESULTS.md  claim, converged re-run and release of four devices in four groups by
                         vfio-reconcile, Debian's driverctl and the bare shell sequence, in the
                         release boot's guest (issue 18, 3(b)): medians, ranges, the goals' ratios;
  bench/BOOT-RESULTS.md  the boot unit's own time against the slowest group of its report, and
                         the guest's process floor (issue 18, 3(c)).
A full run for the tables (ten repetitions of the race; CI runs one, as a smoke run):
  VFIO_RB_RACE_REPS=10 ctest --test-dir build -R realboot && bench/realboot-results.py
"""
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

RACE_STEP = re.compile(
    r"^VFIO-RB RACE rep (\d+) (tool|driverctl|shell) (claim|converged|release): "
    r"([0-9.]+) ms(?:, (\d+) writes)? \(exit (\d+)\)$")
RACE_HEAD = re.compile(r"^VFIO-RB RACE devices (.*); (\d+) repetitions; kernel (\S+), (\d+) CPUs$")
UNIT = re.compile(r"^VFIO-RB MEASURE unit (\w+): ran ([0-9.]+) ms, slowest group (\d+) ms, "
                  r"the rest ([0-9.-]+) ms$")
GUEST = re.compile(r"^VFIO-RB MEASURE guest (\w+): /bin/true ([0-9.]+) ms, vfio-reconcile "
                   r"--version ([0-9.]+) ms, plan \(no changes\) ([0-9.]+) ms$")


def command_output(*argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=False,
                              cwd=REPO).stdout.strip()
    except OSError:
        return "?"


def machine_table(build_dir):
    """bench/lib.sh's rows (date, machine, kernel, compiler, commit), then the guest's machine."""
    rows = subprocess.run(
        ["bash", "-c", '. bench/lib.sh && bench_machine_rows "$1" . bench/RACE-RESULTS.md',
         "bash", build_dir], capture_output=True, text=True, check=True, cwd=REPO).stdout
    qemu = command_output("qemu-system-x86_64", "--version").splitlines()
    return "\n".join([
        "| | |", "|---|---|", rows.rstrip("\n"),
        "| binary | the Debian package tools/build-deb made of that commit (debhelper's flags) |",
        f"| QEMU | {qemu[0] if qemu else '?'}, TCG (no KVM), q35 with an emulated Intel IOMMU |",
    ])


def race_tables(lines):
    head = None
    times = {}
    writes = {}
    for line in lines:
        if m := RACE_HEAD.match(line):
            head = m
        elif m := RACE_STEP.match(line):
            key = (m[2], m[3])
            times.setdefault(key, []).append(float(m[4]))
            if m[5] is not None:
                writes.setdefault(key, []).append(int(m[5]))
    if not head or not times:
        sys.exit("realboot-results: no race in the measurements (the release boot runs it)")
    med = {k: statistics.median(v) for k, v in times.items()}

    def cell(who, what):
        v = times.get((who, what))
        if not v:
            return "-"
        return f"{statistics.median(v):.0f} ({min(v):.0f}-{max(v):.0f})"

    def ratio(a, b, goal):
        if a not in med or b not in med:
            return "-"
        r = med[a] / med[b]
        return f"{r:.2f}x ({'met' if r <= goal else 'not met'}: <= {goal}x)"

    rows = [
        "| step | vfio-reconcile ms | driverctl ms | bare shell ms | vs driverctl | vs shell |",
        "|---|---:|---:|---:|---|---|",
    ]
    for what, goal_d, goal_s in (("claim", 0.5, 1.0), ("release", 0.5, 1.0),
                                 ("converged", 0.3, None)):
        rows.append(
            f"| {what} | {cell('tool', what)} | {cell('driverctl', what)} | "
            f"{cell('shell', what)} | {ratio(('tool', what), ('driverctl', what), goal_d)} | "
            f"{ratio(('tool', what), ('shell', what), goal_s) if goal_s else '-'} |")
    converged_writes = sum(writes.get(("tool", "converged"), []))
    return head, "\n".join(rows), converged_writes, len(times[("tool", "claim")])


def unit_tables(lines):
    rows = [
        "| boot | unit ran ms | slowest group ms | the rest ms | /bin/true ms | "
        "`--version` ms | `plan`, no changes, ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    guests = {m[1]: m for m in map(GUEST.match, lines) if m}
    found = False
    for m in filter(None, map(UNIT.match, lines)):
        found = True
        g = guests.get(m[1])
        floor = f"{g[2]} | {g[3]} | {g[4]}" if g else "- | - | -"
        rows.append(f"| {m[1]} | {float(m[2]):.0f} | {m[3]} | {float(m[4]):.0f} | {floor} |")
    if not found:
        sys.exit("realboot-results: no unit measurement (the early and claim boots make them)")
    return "\n".join(rows)


def main():
    source = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "build/realboot/measurements.txt")
    out_dir = sys.argv[2] if len(sys.argv) > 2 else HERE
    with open(source, encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in f]
    # Before either table is written: bench_machine_rows marks the commit "+changes" when src,
    # tests or bench differ from it.
    machine = machine_table(os.path.dirname(os.path.dirname(os.path.abspath(source))))
    head, race, converged_writes, reps = race_tables(lines)
    with open(os.path.join(out_dir, "RACE-RESULTS.md"), "w", encoding="utf-8") as f:
        f.write(f"""# The real-kernel race: vfio-reconcile, driverctl and the bare shell sequence

Written by `bench/realboot-results.py` from the boot test's measurements; re-run with
`VFIO_RB_RACE_REPS=10 ctest --test-dir build -R realboot && bench/realboot-results.py`
(tests/realboot/guest/vfio-rb-race says what each contender does). In the release boot's guest,
Debian 12 with systemd and udev running: devices {head[1]}, each alone in its IOMMU group, moved
to vfio-pci and back {reps} times, the contenders' order turned by one each repetition, udev's queue
settled (untimed) after every step. Wall time of each step, fork and exec included: median
(min-max) of {reps}. Guest kernel {head[3]}, {head[4]} vCPUs.

{machine}

{race}

A converged re-run is `apply` of the same manifest again: vfio-reconcile's {reps} re-runs made
{converged_writes} sysfs writes between them (its `-v` log counts each write); driverctl unbinds and
re-probes every device each time; the shell has no such step.
""")
    with open(os.path.join(out_dir, "BOOT-RESULTS.md"), "w", encoding="utf-8") as f:
        f.write(f"""# The boot unit's own time

Written by `bench/realboot-results.py` from the boot test's measurements (`ctest --test-dir
build -R realboot`, then `bench/realboot-results.py`). `unit ran`: vfio-reconcile.service's main
process, from systemd's ExecMainStartTimestampMonotonic to its ExecMainExitTimestampMonotonic;
`slowest group`: the longest of the group times its report gives (`(0.42 s)`: 10 ms steps); `the
rest` is the first less the second (goal: 20 ms or less). In the early boot the initramfs has
already claimed every group and the unit finds nothing to do; in the claim boot it claims three
groups while the rest of the boot runs beside it. For scale, what a process costs in the same
guest once booted: medians of 5.

{machine}

{unit_tables(lines)}
""")
    print(f"realboot-results: wrote {out_dir}/RACE-RESULTS.md and {out_dir}/BOOT-RESULTS.md")


if __name__ == "__main__":
    main()
