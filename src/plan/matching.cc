#include "plan/matching.h"

#include <fmt/format.h>

namespace vfio {
namespace {

enum class Key { Vendor, Device, Class, SubsystemVendor, SubsystemDevice };
// In the manifest's order of keys.
constexpr Key kKeys[] = {Key::Vendor, Key::Device, Key::Class, Key::SubsystemVendor,
                         Key::SubsystemDevice};

bool id_fails(const std::optional<uint16_t>& wanted, uint16_t found) {
  return wanted && *wanted != found;
}

// The key is given and does not hold. Formats nothing: matching runs for every device.
bool fails(const DeviceMatch& m, const PciDevice& d, Key key) {
  switch (key) {
    case Key::Vendor:
      return id_fails(m.vendor, d.ids.vendor);
    case Key::Device:
      return id_fails(m.device, d.ids.device);
    case Key::Class:
      return m.class_prefix && !m.class_prefix->matches(d.ids.class_code);
    case Key::SubsystemVendor:
      return id_fails(m.subsystem_vendor, d.ids.subsystem_vendor);
    case Key::SubsystemDevice:
      return id_fails(m.subsystem_device, d.ids.subsystem_device);
  }
  return false;
}

// A failing key in words, only when a refusal needs them.
KeyMismatch describe(const DeviceMatch& m, const PciDevice& d, Key key) {
  auto id = [](const char* name, uint16_t wanted, uint16_t found) {
    return KeyMismatch{name, fmt::format("{:04x}", wanted), fmt::format("{:04x}", found)};
  };
  switch (key) {
    case Key::Vendor:
      return id("vendor", *m.vendor, d.ids.vendor);
    case Key::Device:
      return id("device", *m.device, d.ids.device);
    case Key::Class:
      return {"class", fmt::format("0x{:0{}x}", m.class_prefix->value, m.class_prefix->digits),
              fmt::format("0x{:06x}", d.ids.class_code)};
    case Key::SubsystemVendor:
      return id("subsystem-vendor", *m.subsystem_vendor, d.ids.subsystem_vendor);
    case Key::SubsystemDevice:
      return id("subsystem-device", *m.subsystem_device, d.ids.subsystem_device);
  }
  return {};
}

}  // namespace

bool matches(const DeviceMatch& match, const PciDevice& pci) {
  if (match.address && *match.address != pci.address) return false;
  for (const Key key : kKeys) {
    if (fails(match, pci, key)) return false;
  }
  return true;
}

std::vector<KeyMismatch> guard_mismatches(const DeviceMatch& match, const PciDevice& pci) {
  std::vector<KeyMismatch> out;
  for (const Key key : kKeys) {
    if (fails(match, pci, key)) out.push_back(describe(match, pci, key));
  }
  return out;
}

}  // namespace vfio
