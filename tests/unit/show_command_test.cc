#define BOOST_TEST_MODULE show_command
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "cli/bindings_manifest.h"
#include "cli/exit_codes.h"
#include "cli_support.h"
#include "sim/kernel_simulator.h"
#include "sim/simulated_modules.h"
#include "test_support.h"

// `show` (issue 17, part 2): the host's vfio bindings as a manifest. On every example host its
// output validates, plans no claim, release or refusal, applies without a sysfs write, and is
// then "No changes."; the printer leaves out, with the reason, what a manifest cannot keep as it
// is.

using namespace vfio;
using test::contains;
using test::Ran;
using test::ScratchDir;

namespace {

struct Host {
  explicit Host(const sim::Topology& topology) : kernel(topology), modules(kernel, true) {}

  Ran run(const std::vector<std::string>& args) {
    return test::run_cli_on(kernel, modules, (state.path() / "state").string(), args);
  }

  sim::KernelSimulator kernel;
  sim::SimulatedModules modules;
  ScratchDir state;
};

std::string write_file(const ScratchDir& dir, const std::string& name, const std::string& text) {
  const std::string path = (dir.path() / name).string();
  std::ofstream(path) << text;
  return path;
}

PciDevice endpoint(const std::string& address, unsigned group, const char* driver,
                   uint16_t device_id = 0x2684) {
  PciDevice d;
  d.address = *PciAddress::parse(address);
  d.ids.vendor = 0x10de;
  d.ids.device = device_id;
  d.iommu_group = group;
  if (driver) d.driver = driver;
  return d;
}

HostSnapshot host_of(std::vector<PciDevice> devices) {
  HostSnapshot host;
  for (const auto& d : devices) {
    if (d.iommu_group) host.groups[*d.iommu_group].members.push_back(d.address);
  }
  host.devices = std::move(devices);
  return host;
}

}  // namespace

BOOST_AUTO_TEST_CASE(show_round_trips_on_every_example_host) {
  unsigned taken = 0;
  for (const auto& file : test::example_host_files()) {
    BOOST_TEST_CONTEXT(file.filename().string()) {
      Host host(sim::load_topology(file.string()));
      for (const std::string form : {"", "--match-ids"}) {
        Ran shown = form.empty() ? host.run({"show"}) : host.run({"show", form});
        BOOST_TEST_REQUIRE(shown.code == cli::kExitOk, shown.err);
        BOOST_TEST(shown.out.rfind("# yaml-language-server: $schema=", 0) == 0, shown.out);
        const std::string manifest = write_file(host.state, "shown" + form + ".yaml", shown.out);
        Ran valid = host.run({"validate", manifest});
        BOOST_TEST(valid.code == cli::kExitOk, valid.out << valid.err << shown.out);
      }
      const std::string manifest = (host.state.path() / "shown.yaml").string();
      Ran planned = host.run({"plan", manifest});
      if (file.stem() == "no-iommu") {
        // Nothing can be planned there at all, which show says too.
        BOOST_TEST(planned.code == cli::kExitUnavailable);
        BOOST_TEST(contains(host.run({"show"}).out, "# No IOMMU is active on this host"));
        continue;
      }
      BOOST_TEST(planned.code == cli::kExitOk, planned.out << planned.err);
      const bool nothing_moves =
          contains(planned.out, "0 to claim, 0 to release") || contains(planned.out, "No changes.");
      BOOST_TEST(nothing_moves, planned.out);
      if (contains(planned.out, "adopted")) ++taken;
      // Applied, it only adopts: not one sysfs write; then there is nothing left to do.
      Ran applied = host.run({"apply", manifest});
      BOOST_TEST(applied.code == cli::kExitOk, applied.out << applied.err);
      BOOST_TEST(host.kernel.writes().empty(), applied.out);
      Ran again = host.run({"plan", manifest});
      BOOST_TEST(contains(again.out, "No changes."), again.out);
    }
  }
  BOOST_TEST(taken >= 3);  // gpu-server, busy-host, iommufd-host have groups on vfio-pci
}

BOOST_AUTO_TEST_CASE(show_after_an_apply_keeps_what_the_default_owner_holds) {
  Host host(test::example_host("workstation"));
  const std::string gpu = VFIO_SOURCE_DIR "/examples/workstation-gpu.yaml";
  BOOST_TEST_REQUIRE(host.run({"apply", gpu}).code == cli::kExitOk);
  Ran shown = host.run({"show"});
  BOOST_TEST(contains(shown.out,
                      "  - name: pci-0000-01-00-0\n    state: vfio\n    match:\n"
                      "      address: \"0000:01:00.0\"\n"),
             shown.out);
  // The GPU's audio function is its companion, named in the comment.
  BOOST_TEST(contains(shown.out, "#   0000:01:00.1 [10de:22ba]"), shown.out);
  const std::string manifest = write_file(host.state, "shown.yaml", shown.out);
  const auto writes = host.kernel.writes().size();
  // Applying the shown manifest instead of the original: the group is the same, nothing moves.
  Ran applied = host.run({"apply", manifest});
  BOOST_TEST(applied.code == cli::kExitOk, applied.out << applied.err);
  BOOST_TEST(host.kernel.writes().size() == writes, applied.out);
}

BOOST_AUTO_TEST_CASE(groups_a_manifest_cannot_keep_as_they_are_are_named_not_taken) {
  HostSnapshot host =
      host_of({endpoint("0000:01:00.0", 1, "vfio-pci"),
               endpoint("0000:01:00.1", 1, "snd_hda_intel", 0x22ba),
               endpoint("0000:02:00.0", 2, "vfio-pci"), endpoint("0000:03:00.0", 3, "nvidia")});
  OwnershipRecord owned;
  owned.groups[2].owner = "sandbox-7";
  owned.groups[2].assignment = "gpu";
  const std::string text =
      cli::bindings_manifest(host, owned, NoDeviceNames{}, cli::BindingsForm::ByAddress);
  BOOST_TEST(contains(text, "assignments: []\n"), text);
  BOOST_TEST(contains(text,
                      "#   IOMMU group 1: only partly on a vfio driver (0000:01:00.1 is on "
                      "snd_hda_intel)"),
             text);
  BOOST_TEST(contains(text, "#   IOMMU group 2: held by owner sandbox-7 (bound for gpu)"), text);
  BOOST_TEST(!contains(text, "group 3"), text);  // nothing of it on vfio: not mentioned
}

BOOST_AUTO_TEST_CASE(a_group_on_a_variant_driver_names_it) {
  PciDevice vf = endpoint("0000:5e:00.1", 7, "mlx5_vfio_pci", 0x101e);
  vf.ids.vendor = 0x15b3;
  vf.driver_is_vfio_variant = true;
  HostSnapshot host = host_of({vf});
  const std::string text =
      cli::bindings_manifest(host, {}, NoDeviceNames{}, cli::BindingsForm::ByAddress);
  BOOST_TEST(contains(text, "      address: \"0000:5e:00.1\"\n    driver: mlx5_vfio_pci\n"), text);
  // Not a vfio variant as far as modules.alias says: a driver named like one is not taken.
  vf.driver_is_vfio_variant = false;
  BOOST_TEST(contains(
      cli::bindings_manifest(host_of({vf}), {}, NoDeviceNames{}, cli::BindingsForm::ByAddress),
      "assignments: []"));
}

BOOST_AUTO_TEST_CASE(match_ids_writes_one_assignment_per_pair_with_its_count) {
  HostSnapshot host = host_of(
      {endpoint("0000:01:00.0", 1, "vfio-pci"), endpoint("0000:01:00.1", 1, "vfio-pci", 0x22ba),
       endpoint("0000:41:00.0", 5, "vfio-pci"), endpoint("0000:61:00.0", 6, "vfio-pci", 0x2331)});
  const std::string text =
      cli::bindings_manifest(host, {}, NoDeviceNames{}, cli::BindingsForm::ByIds);
  BOOST_TEST(contains(text,
                      "2 here (0000:01:00.0, 0000:41:00.0)\n  - name: ids-10de-2684\n"
                      "    state: vfio\n    match:\n      vendor: \"10de\"\n"
                      "      device: \"2684\"\n"),
             text);
  BOOST_TEST(contains(text, "1 here (0000:61:00.0)\n  - name: ids-10de-2331\n"), text);
  // The audio function comes as its GPU's companion, not as an assignment of its own.
  BOOST_TEST(!contains(text, "ids-10de-22ba"), text);
}
