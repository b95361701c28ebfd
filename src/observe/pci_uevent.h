// The kernel's PCI uevent file (dev_uevent, then pci_uevent), decoded:
//   DRIVER=e1000e            (only while a driver is bound)
//   PCI_CLASS=20000          (%04X of the 24-bit class)
//   PCI_ID=8086:10D3
//   PCI_SUBSYS_ID=8086:0000
//   PCI_SLOT_NAME=0000:02:00.0
//   MODALIAS=pci:v...
// One read gives what would otherwise take five attribute files and a link.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "observe/host_snapshot.h"

namespace vfio {

struct PciUevent {
  // Set when PCI_ID, PCI_SUBSYS_ID and PCI_CLASS are all there and parse, and no line is odd.
  std::optional<PciIds> ids;
  std::optional<std::string> driver;   // DRIVER=, when it names a driver (and ids is set)
  std::vector<std::string> odd_lines;  // known keys whose values do not parse
};

// Never fails: whatever is not understood is an odd line or left out.
PciUevent parse_pci_uevent(std::string_view text);

}  // namespace vfio
