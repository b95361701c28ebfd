// `vfio-reconcile status [--json]`: what the host looks like, read-only.
#pragma once

#include <iosfwd>

#include "plan/ownership.h"

namespace vfio {
class KernelFiles;
class Sysfs;
}  // namespace vfio

namespace vfio::cli {

struct StatusOptions {
  bool json = false;
};

// Returns the exit code: 0 once the host was observed (an IOMMU that is off is reported, not an
// error), 69 when the root holds no PCI bus to observe. `proc` (may be null): /proc, for what
// makes each device unsafe to take. `owned`: the ownership record, for who holds each group.
int run_status(const StatusOptions& options, Sysfs& sysfs, KernelFiles* proc,
               const OwnershipRecord& owned, std::ostream& out);

}  // namespace vfio::cli
