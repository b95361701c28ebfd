// vfio-sim-run: the real CLI entry point (cli::run) against the kernel simulator, for end-to-end
// tests of commands that write (apply), which an on-disk tree cannot answer like a kernel does.
//
//   vfio-sim-run TOPOLOGY.yaml [--fail-write PATH:NTH:ERRNO]... [--runs N] -- ARGS...
//
// Runs `vfio-reconcile ARGS...` N times (default 1) on one simulated host with a scratch state
// directory (--state-dir is added), prints each run's stdout, a "[run K: exit C, W writes]" line
// after each, and exits with the last run's code. Durations ("(0.12 s)", "elapsed_ms") are
// printed as zeros so golden files do not depend on the machine's speed.
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
#include "sim/topology_yaml.h"

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
               "-- ARGS...\n";
  return 64;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return usage("too few arguments");
  std::vector<std::string> args(argv + 1, argv + argc);
  const std::string topology_file = args[0];
  unsigned runs = 1;
  std::vector<std::tuple<std::string, unsigned, int>> failures;
  std::size_t i = 1;
  for (; i < args.size() && args[i] != "--"; ++i) {
    if (args[i] == "--runs" && i + 1 < args.size()) {
      runs = static_cast<unsigned>(std::stoul(args[++i]));
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
  if (i >= args.size()) return usage("missing -- before the vfio-reconcile arguments");

  vfio::sim::KernelSimulator kernel(vfio::sim::load_topology(topology_file));
  for (const auto& [path, nth, error] : failures) {
    vfio::SysPath sys_path;
    std::istringstream parts(path);
    for (std::string part; std::getline(parts, part, '/');) sys_path = sys_path / part;
    kernel.fail_write(sys_path, nth, error);
  }
  vfio::sim::SimulatedModules modules(kernel, true);
  const fs::path state = fs::temp_directory_path() / fs::unique_path("vfio-sim-run-%%%%-%%%%");

  std::vector<std::string> command{"vfio-reconcile", "--state-dir", state.string()};
  command.insert(command.end(), args.begin() + static_cast<long>(i) + 1, args.end());
  std::vector<const char*> cargv;
  for (const auto& a : command) cargv.push_back(a.c_str());

  int code = 0;
  for (unsigned run = 1; run <= runs; ++run) {
    std::ostringstream out;
    const std::size_t writes_before = kernel.writes().size();
    vfio::cli::Context context;
    context.sysfs = &kernel;
    context.modules = &modules;
    context.out = &out;
    context.boot_id = "vfio-sim-run";
    code = vfio::cli::run(static_cast<int>(cargv.size()), cargv.data(), context);
    std::cout << without_durations(out.str())
              << fmt::format("[run {}: exit {}, {} writes]\n", run, code,
                             kernel.writes().size() - writes_before);
  }
  boost::system::error_code ec;
  fs::remove_all(state, ec);
  return code;
}
