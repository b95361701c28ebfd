// The human `status` report: devices grouped by IOMMU group, the way people paste them into
// forum threads, with what matters for passthrough (driver, override, boot display) beside each.
#pragma once

#include <iosfwd>

#include "observe/host_snapshot.h"

namespace vfio::cli {

void print_status_text(const HostSnapshot& snapshot, std::ostream& out);

}  // namespace vfio::cli
