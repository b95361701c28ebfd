#include "cli/device_text.h"

#include <fmt/format.h>

namespace vfio::cli {

std::string ids_text(const PciIds& ids) {
  return fmt::format("[{:04x}:{:04x}]", ids.vendor, ids.device);
}

std::string name_text(const PciIds& ids, const PciNames& n) {
  std::string vendor = n.vendor.empty() ? fmt::format("Vendor {:04x}", ids.vendor) : n.vendor;
  std::string device = n.device.empty() ? fmt::format("Device {:04x}", ids.device) : n.device;
  return fmt::format("{} {}", vendor, device);
}

std::string description_text(const PciDevice& d) {
  std::string class_name = d.names.class_name.empty()
                               ? fmt::format("Class {:04x}", d.ids.class_code >> 8)
                               : d.names.class_name;
  return fmt::format("{}: {}", class_name, name_text(d.ids, d.names));
}

}  // namespace vfio::cli
