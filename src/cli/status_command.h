// `vfio-reconcile status [ADDRESS|GROUP...] [--json]`: what the host looks like, read-only;
// with arguments, only the IOMMU groups of those devices, and those groups.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>
#include <vector>

#include "plan/ownership.h"

namespace vfio {
class KernelFiles;
class Sysfs;
}  // namespace vfio

namespace vfio::cli {

struct StatusOptions {
  std::vector<std::string> selectors;  // status_selection.h; none: the whole host
  bool json = false;
  bool full = false;  // whole lines on a terminal too (-l, as systemctl's)
};

// Returns the exit code: 0 once the host was observed (an IOMMU that is off is reported, not an
// error), 64 for a selector that is no address or group of this host, 69 when the root holds
// no PCI bus to observe. `proc` (may be null): /proc, for what
// makes each device unsafe to take. `owned`: the ownership record, for who holds each group.
// `width`: the terminal's columns, which the text's device lines are cut to unless `full`
// (0: not a terminal, whole lines).
int run_status(const StatusOptions& options, Sysfs& sysfs, KernelFiles* proc,
               const OwnershipRecord& owned, std::ostream& out, std::size_t width = 0);

}  // namespace vfio::cli
