#!/usr/bin/env bash
# Builds Release, runs vfio-bench on a 10,000-device host and writes bench/RESULTS.md.
#
#   bench/run.sh [DEVICES [REPS]]     (defaults: 10000 devices, 21 repetitions)
#
# RESULTS.md holds the machine, the build, the measured table (each case against the floor, a bare
# loop over the same tree, and lspci, in the same run) and the targets; the hand-kept
# notes in bench/NOTES.md (what made observe fast, with measurements) are appended to it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(dirname "$here")
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
# The README's build when it is the Release build (the default), else a Release tree of its own.
build_dir=$source_dir/build
if ! grep -qx 'CMAKE_BUILD_TYPE:STRING=Release' "$build_dir/CMakeCache.txt" 2>/dev/null; then
  build_dir=$source_dir/build-release
fi
devices=${1:-10000}
reps=${2:-21}
target_ratio=0.35
target_mib=32

cmake -S "$source_dir" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir" -j2 --target vfio-bench >/dev/null

out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$build_dir/vfio-bench" --devices "$devices" --reps "$reps" | tee "$out"

value() { bench_value "$1" "$out"; }

peak=$(value peak_rss_mib)
gpu_ratio=$(value gpus.floor_ratio)
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v + 0 <= t + 0) ? "met" : "NOT met" }'; }
time_verdict=$(verdict "$gpu_ratio" "$target_ratio")
rss_verdict=$(verdict "$peak" "$target_mib")
row() { # row KEY WHAT
  echo "| $2 | $(value "$1.median_ms") | $(value "$1.p90_ms") | $(value "$1.min_ms") | $(value "$1.floor_ratio") |"
}

{
  echo "# vfio-bench results"
  echo
  echo "Written by \`bench/run.sh\`; re-run it to refresh. \`vfio-bench\` generates"
  echo "\`make_large_host()\` (tests/sim/large_host.h) on disk, then, in a fresh process, runs each case"
  echo "once to warm up and $(value reps) rounds, each running every case once in a rotated order (so"
  echo "the ratios are measured side by side and hold on any machine). Peak RSS is that measuring"
  echo "process's \`ru_maxrss\`: executable, shared libraries, warm-up and every repetition"
  echo "($(value startup_rss_mib) MiB before the first observe); the generator and lspci ran in other processes."
  echo
  echo "| | |"
  echo "|---|---|"
  bench_machine_rows "$build_dir" "$source_dir" bench/RESULTS.md
  echo "| devices | $(value devices) ($(value findings) findings) |"
  echo
  echo "| case | median ms | p90 ms | min ms | x floor |"
  echo "|---|---:|---:|---:|---:|"
  row floor "floor: a bare single-threaded loop reading 4 attributes and 2 links per device"
  row lspci "\`lspci -Dvmmnnk\` on the same tree"
  row gpus "observe + plan of a manifest of the GPUs, as \`plan\` does it ($(value gpus.devices_read) devices read in full, $(value gpus.changes) changes)"
  row fleet "observe + plan of the fleet manifest (GPUs, every VF, NVMe: $(value fleet.devices_read) devices read in full, $(value fleet.changes) changes)"
  row whole "every device read in full + plan of the fleet manifest (what \`plan\` read before issue 18)"
  echo
  echo "Peak RSS: **$peak MiB**."
  echo
  echo "## Targets (issue 18)"
  echo
  echo "| target | measured | |"
  echo "|---|---|---|"
  echo "| observe + plan of a manifest of a few devices at most ${target_ratio}x the floor | ${gpu_ratio}x | $time_verdict |"
  echo "| peak RSS < $target_mib MiB | $peak MiB | $rss_verdict |"
  if [[ -f $here/NOTES.md ]]; then
    echo
    cat "$here/NOTES.md"
  fi
} >"$here/RESULTS.md"
echo "wrote $here/RESULTS.md"
