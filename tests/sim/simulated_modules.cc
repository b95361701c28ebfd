#include "sim/simulated_modules.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

namespace vfio::sim {
namespace {

constexpr std::string_view kAliasPath = "/lib/modules/simulated/modules.alias";

bool is_vfio_pci(std::string_view module) {
  return module == "vfio-pci" || module == "vfio_pci";
}

// The topology's driver whose module `module` is; none for vfio-pci and unknown names.
std::optional<TopologyDriver> driver_of_module(const std::vector<TopologyDriver>& drivers,
                                               std::string_view module) {
  for (const auto& d : drivers) {
    if (d.name != "vfio-pci" && d.module && *d.module == module) return d;
  }
  return std::nullopt;
}

}  // namespace

bool SimulatedModules::available(std::string_view module) {
  if (is_vfio_pci(module)) return loadable_;
  return driver_of_module(kernel_.all_drivers(), module).has_value();
}

std::optional<std::string> SimulatedModules::load(std::string_view module) {
  ++loads;
  if (!available(module)) return fmt::format("no module or alias '{}'", module);
  if (is_vfio_pci(module)) {
    kernel_.load_vfio_pci();
  } else {
    kernel_.load_driver(driver_of_module(kernel_.all_drivers(), module)->name);
  }
  return std::nullopt;
}

Result<ModulesAlias> SimulatedModules::modules_alias() {
  if (alias_error) return IoError{IoError::Op::Open, std::string(kAliasPath), *alias_error, {}};
  return ModulesAlias{std::string(kAliasPath),
                      modules_alias_text(kernel_.topology(), kernel_.all_drivers(), loadable_)};
}

std::string modules_alias_text(const Topology& topology, const std::vector<TopologyDriver>& drivers,
                               bool has_vfio_pci) {
  std::string text = "# Aliases extracted from modules themselves.\n";
  std::set<std::string> lines;
  for (const auto& device : topology.devices) {
    if (!device.host_driver) continue;
    const auto driver = std::find_if(drivers.begin(), drivers.end(),
                                     [&](const auto& d) { return d.name == *device.host_driver; });
    if (driver == drivers.end() || !driver->module || driver->vfio_variant()) continue;
    lines.insert(fmt::format("alias pci:v{:08X}d{:08X}sv*sd*bc*sc*i* {}\n", device.vendor,
                             device.device, *driver->module));
  }
  for (const auto& driver : drivers) {
    for (const auto& pattern : driver.vfio_aliases) {
      lines.insert(fmt::format("alias {} {}\n", pattern, *driver.module));
    }
  }
  for (const auto& line : lines) text += line;
  if (has_vfio_pci) text += "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n";
  return text;
}

}  // namespace vfio::sim
