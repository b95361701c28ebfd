// The parsers of names read from manifests, sysfs and uevents: PCI addresses (round trip), path
// components, ids, class prefixes, durations, the PCI function in a sysfs link target, and the
// PCI uevent file. None may crash; what parses must print back as it parses.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "manifest/manifest_values.h"
#include "observe/class_devices.h"
#include "observe/pci_uevent.h"
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
  (void)vfio::pci_device_in(text);
  const vfio::PciUevent uevent = vfio::parse_pci_uevent(text);
  if (uevent.driver && !uevent.ids) std::abort();
  return 0;
}
