# shellcheck shell=bash
# Shared by bench/run*.sh (sourced): reading a bench program's key=value lines, and the rows
# that say on what a results table was measured.

# bench_value KEY FILE: the value of "bench.KEY=" in FILE, or n/a.
bench_value() {
  local v
  v=$(sed -n "s/^bench\.$1=//p" "$2")
  [[ -n $v ]] || v="n/a"
  echo "$v"
}

# bench_machine_rows BUILD_DIR SOURCE_DIR RESULTS_FILE: the date, machine, kernel, compiler and
# build rows of a results table. The commit gets "+changes" when src, tests or bench differ from
# it (the results file itself excepted).
bench_machine_rows() {
  local build_dir=$1 source_dir=$2 results=$3
  local cpu compiler build_type commit
  cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n1)
  compiler=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build_dir/CMakeCache.txt")
  build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build_dir/CMakeCache.txt")
  commit=$(git -C "$source_dir" rev-parse --short HEAD)
  if ! git -C "$source_dir" diff --quiet HEAD -- src tests bench ":!$results"; then
    commit="$commit+changes"
  fi
  echo "| date | $(date -u '+%Y-%m-%d %H:%M UTC') |"
  echo "| machine | $(nproc) CPUs, $cpu |"
  echo "| kernel | $(uname -r) |"
  echo "| compiler | $("$compiler" --version | head -n1) |"
  echo "| build type | $build_type (commit $commit) |"
}
