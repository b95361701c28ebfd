// The on-disk host writer: lays a Topology out as a directory tree in the real sysfs layout, so
// the real binary can run against it with --sysfs-root.
//
//   devices/pci0000:00/0000:00:01.0/0000:01:00.0/{vendor,...,config,driver,iommu_group,...}
//   bus/pci/devices/<bdf> -> ../../../devices/pci0000:00/.../<bdf>
//   bus/pci/drivers/<name>/{bind,unbind,new_id,remove_id,uevent,module,<bdf>...}
//   bus/pci/{drivers_probe,drivers_autoprobe,rescan}
//   kernel/iommu_groups/<N>/{type,devices/<bdf>}    (the directory exists even with no IOMMU)
//   class/iommu/<unit> -> ../../devices/virtual/iommu/<unit>
//   module/<module>/
//   what lies below devices and around them: net/, block devices, graphics/, class/net,
//   class/block, class/graphics, class/vtconsole, class/vfio, devices/virtual/ (host_files.h)
//
// Every link is relative, as in /sys, so the tree can be moved and never points outside itself.
// Attribute files come from device_attributes(), so the tree matches the kernel simulator.
#pragma once

#include <stdexcept>

#include <boost/filesystem/path.hpp>

#include "sim/topology.h"

namespace vfio::sim {

// The directory is not one this writer may fill: it is not empty and holds no marker from an
// earlier run, or it is not a plain directory at all.
class RefusedDirectory : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The file a run leaves at the top of the tree; a non-empty directory holding it may be rewritten.
inline constexpr const char* kHostMarker = ".vfio-sim-host";

// Writes `topology` under `root` (created when missing). A marked root is emptied first; anything
// else non-empty throws RefusedDirectory; a driver, module or IOMMU unit name that is not a single
// path component throws std::invalid_argument before anything is written. I/O failures throw
// boost::filesystem_error.
void write_sysfs_tree(const Topology& topology, const boost::filesystem::path& root);

// Writes the topology's /proc (processes and their VFIO fds, mountinfo as /proc/self/mountinfo,
// swaps, net/route, net/ipv6_route, net/if_inet6, cmdline; see host_files.h) under `root`, with
// the same rules for the directory as write_sysfs_tree. Used with --proc-root.
void write_proc_tree(const Topology& topology, const boost::filesystem::path& root);

// Another present device shares the slot (domain, bus, device): the header's multifunction bit.
bool is_multifunction(const Topology& topology, const TopologyDevice& device);

// The VFs of `pf` present in the topology: the PF's sriov_numvfs.
unsigned enabled_vfs(const Topology& topology, const PciAddress& pf);

// The device's directory below the root: devices/pci<dddd>:<bb>/<ancestors...>/<bdf>.
boost::filesystem::path device_dir(const Topology& topology, const TopologyDevice& device);

}  // namespace vfio::sim
