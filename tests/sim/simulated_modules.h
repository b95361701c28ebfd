// KernelModules for the kernel simulator: vfio-pci "loads" into it, as modprobe would into a
// kernel, so `apply` can be run end to end against a host where vfio-pci is not loaded yet.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "apply/kernel_modules.h"
#include "sim/kernel_simulator.h"

namespace vfio::sim {

class SimulatedModules final : public KernelModules {
 public:
  // `loadable`: whether the running "kernel" has a vfio-pci module at all.
  SimulatedModules(KernelSimulator& kernel, bool loadable) : kernel_(kernel), loadable_(loadable) {}

  bool available(std::string_view module) override;
  std::optional<std::string> load(std::string_view module) override;

  int loads = 0;  // load() calls, loaded or not

 private:
  KernelSimulator& kernel_;
  bool loadable_;
};

}  // namespace vfio::sim
