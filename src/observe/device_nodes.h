// The /dev nodes a host driver gives its PCI device, which processes may hold open while the
// device is the host's: a GPU's DRM nodes (class drm: card<N>, renderD<N>; class accel:
// accel<N>) and NVIDIA's /dev/nvidia<N>, and the nodes of sound cards, video capture and RDMA
// devices (class sound, video4linux, infiniband_verbs).
//
// Why they matter (docs/kernel-pci-sysfs.md, "Device nodes of host drivers"): taking a GPU a
// display server or a compute job uses takes it from under them (nvidia's unbind waits for them,
// amdgpu may crash), and the unbind from a sound driver waits until every process holding one of
// the card's nodes has closed it (the kernel's snd_card_free).
//
// The /dev name of each comes from the kernel's devnode rule for its class ("dri/card0",
// "snd/controlC0"), which is what devtmpfs creates and udev keeps.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "observe/host_snapshot.h"
#include "sysfs/pci_address.h"

namespace vfio {

class KernelFiles;
class Sysfs;

struct DeviceNode {
  enum class Kind {
    Gpu,    // DRM, accel or nvidia: holding it means using the GPU
    Sound,  // the unbind from its driver waits until every holder has closed it
    Other,  // video capture, RDMA verbs
  };
  PciAddress device{0, 0, 0, 0};  // the PCI function it lies below
  Kind kind = Kind::Other;
};

// "/dev/dri/renderD128" -> its PCI function and kind.
using DeviceNodes = std::map<std::string, DeviceNode>;

// The nodes of PCI functions now: the class directories above, and NVIDIA's GPUs from
// /proc/driver/nvidia/gpus/<address>/information ("Device Minor: 0" is /dev/nvidia0) when `proc`
// is given. A class the kernel lacks is none; what cannot be read is a finding.
DeviceNodes device_nodes(Sysfs& sysfs, KernelFiles* proc, std::vector<Finding>& findings);

}  // namespace vfio
