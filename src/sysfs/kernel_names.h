// Names the kernel gives things, spelled once.
#pragma once

#include <string_view>

namespace vfio {

inline constexpr std::string_view kVfioPciDriver = "vfio-pci";  // the driver (drivers/vfio-pci)
inline constexpr std::string_view kVfioPciModule = "vfio_pci";  // the module that registers it
// What driver_override reads when unset. Never write it back: that stores a driver named
// "(null)" and the device then stays driverless at every probe. Clear with "\n" instead.
inline constexpr std::string_view kUnsetOverride = "(null)";

// The last component of a link target: "../../../bus/pci/drivers/e1000e" -> "e1000e".
constexpr std::string_view link_leaf(std::string_view target) {
  while (!target.empty() && target.back() == '/') target.remove_suffix(1);
  const auto slash = target.rfind('/');
  return slash == std::string_view::npos ? target : target.substr(slash + 1);
}

}  // namespace vfio
