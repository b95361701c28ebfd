// What a narrow run may do (PlanScope in plan.h): the early run in the initramfs claims only
// what no host driver has taken yet; a hot-add run touches only the group of the device that
// appeared, and never to release.
#include <algorithm>

#include <fmt/format.h>

#include "plan/plan.h"
#include "plan/planning_parts.h"
#include "sysfs/kernel_names.h"

namespace vfio::planning {
namespace {

constexpr std::string_view kBootUnit = "left for the boot unit";

// The first endpoint a claim would have to unbind from a host driver, if any.
const PlannedDevice* bound_to_host_driver(const GroupChange& c) {
  for (const auto& d : c.devices) {
    if (d.before.driver && *d.before.driver != kVfioPciDriver) return &d;
  }
  return nullptr;
}

// Why the early run leaves `c` to the boot unit; none when it may make it.
std::optional<std::string> early_deferral(const GroupChange& c) {
  switch (c.action) {
    case GroupAction::Adopt:
    case GroupAction::Noop:
      return std::nullopt;
    case GroupAction::Claim:
      if (const PlannedDevice* bound = bound_to_host_driver(c)) {
        return fmt::format("{}: {} is bound to {} already, and the initramfs never unbinds",
                           kBootUnit, bound->address.str(), *bound->before.driver);
      }
      return std::nullopt;
    case GroupAction::Blocked:
      return fmt::format("{}, which reports it", kBootUnit);
    case GroupAction::Release:
    case GroupAction::Forget:
    case GroupAction::SetVfs:
      return fmt::format("{}: the initramfs only claims devices no driver has taken", kBootUnit);
  }
  return std::nullopt;
}

bool holds(const GroupChange& c, const PciAddress& device) {
  auto is = [&](const PciAddress& a) { return a == device; };
  return std::any_of(c.devices.begin(), c.devices.end(),
                     [&](const PlannedDevice& d) { return is(d.address); }) ||
         std::any_of(c.bridges.begin(), c.bridges.end(), is) ||
         std::any_of(c.vf_counts.begin(), c.vf_counts.end(),
                     [&](const VfCount& v) { return is(v.pf); });
}

}  // namespace

void limit_to_scope(Plan& plan, const PlanScope& scope) {
  if (scope.kind == PlanScope::Kind::Full) return;
  std::vector<GroupChange> kept;
  for (auto& c : plan.changes) {
    std::optional<std::string> why;
    if (scope.kind == PlanScope::Kind::Early) {
      why = early_deferral(c);
    } else {
      if (!c.group || !scope.device || !holds(c, *scope.device)) continue;  // not this run's
      if (c.action == GroupAction::Release || c.action == GroupAction::Forget) {
        why = fmt::format("left for a full run: {} appearing is never a reason to release",
                          scope.device->str());
      }
    }
    if (why)
      plan.deferred.push_back({std::move(c), std::move(*why)});
    else
      kept.push_back(std::move(c));
  }
  plan.changes = std::move(kept);
}

}  // namespace vfio::planning
