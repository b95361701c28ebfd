// vfio-bench: how long observe (and plan) take on a very large host, and how much memory.
//
//   vfio-bench [--devices N] [--reps R] [--dir DIR]   generate a host, then measure it
//   vfio-bench --measure DIR [--reps R]                measure a host written earlier
//
// The first form writes make_large_host(N) (10,000 devices by default) to DIR (a fresh temporary
// directory, removed afterwards, when no --dir is given), then runs itself again with --measure
// in a new process: the generator's memory never counts towards the measured peak RSS.
//
// The measuring process runs each case once to warm up (page cache, dentry cache, allocator),
// then R rounds (21 by default), each running every case once in a rotated order: the floor (a
// bare loop over every device), `lspci -Dvmmnnk` on the tree (when pciutils is installed),
// observe + plan of a GPU manifest and of the fleet manifest as `plan` does them (the scoped
// observation of Reconciler::observe_host), and every device read in full + plan. It prints each
// case's median, min and p90 and its median against the floor's (issue 18: ratios measured side
// by side hold on any machine), and its peak RSS (getrusage ru_maxrss): the whole process -
// executable, shared libraries, the warm-up and every repetition, one snapshot alive at a time.
// The last lines are key=value pairs for scripts (bench/run.sh).
#include <dirent.h>
#include <fcntl.h>
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

#include "apply/reconciler.h"
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

// The floor (issue 18): a bare single-threaded loop reading, per device, 4 attributes (vendor,
// device, class, driver_override) and 2 links (driver, iommu_group) by their full paths, with
// no gateway, no findings and no snapshot: what any tool that looks at each device pays.
std::size_t bare_loop(const std::string& dir) {
  const std::string devices = dir + "/bus/pci/devices";
  std::size_t bytes = 0;
  DIR* listing = opendir(devices.c_str());
  if (!listing) throw std::runtime_error("cannot list " + devices);
  char buffer[4096];
  while (const dirent* entry = readdir(listing)) {
    if (entry->d_name[0] == '.') continue;
    const std::string device = devices + "/" + entry->d_name + "/";
    for (const char* attribute : {"vendor", "device", "class", "driver_override"}) {
      const int fd = open((device + attribute).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      const ssize_t n = read(fd, buffer, sizeof buffer);
      if (n > 0) bytes += static_cast<std::size_t>(n);
      close(fd);
    }
    for (const char* link : {"driver", "iommu_group"}) {
      const ssize_t n = readlink((device + link).c_str(), buffer, sizeof buffer);
      if (n > 0) bytes += static_cast<std::size_t>(n);
    }
  }
  closedir(listing);
  return bytes;
}

// `lspci -Dvmmnnk` on the tree (through libpci's sysfs.path), its output thrown away; false when
// lspci cannot be run (pciutils not installed).
bool run_lspci(const std::string& dir) {
  const std::string option = "sysfs.path=" + dir + "/bus/pci";
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null >= 0) {
      dup2(null, 1);
      dup2(null, 2);
    }
    const char* args[] = {"lspci", "-Dvmmnnk", "-A", "linux-sysfs", "-O", option.c_str(), nullptr};
    execvp("lspci", const_cast<char* const*>(args));
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error("waitpid failed");
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

struct Case {
  const char* key;
  const char* what;
  std::vector<double> ms;
};

int measure(const std::string& dir, unsigned reps) {
  const long startup_kib = peak_rss_kib();
  vfio::RealSysfs sysfs{fs::path(dir)};
  // As `plan` does: the wider host from this machine's /proc (read only; the generated host has
  // no interfaces, disks or VFIO nodes of its own, so this is the cost of looking).
  vfio::RealSysfs proc{fs::path("/proc")};
  const vfio::DesiredState& gpus = vfio::bench::gpu_manifest();
  const vfio::DesiredState& fleet = vfio::bench::fleet_manifest();
  const vfio::OwnershipRecord nothing_held;

  // What `plan` reads (Reconciler::observe_host): every device's identity, then in full what the
  // manifest is about; and, for comparison, every device in full (what plan read before).
  auto plan_of = [&](const vfio::DesiredState& desired) {
    const vfio::HostSnapshot snapshot = vfio::observe_scope(
        sysfs, vfio::scope_of_plan(desired, nothing_held), vfio::ObserveDetail::Planning, &proc);
    return std::make_pair(snapshot.devices.size(), vfio::bench::plan_step(desired, snapshot));
  };
  auto whole = [&] {
    const vfio::HostSnapshot snapshot = vfio::observe(sysfs, vfio::ObserveDetail::Planning, &proc);
    return std::make_pair(snapshot.devices.size(), vfio::bench::plan_step(fleet, snapshot));
  };

  // Warm-up (page cache, dentry cache, allocator), and what each case covers.
  std::size_t devices = 0;
  std::size_t findings = 0;
  {
    const vfio::HostSnapshot all = vfio::observe(sysfs, vfio::ObserveDetail::Planning, &proc);
    devices = all.devices.size();
    findings = all.findings.size();
  }
  const auto [gpu_devices, gpu_changes] = plan_of(gpus);
  const auto [fleet_devices, fleet_changes] = plan_of(fleet);
  const bool have_lspci = run_lspci(dir);
  bare_loop(dir);

  std::vector<Case> cases = {
      {"floor", "bare loop: 4 attributes and 2 links per device, one thread", {}},
      {"lspci", "lspci -Dvmmnnk", {}},
      {"gpus", "observe + plan, a manifest of the GPUs", {}},
      {"fleet", "observe + plan, the fleet manifest (GPUs, every VF, NVMe)", {}},
      {"whole", "every device read in full + plan (the fleet manifest)", {}},
  };
  std::size_t sink = 0;
  for (unsigned r = 0; r < reps; ++r) {
    // Each repetition runs every case once, starting one further along: no case always first.
    for (std::size_t k = 0; k < cases.size(); ++k) {
      Case& c = cases[(k + r) % cases.size()];
      const std::string key = c.key;
      if (key == "lspci" && !have_lspci) continue;
      const auto start = Clock::now();
      if (key == "floor") {
        sink += bare_loop(dir);
      } else if (key == "lspci") {
        sink += run_lspci(dir) ? 1u : 0u;
      } else if (key == "gpus") {
        sink += plan_of(gpus).second;
      } else if (key == "fleet") {
        sink += plan_of(fleet).second;
      } else {
        sink += whole().second;
      }
      c.ms.push_back(ms_since(start));
    }
  }
  const long peak_kib = peak_rss_kib();
  if (sink == 0) fmt::print("(empty host)\n");
  const double peak_mib = static_cast<double>(peak_kib) / 1024.0;
  const double startup_mib = static_cast<double>(startup_kib) / 1024.0;

  const Stats floor = vfio::bench::summarize(cases[0].ms);
  fmt::print("vfio-bench: {} devices ({} findings) under {}\n", devices, findings, dir);
  fmt::print(
      "{} repetitions after one warm-up, each running every case in a rotated order; wall\n"
      "time in ms, and each median against the floor's in the same run\n\n",
      reps);
  fmt::print("{:<6} {:>9} {:>9} {:>9} {:>8}  {}\n", "case", "median", "min", "p90", "x floor",
             "what");
  for (const Case& c : cases) {
    if (c.ms.empty()) {
      fmt::print("{:<6} {:>9}  {} (not installed)\n", c.key, "n/a", c.what);
      continue;
    }
    const Stats st = vfio::bench::summarize(c.ms);
    fmt::print("{:<6} {:>9.2f} {:>9.2f} {:>9.2f} {:>8.2f}  {}\n", c.key, st.median, st.min, st.p90,
               st.median / floor.median, c.what);
  }
  fmt::print(
      "\nthe GPU manifest reads {} devices in full ({} changes planned); the fleet "
      "manifest {} ({} changes)\n",
      gpu_devices, gpu_changes, fleet_devices, fleet_changes);
  fmt::print(
      "peak RSS: {:.1f} MiB (this measuring process: executable, shared libraries, warm-up and\n"
      "          every repetition; {:.1f} MiB before the first observe; the host generator ran\n"
      "          in another process)\n\n",
      peak_mib, startup_mib);

  fmt::print("bench.devices={}\n", devices);
  fmt::print("bench.findings={}\n", findings);
  fmt::print("bench.reps={}\n", reps);
  fmt::print("bench.gpus.devices_read={}\nbench.gpus.changes={}\n", gpu_devices, gpu_changes);
  fmt::print("bench.fleet.devices_read={}\nbench.fleet.changes={}\n", fleet_devices, fleet_changes);
  for (const Case& c : cases) {
    if (c.ms.empty()) continue;
    const Stats st = vfio::bench::summarize(c.ms);
    fmt::print("bench.{0}.median_ms={1:.2f}\nbench.{0}.min_ms={2:.2f}\nbench.{0}.p90_ms={3:.2f}\n",
               c.key, st.median, st.min, st.p90);
    fmt::print("bench.{}.floor_ratio={:.3f}\n", c.key, st.median / floor.median);
  }
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
