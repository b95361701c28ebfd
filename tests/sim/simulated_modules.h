// KernelModules for the kernel simulator: vfio-pci and the topology's drivers "load" into it, as
// modprobe would into a kernel, so `apply` can be run end to end against a host where vfio-pci
// (or a vfio variant driver) is not loaded yet; and its modules.alias is the one depmod would
// write for the topology's drivers.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apply/kernel_modules.h"
#include "sim/kernel_simulator.h"

namespace vfio::sim {

// The modules.alias depmod would write for `topology` whose kernel has `drivers` (loaded or not):
// a `pci:` alias of each host driver's module for the devices it drives, each variant driver's
// `vfio_pci:` aliases, and vfio_pci's catch-all when the kernel has vfio-pci at all.
std::string modules_alias_text(const Topology& topology, const std::vector<TopologyDriver>& drivers,
                               bool has_vfio_pci);

class SimulatedModules final : public KernelModules {
 public:
  // `loadable`: whether the running "kernel" has a vfio-pci module at all.
  SimulatedModules(KernelSimulator& kernel, bool loadable) : kernel_(kernel), loadable_(loadable) {}

  bool available(std::string_view module) override;
  std::optional<std::string> load(std::string_view module) override;
  // vfio_pci's catch-all alias (when `loadable`), each variant driver's `vfio_pci:` aliases,
  // and a `pci:` alias of every other driver's module for the devices it drives.
  Result<ModulesAlias> modules_alias() override;

  int loads = 0;  // load() calls, loaded or not
  // When set, modules_alias() fails with this errno (a kernel without /lib/modules).
  std::optional<int> alias_error;

 private:
  KernelSimulator& kernel_;
  bool loadable_;
};

}  // namespace vfio::sim
