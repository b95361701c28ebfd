#include "sim/simulated_modules.h"

#include <fmt/format.h>

namespace vfio::sim {

bool SimulatedModules::available(std::string_view module) {
  return loadable_ && (module == "vfio-pci" || module == "vfio_pci");
}

std::optional<std::string> SimulatedModules::load(std::string_view module) {
  ++loads;
  if (!available(module)) return fmt::format("no module or alias '{}'", module);
  kernel_.load_vfio_pci();
  return std::nullopt;
}

}  // namespace vfio::sim
