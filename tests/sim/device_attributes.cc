#include "sim/device_attributes.h"

#include <fmt/format.h>

namespace vfio::sim {
namespace {

void put16(std::string& bytes, std::size_t offset, uint16_t value) {
  bytes[offset] = static_cast<char>(value & 0xff);
  bytes[offset + 1] = static_cast<char>(value >> 8);
}

// "pci:v...d...sv...sd...bc..sc..i..\n", as the modalias file and uevent's MODALIAS= give it.
std::string modalias(const TopologyDevice& d) {
  return fmt::format("pci:v{:08X}d{:08X}sv{:08X}sd{:08X}bc{:02X}sc{:02X}i{:02X}\n", d.vendor,
                     d.device, d.subsystem_vendor, d.subsystem_device, d.class_code >> 16,
                     d.class_code >> 8 & 0xff, d.class_code & 0xff);
}

}  // namespace

bool is_vga_class(uint32_t class_code) {
  return (class_code >> 8) == 0x0300;
}

std::string config_space(const TopologyDevice& d, bool multifunction) {
  std::string bytes(256, '\0');
  const bool vf = d.physfn.has_value();
  put16(bytes, 0x00, vf ? 0xffff : d.vendor);
  put16(bytes, 0x02, vf ? 0xffff : d.device);
  bytes[0x08] = static_cast<char>(d.revision);
  bytes[0x09] = static_cast<char>(d.class_code & 0xff);
  bytes[0x0a] = static_cast<char>(d.class_code >> 8 & 0xff);
  bytes[0x0b] = static_cast<char>(d.class_code >> 16 & 0xff);
  bytes[0x0e] = static_cast<char>(static_cast<uint8_t>(d.header) | (multifunction ? 0x80 : 0));
  if (d.header == HeaderType::Endpoint) {
    put16(bytes, 0x2c, d.subsystem_vendor);
    put16(bytes, 0x2e, d.subsystem_device);
  }
  return bytes;
}

std::string uevent(const TopologyDevice& d) {
  // drivers/base/core.c dev_uevent (DRIVER= while bound), then drivers/pci/pci-driver.c
  // pci_uevent: class as %04X of the 24-bit code ("20000", "C0330"), ids in upper-case hex.
  std::string out;
  if (d.bound_driver) out += fmt::format("DRIVER={}\n", *d.bound_driver);
  out += fmt::format("PCI_CLASS={:04X}\n", d.class_code);
  out += fmt::format("PCI_ID={:04X}:{:04X}\n", d.vendor, d.device);
  out += fmt::format("PCI_SUBSYS_ID={:04X}:{:04X}\n", d.subsystem_vendor, d.subsystem_device);
  out += fmt::format("PCI_SLOT_NAME={}\n", d.address.str());
  out += fmt::format("MODALIAS={}", modalias(d));
  return out;
}

std::map<std::string, std::string> device_attributes(const TopologyDevice& d, bool multifunction,
                                                     unsigned enabled_vfs) {
  std::map<std::string, std::string> files;
  files["vendor"] = fmt::format("0x{:04x}\n", d.vendor);
  files["device"] = fmt::format("0x{:04x}\n", d.device);
  files["subsystem_vendor"] = fmt::format("0x{:04x}\n", d.subsystem_vendor);
  files["subsystem_device"] = fmt::format("0x{:04x}\n", d.subsystem_device);
  files["class"] = fmt::format("0x{:06x}\n", d.class_code);
  files["revision"] = fmt::format("0x{:02x}\n", d.revision);
  files["numa_node"] = fmt::format("{}\n", d.numa_node);
  files["modalias"] = modalias(d);
  files["uevent"] = uevent(d);
  files["driver_override"] = fmt::format("{}\n", d.driver_override.value_or("(null)"));
  files["config"] = config_space(d, multifunction);
  if (is_vga_class(d.class_code)) files["boot_vga"] = d.boot_vga.value_or(false) ? "1\n" : "0\n";
  if (d.label) files["label"] = *d.label + "\n";
  if (d.sriov_total_vfs > 0) {
    files["sriov_totalvfs"] = fmt::format("{}\n", d.sriov_total_vfs);
    files["sriov_numvfs"] = fmt::format("{}\n", enabled_vfs);
    files["sriov_drivers_autoprobe"] = d.sriov_drivers_autoprobe ? "1\n" : "0\n";
    // drivers/pci/iov.c: "%u\n", "%u\n", and the VF Device ID as "%x\n" (no 0x).
    files["sriov_offset"] = fmt::format("{}\n", d.vf_template.offset);
    files["sriov_stride"] = fmt::format("{}\n", d.vf_template.stride);
    files["sriov_vf_device"] = fmt::format("{:x}\n", d.vf_template.device);
  }
  return files;
}

}  // namespace vfio::sim
