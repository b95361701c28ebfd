// Which vfio driver a claim gives each device (the manifest key `driver` in docs/contract.md):
// vfio-pci unless an assignment names a variant driver or asks for the best one (`auto`), as
// the running kernel's modules.alias describes them.
#include <algorithm>

#include <fmt/format.h>

#include "plan/planning_parts.h"
#include "plan/refusal_text.h"
#include "sysfs/kernel_names.h"

namespace vfio::planning {
namespace {

DriverFor plain_vfio_pci() {
  return DriverFor{std::string(kVfioPciDriver), false, ""};
}

// The assignment whose `driver:` decides: the one that selects the device; for a companion,
// the group's first (only its `auto` reaches companions: a named driver is for what it names).
const Assignment* decider(const PlanInputs& in, const PlannedDevice& p, const GroupIntent& intent) {
  std::optional<std::size_t> first;
  for (const auto& pick : intent.picks) {
    if (pick.device->address == p.address) return &in.assignment(pick.assignment);
    first = std::min(first.value_or(pick.assignment), pick.assignment);
  }
  if (first && in.assignment(*first).driver.kind == DriverChoice::Kind::Auto) {
    return &in.assignment(*first);
  }
  return nullptr;
}

Block unavailable(std::string message) {
  return Block{BlockReason::DriverUnavailable, std::move(message)};
}

// "vf-pool (gpus.yaml:9:13)": the assignment and its `driver:` value.
std::string where(const Assignment& a) {
  return fmt::format("{} ({})", a.name, a.driver.location.str());
}

std::variant<DriverFor, Block> automatic(const PlanInputs& in, const Assignment& a,
                                         const PciDevice& d) {
  const auto& catalog = in.host.vfio_drivers;
  if (!catalog || catalog->unreadable) {
    return unavailable(fmt::format(
        "{}: 'driver: auto' picks from the running kernel's modules.alias, which could not be "
        "read ({}); name the driver, or leave 'driver' out for vfio-pci",
        where(a), catalog ? *catalog->unreadable : std::string("not read")));
  }
  const VfioAlias* best = catalog->best_match(d.ids);
  if (!best) {
    return DriverFor{std::string(kVfioPciDriver), false,
                     fmt::format("driver: auto: no vfio_pci alias in {} matches {}; vfio-pci",
                                 catalog->source, vfio_modalias(d.ids))};
  }
  return DriverFor{best->driver, best->driver != kVfioPciDriver,
                   fmt::format("driver: auto: the most specific vfio_pci alias, {}:{} {}",
                               catalog->source, best->line, best->pattern)};
}

std::variant<DriverFor, Block> named(const PlanInputs& in, const Assignment& a) {
  const std::string& name = a.driver.name;
  const auto& catalog = in.host.vfio_drivers;
  if (!catalog || catalog->unreadable) {
    return unavailable(fmt::format(
        "{}: whether {} is a vfio driver is told by the running kernel's modules.alias, which "
        "could not be read ({})",
        where(a), name, catalog ? *catalog->unreadable : std::string("not read")));
  }
  if (!catalog->is_vfio_driver(name)) {
    if (catalog->modules.count(name)) {
      return unavailable(fmt::format(
          "{}: {} is not a vfio driver: no vfio_pci alias in {} names it (a vfio variant "
          "driver's ID table puts one there); a host driver cannot give a device to a VM",
          where(a), name, catalog->source));
    }
    return unavailable(
        fmt::format("{}: the running kernel has no driver {} (no module of that "
                    "name in {}); 'driver: auto' picks from those it has",
                    where(a), name, catalog->source));
  }
  return DriverFor{name, true, fmt::format("driver: {} ({})", name, a.driver.location.str())};
}

}  // namespace

bool DriverFor::satisfied_by(const PciDevice& d) const {
  if (exact) return d.driver == driver;
  return d.on_vfio_driver();
}

std::variant<DriverFor, Block> driver_for(const PlanInputs& in, const PlannedDevice& p,
                                          const GroupIntent& intent) {
  const Assignment* a = decider(in, p, intent);
  if (!a) return plain_vfio_pci();
  switch (a->driver.kind) {
    case DriverChoice::Kind::Default:
      return plain_vfio_pci();
    case DriverChoice::Kind::Auto:
      return automatic(in, *a, in.device(p));
    case DriverChoice::Kind::Named:
      return named(in, *a);
  }
  return plain_vfio_pci();
}

}  // namespace vfio::planning
