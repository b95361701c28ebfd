// Topology YAML: reads a host description (examples/hosts/*.yaml) into a Topology.
//
// The format, in short (examples/hosts/ has complete hosts):
//
//   name: workstation            # required
//   description: "..."           # optional
//   kernel: "6.12"               # default "6.1": what differs between kernel lines
//   vfio-device-nodes: true      # default false: /dev/vfio/devices/vfio<M> (kernel 6.6 on)
//   iommu: true                  # default true; false: no groups at all
//   iommu-units: [dmar0]         # default [dmar0]
//   vfio-pci: loaded             # loaded (default) | loadable | missing
//   drivers:                     # optional: only to set a module name or DMA safety
//     - { name: nvidia, module: nvidia, dma-safe: false }   # module: ~ for built in
//   devices:                     # required
//     - address: "0000:01:00.0"  # required
//       ids: "10de:2684"         # required vendor:device
//       class: "0x030000"        # required
//       subsystem, revision, kind (endpoint|bridge|cardbus), parent, group, driver,
//       bound (default = driver; "none"), override, boot-vga, numa-node, label,
//       sriov: { total-vfs, vfs, vf-ids, vf-driver, vf-offset, vf-stride, vf-group,
//               drivers-autoprobe },
//       net: [{ name: eno1, state: up|down|unknown, master: br0, bond: false }],
//       disks: [{ name: nvme0n1, dev: "259:0", holders: [dm-0],
//                 partitions: [{ name: nvme0n1p1, dev: "259:1", holders: [] }] }],
//       framebuffer: fb0
//   host:                        # optional: the wider host (see sim/host_files.h)
//     fbcon: true                # the framebuffer console is bound (else the VGA text console)
//     processes: [{ pid: 4242, command: qemu-system-x86, vfio-groups: [1], device-fds: 2,
//                   vfio-devices: ["0000:01:00.0"] }]   # with vfio-device-nodes
//     mounts: [{ dev: "259:2", source: /dev/nvme0n1p2, target: /, fstype: ext4 }]
//     swaps: [/dev/nvme0n1p3]
//     routes: [{ dev: br0, to: default, via: 192.168.1.1 }, { dev: br0, to: 192.168.1.0/24 }]
//     ipv6-addresses: [{ dev: eno2, address: "2001:db8:0:0:0:0:0:10/64" }]
//     virtual-interfaces: [br0]  # bridges and bonds that interfaces name as master
//     virtual-blocks: [{ name: dm-0, dev: "254:0", dm-name: vg0-root }]
//
// Enabled SR-IOV VFs are expanded into devices of their own (address = PF routing ID + vf-offset
// + i * vf-stride; group vf-group + i). The PF keeps how to make more (the simulator creates VFs
// when `sriov_numvfs` is written); drivers-autoprobe (default true) is the PF's
// sriov_drivers_autoprobe. Every error is a TopologyError whose what() reads
// "FILE:LINE:COLUMN: message" (1-based), naming the offending key or value.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "sim/topology.h"

namespace vfio::sim {

class TopologyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads and parses a topology file; an unreadable file is a TopologyError too ("FILE: ...").
Topology load_topology(const std::string& file);

// Parses topology YAML; `name_for_errors` is the FILE part of error messages.
Topology parse_topology(const std::string& text, const std::string& name_for_errors);

// The module a driver lives in, as /sys/module names it (xhci_hcd -> xhci_pci); none: built in.
std::optional<std::string> default_module(std::string_view driver);

// Whether a driver does no DMA, so binding it keeps an IOMMU group viable (pcieport, pci-stub).
bool default_dma_safe(std::string_view driver);

}  // namespace vfio::sim
