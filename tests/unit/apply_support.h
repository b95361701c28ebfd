// Applying a manifest to a simulated kernel without the CLI: observe, plan, execute. For the
// engine's suites (transactions, fault and crash matrices).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "apply/ownership_ledger.h"
#include "apply/reconciler.h"
#include "apply/state_dir.h"
#include "manifest/load_manifests.h"
#include "plan/plan.h"
#include "sim/kernel_simulator.h"
#include "sim/memory_store.h"
#include "sim/simulated_modules.h"
#include "sim/sysfs_tree_writer.h"
#include "sysfs/real_sysfs.h"
#include "test_support.h"

namespace vfio::test {

struct Applied {
  Plan plan;  // the outcome points into it
  ApplyOutcome outcome;
};

// A module loader for an on-disk host: vfio-pci counts as loadable, but nothing can load it.
class NoLoadableModules final : public KernelModules {
 public:
  bool available(std::string_view) override { return true; }
  std::optional<std::string> load(std::string_view module) override {
    return std::string(module) + " cannot be loaded into an on-disk test host";
  }
  Result<ModulesAlias> modules_alias() override {
    return IoError{IoError::Op::Open, "/lib/modules/none/modules.alias", ENOENT, {}};
  }
};

inline std::string example_manifest(const std::string& name) {
  return (source_dir() / "examples" / (name + ".yaml")).string();
}

// Runs the reconcile pipeline as `apply` does. A simulated kernel's /proc is read as `apply`
// reads the real one: written from the simulator's processes now, so that a group a simulated VM
// holds is refused, not unbound (which would block until the VM ends, as in the kernel); and
// vfio-pci loads into it.
inline std::unique_ptr<Applied> apply_manifest(
    Sysfs& kernel, const std::string& manifest, OwnershipLedger& ledger,
    std::chrono::milliseconds probe_timeout = std::chrono::milliseconds(300), unsigned jobs = 4) {
  std::optional<ScratchDir> proc_dir;
  std::optional<RealSysfs> proc;
  std::unique_ptr<KernelModules> modules = std::make_unique<NoLoadableModules>();
  if (auto* simulator = dynamic_cast<sim::KernelSimulator*>(&kernel)) {
    proc_dir.emplace("sim-proc");
    sim::write_proc_tree(simulator->topology(), proc_dir->path());
    proc.emplace(proc_dir->path());
    modules = std::make_unique<sim::SimulatedModules>(*simulator, true);
  }
  Reconciler reconciler(kernel, proc ? &*proc : nullptr, *modules);
  const DesiredState desired = load_manifests(test::disk(), {manifest});
  Planned planned = reconciler.plan(desired, ledger.record());
  auto executed = reconciler.execute(desired, {}, planned, ledger,
                                     {.probe_timeout = probe_timeout, .jobs = jobs});
  if (const auto* unavailable = std::get_if<VfioPciUnavailable>(&executed)) {
    BOOST_FAIL("vfio-pci could not be loaded: " << unavailable->why);
  }
  auto& run = std::get<ExecutedPlan>(executed);
  auto applied = std::make_unique<Applied>();
  applied->plan = std::move(run.plan);  // a moved vector keeps its elements in place
  applied->outcome = std::move(run.outcome);
  return applied;
}

// An example host in the kernel simulator with its state directory in memory, and runs on them
// as `apply` makes them: the state directory opened and locked, then the pipeline. What the
// crash and power-cut matrices run on.
struct SimHost {
  static constexpr const char* kBoot = "sim-host-boot";
  static inline const fs::path kState = "/run/vfio-reconcile";

  explicit SimHost(std::string name_) : name(std::move(name_)) {
    reboot();
    ensure_state_dir(store, kState);
  }

  // The devices as at boot (the store keeps what it has).
  void reboot() { kernel = std::make_unique<sim::KernelSimulator>(example_host(name)); }

  std::unique_ptr<Applied> apply(const std::string& manifest, unsigned jobs = 1,
                                 const std::string& boot = kBoot) {
    auto state = open_state_dir(store, kState, boot, /*wait=*/false);
    BOOST_TEST_REQUIRE(state.has_value(), "the run lock is held");
    problems = state->owned.problems;
    OwnershipLedger ledger(state->owned.record, &state->journal);
    return apply_manifest(*kernel, manifest, ledger, std::chrono::milliseconds(300), jobs);
  }

  // A run that dies right after kernel write `k`; then the dead process is gone.
  void apply_crashing_after_write(unsigned k, const std::string& manifest, unsigned jobs = 1) {
    kernel->crash_after_write(k, [this] { store.freeze(); });
    apply(manifest, jobs);
    BOOST_TEST_REQUIRE(kernel->frozen(), "write " << k << " never came");
    kernel->thaw();
    store.thaw();
  }

  LoadedRecord record() { return OwnershipJournal(store, kState, kBoot).load(); }

  std::string name;
  std::unique_ptr<sim::KernelSimulator> kernel;
  sim::MemoryStore store;
  std::vector<std::string> problems;  // of the last run's record
};

// Every device's (driver, override), to compare a host before and after.
inline std::map<std::string, std::pair<std::string, std::string>> bindings(
    const sim::KernelSimulator& kernel) {
  std::map<std::string, std::pair<std::string, std::string>> out;
  for (const auto& d : kernel.topology().devices) {
    out[d.address.str()] = {kernel.driver_of(d.address).value_or("-"),
                            kernel.override_of(d.address).value_or("(null)")};
  }
  return out;
}

// Each failed group's failing step, for a test's failure message.
inline std::string group_failed(const ApplyOutcome& outcome) {
  std::string text;
  for (const auto& g : outcome.groups) {
    if (g.failure)
      text += g.failure->device.str() + " " + g.failure->step + ": " + g.failure->message + "\n";
  }
  return text;
}

// A write as fail_write and block_write name it: the nth write to its path since the host
// began; and the device it was for.
struct NumberedWrite {
  SysPath path;
  unsigned nth = 0;
  std::optional<PciAddress> device;
};

// Every write the simulated host has taken, numbered.
inline std::vector<NumberedWrite> numbered_writes(const sim::KernelSimulator& kernel) {
  std::map<std::string, unsigned> seen;
  std::vector<NumberedWrite> out;
  for (const auto& w : kernel.writes()) out.push_back({w.path, ++seen[w.path.str()], w.device()});
  return out;
}

// The writes of a clean apply of `manifest` (one group at a time) on the example host `host`,
// made after `prepare(kernel, ledger)` has set the host up; what `prepare` wrote is left out.
// A matrix that fails or blocks each of them in turn derives its length from this.
template <class Prepare>
std::vector<NumberedWrite> clean_run_writes(const std::string& host, const std::string& manifest,
                                            const Prepare& prepare) {
  sim::KernelSimulator kernel(example_host(host));
  OwnershipLedger ledger({}, nullptr);
  prepare(kernel, ledger);
  const std::size_t skip = kernel.writes().size();
  auto applied = apply_manifest(kernel, manifest, ledger, std::chrono::milliseconds(300), 1);
  BOOST_TEST_REQUIRE(!applied->outcome.any_failure(), group_failed(applied->outcome));
  auto all = numbered_writes(kernel);
  all.erase(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(skip));
  return all;
}

}  // namespace vfio::test
