// A short, stable digest of the observed state a plan depends on, so a plan can be matched to
// the host it was made for (and a changed host noticed).
#pragma once

#include <string>

#include "observe/host_snapshot.h"

namespace vfio {

// "fnv1a64:<16 hex digits>" over every device's address, ids, kind, driver, override and group,
// and whether the IOMMU and vfio-pci are there. Names and findings do not count.
std::string fingerprint(const HostSnapshot& host);

}  // namespace vfio
