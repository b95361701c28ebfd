// The parsers of names read from manifests, sysfs, uevents and the module tools: PCI addresses
// (round trip), path components, ids, class prefixes, durations, driver names, the PCI function
// in a sysfs link target, the PCI uevent file and modules.alias (its vfio_pci: aliases). None
// may crash; what parses must print back as it parses.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "manifest/manifest_values.h"
#include "observe/class_devices.h"
#include "observe/host_snapshot.h"
#include "observe/pci_uevent.h"
#include "observe/vfio_drivers.h"
#include "sysfs/pci_address.h"
#include "sysfs/sys_path.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string why;
  if (auto address = vfio::PciAddress::parse(text, &why)) {
    auto again = vfio::PciAddress::parse(address->str());
    if (!again || !(*again == *address)) std::abort();
  }
  if (vfio::SysPath::is_valid_component(text)) {
    const vfio::SysPath path = vfio::SysPath() / text;  // must not throw
    if (path.leaf() != text) std::abort();
  }
  (void)vfio::is_assignment_name(text, &why);
  (void)vfio::is_owner_name(text, &why);
  (void)vfio::parse_pci_id(text, &why);
  if (auto prefix = vfio::parse_class_prefix(text, &why)) {
    if (prefix->digits != 2 && prefix->digits != 4 && prefix->digits != 6) std::abort();
  }
  if (auto duration = vfio::parse_duration(text, &why)) {
    if (*duration < vfio::kMinProbeTimeout || *duration > vfio::kMaxProbeTimeout) std::abort();
  }
  if (auto driver = vfio::parse_driver_name(text, &why)) {
    if (driver->empty() ||
        driver->find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") != std::string::npos)
      std::abort();
  }
  const auto catalog = vfio::parse_modules_alias(text, "modules.alias");
  for (const auto& alias : catalog.aliases) {
    if (!alias.pattern.starts_with("vfio_pci:") || !catalog.is_vfio_driver(alias.driver))
      std::abort();
  }
  const vfio::PciIds ids{0x15b3, 0x101e, 0x15b3, 0x0047, 0x020000};
  if (const auto* best = catalog.best_match(ids); best && !catalog.is_vfio_driver(best->driver))
    std::abort();
  (void)vfio::pci_device_in(text);
  const vfio::PciUevent uevent = vfio::parse_pci_uevent(text);
  if (uevent.driver && !uevent.ids) std::abort();
  return 0;
}
