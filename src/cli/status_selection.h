// `status ADDRESS|GROUP...`: the IOMMU groups a person asked about (as `lspci -s` narrows
// lspci), and the snapshot narrowed to them, so that the text and JSON printers show only those.
#pragma once

#include <set>
#include <string>
#include <variant>
#include <vector>

#include "observe/host_snapshot.h"

namespace vfio::cli {

struct StatusSelection {
  std::set<unsigned> groups;       // each selected device's group, and the groups named
  std::set<PciAddress> ungrouped;  // selected devices in no IOMMU group
};

// Each selector is a PCI address ("0000:01:00.0", or "01:00.0" for domain 0000) or an IOMMU
// group number. The error names the first one that is neither, or that is not on this host.
std::variant<StatusSelection, std::string> select_for_status(
    const HostSnapshot& host, const std::vector<std::string>& selectors);

// The selected groups with all their members, the selected ungrouped devices, and the findings
// about them (and those about no device in particular).
HostSnapshot narrowed(const HostSnapshot& host, const StatusSelection& selection);

}  // namespace vfio::cli
