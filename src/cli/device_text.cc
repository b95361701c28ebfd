#include "cli/device_text.h"

#include <fmt/format.h>

namespace vfio::cli {

std::string ids_text(const PciIds& ids) {
  return fmt::format("[{:04x}:{:04x}]", ids.vendor, ids.device);
}

std::string description_text(const PciDevice& d) {
  const PciNames& n = d.names;
  std::string class_name =
      n.class_name.empty() ? fmt::format("Class {:04x}", d.ids.class_code >> 8) : n.class_name;
  std::string vendor = n.vendor.empty() ? fmt::format("Vendor {:04x}", d.ids.vendor) : n.vendor;
  std::string device = n.device.empty() ? fmt::format("Device {:04x}", d.ids.device) : n.device;
  return fmt::format("{}: {} {}", class_name, vendor, device);
}

}  // namespace vfio::cli
