// make_large_host(): a realistic, very large host for scale tests and the benchmark.
//
// A two-socket server laid out the way such machines enumerate:
//
//   - PCI domain 0000 on socket 0 (NUMA node 0) and 0001 on socket 1 (node 1), each with a host
//     bridge, root ports on bus 00 (ACS: one group each), the Sky Lake-E IIO's system
//     peripherals at 00:05.{0,2,4} (no IOMMU group) and a VMD controller at 00:05.5;
//   - socket 0 also has the chipset (xHCI, SATA, LPC + SMBus sharing a group) and the BMC's
//     ASPEED display (the boot VGA) behind its PCIe-to-PCI bridge;
//   - per socket, PCIe switches with ACS (an upstream port, four downstream ports, one GPU per
//     downstream port): the GPUs (16 by default) are multifunction, a VGA function and an HDA
//     audio function sharing one group;
//   - per socket, one ACS-less switch whose upstream port, downstream ports and four NVMe drives
//     form a single group; NVMe drives on root ports of their own; and VMD domains 10000 and
//     10001 whose root ports and NVMe drives share the VMD endpoint's group;
//   - per socket, NICs (4-port Intel E810: ice PFs, iavf VFs; 2-port ConnectX-6 Dx: mlx5_core) with
//     SR-IOV enabled: each VF alone in its group, at PF routing ID + offset + i * stride, so the
//     VFs of one card span several buses (the card's root port reserves them all);
//   - some GPUs and VFs already passed through (bound to vfio-pci, driver_override set).
//
// Every device other than a VF is fixed by the spec; the VFs make up the rest, spread evenly
// over the PFs, so the host has exactly `devices` devices. The result is deterministic.
#pragma once

#include <cstddef>

#include "sim/topology.h"

namespace vfio::sim {

struct LargeHostSpec {
  std::size_t devices = 10000;  // exactly this many devices, VFs included
  unsigned gpus = 16;           // a multiple of 8: four per switch, two switches per 8
  unsigned nic_cards = 16;      // NICs, alternately 4-port E810s and 2-port ConnectX-6 Dx
};

// The devices a spec needs before any VF: the smallest `devices` it accepts.
std::size_t large_host_fixed_devices(const LargeHostSpec& spec);

// The most devices a spec can reach (every PF's TotalVFs enabled).
std::size_t large_host_max_devices(const LargeHostSpec& spec);

// Throws std::invalid_argument when spec.devices is outside [fixed, max] or gpus is not a
// multiple of 8.
Topology make_large_host(const LargeHostSpec& spec = {});

}  // namespace vfio::sim
