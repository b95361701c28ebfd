// vfio-apply-bench: does applying independent IOMMU groups in parallel hide the probe latency?
//
//   vfio-apply-bench [--groups G] [--jobs J] [--latency-ms L] [--reps R]
//
// Issue 4 asks that with 200 ms of probe latency, 8 independent groups finish in under 1.3x the
// time of one group. The host is built in code: G NICs (8 by default), each behind a root port
// of its own, each NIC alone in its IOMMU group and bound to its host driver (ice), vfio-pci
// loaded. The kernel simulator makes every probe bind only L ms (200 by default) after the
// drivers_probe write, as asynchronous probing does, so each claim has to wait for it.
//
// Three cases, each claiming NICs through a manifest loaded from a temporary file:
//   one       1 NIC,  the pipeline's execute with J jobs (8 by default): the time of one group
//   parallel  G NICs, J jobs: what the target is about
//   serial    G NICs, 1 job: the cost parallelism hides, for contrast
// Only Reconciler::execute (execute_plan, then settling the record) is timed; every repetition
// starts from a fresh simulator (all NICs back on ice), observes and plans untimed first. The
// repetitions of the three cases are interleaved, so a noisy moment on the machine is shared by all
// of them rather than skewing one. One untimed warm-up round comes first.
//
// Prints median, min and max per case, each group's own elapsed time (median over groups and
// repetitions), the ratio median(parallel) / median(one), then key=value lines for scripts
// (bench/run-apply.sh). Exits 1 when a group was not claimed: the timing would mean nothing.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <boost/filesystem.hpp>

#include "apply/ownership_ledger.h"
#include "apply/reconciler.h"
#include "manifest/load_manifests.h"
#include "plan/plan.h"
#include "sample_stats.h"
#include "sim/kernel_simulator.h"
#include "sim/simulated_modules.h"
#include "sim/topology.h"
#include "store/store.h"

namespace {
namespace fs = boost::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Root ports take bus 00 slots 01 to 1f, one per NIC.
constexpr unsigned kMaxGroups = 31;

struct Options {
  unsigned groups = 8;
  unsigned jobs = 8;
  unsigned latency_ms = 200;
  unsigned reps = 5;
};

[[noreturn]] void usage(const std::string& why) {
  fmt::print(stderr,
             "vfio-apply-bench: {}\n"
             "usage: vfio-apply-bench [--groups G] [--jobs J] [--latency-ms L] [--reps R]\n",
             why);
  std::exit(64);
}

unsigned parse_number(const std::string& text, const std::string& option, unsigned min,
                      unsigned max) {
  std::size_t used = 0;
  unsigned long value = 0;
  try {
    value = std::stoul(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || value < min || value > max) {
    usage(fmt::format("{} wants a number from {} to {}", option, min, max));
  }
  return static_cast<unsigned>(value);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(fmt::format("{} wants a value", arg));
      return argv[++i];
    };
    if (arg == "--groups") {
      o.groups = parse_number(value(), arg, 1, kMaxGroups);
    } else if (arg == "--jobs") {
      o.jobs = parse_number(value(), arg, 1, 256);
    } else if (arg == "--latency-ms") {
      o.latency_ms = parse_number(value(), arg, 0, 60000);
    } else if (arg == "--reps") {
      o.reps = parse_number(value(), arg, 1, 1000);
    } else {
      usage(fmt::format("unknown argument '{}'", arg));
    }
  }
  return o;
}

vfio::PciAddress nic_address(unsigned i) {
  return vfio::PciAddress(0, static_cast<uint8_t>(i + 1), 0, 0);
}

// `groups` Intel E810 NICs (ice), each alone behind an ACS root port: every NIC is an IOMMU
// group of its own, so nothing orders their claims but the executor.
vfio::sim::Topology make_host(unsigned groups) {
  using vfio::sim::HeaderType;
  using vfio::sim::TopologyDevice;
  vfio::sim::Topology t;
  t.name = "apply-bench";
  t.description = fmt::format("{} NICs, one per IOMMU group", groups);
  t.vfio_pci = vfio::sim::Topology::VfioPci::Loaded;
  for (unsigned i = 0; i < groups; ++i) {
    TopologyDevice port;
    port.address = vfio::PciAddress(0, 0, static_cast<uint8_t>(i + 1), 0);
    port.vendor = 0x8086;
    port.device = 0x2030;
    port.class_code = 0x060400;
    port.header = HeaderType::Bridge;
    port.iommu_group = 2 * i;
    port.host_driver = port.bound_driver = "pcieport";
    t.devices.push_back(port);

    TopologyDevice nic;
    nic.address = nic_address(i);
    nic.parent = port.address;
    nic.vendor = 0x8086;
    nic.device = 0x1593;
    nic.subsystem_vendor = 0x8086;
    nic.subsystem_device = 0x0002;
    nic.class_code = 0x020000;
    nic.revision = 0x02;
    nic.iommu_group = 2 * i + 1;
    nic.host_driver = nic.bound_driver = "ice";
    t.devices.push_back(nic);
  }
  std::sort(t.devices.begin(), t.devices.end(),
            [](const auto& a, const auto& b) { return a.address < b.address; });
  t.drivers = {
      {"pcieport", std::nullopt, true}, {"ice", "ice", false}, {"vfio-pci", "vfio_pci", true}};
  return t;
}

// A manifest claiming NICs 0 to n-1, one assignment per address: read through load_manifests,
// as `apply` reads one.
std::string manifest_text(unsigned n) {
  std::string text = "version: 1\nassignments:\n";
  for (unsigned i = 0; i < n; ++i) {
    text += fmt::format("  - name: nic{}\n    state: vfio\n    match: {{ address: \"{}\" }}\n", i,
                        nic_address(i).str());
  }
  return text;
}

struct Case {
  std::string key;    // in the key=value lines
  std::string label;  // in the table
  unsigned groups;
  unsigned jobs;
  vfio::DesiredState desired;
  std::vector<double> wall_ms;   // one per repetition
  std::vector<double> group_ms;  // every group's own elapsed time, every repetition
};

using Stats = vfio::bench::SampleStats;

// One repetition of one case on a fresh simulator. Returns false when a NIC was not claimed.
bool run_once(const vfio::sim::Topology& host, const Options& o, Case& c, bool record) {
  vfio::sim::KernelSimulator kernel(host);
  kernel.set_probe_latency(milliseconds(o.latency_ms));
  // vfio-pci is loaded in this host, so the module loader is asked nothing that matters.
  vfio::sim::SimulatedModules modules(kernel, true);
  vfio::Reconciler reconciler(kernel, nullptr, modules);
  const vfio::Planned planned = reconciler.plan(c.desired, vfio::OwnershipRecord{});
  // No journal: writing ownership.json is not what is measured (and costs an fsync per group).
  vfio::OwnershipLedger ledger({}, nullptr);
  // Generous: a probe timing out here is a bug in the bench, not a slow probe.
  const milliseconds probe_timeout = milliseconds(o.latency_ms) * 5 + milliseconds(10000);

  const auto start = Clock::now();
  auto executed = reconciler.execute(c.desired, {}, planned, ledger,
                                     {.probe_timeout = probe_timeout, .jobs = c.jobs});
  const double wall = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  if (const auto* unavailable = std::get_if<vfio::VfioPciUnavailable>(&executed)) {
    fmt::print(stderr, "vfio-apply-bench: {}\n", unavailable->why);
    return false;
  }
  const vfio::ApplyOutcome& outcome = std::get<vfio::ExecutedPlan>(executed).outcome;

  bool ok = outcome.count(vfio::GroupResult::Claimed) == c.groups;
  for (unsigned i = 0; i < c.groups; ++i) {
    ok = ok && kernel.driver_of(nic_address(i)) == std::string("vfio-pci");
  }
  if (!ok) {
    fmt::print(stderr, "vfio-apply-bench: case '{}': not every NIC was claimed\n", c.label);
    for (const auto& g : outcome.groups) {
      fmt::print(stderr, "  group {}: {}{}\n", g.change && g.change->group ? *g.change->group : 0,
                 vfio::to_string(g.result),
                 g.failure ? fmt::format(" ({}: {})", g.failure->step, g.failure->message) : "");
    }
    return false;
  }
  if (record) {
    c.wall_ms.push_back(wall);
    for (const auto& g : outcome.groups) {
      c.group_ms.push_back(static_cast<double>(g.elapsed.count()));
    }
  }
  return true;
}

int run(const Options& o) {
  const vfio::sim::Topology host = make_host(o.groups);
  std::vector<Case> cases;
  cases.push_back(Case{"one", "1 group", 1, o.jobs, {}, {}, {}});
  cases.push_back(
      Case{"parallel", fmt::format("{} groups", o.groups), o.groups, o.jobs, {}, {}, {}});
  cases.push_back(Case{"serial", fmt::format("{} groups", o.groups), o.groups, 1, {}, {}, {}});

  const fs::path dir = fs::temp_directory_path() / fs::unique_path("vfio-apply-bench-%%%%-%%%%");
  fs::create_directories(dir);
  vfio::RealStore store;
  try {
    for (auto& c : cases) {
      const fs::path file = dir / fmt::format("{}.yaml", c.key);
      std::ofstream(file.string()) << manifest_text(c.groups);
      c.desired = vfio::load_manifests(store, {file.string()});
    }
  } catch (...) {
    fs::remove_all(dir);
    throw;
  }
  fs::remove_all(dir);

  for (unsigned r = 0; r <= o.reps; ++r) {
    for (auto& c : cases) {
      if (!run_once(host, o, c, r > 0)) return 1;  // round 0 is the warm-up
    }
  }

  fmt::print(
      "vfio-apply-bench: {} NICs, one per IOMMU group; probe latency {} ms; {} repetition{} after "
      "one warm-up\n",
      o.groups, o.latency_ms, o.reps, o.reps == 1 ? "" : "s");
  fmt::print(
      "wall time of Reconciler::execute in ms (observe and plan not included); group median: each\n"
      "group transaction's own elapsed time (whole ms), median over groups and repetitions\n\n");
  fmt::print("{:<10} {:<10} {:>5} {:>9} {:>9} {:>9} {:>13}\n", "case", "groups", "jobs", "median",
             "min", "max", "group median");
  std::vector<Stats> wall;
  for (const auto& c : cases) {
    wall.push_back(vfio::bench::summarize(c.wall_ms));
    const Stats& w = wall.back();
    fmt::print("{:<10} {:<10} {:>5} {:>9.1f} {:>9.1f} {:>9.1f} {:>13.1f}\n", c.key, c.label, c.jobs,
               w.median, w.min, w.max, vfio::bench::summarize(c.group_ms).median);
  }
  const double ratio = wall[1].median / wall[0].median;
  const double serial_ratio = wall[2].median / wall[0].median;
  fmt::print("\nmedian({} groups, {} jobs) / median(1 group) = {:.3f}\n", o.groups, o.jobs, ratio);
  fmt::print("median({} groups, 1 job) / median(1 group) = {:.3f}\n\n", o.groups, serial_ratio);

  fmt::print("bench.groups={}\nbench.jobs={}\nbench.latency_ms={}\nbench.reps={}\n", o.groups,
             o.jobs, o.latency_ms, o.reps);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    fmt::print("bench.{0}.groups={1}\nbench.{0}.jobs={2}\n", c.key, c.groups, c.jobs);
    fmt::print("bench.{0}.median_ms={1:.1f}\nbench.{0}.min_ms={2:.1f}\nbench.{0}.max_ms={3:.1f}\n",
               c.key, wall[i].median, wall[i].min, wall[i].max);
    fmt::print("bench.{}.group_median_ms={:.1f}\n", c.key,
               vfio::bench::summarize(c.group_ms).median);
  }
  fmt::print("bench.ratio={:.3f}\nbench.serial_ratio={:.3f}\n", ratio, serial_ratio);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  try {
    return run(o);
  } catch (const std::exception& e) {
    fmt::print(stderr, "vfio-apply-bench: {}\n", e.what());
    return 70;
  }
}
