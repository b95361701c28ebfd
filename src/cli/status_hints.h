// What `status` tells a person about the host as a whole, beyond its devices: the same hints in
// text and in JSON, each with a kind a script can branch on.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "observe/host_snapshot.h"

namespace vfio::cli {

struct StatusHint {
  std::string kind;     // "no-iommu", "vfio-pci-not-loaded"
  std::string message;  // a sentence, for people
};

std::vector<StatusHint> status_hints(const HostSnapshot& snapshot);

// "unreadable", "malformed", "device-vanished", "group-mismatch", "holders-unknown"
std::string_view to_string(Finding::Kind kind);

}  // namespace vfio::cli
