// vfio-bench: how long observe (and plan) take on a very large host, and how much memory.
//
//   vfio-bench [--devices N] [--reps R] [--dir DIR]   generate a host, then measure it
//   vfio-bench --measure DIR [--reps R]                measure a host written earlier
//
// The first form writes make_large_host(N) (10,000 devices by default) to DIR (a fresh temporary
// directory, removed afterwards, when no --dir is given), then runs itself again with --measure
// in a new process: the generator's memory never counts towards the measured peak RSS.
//
// The measuring process observes the tree through RealSysfs once to warm up (page cache, dentry
// cache, allocator), then R times (21 by default), timing each step; it prints median, min and
// p90 per step and for the total, and its peak RSS (getrusage ru_maxrss): the whole process -
// executable, shared libraries, the warm-up and every repetition, one snapshot alive at a time.
// The last lines are key=value pairs for scripts (bench/run.sh).
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <boost/filesystem.hpp>

#include "observe/observe.h"
#include "plan_step.h"
#include "sample_stats.h"
#include "sim/large_host.h"
#include "sim/sysfs_tree_writer.h"
#include "sysfs/real_sysfs.h"

namespace {
namespace fs = boost::filesystem;
using Clock = std::chrono::steady_clock;

struct Options {
  std::size_t devices = 10000;
  unsigned reps = 21;
  std::optional<std::string> dir;      // --dir: where to write the host (kept)
  std::optional<std::string> measure;  // --measure: measure this host only
};

[[noreturn]] void usage(const std::string& why) {
  fmt::print(stderr,
             "vfio-bench: {}\n"
             "usage: vfio-bench [--devices N] [--reps R] [--dir DIR]\n"
             "       vfio-bench --measure DIR [--reps R]\n",
             why);
  std::exit(64);
}

unsigned long parse_count(const std::string& text, const char* option) {
  std::size_t used = 0;
  unsigned long value = 0;
  try {
    value = std::stoul(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || value == 0) usage(fmt::format("{} wants a positive number", option));
  return value;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(fmt::format("{} wants a value", arg));
      return argv[++i];
    };
    if (arg == "--devices")
      o.devices = parse_count(value(), "--devices");
    else if (arg == "--reps")
      o.reps = static_cast<unsigned>(parse_count(value(), "--reps"));
    else if (arg == "--dir")
      o.dir = value();
    else if (arg == "--measure")
      o.measure = value();
    else
      usage(fmt::format("unknown argument '{}'", arg));
  }
  return o;
}

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

long peak_rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;  // KiB on Linux
}

using Stats = vfio::bench::SampleStats;

int measure(const std::string& dir, unsigned reps) {
  const long startup_kib = peak_rss_kib();
  vfio::RealSysfs sysfs{fs::path(dir)};
  // As `plan` does: the wider host from this machine's /proc (read only; the generated host has
  // no interfaces, disks or VFIO nodes of its own, so this is the cost of looking).
  vfio::RealSysfs proc{fs::path("/proc")};

  // The planning level: what `plan` reads before planning (status reads the full level).
  constexpr auto kDetail = vfio::ObserveDetail::Planning;
  vfio::HostSnapshot warm = vfio::observe(sysfs, kDetail, &proc);
  const std::size_t devices = warm.devices.size();
  const std::size_t findings = warm.findings.size();
  const std::size_t planned_changes = vfio::bench::plan_step(warm);
  warm = {};

  std::vector<double> observe_ms, plan_ms, total_ms;
  std::size_t sink = 0;
  for (unsigned r = 0; r < reps; ++r) {
    const auto start = Clock::now();
    vfio::HostSnapshot snapshot = vfio::observe(sysfs, kDetail, &proc);
    observe_ms.push_back(ms_since(start));
    sink += snapshot.devices.size();
    const auto plan_start = Clock::now();
    sink += vfio::bench::plan_step(snapshot);
    plan_ms.push_back(ms_since(plan_start));
    total_ms.push_back(ms_since(start));
  }
  const long peak_kib = peak_rss_kib();
  if (sink == 0) fmt::print("(empty host)\n");

  const Stats o = vfio::bench::summarize(observe_ms);
  const Stats t = vfio::bench::summarize(total_ms);
  const Stats p = vfio::bench::summarize(plan_ms);
  const double peak_mib = static_cast<double>(peak_kib) / 1024.0;
  const double startup_mib = static_cast<double>(startup_kib) / 1024.0;

  fmt::print("vfio-bench: {} devices ({} findings) under {}\n", devices, findings, dir);
  fmt::print("{} repetitions after one warm-up, wall time in ms; observe at the planning level\n\n",
             reps);
  fmt::print("{:<8} {:>9} {:>9} {:>9}\n", "step", "median", "min", "p90");
  fmt::print("{:<8} {:>9.2f} {:>9.2f} {:>9.2f}\n", "observe", o.median, o.min, o.p90);
  fmt::print("{:<8} {:>9.2f} {:>9.2f} {:>9.2f}   ({} changes planned)\n", "plan", p.median, p.min,
             p.p90, planned_changes);
  fmt::print("{:<8} {:>9.2f} {:>9.2f} {:>9.2f}\n\n", "total", t.median, t.min, t.p90);
  fmt::print(
      "peak RSS: {:.1f} MiB (this measuring process: executable, shared libraries, warm-up and\n"
      "          every repetition; {:.1f} MiB before the first observe; the host generator ran\n"
      "          in another process)\n\n",
      peak_mib, startup_mib);

  fmt::print("bench.devices={}\n", devices);
  fmt::print("bench.findings={}\n", findings);
  fmt::print("bench.reps={}\n", reps);
  fmt::print("bench.observe.detail=planning\n");
  fmt::print(
      "bench.observe.median_ms={:.2f}\nbench.observe.min_ms={:.2f}\n"
      "bench.observe.p90_ms={:.2f}\n",
      o.median, o.min, o.p90);
  fmt::print("bench.plan.median_ms={:.2f}\nbench.plan.min_ms={:.2f}\nbench.plan.p90_ms={:.2f}\n",
             p.median, p.min, p.p90);
  fmt::print("bench.plan.changes={}\n", planned_changes);
  fmt::print("bench.total.median_ms={:.2f}\nbench.total.min_ms={:.2f}\nbench.total.p90_ms={:.2f}\n",
             t.median, t.min, t.p90);
  fmt::print("bench.peak_rss_mib={:.1f}\nbench.startup_rss_mib={:.1f}\n", peak_mib, startup_mib);
  return findings == 0 ? 0 : 1;
}

// Runs this executable again as `--measure DIR --reps R` and returns its exit status.
int measure_in_child(const std::string& dir, unsigned reps) {
  std::fflush(stdout);
  const std::string reps_text = std::to_string(reps);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const char* args[] = {"vfio-bench", "--measure",       dir.c_str(),
                          "--reps",     reps_text.c_str(), nullptr};
    execv("/proc/self/exe", const_cast<char* const*>(args));
    std::perror("vfio-bench: exec /proc/self/exe");
    _exit(70);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error("waitpid failed");
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  fmt::print(stderr, "vfio-bench: the measuring process died (signal {})\n", WTERMSIG(status));
  return 70;
}

int generate_and_measure(const Options& o) {
  const bool temporary = !o.dir;
  const fs::path dir = temporary
                           ? fs::temp_directory_path() / fs::unique_path("vfio-bench-%%%%-%%%%")
                           : fs::path(*o.dir);
  const auto start = Clock::now();
  {
    vfio::sim::LargeHostSpec spec;
    spec.devices = o.devices;
    vfio::sim::write_sysfs_tree(vfio::sim::make_large_host(spec), dir);
  }
  fmt::print("vfio-bench: wrote a {}-device host to {} in {:.0f} ms\n", o.devices, dir.string(),
             ms_since(start));
  int status = 70;
  try {
    status = measure_in_child(dir.string(), o.reps);
  } catch (...) {
    if (temporary) fs::remove_all(dir);
    throw;
  }
  if (temporary) fs::remove_all(dir);
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  try {
    if (o.measure) return measure(*o.measure, o.reps);
    return generate_and_measure(o);
  } catch (const std::exception& e) {
    fmt::print(stderr, "vfio-bench: {}\n", e.what());
    return 70;
  }
}
