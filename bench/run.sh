#!/usr/bin/env bash
# Builds Release, runs vfio-bench on a 10,000-device host and writes bench/RESULTS.md.
#
#   bench/run.sh [DEVICES [REPS]]     (defaults: 10000 devices, 21 repetitions)
#
# RESULTS.md holds the machine, the build, the measured table and the targets; the hand-kept
# notes in bench/NOTES.md (what made observe fast, with measurements) are appended to it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(dirname "$here")
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
build_dir=$source_dir/build-release
devices=${1:-10000}
reps=${2:-21}
target_ms=50
target_mib=32

cmake -S "$source_dir" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir" -j2 --target vfio-bench >/dev/null

out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$build_dir/vfio-bench" --devices "$devices" --reps "$reps" | tee "$out"

value() { bench_value "$1" "$out"; }

observe_median=$(value observe.median_ms)
total_median=$(value total.median_ms)
peak=$(value peak_rss_mib)
time_scope="observe + plan"
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v + 0 < t + 0) ? "met" : "NOT met" }'; }
time_verdict=$(verdict "$total_median" "$target_ms")
rss_verdict=$(verdict "$peak" "$target_mib")

{
  echo "# vfio-bench results"
  echo
  echo "Written by \`bench/run.sh\`; re-run it to refresh. \`vfio-bench\` generates"
  echo "\`make_large_host()\` (tests/sim/large_host.h) on disk, then, in a fresh process, observes it"
  echo "through \`RealSysfs\`: one warm-up, then $(value reps) timed repetitions. Peak RSS is that"
  echo "measuring process's \`ru_maxrss\`: executable, shared libraries, warm-up and every repetition"
  echo "($(value startup_rss_mib) MiB before the first observe); the generator ran in another process."
  echo
  echo "| | |"
  echo "|---|---|"
  bench_machine_rows "$build_dir" "$source_dir" bench/RESULTS.md
  echo "| devices | $(value devices) ($(value findings) findings) |"
  echo
  echo "| step | median ms | p90 ms | min ms |"
  echo "|---|---:|---:|---:|"
  echo "| observe ($(value observe.detail) level) | $observe_median | $(value observe.p90_ms) | $(value observe.min_ms) |"
  echo "| plan ($(value plan.changes) changes) | $(value plan.median_ms) | $(value plan.p90_ms) | $(value plan.min_ms) |"
  echo "| total | $total_median | $(value total.p90_ms) | $(value total.min_ms) |"
  echo
  echo "Peak RSS: **$peak MiB**."
  echo
  echo "## Targets"
  echo
  echo "| target | measured | |"
  echo "|---|---|---|"
  echo "| observe + plan < $target_ms ms median | $total_median ms, $time_scope | $time_verdict |"
  echo "| peak RSS < $target_mib MiB | $peak MiB | $rss_verdict |"
  if [[ -f $here/NOTES.md ]]; then
    echo
    cat "$here/NOTES.md"
  fi
} >"$here/RESULTS.md"
echo "wrote $here/RESULTS.md"
