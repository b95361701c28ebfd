#define BOOST_TEST_MODULE vfio_variant_drivers
#include <boost/test/unit_test.hpp>

#include <cerrno>

#include "apply/ownership_json.h"
#include "apply/ownership_ledger.h"
#include "apply/reconciler.h"
#include "apply_support.h"
#include "manifest/load_manifests.h"
#include "observe/vfio_drivers.h"
#include "sim/kernel_simulator.h"
#include "sim/simulated_modules.h"
#include "sim/topology_yaml.h"
#include "test_support.h"

// vfio variant drivers (the key `driver` in docs/contract.md): a device on one counts as
// claimed; `driver: auto` picks the most specific `vfio_pci:` alias of the running kernel's
// modules.alias; a named driver must be one of the kernel's vfio drivers. And the kernel's side:
// a variant's ID table is override-only, so it binds a device only through driver_override.

using namespace vfio;
using test::addr;
using test::contains;

namespace {

// A ConnectX PF and two of its VFs (on the host driver, and on vfio-pci), and an Intel NIC. Its
// kernel has mlx5_vfio_pci (not loaded yet) with its alias as Linux's ID table writes it.
constexpr const char* kHost = R"(
name: variant-host
drivers:
  - { name: mlx5_vfio_pci, loaded: false,
      vfio-aliases: ["vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*"] }
devices:
  - { address: "0000:41:00.0", ids: "15b3:101d", class: "0x020000", group: 20, driver: mlx5_core }
  - { address: "0000:41:00.1", ids: "15b3:101e", class: "0x020000", group: 21, driver: mlx5_core }
  - { address: "0000:41:00.2", ids: "15b3:101e", class: "0x020000", group: 22, driver: mlx5_core,
      bound: vfio-pci, override: vfio-pci }
  - { address: "0000:43:00.0", ids: "8086:10d3", class: "0x020000", group: 23, driver: e1000e }
)";

const auto kPf = addr("0000:41:00.0");
const auto kVf = addr("0000:41:00.1");
const auto kVfOnVfio = addr("0000:41:00.2");
const auto kIntel = addr("0000:43:00.0");

struct Run {
  Planned planned;
  std::optional<ExecutedPlan> executed;
  int loads = 0;
  OwnershipRecord record{};  // as the run left it
};

// Plans (and, with `execute`, applies) `manifest` on `kernel` as `apply` does.
Run run(sim::KernelSimulator& kernel, const std::string& manifest, bool execute = true,
        std::optional<int> alias_error = std::nullopt) {
  test::ScratchFile file(manifest, "variants.yaml");
  sim::SimulatedModules modules(kernel, true);
  modules.alias_error = alias_error;
  Reconciler reconciler(kernel, nullptr, modules);
  const DesiredState desired = load_manifests(test::disk(), {file.path()});
  OwnershipLedger ledger({}, nullptr);
  Run out{reconciler.plan(desired, ledger.record()), std::nullopt, 0};
  if (execute) {
    auto executed = reconciler.execute(desired, {}, out.planned, ledger,
                                       {.probe_timeout = std::chrono::milliseconds(300)});
    if (auto* unavailable = std::get_if<VfioPciUnavailable>(&executed)) {
      BOOST_FAIL("a driver could not be loaded: " << unavailable->why);
    }
    out.executed = std::get<ExecutedPlan>(std::move(executed));
  }
  out.loads = modules.loads;
  out.record = ledger.record();
  return out;
}

std::string manifest(const std::string& address, const std::string& driver_line,
                     const std::string& state = "vfio") {
  return "version: 1\nassignments:\n  - name: vf\n    state: " + state +
         "\n    match: { address: \"" + address + "\" }\n" + driver_line;
}

const GroupChange& change_of(const Plan& plan, unsigned group) {
  for (const auto& c : plan.changes) {
    if (c.group == group) return c;
  }
  throw std::runtime_error("no change for group " + std::to_string(group));
}

PciIds ids(uint16_t vendor, uint16_t device, uint16_t sv = 0, uint16_t sd = 0,
           uint32_t cls = 0x020000) {
  return PciIds{vendor, device, sv, sd, cls};
}

}  // namespace

BOOST_AUTO_TEST_CASE(modules_alias_names_the_vfio_drivers_and_the_most_specific_alias_wins) {
  const std::string text =
      "# Aliases extracted from modules themselves.\n"
      "alias pci:v000015B3d0000101Dsv*sd*bc*sc*i* mlx5_core\n"
      "alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci\n"
      "alias vfio_pci:v000015B3d0000101Esv000015B3sd00000047bc*sc*i* cx7_lm_vfio_pci\n"
      "alias vfio_pci:v00001AF4d00001041sv*sd*bc*sc*i* virtio_vfio_pci\n"
      "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n"
      "alias vfio_pci:broken\n"
      "alias vfio_pci:v*d*sv*sd*bc*sc*i*a*b*c* greedy_vfio_pci\n";
  const auto catalog = parse_modules_alias(text, "/lib/modules/6.12/modules.alias");
  BOOST_TEST(catalog.aliases.size() == 4u);
  BOOST_TEST(catalog.is_vfio_driver("vfio-pci"));
  BOOST_TEST(catalog.is_vfio_driver("mlx5_vfio_pci"));
  BOOST_TEST(!catalog.is_vfio_driver("mlx5_core"));
  BOOST_TEST(catalog.modules.count("mlx5_core") == 1u);
  BOOST_REQUIRE_EQUAL(catalog.problems.size(), 2u);
  BOOST_TEST(contains(catalog.problems[0], "/lib/modules/6.12/modules.alias:7:"));
  // More wildcards than depmod ever writes (fnmatch's backtracking): ignored, and said.
  BOOST_TEST(contains(catalog.problems[1],
                      "modules.alias:8: a vfio_pci alias of 33 characters "
                      "and 10 wildcards is not one depmod writes"));
  BOOST_TEST(!catalog.is_vfio_driver("greedy_vfio_pci"));

  BOOST_TEST(vfio_modalias(ids(0x15b3, 0x101e, 0x15b3, 0x0047)) ==
             "vfio_pci:v000015B3d0000101Esv000015B3sd00000047bc02sc00i00");
  // The subsystem-specific alias over the device's; the device's over vfio_pci's catch-all.
  BOOST_TEST(catalog.best_match(ids(0x15b3, 0x101e, 0x15b3, 0x0047))->driver == "cx7_lm_vfio_pci");
  BOOST_TEST(catalog.best_match(ids(0x15b3, 0x101e, 0x15b3, 0x0001))->driver == "mlx5_vfio_pci");
  BOOST_TEST(catalog.best_match(ids(0x1af4, 0x1041))->driver == "virtio_vfio_pci");
  BOOST_TEST(catalog.best_match(ids(0x8086, 0x10d3))->driver == "vfio-pci");
  // A kernel without vfio_pci's catch-all (vfio-pci built without its table) matches nothing.
  const auto bare = parse_modules_alias("alias vfio_pci:v00001AF4d00001041sv*sd*bc*sc*i* x\n", "a");
  BOOST_TEST(bare.best_match(ids(0x8086, 0x10d3)) == nullptr);
}

BOOST_AUTO_TEST_CASE(a_variant_driver_binds_a_device_only_through_its_driver_override) {
  sim::KernelSimulator kernel(sim::parse_topology(kHost, "variant-host.yaml"));
  BOOST_TEST(kernel.load_driver("mlx5_vfio_pci"));
  // Its ID table is override-only: loading it, or a probe, never takes the VF from no driver.
  BOOST_TEST(kernel.write(paths::pci_driver_file("mlx5_core", "unbind"), kVf.str()).ok());
  BOOST_TEST(kernel.write(paths::drivers_probe(), kVf.str()).ok());
  BOOST_TEST(kernel.driver_of(kVf).value_or("-") == "mlx5_core");
  BOOST_TEST(kernel.write(paths::pci_driver_file("mlx5_core", "unbind"), kVf.str()).ok());
  auto bind = kernel.write(paths::pci_driver_file("mlx5_vfio_pci", "bind"), kVf.str());
  BOOST_TEST(!bind.ok());
  BOOST_TEST(bind.error().error == ENODEV);
  BOOST_TEST(kernel.write(paths::pci_device_file(kVf, "driver_override"), "mlx5_vfio_pci").ok());
  BOOST_TEST(kernel.write(paths::drivers_probe(), kVf.str()).ok());
  BOOST_TEST(kernel.driver_of(kVf).value_or("-") == "mlx5_vfio_pci");
}

BOOST_AUTO_TEST_CASE(auto_claims_with_the_variant_loading_it_first_and_a_rerun_writes_nothing) {
  sim::KernelSimulator kernel(sim::parse_topology(kHost, "variant-host.yaml"));
  const std::string m = manifest(kVf.str(), "    driver: auto\n");
  Run first = run(kernel, m);
  const GroupChange& c = change_of(first.planned.plan, 21);
  BOOST_TEST((c.action == GroupAction::Claim));
  BOOST_TEST(c.reason == "1 endpoint to mlx5_vfio_pci");
  BOOST_TEST(c.devices[0].after.driver.value_or("-") == "mlx5_vfio_pci");
  BOOST_TEST(contains(c.devices[0].driver_reason,
                      "driver: auto: the most specific vfio_pci alias, "
                      "/lib/modules/simulated/modules.alias:"));
  BOOST_TEST(first.loads == 1);  // modprobe mlx5_vfio_pci, once
  BOOST_TEST(first.executed->outcome.count(GroupResult::Claimed) == 1u,
             test::group_failed(first.executed->outcome));
  BOOST_TEST(kernel.driver_of(kVf).value_or("-") == "mlx5_vfio_pci");
  BOOST_TEST(kernel.override_of(kVf).value_or("-") == "mlx5_vfio_pci");
  // The record keeps the driver, through its encoding and back.
  const auto decoded =
      decode_ownership(encode_ownership(first.record, "boot"), "ownership.json", "boot");
  BOOST_REQUIRE(decoded.record.find(21) && decoded.record.find(21)->find(kVf));
  BOOST_TEST(decoded.record.find(21)->find(kVf)->vfio_driver.value_or("-") == "mlx5_vfio_pci");

  const std::size_t writes = kernel.successful_write_count();
  Run again = run(kernel, m);
  BOOST_TEST((change_of(again.planned.plan, 21).action == GroupAction::Adopt));
  BOOST_TEST(change_of(again.planned.plan, 21).reason ==
             "every endpoint is already on mlx5_vfio_pci: adopted, nothing is written");
  BOOST_TEST(kernel.successful_write_count() == writes);
}

BOOST_AUTO_TEST_CASE(auto_gives_a_device_no_variant_matches_vfio_pci) {
  sim::KernelSimulator kernel(sim::parse_topology(kHost, "variant-host.yaml"));
  Run r = run(kernel, manifest(kIntel.str(), "    driver: auto\n"));
  const GroupChange& c = change_of(r.planned.plan, 23);
  BOOST_TEST(c.reason == "1 endpoint to vfio-pci");
  BOOST_TEST(contains(c.devices[0].driver_reason, "vfio_pci:v*d*sv*sd*bc*sc*i*"));
  BOOST_TEST(kernel.driver_of(kIntel).value_or("-") == "vfio-pci");
}

// Also when modules.alias cannot be read: a driver named <name>_vfio_pci is then taken for a
// variant, and its device is left where it is rather than moved to vfio-pci.
BOOST_AUTO_TEST_CASE(a_device_on_a_variant_counts_as_claimed_for_the_default_driver) {
  for (const std::optional<int> alias_error : {std::optional<int>(), std::optional<int>(ENOENT)}) {
    BOOST_TEST_CONTEXT("modules.alias " << (alias_error ? "unreadable" : "read")) {
      sim::KernelSimulator kernel(sim::parse_topology(kHost, "variant-host.yaml"));
      BOOST_TEST(kernel.load_driver("mlx5_vfio_pci"));
      BOOST_TEST(
          kernel.write(paths::pci_device_file(kVf, "driver_override"), "mlx5_vfio_pci").ok());
      BOOST_TEST(kernel.write(paths::pci_driver_file("mlx5_core", "unbind"), kVf.str()).ok());
      BOOST_TEST(kernel.write(paths::drivers_probe(), kVf.str()).ok());
      const std::size_t writes = kernel.successful_write_count();
      Run r = run(kernel, manifest(kVf.str(), ""), true, alias_error);
      BOOST_TEST((change_of(r.planned.plan, 21).action == GroupAction::Adopt));
      BOOST_TEST(kernel.successful_write_count() == writes);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_named_variant_moves_a_device_off_vfio_pci_and_release_unbinds_it) {
  sim::KernelSimulator kernel(sim::parse_topology(kHost, "variant-host.yaml"));
  Run r = run(kernel, manifest(kVfOnVfio.str(), "    driver: mlx5-vfio-pci\n"));
  const GroupChange& c = change_of(r.planned.plan, 22);
  BOOST_TEST((c.action == GroupAction::Claim));
  BOOST_TEST(c.devices[0].before.driver.value_or("-") == "vfio-pci");
  BOOST_TEST(contains(c.devices[0].driver_reason, "driver: mlx5_vfio_pci ("));
  BOOST_TEST(kernel.driver_of(kVfOnVfio).value_or("-") == "mlx5_vfio_pci");

  // Given back: unbound from the variant, onto its host driver; also when modules.alias cannot
  // be read then (the driver taken for a variant by its name).
  for (const std::optional<int> alias_error : {std::optional<int>(), std::optional<int>(ENOENT)}) {
    BOOST_TEST_CONTEXT("modules.alias " << (alias_error ? "unreadable" : "read")) {
      BOOST_TEST(kernel.driver_of(kVfOnVfio).value_or("-") == "mlx5_vfio_pci");
      Run back = run(kernel, manifest(kVfOnVfio.str(), "", "host"), true, alias_error);
      BOOST_TEST((change_of(back.planned.plan, 22).action == GroupAction::Release));
      BOOST_TEST(back.executed->outcome.count(GroupResult::Released) == 1u,
                 test::group_failed(back.executed->outcome));
      BOOST_TEST(kernel.driver_of(kVfOnVfio).value_or("-") == "mlx5_core");
      BOOST_TEST(kernel.override_of(kVfOnVfio).value_or("(null)") == "(null)");
      // Back onto the variant for the next round.
      (void)run(kernel, manifest(kVfOnVfio.str(), "    driver: mlx5_vfio_pci\n"));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_driver_the_kernel_cannot_give_is_refused_and_nothing_is_written) {
  struct Case {
    std::string driver_line;
    std::optional<int> alias_error;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"    driver: nvgrace_gpu_vfio_pci\n", std::nullopt,
       "the running kernel has no driver nvgrace_gpu_vfio_pci (no module of that name in "
       "/lib/modules/simulated/modules.alias)"},
      {"    driver: mlx5_core\n", std::nullopt,
       "mlx5_core is not a vfio driver: no vfio_pci alias in "
       "/lib/modules/simulated/modules.alias names it"},
      {"    driver: auto\n", ENOENT,
       "'driver: auto' picks from the running kernel's modules.alias, which could not be read "
       "(open /lib/modules/simulated/modules.alias: No such file or directory (ENOENT))"},
      {"    driver: mlx5_vfio_pci\n", ENOENT, "whether mlx5_vfio_pci is a vfio driver"},
  };
  for (const auto& k : cases) {
    BOOST_TEST_CONTEXT(k.driver_line) {
      sim::KernelSimulator kernel(sim::parse_topology(kHost, "variant-host.yaml"));
      Run r = run(kernel, manifest(kVf.str(), k.driver_line), true, k.alias_error);
      const GroupChange& c = change_of(r.planned.plan, 21);
      BOOST_TEST((c.action == GroupAction::Blocked));
      BOOST_TEST((c.blocked_by == BlockReason::DriverUnavailable));
      BOOST_TEST(contains(c.reason, "variants.yaml:6:13): "), c.reason);
      BOOST_TEST(contains(c.reason, k.says), c.reason);
      BOOST_TEST(kernel.successful_write_count() == 0u);
      BOOST_TEST(r.loads == 0);
    }
  }
}

BOOST_AUTO_TEST_CASE(the_manifest_takes_a_driver_for_claims_only_and_in_the_kernels_spelling) {
  test::ScratchFile bad(
      "version: 1\n"
      "assignments:\n"
      "  - { name: a, state: vfio, match: { address: \"0000:41:00.1\" }, driver: \"Mlx5 VF\" }\n"
      "  - { name: b, state: host, match: { address: \"0000:41:00.2\" }, driver: auto }\n",
      "bad.yaml");
  try {
    (void)load_manifests(test::disk(), {bad.path()});
    BOOST_FAIL("the manifest was accepted");
  } catch (const ManifestError& e) {
    const std::string text = e.what();
    BOOST_TEST(contains(text,
                        "bad.yaml:3:73: 'driver' must be vfio-pci, auto or a vfio "
                        "driver's name"),
               text);
    BOOST_TEST(contains(text, "bad.yaml:4:73: 'driver' says which vfio driver claims"), text);
  }
  test::ScratchFile good(
      "version: 1\n"
      "assignments:\n"
      "  - { name: a, state: vfio, match: { address: \"0000:41:00.1\" }, driver: vfio_pci }\n"
      "  - { name: b, state: vfio, match: { address: \"0000:41:00.2\" }, driver: mlx5-vfio-pci }\n"
      "  - { name: c, state: vfio, match: { address: \"0000:43:00.0\" }, driver: auto }\n",
      "good.yaml");
  const DesiredState d = load_manifests(test::disk(), {good.path()});
  BOOST_TEST((d.assignments[0].driver.kind == DriverChoice::Kind::Default));
  BOOST_TEST((d.assignments[1].driver.kind == DriverChoice::Kind::Named));
  BOOST_TEST(d.assignments[1].driver.name == "mlx5_vfio_pci");
  BOOST_TEST((d.assignments[2].driver.kind == DriverChoice::Kind::Auto));
}
