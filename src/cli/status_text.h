// The human `status` report: devices grouped by IOMMU group, the way people paste them into
// forum threads, with what matters for passthrough (driver, override, boot display) beside each.
#pragma once

#include <iosfwd>

#include "observe/host_snapshot.h"
#include "plan/ownership.h"

namespace vfio::cli {

// `owned`: who holds each group on vfio-pci, said beside the group's heading.
void print_status_text(const HostSnapshot& snapshot, const OwnershipRecord& owned,
                       std::ostream& out);

}  // namespace vfio::cli
