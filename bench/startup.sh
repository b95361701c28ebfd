#!/usr/bin/env bash
# The fixed cost of a run (issue 18, part 2): how long one `vfio-reconcile` process takes on a
# small host (the workstation example: 14 devices), against /bin/true and `bash -c :` timed in
# the same rounds, so the ratios hold on any machine. Writes bench/STARTUP-RESULTS.md.
#
#   bench/startup.sh [BINARY [BEFORE_BINARY]] [--reps N] [--out FILE]
#
# BINARY defaults to build/vfio-reconcile (the README's Release build). With BEFORE_BINARY the
# same runs are made with it too, each round alternating which of the two goes first, and the
# table has a column for each: what one change bought, measured side by side.
# Each round runs every case once, in a rotated order; the table has each case's median and its
# ratio to /bin/true's. The names come from the system's pci.ids (Debian's pci.ids package), as
# on a real host; VFIO_RECONCILE_PCI_IDS is unset for the runs.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(dirname "$here")
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
reps=101
out_file=$here/STARTUP-RESULTS.md
binaries=()
while [ $# -gt 0 ]; do
  case $1 in
    --reps) reps=$2; shift 2 ;;
    --out) out_file=$2; shift 2 ;;
    *) binaries+=("$(realpath "$1")"); shift ;;
  esac
done
[ ${#binaries[@]} -gt 0 ] || binaries=("$source_dir/build/vfio-reconcile")
[ ${#binaries[@]} -le 2 ] || { echo "startup.sh: at most two binaries" >&2; exit 2; }
for b in "${binaries[@]}"; do
  [ -x "$b" ] || { echo "startup.sh: no program at $b (build it first)" >&2; exit 1; }
done
unset VFIO_RECONCILE_PCI_IDS

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# The example host the README's build lays out, with its /proc.
host=$source_dir/build/example-hosts/workstation
[ -d "$host" ] || { echo "startup.sh: no $host (cmake --build build first)" >&2; exit 1; }
# A manifest the host already meets (the GPU stays on its host driver): the plan lists no device.
unchanged=$scratch/unchanged.yaml
printf 'version: 1\nassignments:\n  - { name: gpu0, state: host, match: { address: "0000:01:00.0" } }\n' \
  >"$unchanged"
claim=$source_dir/examples/workstation-gpu.yaml

# case name, then the command; BIN stands for the binary measured.
cases=(
  "true|/bin/true"
  "shell|bash -c :"
  "version|BIN --version"
  "plan, nothing to change|BIN --sysfs-root $host --proc-root $host.proc plan $unchanged"
  "plan, a claim (names printed)|BIN --sysfs-root $host --proc-root $host.proc plan $claim"
  "status (every name)|BIN --sysfs-root $host --proc-root $host.proc status"
)

# ms NAME: the median, in ms with 2 decimals, of the samples in $scratch/NAME.
median() { sort -n "$scratch/$1" | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] }'; }
run_once() { # run_once FILE COMMAND...: appends the command's wall time in ms to FILE
  local start=$EPOCHREALTIME
  "${@:2}" >/dev/null 2>&1 || true
  awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f\n", (b - a) * 1000 }' >>"$1"
}

jobs_list=()
for c in "${cases[@]}"; do
  name=${c%%|*}
  command=${c#*|}
  if [[ $command == *BIN* ]]; then
    for i in "${!binaries[@]}"; do jobs_list+=("$name#$i|${command//BIN/${binaries[$i]}}"); done
  else
    jobs_list+=("$name#-|$command")
  fi
done
n=${#jobs_list[@]}
for ((r = 0; r < reps; r++)); do
  for ((k = 0; k < n; k++)); do
    job=${jobs_list[$(((k + r) % n))]}
    key=${job%%|*}
    read -r -a argv <<<"${job#*|}"
    run_once "$scratch/${key//[^a-z0-9#-]/_}" "${argv[@]}"
  done
done

true_ms=$(median "true#-")
ratio() { awk -v v="$1" -v t="$true_ms" 'BEGIN { printf "%.1fx", v / t }'; }
{
  echo "# Fixed cost of a run"
  echo
  echo "Written by \`bench/startup.sh\`; re-run it to refresh. Each of $reps rounds runs every case"
  echo "once, in an order rotated each round; medians of wall time (fork and exec included, as a"
  echo "shell pays them), and each median's ratio to /bin/true's in the same rounds. Host: the"
  echo "workstation example (14 devices), names from the system's pci.ids."
  echo
  echo "| | |"
  echo "|---|---|"
  bench_machine_rows "$(dirname "${binaries[0]}")" "$source_dir" "${out_file#"$source_dir"/}" 2>/dev/null ||
    echo "| machine | $(nproc) CPUs |"
  for i in "${!binaries[@]}"; do echo "| binary $((i + 1)) | ${binaries[$i]} |"; done
  echo
  if [ ${#binaries[@]} -eq 1 ]; then
    echo "| case | median ms | x /bin/true |"
    echo "|---|---:|---:|"
  else
    echo "| case | binary 2 (before) ms | x /bin/true | binary 1 ms | x /bin/true |"
    echo "|---|---:|---:|---:|---:|"
  fi
  for c in "${cases[@]}"; do
    name=${c%%|*}
    key=${name//[^a-z0-9#-]/_}
    if [[ ${c#*|} != *BIN* ]]; then
      m=$(median "$key#-")
      if [ ${#binaries[@]} -eq 1 ]; then
        echo "| $name | $m | $(ratio "$m") |"
      else
        echo "| $name | $m | $(ratio "$m") | $m | $(ratio "$m") |"
      fi
    elif [ ${#binaries[@]} -eq 1 ]; then
      m=$(median "$key#0")
      echo "| $name | $m | $(ratio "$m") |"
    else
      m0=$(median "$key#0")
      m1=$(median "$key#1")
      echo "| $name | $m1 | $(ratio "$m1") | $m0 | $(ratio "$m0") |"
    fi
  done
} >"$out_file"
cat "$out_file"
