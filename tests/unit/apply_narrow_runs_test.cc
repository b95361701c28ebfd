#define BOOST_TEST_MODULE apply_narrow_runs
#include <boost/test/unit_test.hpp>

#include <algorithm>

#include "cli/exit_codes.h"
#include "cli_support.h"
#include "sim/kernel_simulator.h"
#include "sim/simulated_modules.h"
#include "sysfs/sys_path.h"
#include "test_support.h"

// The two narrow runs of `apply` (PlanScope), through the real entry point on the kernel
// simulator: `apply --early`, the initramfs's run before udev loads any driver, and
// `apply --boot --device ADDR`, the udev rule's run for a device that appeared.

using namespace vfio;
using test::contains;
using test::Ran;
using test::ScratchDir;
namespace fs = test::fs;

namespace {

const PciAddress kGpu{0, 1, 0, 0};
const PciAddress kGpuAudio{0, 1, 0, 1};
const PciAddress kXhci{0, 0, 0x14, 0};
const PciAddress kAhci{0, 0, 0x17, 0};

std::string assignment(const std::string& name, const std::string& address) {
  return "  - { name: " + name + ", state: vfio, match: { address: \"" + address + "\" } }\n";
}

// The workstation's GPU and its USB controller asked for.
const std::string kManifest = "version: 1\nassignments:\n" + assignment("gpu0", "0000:01:00.0") +
                              assignment("usb", "0000:00:14.0");

struct Host {
  sim::KernelSimulator kernel{test::example_host("workstation")};
  ScratchDir scratch{"vfio-narrow"};
  fs::path config = scratch.path() / "etc";
  fs::path state = scratch.path() / "run";

  explicit Host(const std::string& manifest = kManifest) {
    fs::create_directories(config);
    std::ofstream((config / "manifest.yaml").string(), std::ios::binary) << manifest;
  }

  // As in the initramfs before udev: no module loaded, so only built-in drivers (xhci_hcd here)
  // have bound anything.
  void as_in_the_initramfs() {
    for (const char* module : {"nvidia", "snd_hda_intel", "i915", "ahci", "nvme", "lpc_ich",
                               "i801_smbus", "e1000e", "pcieport"}) {
      kernel.unload_driver(module);
    }
    kernel.unload_vfio_pci();
  }

  Ran apply(std::vector<std::string> args) {
    sim::SimulatedModules modules(kernel, true);
    std::vector<std::string> all{"--state-dir", state.string(), "apply", "--config-dir",
                                 config.string()};
    all.insert(all.end(), args.begin(), args.end());
    cli::Context context;
    context.sysfs = &kernel;
    context.modules = &modules;
    context.boot_id = "narrow-runs-test";
    return test::run_cli(all, context);
  }

  std::string driver(const PciAddress& address) const {
    return kernel.driver_of(address).value_or("-");
  }

  // The writes made so far that unbind a device from a driver.
  std::size_t unbinds() const {
    auto w = kernel.writes();
    return static_cast<std::size_t>(
        std::count_if(w.begin(), w.end(),
                      [](const sim::WriteRecord& r) { return r.path.str().ends_with("/unbind"); }));
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(early_claims_what_no_driver_has_taken_and_the_host_driver_never_binds_it) {
  Host host;
  host.as_in_the_initramfs();
  Ran early = host.apply({"--early"});
  BOOST_TEST(early.code == cli::kExitOk, early.out + early.err);
  BOOST_TEST(host.driver(kGpu) == "vfio-pci");
  BOOST_TEST(host.driver(kGpuAudio) == "vfio-pci");
  BOOST_TEST(host.unbinds() == 0u);
  // The USB controller's built-in driver has it: left for the boot unit, and said so.
  BOOST_TEST(host.driver(kXhci) == "xhci_hcd");
  BOOST_TEST(contains(early.out, "Left as they are, for a later run:"), early.out);
  BOOST_TEST(contains(early.out,
                      "left for the boot unit: 0000:00:14.0 is bound to xhci_hcd "
                      "already, and the initramfs never unbinds"),
             early.out);

  // udev then loads the host drivers: they find the GPU taken.
  BOOST_TEST(host.kernel.load_driver("nvidia"));
  BOOST_TEST(host.kernel.load_driver("snd_hda_intel"));
  BOOST_TEST(host.driver(kGpu) == "vfio-pci");
  BOOST_TEST(host.driver(kGpuAudio) == "vfio-pci");

  // The boot unit finds the GPU's group recorded (same boot) and claims the rest.
  Ran boot = host.apply({"--boot"});
  BOOST_TEST(boot.code == cli::kExitOk, boot.out + boot.err);
  BOOST_TEST(contains(boot.out, "IOMMU group 1: unchanged for gpu0"), boot.out);
  BOOST_TEST(host.driver(kXhci) == "vfio-pci");
  BOOST_TEST(host.unbinds() == 1u);  // xhci_hcd's, by the boot unit
}

BOOST_AUTO_TEST_CASE(early_leaves_refusals_and_releases_to_the_boot_unit) {
  // The iGPU is the boot display: refused, and in the early run only deferred (exit 0).
  Host host("version: 1\nassignments:\n" + assignment("igpu", "0000:00:02.0") +
            "  - { name: sata, state: host, match: { address: \"0000:00:17.0\" } }\n");
  host.as_in_the_initramfs();
  Ran early = host.apply({"--early"});
  BOOST_TEST(early.code == cli::kExitOk, early.out + early.err);
  BOOST_TEST(contains(early.out,
                      "IOMMU group 2: blocked (boot-display) for igpu\n      left for "
                      "the boot unit, which reports it"),
             early.out);
  BOOST_TEST(host.kernel.writes().empty());
  BOOST_TEST(host.driver(kAhci) == "-");  // not probed by a release either
}

BOOST_AUTO_TEST_CASE(early_with_a_bad_manifest_moves_nothing_and_says_where) {
  Host host("version: 1\nassignments:\n  - name: x\n    stat: vfio\n");
  host.as_in_the_initramfs();
  Ran early = host.apply({"--early"});
  BOOST_TEST(early.code == cli::kExitManifestInvalid, early.out + early.err);
  BOOST_TEST(contains(early.err, (host.config / "manifest.yaml").string() + ":4:5: "), early.err);
  BOOST_TEST(host.kernel.writes().empty());
}

BOOST_AUTO_TEST_CASE(device_run_claims_only_the_group_of_the_device_that_appeared) {
  Host host;
  Ran ran = host.apply({"--boot", "--device", "0000:01:00.1"});
  BOOST_TEST(ran.code == cli::kExitOk, ran.out + ran.err);
  BOOST_TEST(host.driver(kGpu) == "vfio-pci");
  BOOST_TEST(host.driver(kGpuAudio) == "vfio-pci");
  BOOST_TEST(host.driver(kXhci) == "xhci_hcd");  // asked for, but not this run's group
  BOOST_TEST(!contains(ran.out, "group 3"), ran.out);
}

BOOST_AUTO_TEST_CASE(device_run_for_a_device_no_assignment_names_touches_nothing) {
  Host host;
  Ran ran = host.apply({"--boot", "--device", "0000:00:17.0"});
  BOOST_TEST(ran.code == cli::kExitOk, ran.out + ran.err);
  BOOST_TEST(contains(ran.out, "No changes."), ran.out);
  BOOST_TEST(host.kernel.writes().empty());
  BOOST_TEST(host.driver(kAhci) == "ahci");
}

BOOST_AUTO_TEST_CASE(device_run_never_releases_a_group_the_manifest_dropped) {
  Host host;
  BOOST_TEST(host.apply({"--boot"}).code == cli::kExitOk);
  BOOST_TEST(host.driver(kXhci) == "vfio-pci");
  std::ofstream((host.config / "manifest.yaml").string(), std::ios::binary)
      << "version: 1\nassignments:\n" + assignment("gpu0", "0000:01:00.0");
  const std::size_t before = host.kernel.writes().size();
  Ran ran = host.apply({"--boot", "--device", "0000:00:14.0"});
  BOOST_TEST(ran.code == cli::kExitOk, ran.out + ran.err);
  BOOST_TEST(host.driver(kXhci) == "vfio-pci");
  BOOST_TEST(host.kernel.writes().size() == before);
  BOOST_TEST(contains(ran.out,
                      "left for a full run: 0000:00:14.0 appearing is never a reason "
                      "to release"),
             ran.out);
}

BOOST_AUTO_TEST_CASE(usage_device_takes_an_address_and_not_with_early) {
  Host host;
  Ran bad = host.apply({"--boot", "--device", "01:00"});
  BOOST_TEST(bad.code == cli::kExitUsage);
  BOOST_TEST(contains(bad.err, "--device"), bad.err);
  Ran both = host.apply({"--early", "--device", "0000:01:00.0"});
  BOOST_TEST(both.code == cli::kExitUsage);
  BOOST_TEST(host.kernel.writes().empty());
}
