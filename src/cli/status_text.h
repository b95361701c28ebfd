// The human `status` report: devices grouped by IOMMU group, the way people paste them into
// forum threads, with what matters for passthrough (driver, override, boot display) beside each.
#pragma once

#include <cstddef>
#include <iosfwd>

#include "observe/device_names.h"
#include "observe/host_snapshot.h"
#include "plan/ownership.h"

namespace vfio::cli {

struct StatusTextOptions {
  // The terminal's width: a device's description (description_fitting) and notes are fitted to
  // it, never below kMinStatusTextColumns for them. 0: whole lines (a pipe, a file, --full).
  std::size_t width = 0;
};

// The fewest columns a device's description or notes are cut to.
inline constexpr std::size_t kMinStatusTextColumns = 24;

// `owned`: who holds each group on vfio-pci, said beside the group's heading.
void print_status_text(const HostSnapshot& snapshot, const OwnershipRecord& owned,
                       const DeviceNames& names, std::ostream& out,
                       const StatusTextOptions& options = {});

}  // namespace vfio::cli
