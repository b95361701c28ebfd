// vfio-rk-sim: a real-kernel scenario's steps, run against the kernel simulator instead.
//
//   vfio-rk-sim TOPOLOGY.yaml STEPS
//
// Runs the same step file the guest runs (tests/realkernel/guest/steps.sh says what each verb
// means), in the current directory (the scenario's, so manifest paths resolve), with the real CLI
// (cli::run) on a simulated host that mirrors the QEMU guest. `dump` prints the state in the
// guest's normalized form (vfio-rk-check dump), so the host can compare the two. Steps that only
// the guest can take are noted and skipped: `status-agrees` (the simulator is not a kernel to
// agree with) and `wait-racer`. `hold` starts a simulated process holding the device's VFIO fd
// (the simulator then blocks its unbind, as the kernel does), and each run reads a /proc
// written from the simulator's processes. Exits 0 when every expectation held, 1 at the first that
// did not.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/run.h"
#include "sim/kernel_simulator.h"
#include "sim/simulated_modules.h"
#include "sim/sysfs_tree_writer.h"
#include "sim/topology_yaml.h"
#include "sysfs/real_sysfs.h"

namespace {

namespace fs = std::filesystem;
using vfio::PciAddress;
using vfio::sim::KernelSimulator;

struct Failed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

PciAddress address(const std::string& text) {
  auto a = PciAddress::parse(text);
  if (!a) throw Failed("not a PCI address: " + text);
  return *a;
}

vfio::SysPath sys_path(const std::string& text) {
  vfio::SysPath path;
  std::istringstream parts(text);
  for (std::string part; std::getline(parts, part, '/');) path = path / part;
  return path;
}

class Runner {
 public:
  Runner(KernelSimulator& kernel, fs::path state)
      : kernel_(kernel), state_(std::move(state)), proc_dir_(state_.string() + "-proc") {}

  void step(const std::string& verb, const std::vector<std::string>& a, const std::string& rest) {
    if (verb == "say") return;
    if (verb == "run") return run(std::stoi(a.at(0)), {a.begin() + 1, a.end()});
    if (verb == "output-has" || verb == "output-lacks") {
      const bool has = output_.find(rest) != std::string::npos;
      if (has != (verb == "output-has")) throw Failed("output " + verb + " '" + rest + "'");
      return;
    }
    if (verb == "expect") return expect(a.at(0), a.at(1), a.at(2));
    if (verb == "viable") {
      const unsigned group = group_of(a.at(0));
      const bool viable = kernel_.group_viable(group);
      std::cout << "group " << group << " (" << a.at(0)
                << "): " << (viable ? "viable" : "NOT viable") << "\n";
      if (viable != (a.at(1) == "yes")) throw Failed("viability is not " + a.at(1));
      return;
    }
    if (verb == "write") {
      const std::string value = a.at(1) == "\\n" ? "\n" : a.at(1);
      auto written = kernel_.write(sys_path(a.at(0)), value);
      if (!written) throw Failed(written.error().to_string());
      return;
    }
    if (verb == "write-fails") {
      auto written = kernel_.write(sys_path(a.at(0)), a.at(1));
      const std::string got = written ? "ok" : vfio::errno_name(written.error().error);
      if (got != a.at(2)) throw Failed("write '" + a.at(1) + "' to " + a.at(0) + " gave " + got);
      return;
    }
    if (verb == "remove-on-bind") {
      return kernel_.remove_on_vfio_bind(address(a.at(0)), address(a.at(1)));
    }
    if (verb == "reprobe-on-unbind") return kernel_.reprobe_on_unbind(address(a.at(0)));
    if (verb == "rescan") return kernel_.rescan();
    if (verb == "modprobe" || verb == "rmmod") {
      // Module names are driver names for the drivers the scenarios load and unload.
      std::string driver = a.at(0);
      std::replace(driver.begin(), driver.end(), '_', '-');
      if (driver != "vfio-pci") driver = a.at(0);
      // ... or the topology says which driver the module registers (bochs: bochs-drm).
      for (const auto& d : kernel_.topology().drivers)
        if (d.module == a.at(0)) driver = d.name;
      if (!(verb == "modprobe" ? kernel_.load_driver(driver) : kernel_.unload_driver(driver))) {
        throw Failed("the simulated host has no driver " + driver);
      }
      return;
    }
    if (verb == "hold") {
      if (holder_) throw Failed("one holder at a time");
      const unsigned group = group_of(a.at(0));
      holder_ = kHolderPid;
      // As vfio-holder does in the guest: the group's node and one device fd.
      kernel_.start_process({kHolderPid, "vfio-holder", {group}, 1, {}, {}});
      return;
    }
    if (verb == "hold-node") {
      if (holder_) throw Failed("one holder at a time");
      holder_ = kHolderPid;
      // As `sleep < PATH &` does in the guest.
      vfio::sim::TopologyProcess sleeper;
      sleeper.pid = kHolderPid;
      sleeper.command = "sleep";
      sleeper.files = {a.at(0)};
      kernel_.start_process(std::move(sleeper));
      return;
    }
    if (verb == "let-go") {
      if (!holder_) throw Failed("no holder");
      kernel_.end_process(*holder_);
      holder_.reset();
      return;
    }
    if (verb == "dump") return dump(a.at(0));
    if (verb == "status-agrees") return run(0, {"status", "--json"});
    if (verb == "wait-racer") {
      std::cout << "(guest only: skipped)\n";
      return;
    }
    throw Failed("unknown step " + verb);
  }

 private:
  unsigned group_of(const std::string& bdf) const {
    // topology() is a copy of the state: keep it alive while d points into it.
    const auto topology = kernel_.topology();
    const auto* d = topology.find(address(bdf));
    if (!d || !d->iommu_group) throw Failed(bdf + ": no IOMMU group");
    return *d->iommu_group;
  }

  void run(int want, std::vector<std::string> args) {
    std::vector<std::string> command{"vfio-reconcile", "--state-dir", state_.string()};
    command.insert(command.end(), args.begin(), args.end());
    std::vector<const char*> argv;
    for (const auto& c : command) argv.push_back(c.c_str());
    std::ostringstream out;
    vfio::cli::Context context;
    context.sysfs = &kernel_;
    context.modules = &modules_;
    context.out = &out;
    context.err = &out;
    context.boot_id = "vfio-rk-sim";
    // The simulated host's /proc as the guest's would read now (who holds which group).
    vfio::sim::write_proc_tree(kernel_.topology(), proc_dir_);
    vfio::RealSysfs proc(proc_dir_);
    context.proc = &proc;
    const int code = vfio::cli::run(static_cast<int>(argv.size()), argv.data(), context);
    output_ = out.str();
    std::cout << output_;
    if (code != want) {
      throw Failed("exit " + std::to_string(code) + ", wanted " + std::to_string(want));
    }
  }

  void expect(const std::string& bdf, const std::string& driver, const std::string& override_) {
    const auto a = address(bdf);
    const std::string d = kernel_.driver_of(a).value_or("-");
    const std::string o = kernel_.override_of(a).value_or("-");
    if (d != driver || o != override_) {
      throw Failed(bdf + " is on " + d + " with override " + o + ", wanted " + driver + " " +
                   override_);
    }
  }

  void dump(const std::string& label) {
    std::cout << "DUMP " << label << "\n";
    auto devices = kernel_.topology().devices;
    std::sort(devices.begin(), devices.end(),
              [](const auto& x, const auto& y) { return x.address.str() < y.address.str(); });
    for (const auto& d : devices) {
      std::cout << "dev " << d.address.str()
                << " driver=" << kernel_.driver_of(d.address).value_or("-")
                << " override=" << kernel_.override_of(d.address).value_or("-") << "\n";
    }
    std::cout << "vfio-nodes";
    for (const unsigned n : kernel_.vfio_group_nodes()) std::cout << " " << n;
    std::cout << "\nEND DUMP\n";
  }

  KernelSimulator& kernel_;
  vfio::sim::SimulatedModules modules_{kernel_, true};
  fs::path state_;
  boost::filesystem::path proc_dir_;
  std::optional<unsigned> holder_;  // the pid of `hold`'s process
  std::string output_;
  static constexpr unsigned kHolderPid = 4321;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: vfio-rk-sim TOPOLOGY.yaml STEPS\n";
    return 64;
  }
  const fs::path state = fs::temp_directory_path() / ("vfio-rk-sim-" + std::to_string(::getpid()));
  int code = 0;
  try {
    KernelSimulator kernel(vfio::sim::load_topology(argv[1]));
    Runner runner(kernel, state);
    std::ifstream steps(argv[2]);
    if (!steps) throw Failed(std::string("cannot read ") + argv[2]);
    unsigned n = 0;
    for (std::string line; std::getline(steps, line);) {
      std::istringstream words(line);
      std::string verb;
      if (!(words >> verb) || verb[0] == '#') continue;
      std::vector<std::string> args;
      for (std::string w; words >> w;) args.push_back(w);
      std::string rest = line.substr(line.find(verb) + verb.size());
      rest.erase(0, rest.find_first_not_of(' '));
      std::cout << "--- step " << ++n << ": " << line << "\n";
      runner.step(verb, args, rest);
    }
  } catch (const std::exception& e) {
    std::cout << "STEP FAILED: " << e.what() << "\n";
    code = 1;
  }
  std::error_code ec;
  fs::remove_all(state, ec);
  fs::remove_all(state.string() + "-proc", ec);
  return code;
}
