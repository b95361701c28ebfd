// `show`: the host's vfio bindings today as a manifest (nmstatectl show, terraform import), so
// that a host set up by hand, by driverctl or by libvirt can be taken over as it is. A pure
// function of the observed host and the ownership record.
#pragma once

#include <string>

#include "observe/device_names.h"
#include "observe/host_snapshot.h"
#include "plan/ownership.h"

namespace vfio::cli {

enum class BindingsForm {
  // One assignment per IOMMU group whose endpoints are all on a vfio driver, matched by the
  // address of its first endpoint (the others come as companions): planning it on the same host
  // claims and releases nothing.
  ByAddress,
  // One assignment per vendor:device pair of those endpoints, for a fleet of hosts alike; on
  // this host it may also claim devices with the same ids that are on host drivers today.
  ByIds,
};

// The manifest, with the schema modeline and a comment naming each group's devices. Groups it
// leaves out are named in comments with the reason: only partly on vfio, held by another owner
// (whose own manifest keeps them), or outside any IOMMU group. The comments name devices from
// `names`.
std::string bindings_manifest(const HostSnapshot& host, const OwnershipRecord& owned,
                              const DeviceNames& names, BindingsForm form);

}  // namespace vfio::cli
