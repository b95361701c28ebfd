#define BOOST_TEST_MODULE apply_command
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include "apply/ownership_journal.h"
#include "apply/run_lock.h"
#include "cli/exit_codes.h"
#include "cli/run.h"
#include "cli_support.h"
#include "sim/kernel_simulator.h"
#include "sim/simulated_modules.h"
#include "test_support.h"

// `vfio-reconcile apply` through the real entry point, on the kernel simulator: exit codes of
// the contract, the state directory, the lock, module loading, pruning.

using namespace vfio;
using test::contains;
using test::Ran;
namespace fs = test::fs;
using test::ScratchDir;
using test::ScratchFile;

namespace {

const std::string kSource = VFIO_SOURCE_DIR;
const std::string kGpuManifest = kSource + "/examples/workstation-gpu.yaml";
const PciAddress kGpu{0, 1, 0, 0};

Ran apply(sim::KernelSimulator& kernel, const ScratchDir& state, std::vector<std::string> args,
          sim::SimulatedModules* modules = nullptr, const std::atomic<bool>* stop = nullptr,
          const std::vector<std::string>& global = {}) {
  sim::SimulatedModules fallback(kernel, true);
  std::vector<std::string> all{"--state-dir", (state.path() / "state").string()};
  all.insert(all.end(), global.begin(), global.end());
  all.push_back("apply");
  all.insert(all.end(), args.begin(), args.end());
  cli::Context context;
  context.sysfs = &kernel;
  context.modules = modules ? modules : &fallback;
  context.boot_id = "apply-command-test";
  context.stop = stop;
  return test::run_cli(all, context);
}

}  // namespace

BOOST_AUTO_TEST_CASE(apply_claims_records_and_then_has_nothing_to_do) {
  sim::KernelSimulator kernel(test::example_host("workstation"));
  ScratchDir state;
  Ran first = apply(kernel, state, {kGpuManifest});
  BOOST_TEST(first.code == cli::kExitOk, first.err);
  BOOST_TEST(kernel.driver_of(kGpu).value_or("-") == "vfio-pci");
  BOOST_TEST(fs::exists(state.path() / "state/ownership.json"));
  const std::size_t writes = kernel.writes().size();
  Ran second = apply(kernel, state, {kGpuManifest});
  BOOST_TEST(second.code == cli::kExitOk);
  BOOST_TEST(contains(second.out, "No changes."), second.out);
  BOOST_TEST(kernel.writes().size() == writes);
}

BOOST_AUTO_TEST_CASE(a_dry_run_writes_nothing_not_even_the_state_directory) {
  sim::KernelSimulator kernel(test::example_host("workstation"));
  ScratchDir state;
  Ran dry = apply(kernel, state, {kGpuManifest, "--dry-run"});
  BOOST_TEST(dry.code == cli::kExitOk, dry.err);
  BOOST_TEST(contains(dry.out, "Dry run: nothing was written."));
  BOOST_TEST(kernel.writes().empty());
  BOOST_TEST(!fs::exists(state.path() / "state"));
}

BOOST_AUTO_TEST_CASE(a_held_lock_exits_75_and_changes_nothing) {
  sim::KernelSimulator kernel(test::example_host("workstation"));
  ScratchDir state;
  fs::create_directories(state.path() / "state");
  auto held = RunLock::acquire(test::disk(), state.path() / "state", false);
  BOOST_REQUIRE(held);
  Ran locked = apply(kernel, state, {kGpuManifest});
  BOOST_TEST(locked.code == cli::kExitLocked);
  BOOST_TEST(contains(locked.err, "--wait"), locked.err);
  BOOST_TEST(kernel.writes().empty());
}

BOOST_AUTO_TEST_CASE(a_failed_step_exits_1_naming_device_path_and_errno) {
  const SysPath unbind = paths::pci_driver_file("nvidia", "unbind");
  // -1: the write hangs, longer than --timeout lets the run wait for it.
  for (int error : {EBUSY, ENODEV, EIO, EINVAL, -1}) {
    const std::string name = error < 0 ? "ETIMEDOUT" : errno_name(error);
    BOOST_TEST_CONTEXT("the GPU's unbind fails with " << name) {
      sim::KernelSimulator kernel(test::example_host("workstation"));
      if (error < 0) {
        kernel.block_write(unbind, 1, std::chrono::milliseconds(400));
      } else {
        kernel.fail_write(unbind, 1, error);
      }
      ScratchDir state;
      Ran failed = apply(kernel, state, {kGpuManifest}, nullptr, nullptr, {"--timeout", "0.1"});
      BOOST_TEST(failed.code == cli::kExitApplyFailed);
      // Said once, in the report (stderr does not repeat it).
      BOOST_TEST(contains(failed.out, "0000:01:00.0"), failed.out);
      BOOST_TEST(contains(failed.out, "/sys/bus/pci/drivers/nvidia/unbind"), failed.out);
      BOOST_TEST(contains(failed.out, name), failed.out);
      BOOST_TEST(!contains(failed.err, "/sys/bus/pci/drivers/nvidia/unbind"), failed.err);
      kernel.wait_for_blocked_writes();
      if (error > 0) {
        BOOST_TEST(kernel.driver_of(kGpu).value_or("-") == "nvidia");
        BOOST_TEST(!kernel.override_of(kGpu));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(a_blocked_group_exits_78_and_the_others_are_applied) {
  sim::KernelSimulator kernel(test::example_host("workstation"));
  ScratchDir state;
  ScratchFile both(
      "version: 1\nassignments:\n"
      "  - { name: igpu, state: vfio, match: { address: \"0000:00:02.0\" } }\n"
      "  - { name: gpu0, state: vfio, match: { address: \"0000:01:00.0\" } }\n",
      "manifest.yaml");
  Ran ran = apply(kernel, state, {both.path()});
  BOOST_TEST(ran.code == cli::kExitBlocked, ran.out + ran.err);
  BOOST_TEST(kernel.driver_of(kGpu).value_or("-") == "vfio-pci");
  BOOST_TEST(kernel.driver_of(PciAddress{0, 0, 2, 0}).value_or("-") == "i915");
}

BOOST_AUTO_TEST_CASE(vfio_pci_is_loaded_when_missing_or_the_run_exits_69) {
  auto topology = test::example_host("workstation");
  topology.vfio_pci = sim::Topology::VfioPci::Loadable;
  {
    sim::KernelSimulator kernel(topology);
    sim::SimulatedModules modules(kernel, true);
    ScratchDir state;
    Ran ran = apply(kernel, state, {kGpuManifest}, &modules);
    BOOST_TEST(ran.code == cli::kExitOk, ran.err);
    BOOST_TEST(modules.loads == 1);
    BOOST_TEST(kernel.driver_of(kGpu).value_or("-") == "vfio-pci");
  }
  {
    sim::KernelSimulator kernel(topology);
    sim::SimulatedModules modules(kernel, false);
    ScratchDir state;
    Ran ran = apply(kernel, state, {kGpuManifest}, &modules);
    BOOST_TEST(ran.code == cli::kExitUnavailable, ran.err);
    BOOST_TEST(kernel.writes().empty());
  }
}

BOOST_AUTO_TEST_CASE(a_group_no_manifest_names_is_pruned_unless_no_prune) {
  ScratchFile other(
      "version: 1\nassignments:\n"
      "  - { name: usb, state: host, match: { address: \"0000:00:14.0\" } }\n",
      "manifest.yaml");
  for (bool prune : {true, false}) {
    BOOST_TEST_CONTEXT(std::string(prune ? "pruned" : "--no-prune")) {
      sim::KernelSimulator kernel(test::example_host("workstation"));
      ScratchDir state;
      BOOST_REQUIRE(apply(kernel, state, {kGpuManifest}).code == cli::kExitOk);
      std::vector<std::string> args{other.path()};
      if (!prune) args.push_back("--no-prune");
      Ran ran = apply(kernel, state, args);
      BOOST_TEST(ran.code == cli::kExitOk, ran.err);
      BOOST_TEST(kernel.driver_of(kGpu).value_or("-") == (prune ? "nvidia" : "vfio-pci"));
    }
  }
}

// Adopted groups are never released, only forgotten (left on vfio-pci, no longer held).
BOOST_AUTO_TEST_CASE(adopted_groups_are_never_released) {
  sim::KernelSimulator kernel(test::example_host("gpu-server"));
  ScratchDir state;
  BOOST_REQUIRE(apply(kernel, state, {kSource + "/examples/gpu-server-gpus.yaml"}).code == 0);
  ScratchFile other(
      "version: 1\nassignments:\n"
      "  - { name: gpu0, state: vfio, match: { address: \"0000:18:00.0\" } }\n",
      "manifest.yaml");
  Ran ran = apply(kernel, state, {other.path()});
  BOOST_TEST(ran.code == cli::kExitOk, ran.err);
  // The six this tool bound and no manifest names go back; the two it adopted stay.
  BOOST_TEST(kernel.driver_of(PciAddress{0, 0x19, 0, 0}).value_or("-") == "nvidia");
  BOOST_TEST(kernel.driver_of(PciAddress{0, 0x86, 0, 0}).value_or("-") == "vfio-pci");
  BOOST_TEST(kernel.driver_of(PciAddress{0, 0x87, 0, 0}).value_or("-") == "vfio-pci");
  BOOST_TEST(contains(ran.out, "2 forgotten"), ran.out);
  const LoadedRecord loaded =
      OwnershipJournal(test::disk(), state.path() / "state", "apply-command-test").load();
  BOOST_TEST(loaded.record.groups.size() == 1u);
  BOOST_TEST(loaded.record.find(6) != nullptr);
}

// Which of two owners a group would belong to cannot be decided: a manifest error, at both
// places, before anything is written or recorded.
BOOST_AUTO_TEST_CASE(two_owners_asking_for_one_group_in_one_run_exit_65_writing_nothing) {
  sim::KernelSimulator kernel(test::example_host("workstation"));
  ScratchDir state;
  ScratchFile boot(
      "version: 1\nowner: boot\nassignments:\n"
      "  - { name: gpu0, state: vfio, match: { address: \"0000:01:00.0\" } }\n",
      "boot.yaml");
  ScratchFile sandbox(
      "version: 1\nowner: sandbox-8\nassignments:\n"
      "  - { name: audio, state: vfio, match: { vendor: \"10de\", class: \"0x0403\" } }\n",
      "sandbox-8.yaml");
  Ran ran = apply(kernel, state, {boot.path(), sandbox.path()});
  BOOST_TEST(ran.code == cli::kExitManifestInvalid, ran.err);
  BOOST_TEST(contains(ran.err, sandbox.path() +
                                   ":4:5: assignment 'audio' of owner sandbox-8 and assignment "
                                   "'gpu0' of owner boot (at " +
                                   boot.path() + ":4:5) both ask for IOMMU group 1"),
             ran.err);
  BOOST_TEST(kernel.writes().empty());
  BOOST_TEST(!fs::exists(state.path() / "state/ownership.json"));
}

// An entry whose owner is not a name is dropped with a warning naming the file and the group;
// the file as it was is kept beside it, and the run goes on with the rest.
BOOST_AUTO_TEST_CASE(a_record_entry_with_a_malformed_owner_is_reported_and_kept_aside) {
  sim::KernelSimulator kernel(test::example_host("workstation"));
  ScratchDir state;
  fs::create_directories(state.path() / "state");
  std::ofstream((state.path() / "state/ownership.json").string())
      << R"({"format_version": 2, "boot_id": "apply-command-test", "groups": [{"group": 6, )"
      << R"("how": "adopted", "owner": "Boot Team", "assignment": "drive", )"
      << R"("in_flight": false, "devices": []}]})";
  Ran ran = apply(kernel, state, {kGpuManifest});
  BOOST_TEST(ran.code == cli::kExitOk, ran.err);
  BOOST_TEST(contains(ran.err, "ownership.json: group 6: owner \"Boot Team\" is not an owner name"),
             ran.err);
  bool kept = false;
  for (fs::directory_iterator it(state.path() / "state"), end; it != end; ++it) {
    kept = kept || contains(it->path().filename().string(), "ownership.json.damaged-");
  }
  BOOST_TEST(kept);
  BOOST_TEST(kernel.driver_of(kGpu).value_or("-") == "vfio-pci");
}

BOOST_AUTO_TEST_CASE(a_corrupt_record_is_reported_kept_aside_and_does_not_block) {
  sim::KernelSimulator kernel(test::example_host("workstation"));
  ScratchDir state;
  fs::create_directories(state.path() / "state");
  std::ofstream((state.path() / "state/ownership.json").string()) << "{ not json";
  Ran ran = apply(kernel, state, {kGpuManifest});
  BOOST_TEST(ran.code == cli::kExitOk, ran.err);
  BOOST_TEST(contains(ran.err, "corrupt"), ran.err);
  bool kept = false;
  for (fs::directory_iterator it(state.path() / "state"), end; it != end; ++it) {
    kept = kept || contains(it->path().filename().string(), "ownership.json.unusable-");
  }
  BOOST_TEST(kept);
}

BOOST_AUTO_TEST_CASE(a_stop_request_exits_1_and_begins_nothing) {
  sim::KernelSimulator kernel(test::example_host("workstation"));
  ScratchDir state;
  std::atomic<bool> stop{true};
  Ran ran = apply(kernel, state, {kGpuManifest}, nullptr, &stop);
  BOOST_TEST(ran.code == cli::kExitApplyFailed);
  BOOST_TEST(contains(ran.out, "not started"), ran.out);
  BOOST_TEST(kernel.writes().empty());
}

namespace {

// The simulated kernel, seen by a process that may not write its control files (not root).
class ReadOnlyKernel final : public Sysfs {
 public:
  explicit ReadOnlyKernel(Sysfs& inner) : inner_(inner) {}
  Result<std::string> read(const SysPath& p, std::size_t max) override {
    return inner_.read(p, max);
  }
  Result<std::string> read_link(const SysPath& p) override { return inner_.read_link(p); }
  Result<std::vector<std::string>> list(const SysPath& p) override { return inner_.list(p); }
  Result<void> write(const SysPath& p, std::string_view v) override { return inner_.write(p, v); }
  Result<void> may_write(const SysPath& p) override {
    return IoError{IoError::Op::Write, display(p), EACCES, {}};
  }
  std::string display(const SysPath& p) const override { return inner_.display(p); }

 private:
  Sysfs& inner_;
};

}  // namespace

// Without the right to write the control files, apply says so and exits 77 before its first
// write, before even making its state directory; plan and a dry run still work.
BOOST_AUTO_TEST_CASE(without_write_access_apply_exits_77_before_anything) {
  sim::KernelSimulator kernel(test::example_host("workstation"));
  ReadOnlyKernel read_only(kernel);
  ScratchDir state;
  auto run = [&](std::vector<std::string> args) {
    std::vector<std::string> all{"--state-dir", (state.path() / "state").string()};
    all.insert(all.end(), args.begin(), args.end());
    sim::SimulatedModules modules(kernel, true);
    cli::Context context;
    context.sysfs = &read_only;
    context.modules = &modules;
    context.boot_id = "apply-command-test";
    return test::run_cli(all, context);
  };
  Ran denied = run({"apply", kGpuManifest});
  BOOST_TEST(denied.code == cli::kExitNotPermitted);
  BOOST_TEST(contains(denied.err, "run it as root"), denied.err);
  BOOST_TEST(contains(denied.err, "bus/pci/drivers_probe is not writable here"), denied.err);
  BOOST_TEST(kernel.writes().empty());
  BOOST_TEST(!fs::exists(state.path() / "state"));
  BOOST_TEST(run({"apply", "--dry-run", kGpuManifest}).code == cli::kExitOk);
  BOOST_TEST(run({"plan", kGpuManifest}).code == cli::kExitOk);
}

// StrictModes at boot: a manifest another user could change is refused (77) before anything is
// read or written, naming it, its owner and mode, and the fix; by hand the same is a warning.
BOOST_AUTO_TEST_CASE(boot_refuses_a_manifest_others_could_change_by_hand_it_warns) {
  sim::KernelSimulator kernel(test::example_host("workstation"));
  ScratchDir config("config");
  ::chmod(config.str().c_str(), 0755);
  std::ifstream in(kGpuManifest);
  std::stringstream text;
  text << in.rdbuf();
  const std::string manifest = config.write("manifest.yaml", text.str());
  ::chmod(manifest.c_str(), 0666);
  ScratchDir state;
  Ran boot = apply(kernel, state, {"--boot", "--config-dir", config.str()});
  BOOST_TEST(boot.code == cli::kExitNotPermitted, boot.err);
  BOOST_TEST(contains(boot.err, "refusing to apply at boot: " + manifest +
                                    " (owner uid 0, mode 0666) is writable by anyone"),
             boot.err);
  BOOST_TEST(contains(boot.err, "fix: chmod go-w " + manifest), boot.err);
  BOOST_TEST(kernel.writes().empty());
  BOOST_TEST(!fs::exists(state.path() / "state"));

  Ran by_hand = apply(kernel, state, {manifest});
  BOOST_TEST(by_hand.code == cli::kExitOk, by_hand.err);
  BOOST_TEST(contains(by_hand.err, "warning: " + manifest), by_hand.err);
  BOOST_TEST(kernel.driver_of(kGpu).value_or("-") == "vfio-pci");

  // A state directory others may use is refused at boot too.
  ::chmod(manifest.c_str(), 0644);
  ::chmod((state.path() / "state").c_str(), 0755);
  Ran open_state = apply(kernel, state, {"--boot", "--config-dir", config.str()});
  BOOST_TEST(open_state.code == cli::kExitNotPermitted, open_state.err);
  BOOST_TEST(contains(open_state.err, "fix: chmod go= " + (state.path() / "state").string()),
             open_state.err);
  ::chmod((state.path() / "state").c_str(), 0700);
  BOOST_TEST(apply(kernel, state, {"--boot", "--config-dir", config.str()}).code == cli::kExitOk);
}
