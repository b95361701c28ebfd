#include "apply/reconciler.h"

#include <algorithm>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "apply/executor.h"
#include "apply/settle_in_flight.h"
#include "observe/observe.h"
#include "plan/matching.h"
#include "sysfs/kernel_names.h"
#include "sysfs/sys_path.h"

namespace vfio {

namespace {

// A VF count is wanted, or one this tool set is recorded.
bool wants_sriov(const DesiredState& desired, const OwnershipRecord& owned) {
  return std::any_of(desired.assignments.begin(), desired.assignments.end(),
                     [](const Assignment& a) { return a.vfs.has_value(); }) ||
         std::any_of(owned.groups.begin(), owned.groups.end(),
                     [](const auto& g) { return !g.second.vfs.empty(); });
}

// Whether the plan must know the running kernel's vfio drivers: an assignment names one (or
// `auto`), or a device is bound or overridden to a driver that may be a variant. Every vfio
// variant driver's name has "vfio" in it (mlx5_vfio_pci, ...), and reading modules.alias (1.3
// MB on a distribution kernel) is left to runs that need it.
bool wants_vfio_drivers(const DesiredState& desired, const HostSnapshot& host) {
  const auto maybe_variant = [](const std::optional<std::string>& driver) {
    return driver && *driver != kVfioPciDriver && driver->find("vfio") != std::string::npos;
  };
  return std::any_of(
             desired.assignments.begin(), desired.assignments.end(),
             [](const Assignment& a) { return a.driver.kind != DriverChoice::Kind::Default; }) ||
         std::any_of(host.devices.begin(), host.devices.end(), [&](const PciDevice& d) {
           return maybe_variant(d.driver) || maybe_variant(d.driver_override);
         });
}

// The vfio variant drivers the run knows: modules.alias's, and those the devices are on (or
// overridden to) taken for variants by name when it could not be read.
std::set<std::string> variants_of(const HostSnapshot& host) {
  std::set<std::string> out;
  if (host.vfio_drivers) {
    for (const auto& a : host.vfio_drivers->aliases) {
      if (a.driver != kVfioPciDriver) out.insert(a.driver);
    }
  }
  for (const auto& d : host.devices) {
    if (d.driver_is_vfio_variant) out.insert(*d.driver);
    if (d.override_is_vfio_variant) out.insert(*d.driver_override);
  }
  return out;
}

// The variant drivers (not vfio-pci) the plan's claims give devices.
std::set<std::string> claimed_variants(const Plan& plan) {
  std::set<std::string> out;
  for (const auto& c : plan.changes) {
    if (c.action != GroupAction::Claim) continue;
    for (const auto& d : c.devices) {
      if (d.changes() && d.after.driver && *d.after.driver != kVfioPciDriver) {
        out.insert(*d.after.driver);
      }
    }
  }
  return out;
}

VfioDriverCatalog read_vfio_drivers(KernelModules& modules) {
  auto alias = modules.modules_alias();
  if (!alias) {
    VfioDriverCatalog unread;
    unread.source = alias.error().path;
    unread.unreadable = alias.error().to_string();
    spdlog::warn("the vfio drivers are unknown: {}", *unread.unreadable);
    return unread;
  }
  VfioDriverCatalog catalog = parse_modules_alias(alias->text, alias->path);
  for (const auto& problem : catalog.problems) spdlog::warn("{}", problem);
  return catalog;
}

}  // namespace

ObserveScope scope_of_plan(const DesiredState& desired, const OwnershipRecord& owned) {
  ObserveScope scope;
  scope.wanted = [&desired](const PciDevice& d) {
    return std::any_of(
        desired.assignments.begin(), desired.assignments.end(), [&](const Assignment& a) {
          // An address asks for its slot whatever it holds: the other keys only
          // guard it, and a slot that holds another device is a refusal to word.
          return a.match.address ? *a.match.address == d.address : matches(a.match, d);
        });
  };
  for (const auto& [group, record] : owned.groups) {
    scope.groups.insert(group);
    for (const auto& d : record.devices) scope.addresses.insert(d.address);
    for (const auto& v : record.vfs) scope.addresses.insert(v.pf);
  }
  return scope;
}

HostSnapshot Reconciler::observe_host(const DesiredState& desired,
                                      const OwnershipRecord& owned) const {
  // SR-IOV is read only when it is in play: two more reads per device.
  HostSnapshot host = observe_scope(
      sysfs_, scope_of_plan(desired, owned),
      wants_sriov(desired, owned) ? ObserveDetail::PlanningSriov : ObserveDetail::Planning, proc_);
  return noted(std::move(host), desired);
}

HostSnapshot Reconciler::observe_whole_host() const {
  return noted(observe(sysfs_, ObserveDetail::Planning, proc_), DesiredState{});
}

HostSnapshot Reconciler::noted(HostSnapshot host, const DesiredState& desired) const {
  for (const auto& f : host.findings) spdlog::warn("{}: {}", f.path, f.message);
  // Asked by the alias the driver's name is, as modprobe vfio-pci would be.
  if (!host.vfio_pci_loaded) host.vfio_pci_loadable = modules_.available(kVfioPciDriver);
  if (wants_vfio_drivers(desired, host)) note_vfio_drivers(host, read_vfio_drivers(modules_));
  return host;
}

Planned Reconciler::plan(const DesiredState& desired, const OwnershipRecord& owned,
                         const PlanOptions& options) const {
  Planned out;
  out.host = observe_host(desired, owned);
  out.plan = make_plan(desired, out.host, owned, options);
  return out;
}

ApplyOutcome Reconciler::dry_run(const Planned& planned, const ExecuteSettings& settings) const {
  DryRunExecutor dry;
  return execute_plan(planned.plan, dry, settings.jobs, settings.stop);
}

std::variant<ExecutedPlan, VfioPciUnavailable> Reconciler::execute(
    const DesiredState& desired, const PlanOptions& options, const Planned& planned,
    OwnershipLedger& ledger, const ExecuteSettings& settings) {
  ExecutedPlan out;
  out.plan = planned.plan;
  out.plan.changes.clear();
  std::vector<GroupOutcome> outcomes;
  std::set<std::optional<unsigned>> shown;  // groups the first round's plan shows
  std::optional<Planned> later;             // the latest later round's plan
  const Planned* current = &planned;
  // SR-IOV in play: a VF count is wanted, or one this tool set is recorded (a run that stopped
  // half-way may have left VFs to claim or a PF's VF autoprobe to give back).
  const bool sriov = wants_sriov(desired, ledger.record());
  for (unsigned round = 1;; ++round) {
    auto executed = execute_round(*current, ledger, settings);
    if (auto* unavailable = std::get_if<VfioPciUnavailable>(&executed)) {
      if (round == 1) return *unavailable;
      spdlog::error("{}; the next run carries on", unavailable->why);
      break;
    }
    ApplyOutcome& outcome = std::get<ApplyOutcome>(executed);
    for (std::size_t i = 0; i < outcome.groups.size(); ++i) {
      const GroupChange& change = current->plan.changes[i];
      const bool acted = change.action != GroupAction::Noop &&
                         (change.action != GroupAction::Blocked || !shown.count(change.group));
      if (round > 1 && !acted) continue;
      if (round == 1) shown.insert(change.group);
      out.plan.changes.push_back(change);
      outcomes.push_back(outcome.groups[i]);
    }
    out.outcome.interrupted = out.outcome.interrupted || outcome.interrupted;
    // A VF count set makes VFs the plan could not know (claimed in the next round), and VFs
    // claimed let their PF's VF autoprobe go back (the round after): with SR-IOV in play, plan
    // again while a round did something and nothing failed.
    const bool acted = outcome.count(GroupResult::VfsSet) + outcome.count(GroupResult::Claimed) > 0;
    if (!sriov || !acted || outcome.any_failure() || outcome.interrupted || round == kMaxRounds) {
      break;
    }
    later = plan(desired, ledger.record(), options);
    if (later->plan.unusable || !later->plan.manifest_conflicts.empty() ||
        !later->plan.has_changes()) {
      break;
    }
    current = &*later;
  }
  for (std::size_t i = 0; i < outcomes.size(); ++i) outcomes[i].change = &out.plan.changes[i];
  out.outcome.groups = std::move(outcomes);
  return out;
}

std::variant<ApplyOutcome, VfioPciUnavailable> Reconciler::execute_round(
    const Planned& planned, OwnershipLedger& ledger, const ExecuteSettings& settings) {
  const Plan& plan = planned.plan;
  if (plan.summary().claim > 0 && !planned.host.vfio_pci_loaded) {
    if (auto why = load_driver(kVfioPciModule, kVfioPciDriver, settings.probe_timeout)) {
      return VfioPciUnavailable{*why};
    }
  }
  // A variant driver a claim needs is loaded first too (its module is its name); one that
  // cannot be stops the run before any write, as vfio-pci missing does.
  std::set<std::string> variants = variants_of(planned.host);
  for (const auto& driver : claimed_variants(plan)) {
    if (sysfs_.list(paths::pci_driver(driver))) continue;  // registered already
    if (auto why = load_driver(driver, driver, settings.probe_timeout)) {
      return VfioPciUnavailable{*why};
    }
  }
  for (const auto& c : plan.changes) {
    if (c.forced) {
      spdlog::warn("IOMMU group {}: a safety refusal is overridden for {}: force: \"{}\"",
                   c.group.value_or(0), c.assignment, *c.forced);
    }
  }
  if (settings.write_timeout) sysfs_.set_write_timeout(*settings.write_timeout);
  KernelExecutor executor(sysfs_, ledger, settings.probe_timeout, proc_, std::move(variants));
  ApplyOutcome outcome = execute_plan(plan, executor, settings.jobs, settings.stop);
  settle_ledger(ledger, planned.host, outcome);
  return outcome;
}

std::optional<std::string> Reconciler::load_driver(std::string_view module, std::string_view driver,
                                                   std::chrono::milliseconds timeout) {
  spdlog::info("loading {}", module);
  if (auto error = modules_.load(module)) return error;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto drivers = sysfs_.list(paths::pci_drivers())) {
      for (const auto& d : *drivers) {
        if (d == driver) return std::nullopt;
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return fmt::format("{} loaded, but {} did not appear within {} ms", module,
                         sysfs_.display(paths::pci_driver(driver)), timeout.count());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace vfio
