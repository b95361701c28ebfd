// vfio-sim-run: the real CLI entry point (cli::run) against the kernel simulator, for end-to-end
// tests of commands that write (apply), which an on-disk tree cannot answer like a kernel does.
//
//   vfio-sim-run TOPOLOGY.yaml [--fail-write PATH:NTH:ERRNO]... [--ownership FILE] [--runs N]
//                [--show-writes] -- ARGS... [-- ARGS...]...
//
// --fail-write: the NTH write to PATH fails with ERRNO (any errno name). PATH is relative to
// /sys, or starts with /sys/, and may hold colons (bus/pci/devices/0000:01:00.0/driver_override):
// NTH and ERRNO are the last two fields. --ownership: the state directory starts with FILE as
// its ownership record (boot id "vfio-sim-run"), as a run of an earlier day left it.
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
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <boost/filesystem/operations.hpp>

#include "util/result.h"

#include "cli/run.h"
#include "sim/kernel_simulator.h"
#include "sim/simulated_modules.h"
#include "sim/sysfs_tree_writer.h"
#include "sim/topology_yaml.h"
#include "sysfs/real_sysfs.h"

namespace {

namespace fs = boost::filesystem;

// "EIO" -> EIO: the names errno_name() gives, so any errno the kernel could answer.
std::optional<int> errno_of(const std::string& name) {
  for (int error = 1; error < 4096; ++error) {
    if (vfio::errno_name(error) == name) return error;
  }
  return std::nullopt;
}

struct PlannedFailure {
  vfio::SysPath path;
  unsigned nth = 1;
  int error = 0;
};

// PATH:NTH:ERRNO, split from the right (PATH may hold colons); PATH relative to /sys or under
// /sys/. Nothing, and why, when it is not that.
std::optional<PlannedFailure> parse_failure(const std::string& spec, std::string& why) {
  const auto b = spec.rfind(':');
  const auto a = b == std::string::npos || b == 0 ? std::string::npos : spec.rfind(':', b - 1);
  if (a == std::string::npos) {
    why = "wants PATH:NTH:ERRNO";
    return std::nullopt;
  }
  PlannedFailure f;
  const auto error = errno_of(spec.substr(b + 1));
  if (!error) {
    why = "'" + spec.substr(b + 1) + "' is not an errno name";
    return std::nullopt;
  }
  f.error = *error;
  const std::string nth = spec.substr(a + 1, b - a - 1);
  if (nth.empty() || nth.find_first_not_of("0123456789") != std::string::npos || nth.size() > 6 ||
      std::stoul(nth) == 0) {
    why = "NTH '" + nth + "' is not a write number (1, 2, ...)";
    return std::nullopt;
  }
  f.nth = static_cast<unsigned>(std::stoul(nth));
  std::string path = spec.substr(0, a);
  if (path.rfind("/sys/", 0) == 0) path.erase(0, 5);
  try {
    std::istringstream parts(path);
    for (std::string part; std::getline(parts, part, '/');) f.path = f.path / part;
  } catch (const std::exception& e) {
    why = "'" + spec.substr(0, a) + "' is not a sysfs path: " + e.what();
    return std::nullopt;
  }
  if (f.path.str().empty()) {
    why = "no PATH";
    return std::nullopt;
  }
  return f;
}

std::string without_durations(std::string text) {
  text = std::regex_replace(text, std::regex(R"(\(\d+\.\d\d s\))"), "(0.00 s)");
  return std::regex_replace(text, std::regex(R"("elapsed_ms": \d+)"), "\"elapsed_ms\": 0");
}

int usage(const std::string& why) {
  std::cerr << "vfio-sim-run: " << why
            << "\nusage: vfio-sim-run TOPOLOGY.yaml [--fail-write PATH:NTH:ERRNO]... "
               "[--ownership FILE] [--runs N] [--show-writes] -- ARGS... [-- ARGS...]...\n";
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
  std::vector<PlannedFailure> failures;
  std::optional<std::string> ownership;
  std::size_t i = 1;
  for (; i < args.size() && args[i] != "--"; ++i) {
    if (args[i] == "--runs" && i + 1 < args.size()) {
      runs = static_cast<unsigned>(std::stoul(args[++i]));
    } else if (args[i] == "--show-writes") {
      writes_shown = true;
    } else if (args[i] == "--fail-write" && i + 1 < args.size()) {
      std::string why;
      auto failure = parse_failure(args[++i], why);
      if (!failure) {
        return usage("--fail-write " + args[i] + ": " + why +
                     ", e.g. bus/pci/drivers_probe:2:EIO or "
                     "/sys/bus/pci/devices/0000:01:00.0/driver_override:1:EBUSY");
      }
      failures.push_back(std::move(*failure));
    } else if (args[i] == "--ownership" && i + 1 < args.size()) {
      ownership = args[++i];
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
  for (const auto& f : failures) kernel.fail_write(f.path, f.nth, f.error);
  vfio::sim::SimulatedModules modules(kernel, true);
  const fs::path state = fs::temp_directory_path() / fs::unique_path("vfio-sim-run-%%%%-%%%%");
  if (ownership) {
    fs::create_directories(state);
    boost::system::error_code ec;
    fs::copy_file(*ownership, state / "ownership.json", ec);
    if (ec) return usage("--ownership " + *ownership + ": " + ec.message());
  }

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
