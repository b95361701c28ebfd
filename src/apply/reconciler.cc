#include "apply/reconciler.h"

#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "apply/executor.h"
#include "apply/settle_in_flight.h"
#include "observe/observe.h"
#include "sysfs/kernel_names.h"
#include "sysfs/sys_path.h"

namespace vfio {

Planned Reconciler::plan(const DesiredState& desired, const OwnershipRecord& owned,
                         const PlanOptions& options) const {
  Planned out;
  out.host = observe(sysfs_, names_, ObserveDetail::Planning, proc_);
  for (const auto& f : out.host.findings) spdlog::warn("{}: {}", f.path, f.message);
  // Asked by the alias the driver's name is, as modprobe vfio-pci would be.
  if (!out.host.vfio_pci_loaded) out.host.vfio_pci_loadable = modules_.available(kVfioPciDriver);
  out.plan = make_plan(desired, out.host, owned, options);
  return out;
}

ApplyOutcome Reconciler::dry_run(const Planned& planned, const ExecuteSettings& settings) const {
  DryRunExecutor dry;
  return execute_plan(planned.plan, dry, settings.jobs, settings.stop);
}

std::variant<ApplyOutcome, VfioPciUnavailable> Reconciler::execute(
    const Planned& planned, OwnershipLedger& ledger, const ExecuteSettings& settings) {
  const Plan& plan = planned.plan;
  if (plan.summary().claim > 0 && !planned.host.vfio_pci_loaded) {
    if (auto why = load_vfio_pci(settings.probe_timeout)) return VfioPciUnavailable{*why};
  }
  for (const auto& c : plan.changes) {
    if (c.forced) {
      spdlog::warn("IOMMU group {}: a safety refusal is overridden for {}: force: \"{}\"",
                   c.group.value_or(0), c.assignment, *c.forced);
    }
  }
  if (settings.write_timeout) sysfs_.set_write_timeout(*settings.write_timeout);
  KernelExecutor executor(sysfs_, ledger, settings.probe_timeout, proc_);
  ApplyOutcome outcome = execute_plan(plan, executor, settings.jobs, settings.stop);
  settle_ledger(ledger, planned.host, outcome);
  return outcome;
}

// Loads vfio_pci through the module loader and waits for the driver to register.
std::optional<std::string> Reconciler::load_vfio_pci(std::chrono::milliseconds timeout) {
  spdlog::info("loading {}", kVfioPciModule);
  if (auto error = modules_.load(kVfioPciModule)) return error;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto drivers = sysfs_.list(paths::pci_drivers())) {
      for (const auto& d : *drivers) {
        if (d == kVfioPciDriver) return std::nullopt;
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return fmt::format("{} loaded, but {} did not appear within {} ms", kVfioPciModule,
                         sysfs_.display(paths::pci_driver(kVfioPciDriver)), timeout.count());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace vfio
