// vfio-sim-run: the real CLI entry point (cli::run) against the kernel simulator, for end-to-end
// tests of commands that write (apply), which an on-disk tree cannot answer like a kernel does.
//
//   vfio-sim-run TOPOLOGY.yaml [--fail-write PATH:NTH:ERRNO]... [--runs N] [--show-writes]
//                -- ARGS... [-- ARGS...]...
//
// Runs each `vfio-reconcile ARGS...` in turn, N times in a row (default 1), on one simulated host
// with one scratch state directory (--state-dir is added) and the topology's /proc written to a
// scratch directory (as --proc-root; processes and mounts do not change as the host does). After
// each run it prints the run's stdout, with --show-writes every write of the run (by IOMMU group),
// and a "[run K: exit C, W writes]" line; it exits with the last run's code. Durations ("(0.12 s)",
// "elapsed_ms") are printed as zeros so golden files do not depend on the machine's speed.
#include <cerrno>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <boost/filesystem/operations.hpp>

#include "cli/run.h"
#include "sim/kernel_simulator.h"
#include "sim/simulated_modules.h"
#include "sim/sysfs_tree_writer.h"
#include "sim/topology_yaml.h"
#include "sysfs/real_sysfs.h"

namespace {

namespace fs = boost::filesystem;

const std::map<std::string, int> kErrors = {
    {"EBUSY", EBUSY}, {"ENODEV", ENODEV}, {"EIO", EIO}, {"EINVAL", EINVAL}, {"ENOENT", ENOENT}};

std::string without_durations(std::string text) {
  text = std::regex_replace(text, std::regex(R"(\(\d+\.\d\d s\))"), "(0.00 s)");
  return std::regex_replace(text, std::regex(R"("elapsed_ms": \d+)"), "\"elapsed_ms\": 0");
}

int usage(const std::string& why) {
  std::cerr << "vfio-sim-run: " << why
            << "\nusage: vfio-sim-run TOPOLOGY.yaml [--fail-write PATH:NTH:ERRNO]... [--runs N] "
               "[--show-writes] -- ARGS... [-- ARGS...]...\n";
  return 64;
}

// The writes from `first` on, one per line, by IOMMU group: groups may run in parallel, so
// each group's writes are shown together, in their own order, groups by number.
std::string show_writes(const vfio::sim::KernelSimulator& kernel, std::size_t first) {
  std::map<vfio::PciAddress, unsigned> group_of;
  for (const auto& d : kernel.topology().devices) {
    if (d.iommu_group) group_of[d.address] = *d.iommu_group;
  }
  constexpr unsigned kNoGroup = ~0u;  // bus-wide writes, and devices without a group: last
  std::map<unsigned, std::string> lines;
  const auto writes = kernel.writes();
  for (std::size_t k = first; k < writes.size(); ++k) {
    const auto& w = writes[k];
    const auto device = w.device();
    const auto it = device ? group_of.find(*device) : group_of.end();
    const unsigned group = it != group_of.end() ? it->second : kNoGroup;
    // "\n" clears driver_override: shown escaped so that each write stays on one line.
    const std::string value = w.value == "\n" ? "\\n" : w.value;
    lines[group] += fmt::format(
        "  {}: {} <- {}{}\n", group == kNoGroup ? "no group" : fmt::format("group {}", group),
        kernel.display(w.path), value, w.error ? " (" + vfio::errno_name(w.error) + ")" : "");
  }
  std::string out;
  for (const auto& [group, text] : lines) out += text;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return usage("too few arguments");
  std::vector<std::string> args(argv + 1, argv + argc);
  const std::string topology_file = args[0];
  unsigned runs = 1;
  bool writes_shown = false;
  std::vector<std::tuple<std::string, unsigned, int>> failures;
  std::size_t i = 1;
  for (; i < args.size() && args[i] != "--"; ++i) {
    if (args[i] == "--runs" && i + 1 < args.size()) {
      runs = static_cast<unsigned>(std::stoul(args[++i]));
    } else if (args[i] == "--show-writes") {
      writes_shown = true;
    } else if (args[i] == "--fail-write" && i + 1 < args.size()) {
      const std::string spec = args[++i];
      const auto a = spec.find(':'), b = spec.rfind(':');
      if (a == std::string::npos || a == b || !kErrors.count(spec.substr(b + 1))) {
        return usage("--fail-write wants PATH:NTH:ERRNO, e.g. bus/pci/drivers_probe:2:EIO");
      }
      failures.emplace_back(spec.substr(0, a), std::stoul(spec.substr(a + 1, b - a - 1)),
                            kErrors.at(spec.substr(b + 1)));
    } else {
      return usage("unknown option " + args[i]);
    }
  }
  std::vector<std::vector<std::string>> commands;
  for (; i < args.size(); ++i) {
    if (args[i] == "--") {
      commands.emplace_back();
    } else {
      commands.back().push_back(args[i]);
    }
  }
  if (commands.empty()) return usage("missing -- before the vfio-reconcile arguments");

  const vfio::sim::Topology topology = vfio::sim::load_topology(topology_file);
  vfio::sim::KernelSimulator kernel(topology);
  const fs::path proc_dir = fs::temp_directory_path() / fs::unique_path("vfio-sim-proc-%%%%-%%%%");
  vfio::sim::write_proc_tree(topology, proc_dir);
  vfio::RealSysfs proc(proc_dir);
  for (const auto& [path, nth, error] : failures) {
    vfio::SysPath sys_path;
    std::istringstream parts(path);
    for (std::string part; std::getline(parts, part, '/');) sys_path = sys_path / part;
    kernel.fail_write(sys_path, nth, error);
  }
  vfio::sim::SimulatedModules modules(kernel, true);
  const fs::path state = fs::temp_directory_path() / fs::unique_path("vfio-sim-run-%%%%-%%%%");

  int code = 0;
  unsigned run = 0;
  for (const auto& arguments : commands) {
    std::vector<std::string> command{"vfio-reconcile", "--state-dir", state.string()};
    command.insert(command.end(), arguments.begin(), arguments.end());
    std::vector<const char*> cargv;
    for (const auto& a : command) cargv.push_back(a.c_str());

    for (unsigned repeat = 0; repeat < runs; ++repeat) {
      std::ostringstream out;
      const std::size_t writes_before = kernel.writes().size();
      vfio::cli::Context context;
      context.sysfs = &kernel;
      context.proc = &proc;
      context.modules = &modules;
      context.out = &out;
      context.boot_id = "vfio-sim-run";
      code = vfio::cli::run(static_cast<int>(cargv.size()), cargv.data(), context);
      std::cout << without_durations(out.str())
                << (writes_shown ? show_writes(kernel, writes_before) : "")
                << fmt::format("[run {}: exit {}, {} writes]\n", ++run, code,
                               kernel.writes().size() - writes_before);
    }
  }
  boost::system::error_code ec;
  fs::remove_all(state, ec);
  fs::remove_all(proc_dir, ec);
  return code;
}
